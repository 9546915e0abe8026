// Property: an engine restored from exportState() taken after any prefix of a delivery
// sequence, fed the rest, gives exactly the outputs of the original engine (finalized
// stream with anchor indices and consensus times, rejections, evidence, orphans, stale
// reports, rounds and fame), over random committees, forks, shuffled delivery (orphans)
// and a small horizon (pruning).
import { expect, test } from "bun:test";
import fc from "fast-check";
import { ConsensusEngine, buildEventHeader, type AddResult } from "../../src/consensus/engine.ts";
import { EngineStateError } from "../../src/consensus/engine-state.ts";
import { encodeEvidence } from "../../src/types/evidence.ts";
import { signEvent, type SignedEvent } from "../../src/types/event.ts";
import { makeCommittee, digest, prng, growDag } from "./helpers.ts";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

function describeResult(r: AddResult): string {
  return JSON.stringify({
    accepted: r.accepted.map((e) => hex(e.id)),
    rejected: r.rejected.map((x) => `${hex(x.id)}:${x.code}:${x.message}`),
    finalized: r.finalized.map((f) => `${f.anchorIndex}:${hex(f.event.id)}:${f.roundReceived}:${f.consensusTime.medianLamport}:${f.consensusTime.lamport}`),
    evidence: r.evidence.map((e) => hex(encodeEvidence(e))),
    orphaned: r.orphaned,
    stale: r.stale.map((e) => hex(e.id)),
  });
}

/** Events of a world engine with a forking creator (twins share seq and parents). */
function world(k: number, count: number, seed: number, horizonRounds: number): SignedEvent[] {
  const tc = makeCommittee(k, { horizonRounds });
  const engine = new ConsensusEngine(tc.config);
  const rand = prng(seed);
  const events: SignedEvent[] = [];
  for (let c = 0; c < k; c++) events.push(engine.createEvent(c, tc.keys[c]!.secretKey, digest(`s${seed} ${c}`)));
  while (events.length < count) {
    const c = Math.floor(rand() * k);
    const e = engine.createEvent(c, tc.keys[c]!.secretKey, digest(`s${seed} ${events.length}`));
    events.push(e);
    if (c === k - 1 && e.header.seq > 0 && rand() < 0.15) {
      const h = buildEventHeader({
        shard: 0, creator: c, seq: e.header.seq, payloadDigest: digest(`twin ${events.length}`),
        parents: e.header.parents.map((id, i) => ({ id, lamport: engine.getEvent(id)?.header.lamport ?? 0, round: e.header.parentRounds[i]! })),
      });
      const twin = signEvent(h, tc.keys[c]!.secretKey);
      engine.addEvents([twin]);
      events.push(twin);
    }
    if (events.length % 8 === 0) engine.addEvents([]);
  }
  return events;
}

/** Mostly in order, with local shuffles (orphans) and some duplicates (rejections). */
function delivery(events: SignedEvent[], seed: number): SignedEvent[][] {
  const rand = prng(seed);
  const out: SignedEvent[] = [...events];
  for (let i = 0; i + 1 < out.length; i++) {
    if (rand() < 0.3) {
      const j = Math.min(out.length - 1, i + 1 + Math.floor(rand() * 6));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
  }
  const batches: SignedEvent[][] = [];
  for (let i = 0; i < out.length;) {
    const n = 1 + Math.floor(rand() * 4);
    const batch = out.slice(i, i + n);
    if (rand() < 0.05 && i > 0) batch.push(out[i - 1]!);
    batches.push(batch);
    i += n;
  }
  return batches;
}

test("restored engine = original engine on the remaining events (forks, orphans, pruning)", () => {
  let finalizedSeen = 0;
  let staleOrPruned = 0;
  fc.assert(
    fc.property(fc.integer({ min: 4, max: 7 }), fc.integer({ min: 1, max: 1 << 30 }), fc.integer({ min: 4, max: 8 }), fc.double({ min: 0.05, max: 0.95, noNaN: true }), (k, seed, horizon, cutAt) => {
      const cfg = makeCommittee(k, { horizonRounds: horizon }).config;
      const batches = delivery(world(k, 36 * k, seed, horizon), seed ^ 0x5bd1e995);
      const cut = Math.floor(batches.length * cutAt);
      const original = new ConsensusEngine(cfg);
      for (const b of batches.slice(0, cut)) original.addEvents(b);
      const state = original.exportState();
      const restored = ConsensusEngine.fromState(cfg, state);
      // Round trip is exact, byte for byte.
      expect(hex(restored.exportState())).toBe(hex(state));
      for (const b of batches.slice(cut)) {
        const a = original.addEvents(b);
        const r = restored.addEvents(b);
        expect(describeResult(r)).toBe(describeResult(a));
        finalizedSeen += a.finalized.length;
      }
      expect(restored.stats()).toEqual(original.stats());
      expect(restored.highestSeq()).toEqual(original.highestSeq());
      expect(JSON.stringify(restored.recentEvents(1000))).toBe(JSON.stringify(original.recentEvents(1000)));
      expect(hex(restored.exportState())).toBe(hex(original.exportState()));
      if (original.stats().lastDecidedRound > horizon + 8) staleOrPruned++;
    }),
    { numRuns: 40, seed: 20261202 },
  );
  // The property exercised finality and pruning, not only empty engines.
  expect(finalizedSeen).toBeGreaterThan(1000);
  expect(staleOrPruned).toBeGreaterThan(10);
}, 120_000);

test("a restored engine creates the same next events as the original", () => {
  const tc = makeCommittee(4, { horizonRounds: 6 });
  const { engine } = growDag(tc, 300, 7);
  const restored = ConsensusEngine.fromState(tc.config, engine.exportState());
  for (let i = 0; i < 40; i++) {
    const c = i % 4;
    const a = engine.createEvent(c, tc.keys[c]!.secretKey, digest(`next ${i}`));
    const b = restored.createEvent(c, tc.keys[c]!.secretKey, digest(`next ${i}`));
    expect(hex(b.id)).toBe(hex(a.id));
    expect(describeResult(restored.addEvents([]))).toBe(describeResult(engine.addEvents([])));
  }
}, 60_000);

test("a state of another configuration or damaged bytes are refused with typed errors", () => {
  const tc = makeCommittee(4, { horizonRounds: 6 });
  const state = growDag(tc, 120, 3).engine.exportState();
  const codeOf = (f: () => unknown): string => {
    try {
      f();
      return "none";
    } catch (e) {
      expect(e).toBeInstanceOf(EngineStateError);
      return (e as EngineStateError).code;
    }
  };
  expect(codeOf(() => ConsensusEngine.fromState({ ...tc.config, horizonRounds: 8 }, state))).toBe("ENGINE_STATE_MISMATCH");
  expect(codeOf(() => ConsensusEngine.fromState({ ...tc.config, committee: { ...tc.config.committee, stakes: [100n, 100n, 100n, 101n] } }, state))).toBe("ENGINE_STATE_MISMATCH");
  expect(codeOf(() => ConsensusEngine.fromState(tc.config, state.slice(0, state.length - 10)))).toBe("ENGINE_STATE_INVALID");
  const wrongVersion = state.slice();
  wrongVersion[4] = 99;
  expect(codeOf(() => ConsensusEngine.fromState(tc.config, wrongVersion))).toBe("ENGINE_STATE_INVALID");
  expect(codeOf(() => ConsensusEngine.fromState(tc.config, new Uint8Array([1, 2, 3])))).toBe("ENGINE_STATE_INVALID");
});
