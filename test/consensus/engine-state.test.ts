// Property: an engine restored from exportState() taken after any prefix of a delivery
// sequence, fed the rest, gives exactly the outputs of the original engine (finalized
// stream with anchor indices and consensus times, rejections, evidence, orphans, stale
// reports, rounds and fame), over random committees, forks, shuffled delivery (orphans)
// and a small horizon (pruning); across a stake-weights boundary (a slashed validator,
// events waiting for weights) and with locally tainted events. A canonical dump of every
// field of the engine and of every DAG node must also match, so a field the state leaves
// out fails here even when the outputs happen not to show it yet.
import { expect, test } from "bun:test";
import fc from "fast-check";
import { ConsensusEngine, buildEventHeader, type AddResult } from "../../src/consensus/engine.ts";
import { EngineStateError } from "../../src/consensus/engine-state.ts";
import { encodeEvidence } from "../../src/types/evidence.ts";
import { signEvent, type SignedEvent } from "../../src/types/event.ts";
import { makeCommittee, digest, prng, growDag, forkTwin, type TestCommittee } from "./helpers.ts";

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

/**
 * Every field the engine holds (its own and, recursively, the DAG's nodes, the orphan
 * buffer, the weights schedule...), as canonical JSON: Map and Set entries sorted by key,
 * typed arrays and bytes as lists, functions and the configuration object left out. Reads
 * private fields on purpose: the point is that nothing is forgotten.
 */
function canonicalDump(engine: ConsensusEngine): string {
  const seen = new Set<object>();
  const walk = (v: unknown): unknown => {
    if (typeof v === "bigint") return `${v}n`;
    if (typeof v === "function" || v === undefined) return null;
    if (v === null || typeof v !== "object") return v;
    if (v instanceof Uint8Array) return hex(v);
    if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
    if (seen.has(v)) throw new Error("canonicalDump: shared or cyclic object");
    seen.add(v);
    let out: unknown;
    if (Array.isArray(v)) out = v.map(walk);
    else if (v instanceof Map) out = [...v.entries()].map(([k, x]) => [JSON.stringify(walk(k)), walk(x)] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    else if (v instanceof Set) out = [...v].map((x) => JSON.stringify(walk(x))).sort();
    else out = Object.fromEntries(Object.keys(v).sort().map((k) => [k, walk((v as Record<string, unknown>)[k])]));
    seen.delete(v);
    return out;
  };
  const fields = Object.fromEntries(Object.entries(engine).filter(([k]) => k !== "cfg"));
  return JSON.stringify(walk(fields));
}

/** The DAG nodes in memory (private), for checks on single fields. */
function dagNodes(engine: ConsensusEngine): { tainted: boolean; roundReceived: number; medianLamport: number }[] {
  const dag = (engine as unknown as { dag: { nodes: Map<number, { tainted: boolean; roundReceived: number; medianLamport: number }> } }).dag;
  return [...dag.nodes.values()];
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
      const twin = forkTwin(engine, e, tc.keys[c]!.secretKey, `twin ${events.length}`);
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
      // Round trip is exact, byte for byte, and field for field.
      expect(hex(restored.exportState())).toBe(hex(state));
      expect(canonicalDump(restored)).toBe(canonicalDump(original));
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
      expect(canonicalDump(restored)).toBe(canonicalDump(original));
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

// ---------------------------------------------------------------- stake weights (SPEC_CONSENSUS §1a)

const LAG = 4;
const SLASH_ROUND = 3;
const GENESIS = [100n, 100n, 100n, 100n];
const SLASHED = [100n, 100n, 100n, 0n];
const tableAfter = (round: number): bigint[] => (round >= SLASH_ROUND ? SLASHED : GENESIS);

/** Reports the table of every newly decided round, as the node's stake feed does; returns the last round reported. */
function report(engine: ConsensusEngine, through: number): number {
  const decided = engine.stats().lastDecidedRound;
  for (let r = through + 1; r <= decided; r++) engine.recordStake(r, tableAfter(r));
  return Math.max(through, decided);
}

/** The events of a 4-validator world where validator 3 is slashed to 0 from round SLASH_ROUND on. */
function slashingWorld(tc: TestCommittee, count: number): SignedEvent[] {
  const maker = new ConsensusEngine(tc.config);
  const events: SignedEvent[] = [];
  let through = -1;
  for (let i = 0; events.length < count && i < count * 4; i++) {
    const c = i % 4;
    try {
      events.push(maker.createEvent(c, tc.keys[c]!.secretKey, digest(`slash world ${i}`)));
    } catch (e) {
      if (e instanceof Error && "code" in e && (e.code === "CONSENSUS_NO_CROSS_LINK" || e.code === "CONSENSUS_STAKE_WAIT")) continue;
      throw e;
    }
    maker.addEvents([]);
    through = report(maker, through);
    maker.addEvents([]);
  }
  return events;
}

test("restored across a stake-weights boundary: recorded tables, the known round and the events waiting for weights", () => {
  const tc = makeCommittee(4, { stakeLagRounds: LAG, coinRoundInterval: 4, horizonRounds: 8 }, GENESIS);
  const events = slashingWorld(tc, 320);
  // Big batches, stake reported only after each: events wait for weights in between.
  const batches: SignedEvent[][] = [];
  for (let i = 0; i < events.length; i += 24) batches.push(events.slice(i, i + 24));
  let waitingCuts = 0;
  let afterBoundaryCuts = 0;
  for (let cut = 1; cut < batches.length; cut += 2) {
    const original = new ConsensusEngine(tc.config);
    let through = -1;
    for (const b of batches.slice(0, cut)) {
      original.addEvents(b);
      through = report(original, through);
    }
    // Taken after the batch, before its stake report: the state holds waiting events.
    original.addEvents([]);
    const state = original.exportState();
    const restored = ConsensusEngine.fromState(tc.config, state);
    expect(hex(restored.exportState())).toBe(hex(state));
    expect(canonicalDump(restored)).toBe(canonicalDump(original));
    expect(restored.stats()).toEqual(original.stats());
    if (original.stats().weightWaiting > 0) waitingCuts++;
    if (original.weightsForRound(SLASH_ROUND + LAG)?.stake[3] === 0) afterBoundaryCuts++;
    for (let r = 0; r <= original.stats().weightsKnownRoundMax; r++) {
      expect(JSON.stringify(Array.from(restored.weightsForRound(r)?.stake ?? []))).toBe(JSON.stringify(Array.from(original.weightsForRound(r)?.stake ?? [])));
    }
    let throughRestored = through;
    for (const b of [...batches.slice(cut), [], []]) {
      const a = original.addEvents(b);
      const r = restored.addEvents(b);
      expect(describeResult(r)).toBe(describeResult(a));
      through = report(original, through);
      throughRestored = report(restored, throughRestored);
    }
    expect(canonicalDump(restored)).toBe(canonicalDump(original));
    // The world crossed the boundary: validator 3 weighs 0 there, the quorum is 3 of 300.
    expect(original.weightsForRound(SLASH_ROUND + LAG)?.stake[3]).toBe(0);
    expect(original.weightsForRound(SLASH_ROUND + LAG)?.quorum).toBe(201);
  }
  // The cuts did fall where it matters.
  expect(waitingCuts).toBeGreaterThan(0);
  expect(afterBoundaryCuts).toBeGreaterThan(0);
}, 120_000);

test("a state taken under another stake lag is refused; a restored engine without reports waits as the original does", () => {
  const tc = makeCommittee(4, { stakeLagRounds: LAG, coinRoundInterval: 4, horizonRounds: 8 }, GENESIS);
  const events = slashingWorld(tc, 120);
  const original = new ConsensusEngine(tc.config);
  original.addEvents(events);
  const state = original.exportState();
  expect(original.stats().weightWaiting).toBeGreaterThan(0);
  let code = "none";
  try {
    ConsensusEngine.fromState({ ...tc.config, stakeLagRounds: LAG + 1 }, state);
  } catch (e) {
    expect(e).toBeInstanceOf(EngineStateError);
    code = (e as EngineStateError).code;
  }
  expect(code).toBe("ENGINE_STATE_MISMATCH");
  const restored = ConsensusEngine.fromState(tc.config, state);
  expect(restored.stats().weightWaiting).toBe(original.stats().weightWaiting);
  // Reporting releases the same waiting events in the same order on both.
  report(original, -1);
  report(restored, -1);
  expect(describeResult(restored.addEvents([]))).toBe(describeResult(original.addEvents([])));
  expect(canonicalDump(restored)).toBe(canonicalDump(original));
}, 60_000);

// ---------------------------------------------------------------- tainted events (SPEC_CONSENSUS §12)

test("tainted events stay tainted in a restored engine: its honest creators still never link to them", () => {
  const H = 16;
  const tc = makeCommittee(4, { horizonRounds: H });
  const SILENT = 3;
  const maker = new ConsensusEngine(tc.config);
  const early: SignedEvent[] = [];
  for (let i = 0; i < 8; i++) early.push(maker.createEvent(i % 4, tc.keys[i % 4]!.secretKey, digest(`taint early ${i}`)));
  const stream: SignedEvent[] = [...early];
  for (let i = 0; i < 240; i++) stream.push(maker.createEvent(i % 3, tc.keys[i % 3]!.secretKey, digest(`taint ${i}`)));
  const original = new ConsensusEngine(tc.config);
  original.addEvents(stream);
  original.addEvents([]);
  // The silent validator comes back linking its old head to an event of about the same old
  // round: in play (not ancient, not pruned), yet far below what this engine decided.
  const silentTop = early.filter((e) => e.header.creator === SILENT).at(-1)!;
  const decided = original.stats().lastDecidedRound;
  const low = stream.find((e) => e.header.creator === 0 && original.describe(e.id)?.round === decided - H / 2 - 2)!;
  expect(low).toBeDefined();
  const parents = [silentTop, low];
  const late = signEvent(buildEventHeader({
    shard: 0, creator: SILENT, seq: silentTop.header.seq + 1, payloadDigest: digest("late"),
    parents: parents.map((p) => ({ id: p.id, lamport: p.header.lamport, round: original.describe(p.id)?.round ?? maker.describe(p.id)!.round })),
  }), tc.keys[SILENT]!.secretKey);
  const added = original.addEvents([late]);
  expect(added.accepted.map((e) => hex(e.id))).toEqual([hex(late.id)]);
  expect(dagNodes(original).filter((n) => n.tainted)).toHaveLength(1);
  expect(dagNodes(original).some((n) => n.roundReceived >= 0 && n.medianLamport >= 0)).toBe(true);

  const restored = ConsensusEngine.fromState(tc.config, original.exportState());
  expect(canonicalDump(restored)).toBe(canonicalDump(original));
  expect(dagNodes(restored).filter((n) => n.tainted)).toHaveLength(1);
  for (let i = 0; i < 30; i++) {
    const c = i % 3;
    const a = original.createEvent(c, tc.keys[c]!.secretKey, digest(`after taint ${i}`));
    const b = restored.createEvent(c, tc.keys[c]!.secretKey, digest(`after taint ${i}`));
    expect(hex(b.id)).toBe(hex(a.id));
    expect(a.header.parents.some((p) => hex(p) === hex(late.id))).toBe(false);
    expect(describeResult(restored.addEvents([]))).toBe(describeResult(original.addEvents([])));
  }
  expect(canonicalDump(restored)).toBe(canonicalDump(original));
}, 60_000);
