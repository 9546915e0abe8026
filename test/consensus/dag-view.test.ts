// The explorer's read view of the DAG (src/consensus/dag-view.ts): newest events first,
// bounded by the limit, with the facts the engine itself reports for each event.
import { describe, expect, test } from "bun:test";
import { ConsensusEngine } from "../../src/consensus/engine.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { digest, growDag, makeCommittee } from "./helpers.ts";

describe("ConsensusEngine.recentEvents", () => {
  test("returns the newest events, highest round first, with the engine's round, witness, fame and done facts", () => {
    const c = makeCommittee(4);
    const { engine, finalized } = growDag(c, 300, 5);
    const finalIds = new Set(finalized.map((f) => toHex(f.event.id)));
    const view = engine.recentEvents(60);
    expect(view.events).toHaveLength(60);
    expect(view.maxRound).toBe(engine.stats().maxRound);
    expect(view.lastDecidedRound).toBe(engine.stats().lastDecidedRound);
    expect(view.events[0]!.round).toBe(view.maxRound);
    for (let i = 1; i < view.events.length; i++) expect(view.events[i]!.round).toBeLessThanOrEqual(view.events[i - 1]!.round);
    const ids = new Set<string>();
    let famous = 0;
    let undecided = 0;
    for (const e of view.events) {
      const d = engine.describe(e.event.id)!;
      expect({ round: e.round, witness: e.witness }).toEqual({ round: d.round, witness: d.witness });
      expect(e.fame).toBe(d.witness ? d.fame : -1);
      expect(e.done).toBe(finalIds.has(toHex(e.event.id)));
      expect(e.fork).toBe(false);
      expect(e.parentsInPlay).toHaveLength(e.event.header.parents.length);
      ids.add(toHex(e.event.id));
      if (e.witness && e.fame === 1) famous++;
      if (e.witness && e.fame === -1) undecided++;
    }
    expect(ids.size).toBe(60); // each event once
    expect(undecided).toBeGreaterThan(0); // the newest rounds are not decided yet
    expect(engine.recentEvents(10_000).events.length).toBe(engine.stats().events);
    expect(engine.recentEvents(0).events).toEqual([]);
    // Somewhere in memory, decided rounds have famous witnesses.
    expect(engine.recentEvents(10_000).events.filter((e) => e.witness && e.fame === 1).length + famous).toBeGreaterThan(0);
  }, 20_000);

  test("marks both events of an equivocation and names the forked creator", () => {
    const c = makeCommittee(4);
    const engine = new ConsensusEngine(c.config);
    for (let v = 0; v < 4; v++) engine.createEvent(v, c.keys[v]!.secretKey, digest(`first ${v}`));
    const twin = new ConsensusEngine(c.config).createEvent(2, c.keys[2]!.secretKey, digest("other"));
    const r = engine.addEvents([twin]);
    expect(r.accepted).toHaveLength(1);
    expect(r.evidence.map((e) => e.kind)).toEqual(["equivocation"]);
    const view = engine.recentEvents(100);
    expect(view.forkedCreators).toEqual([2]);
    const forked = view.events.filter((e) => e.fork);
    expect(forked.map((e) => [e.event.header.creator, e.event.header.seq])).toEqual([[2, 0], [2, 0]]);
  }, 10_000);
});
