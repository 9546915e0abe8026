// Consensus weights follow stake (SPEC_CONSENSUS §1a): the weights of round r are the stake
// table after the anchors received in rounds <= r − L. Here the table is a fixed function
// of the round (validator 3 slashed to 0 from round SLASH_ROUND on), reported to the engine
// as rounds are decided, the way the node reports the ledger's table.
import { describe, expect, test } from "bun:test";
import { ConsensusEngine, type FinalizedEvent } from "../../src/consensus/engine.ts";
import type { SignedEvent } from "../../src/types/event.ts";
import { isPhantomError } from "../../src/errors.ts";
import { makeCommittee, digest, prng, type TestCommittee } from "./helpers.ts";

const LAG = 4;
const SLASH_ROUND = 2;
const GENESIS = [100n, 100n, 100n, 100n];
const SLASHED = [100n, 100n, 100n, 0n];
const BOUNDARY = SLASH_ROUND + LAG;
const FEED_PASSES_MAX = 10_000;

let slashing = true;
const tableAfter = (round: number): bigint[] => (slashing && round >= SLASH_ROUND ? SLASHED : GENESIS);

/** Reports the table of every newly decided round; returns the last round reported. */
function report(engine: ConsensusEngine, through: number): number {
  const decided = engine.stats().lastDecidedRound;
  for (let r = through + 1; r <= decided; r++) engine.recordStake(r, tableAfter(r));
  return Math.max(through, decided);
}

/** Feeds events (in the given batches), reporting stake and re-running while events wait for weights. */
function feed(engine: ConsensusEngine, batches: readonly SignedEvent[][], state: { through: number; waitedMax: number }): FinalizedEvent[] {
  const out: FinalizedEvent[] = [];
  for (const batch of [...batches, []]) {
    let r = engine.addEvents(batch);
    for (let pass = 0; pass < FEED_PASSES_MAX; pass++) {
      expect(r.rejected).toEqual([]);
      out.push(...r.finalized);
      state.waitedMax = Math.max(state.waitedMax, engine.stats().weightWaiting);
      const known = engine.stats().weightsKnownRoundMax;
      state.through = report(engine, state.through);
      if (engine.stats().weightWaiting === 0 || engine.stats().weightsKnownRoundMax === known) break;
      r = engine.addEvents([]);
    }
  }
  return out;
}

/** One engine creates every event: creators taken in turn from `creators`, `count` events. */
function grow(tc: TestCommittee, engine: ConsensusEngine, creators: readonly number[], count: number, state: { through: number; waitedMax: number }, out: { events: SignedEvent[]; finalized: FinalizedEvent[] }): void {
  for (let i = 0; i < count; i++) {
    const c = creators[i % creators.length]!;
    try {
      out.events.push(engine.createEvent(c, tc.keys[c]!.secretKey, digest(`w${out.events.length}`)));
    } catch (e) {
      if (isPhantomError(e) && e.code === "CONSENSUS_NO_CROSS_LINK") continue;
      throw e;
    }
    out.finalized.push(...feed(engine, [], state));
  }
}

function scenario(slash = true) {
  slashing = slash;
  const tc = makeCommittee(4, { stakeLagRounds: LAG, coinRoundInterval: 4 }, GENESIS);
  const engine = new ConsensusEngine(tc.config);
  const state = { through: -1, waitedMax: 0 };
  const out = { events: [] as SignedEvent[], finalized: [] as FinalizedEvent[] };
  // Validator 2 is silent: 0, 1 and 3 hold 300 of 400 (>= q = 267) until 3 is slashed.
  grow(tc, engine, [0, 1, 3], 150, state, out);
  const stuck = { maxRound: engine.stats().maxRound, finalized: out.finalized.length, events: out.events.length };
  // Validator 2 comes back: 0, 1, 2 hold 300 of 300 (>= q = 201).
  grow(tc, engine, [0, 1, 2, 3], 200, state, out);
  return { tc, engine, state, stuck, ...out };
}

describe("consensus weights follow stake", () => {
  test("the weights switch exactly at round roundReceived + L, quorum recomputed from the new total", () => {
    const { engine } = scenario();
    const below = engine.weightsForRound(BOUNDARY - 1)!;
    const at = engine.weightsForRound(BOUNDARY)!;
    expect(Array.from(below.stake)).toEqual([100, 100, 100, 100]);
    expect(below.quorum).toBe(267);
    expect(Array.from(at.stake)).toEqual([100, 100, 100, 0]);
    expect(at.quorum).toBe(201);
    // Rounds below L are weighed with genesis whatever is reported.
    expect(engine.weightsForRound(0)!.quorum).toBe(267);
  });

  test("a slashed-to-0 validator's witnesses no longer count: rounds stop at the boundary until others make up the stake", () => {
    const { tc, stuck, engine, events, finalized } = scenario();
    // With 0, 1 and the slashed 3 only, no event of the boundary round strongly sees a
    // supermajority (200 < 201): rounds stop at exactly BOUNDARY.
    expect(stuck.maxRound).toBe(BOUNDARY);
    // Control: the same creators without the slash climb well past it.
    expect(scenario(false).stuck.maxRound).toBeGreaterThan(BOUNDARY + 5);
    // And the stuck events are invalid where the weights differ: their headers claim rounds
    // (SPEC_CONSENSUS §3 rule 16), so agreement needs every node to weigh alike.
    const genesisOnly = new ConsensusEngine({ ...tc.config, stakeLagRounds: undefined });
    expect(genesisOnly.addEvents(events.slice(0, stuck.events)).rejected.some((x) => x.code === "EVENT_BAD_PARENT_ROUND")).toBe(true);
    // Liveness with the remaining stake: once validator 2 is back, rounds and decisions go on.
    expect(engine.stats().maxRound).toBeGreaterThan(BOUNDARY + 5);
    expect(engine.stats().lastDecidedRound).toBeGreaterThan(BOUNDARY + 2);
    expect(finalized.length).toBeGreaterThan(stuck.finalized);
    // Events of validator 3 past the boundary are still ordered (it lost its weight, not its voice).
    expect(finalized.some((f) => f.event.header.creator === 3 && f.roundReceived > BOUNDARY)).toBe(true);
  });

  test("engines fed the same events in different orders and batches agree byte for byte", () => {
    const { events, finalized } = scenario();
    const ids = (fs: readonly FinalizedEvent[]) => fs.map((f) => `${f.anchorIndex}:${Buffer.from(f.event.id).toString("hex")}:${f.roundReceived}`);
    const expected = ids(finalized);
    expect(expected.length).toBeGreaterThan(100);
    const tc = makeCommittee(4, { stakeLagRounds: LAG, coinRoundInterval: 4 }, GENESIS);
    let waitedMax = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const rand = prng(seed);
      const perm = [...events];
      for (let i = perm.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [perm[i], perm[j]] = [perm[j]!, perm[i]!];
      }
      const batches: SignedEvent[][] = [];
      const size = seed % 3 === 0 ? perm.length : 1 + (seed % 3) * 7;
      for (let i = 0; i < perm.length; i += size) batches.push(perm.slice(i, i + size));
      const state = { through: -1, waitedMax: 0 };
      const got = feed(new ConsensusEngine(tc.config), batches, state);
      expect(ids(got)).toEqual(expected);
      waitedMax = Math.max(waitedMax, state.waitedMax);
    }
    // All at once, events above the known weights waited (and were placed once known).
    expect(waitedMax).toBeGreaterThan(0);
  });

  test("an own event is not signed while its parents' weights are unknown (CONSENSUS_STAKE_WAIT)", () => {
    const tc = makeCommittee(4, { stakeLagRounds: 2, coinRoundInterval: 4 }, GENESIS);
    const engine = new ConsensusEngine(tc.config);
    let code = "";
    // Nothing is ever reported: rounds 0 and 1 are known (no anchor below 0), round 2 is not.
    for (let i = 0; i < 200 && code === ""; i++) {
      try {
        engine.createEvent(i % 4, tc.keys[i % 4]!.secretKey, digest(`s${i}`));
      } catch (e) {
        if (isPhantomError(e)) code = e.code;
        else throw e;
      }
    }
    expect(code).toBe("CONSENSUS_STAKE_WAIT");
    expect(engine.stats().maxRound).toBe(2);
    expect(engine.stats().weightsKnownRoundMax).toBe(1);
  });

  test("reports are checked: not above the decided round; a zero total halts with CONSENSUS_NO_STAKE; the lag is >= 2", () => {
    const tc = makeCommittee(4, { stakeLagRounds: LAG, coinRoundInterval: 4 }, GENESIS);
    const engine = new ConsensusEngine(tc.config);
    expect(() => engine.recordStake(0, GENESIS)).toThrow(/above the decided round/);
    const { engine: running } = scenario();
    const decided = running.stats().lastDecidedRound;
    let code = "";
    try {
      running.recordStake(decided, [0n, 0n, 0n, 0n]);
    } catch (e) {
      if (isPhantomError(e)) code = e.code;
    }
    expect(code).toBe("CONSENSUS_NO_STAKE");
    expect(() => new ConsensusEngine({ ...tc.config, stakeLagRounds: 1 })).toThrow(/stakeLagRounds/);
  });
});
