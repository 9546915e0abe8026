// A brute-force reference for strongly-see, rounds and witnesses (ancestry as explicit sets,
// straight from the definitions in SPEC_CONSENSUS) against the engine's masks and fork
// paths, on simulated DAGs that contain forks.
import { expect, test } from "bun:test";
import { ConsensusEngine } from "../../src/consensus/engine.ts";
import type { SignedEvent } from "../../src/types/event.ts";
import { simulatedEvents, simOptions } from "../sim/sim.ts";

const hex = (id: Uint8Array): string => Buffer.from(id).toString("hex");

function referenceRounds(events: SignedEvent[], stakes: number[], quorum: number): Map<string, { round: number; witness: boolean }> {
  const byId = new Map(events.map((e) => [hex(e.id), e]));
  const anc = new Map<string, Set<string>>();
  const out = new Map<string, { round: number; witness: boolean }>();
  const forkIn = (x: string, c: number): boolean => {
    const seqs = new Set<number>();
    for (const a of anc.get(x)!) {
      const h = byId.get(a)!.header;
      if (h.creator !== c) continue;
      if (seqs.has(h.seq)) return true;
      seqs.add(h.seq);
    }
    return false;
  };
  const top = (x: string, c: number): string | undefined => {
    let best: string | undefined;
    for (const a of anc.get(x)!) {
      const h = byId.get(a)!.header;
      if (h.creator === c && (best === undefined || h.seq > byId.get(best)!.header.seq)) best = a;
    }
    return best;
  };
  const sees = (x: string, w: string): boolean => anc.get(x)!.has(w) && !forkIn(x, byId.get(w)!.header.creator);
  const stronglySees = (x: string, w: string): boolean => {
    if (!sees(x, w)) return false;
    let sum = 0;
    for (let c = 0; c < stakes.length; c++) {
      if (forkIn(x, c)) continue;
      const z = top(x, c);
      if (z !== undefined && anc.get(z)!.has(w)) sum += stakes[c]!;
    }
    return sum >= quorum;
  };
  for (const e of events) {
    const x = hex(e.id);
    const set = new Set<string>([x]);
    for (const p of e.header.parents) for (const a of anc.get(hex(p))!) set.add(a);
    anc.set(x, set);
    let r = 0;
    for (const p of e.header.parents) r = Math.max(r, out.get(hex(p))!.round);
    if (e.header.parents.length > 0) {
      let sum = 0;
      for (const [w, info] of out) if (info.round === r && info.witness && stronglySees(x, w)) sum += stakes[byId.get(w)!.header.creator]!;
      if (sum >= quorum) r++;
    }
    const sp = e.header.seq > 0 ? out.get(hex(e.header.parents[0]!)) : undefined;
    out.set(x, { round: r, witness: sp === undefined || sp.round < r });
  }
  return out;
}

for (const c of [{ seed: 2, k: 4 }, { seed: 4, k: 7 }]) {
  test(`rounds and witnesses match the brute-force reference (k=${c.k}, seed ${c.seed}, with forks)`, () => {
    const { events, config } = simulatedEvents(simOptions({ ...c, events: 30 * c.k, livenessEventsMax: 10 * c.k, faults: c.k === 4 ? ["equivocate"] : ["equivocate", "equivocate"] }));
    const slots = new Set(events.map((e) => `${e.header.creator}/${e.header.seq}`));
    expect(slots.size).toBeLessThan(events.length);
    const engine = new ConsensusEngine({ ...config, horizonRounds: 1000, orphanEventsMax: events.length + 1 });
    expect(engine.addEvents(events).accepted.length).toBe(events.length);
    const stakes = config.committee.stakes.map(Number);
    const total = stakes.reduce((a, b) => a + b, 0);
    const ref = referenceRounds(events, stakes, Math.floor((2 * total) / 3) + 1);
    let maxRound = 0;
    for (const e of events) {
      const got = engine.describe(e.id)!;
      expect({ id: hex(e.id), round: got.round, witness: got.witness }).toEqual({ id: hex(e.id), ...ref.get(hex(e.id))! });
      maxRound = Math.max(maxRound, got.round);
    }
    expect(maxRound).toBeGreaterThan(3);
  });
}
