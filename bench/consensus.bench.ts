/**
 * Consensus engine benchmark (instant delivery, one core).
 *
 * - throughput: events inserted and ordered per second at k = 21 and k = 64, with signatures
 *   pre-verified (`trusted`), against the reference measured in the same run: the same events
 *   with ids recomputed and signatures batch-verified.
 * - finality latency: rounds (highest round in the DAG when the event is finalized − the
 *   event's round) and events (stream position when
 *   finalized − position when inserted), p50 / p99.
 * - memory: heap bytes per event in memory, and whether events in memory stay flat over a
 *   long run (PHANTOM_BENCH_LONG=1 runs 1,000,000 events; default 100,000).
 *   `PHANTOM_BENCH_LONG=1 PHANTOM_BENCH_PARTS=memory bun run bench/consensus.bench.ts` runs only that.
 *
 * Events are signed before timing starts: signing dominates event creation.
 */
import { emit, percentile } from "./lib.ts";
import { ConsensusEngine, type EngineConfig } from "../src/consensus/engine.ts";
import type { SignedEvent } from "../src/types/event.ts";
import { keyPairFromSeed, type Ed25519KeyPair } from "../src/crypto/ed25519.ts";
import { blake3_32 } from "../src/crypto/hash.ts";

const LONG = process.env.PHANTOM_BENCH_LONG === "1";
const BATCH_EVENTS = 256;

function committee(k: number): { keys: Ed25519KeyPair[]; config: EngineConfig } {
  const keys = Array.from({ length: k }, (_, i) => keyPairFromSeed(blake3_32(new TextEncoder().encode(`bench validator ${i}`))));
  return {
    keys,
    config: { committee: { publicKeys: keys.map((x) => x.publicKey), stakes: keys.map(() => 1000n) }, coinRoundInterval: 8, parentsMax: 4, shard: 0 },
  };
}

/** xorshift32: the order in which creators speak. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 0x100000000;
  };
}

/**
 * Generates `count` signed events with instant delivery, running consensus every BATCH_EVENTS
 * events. With `onEvents` (called after each run) only the first round of events is returned.
 */
function generate(k: number, count: number, seed: number, onEvents?: (engine: ConsensusEngine, created: number) => void): SignedEvent[] {
  const { keys, config } = committee(k);
  const engine = new ConsensusEngine(config);
  const rand = rng(seed);
  const events: SignedEvent[] = [];
  const digest = new Uint8Array(32);
  for (let c = 0; c < k; c++) events.push(engine.createEvent(c, keys[c]!.secretKey, digest));
  let created = k;
  while (created < count) {
    const c = Math.floor(rand() * k);
    const e = engine.createEvent(c, keys[c]!.secretKey, digest);
    created++;
    if (onEvents === undefined) events.push(e);
    if (created % BATCH_EVENTS === 0) {
      engine.addEvents([]);
      onEvents?.(engine, created);
    }
  }
  return events;
}

function throughput(k: number, count: number, target: number): void {
  const events = generate(k, count, k);
  const { config } = committee(k);
  // The machine is shared: besides wall-clock, report per CPU-second of this process
  // (the trusted path is single-threaded, so that is "one core" without other load).
  const run = (trusted: boolean): { perSecond: number; perCpuSecond: number; finalized: number } => {
    const engine = new ConsensusEngine(config);
    let finalized = 0;
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    for (let i = 0; i < events.length; i += BATCH_EVENTS) {
      finalized += engine.addEvents(events.slice(i, i + BATCH_EVENTS), { trusted }).finalized.length;
    }
    const wallS = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return { perSecond: events.length / wallS, perCpuSecond: events.length / ((cpu.user + cpu.system) / 1e6), finalized };
  };
  run(true); // warm-up
  const trusted = run(true);
  const verified = run(false);
  emit({ suite: "consensus", name: `engine_throughput_k${k}`, value: Math.round(trusted.perCpuSecond), unit: "events/s", higher_is_better: true, target, params: { k, events: count, batch: BATCH_EVENTS, finalized: trusted.finalized, signatures: "pre-verified", per: "cpu-second", wallPerSecond: Math.round(trusted.perSecond) } });
  emit({ suite: "consensus", name: `engine_throughput_verified_k${k}`, value: Math.round(verified.perSecond), unit: "events/s", higher_is_better: true, params: { k, events: count, note: "reference: ids recomputed and signatures batch-verified in addEvents" } });
  emit({ suite: "consensus", name: `engine_throughput_ratio_k${k}`, value: trusted.perSecond / verified.perSecond, unit: "ratio", higher_is_better: true, params: { note: "pre-verified / verified" } });
}

function latency(k: number, count: number): void {
  const events = generate(k, count, 1000 + k);
  const { config } = committee(k);
  const engine = new ConsensusEngine(config);
  const insertedAt = new Map<string, { position: number; round: number }>();
  const rounds: number[] = [];
  const receivedRounds: number[] = [];
  const positions: number[] = [];
  events.forEach((e, i) => {
    const r = engine.addEvents([e], { trusted: true });
    insertedAt.set(Buffer.from(e.id).toString("hex"), { position: i, round: engine.describe(e.id)!.round });
    const maxRound = engine.stats().maxRound;
    for (const f of r.finalized) {
      const at = insertedAt.get(Buffer.from(f.event.id).toString("hex"))!;
      rounds.push(maxRound - at.round);
      receivedRounds.push(f.roundReceived - at.round);
      positions.push(i - at.position);
    }
  });
  const p = { k, events: count, finalized: rounds.length };
  emit({ suite: "consensus", name: `finality_rounds_p50_k${k}`, value: percentile(rounds, 50), unit: "rounds", higher_is_better: false, target: 3, params: p });
  emit({ suite: "consensus", name: `finality_rounds_p99_k${k}`, value: percentile(rounds, 99), unit: "rounds", higher_is_better: false, params: p });
  emit({ suite: "consensus", name: `round_received_distance_p50_k${k}`, value: percentile(receivedRounds, 50), unit: "rounds", higher_is_better: false, params: { ...p, note: "round received − event round" } });
  emit({ suite: "consensus", name: `finality_events_p50_k${k}`, value: percentile(positions, 50), unit: "events", higher_is_better: false, params: p });
  emit({ suite: "consensus", name: `finality_events_p99_k${k}`, value: percentile(positions, 99), unit: "events", higher_is_better: false, params: p });
}

function heapUsed(): number {
  Bun.gc(true);
  return process.memoryUsage().heapUsed;
}

function memory(k: number, count: number): void {
  const samples: { created: number; inMemory: number; heap: number }[] = [];
  const every = Math.max(BATCH_EVENTS, Math.floor(count / 10 / BATCH_EVENTS) * BATCH_EVENTS);
  const base = heapUsed();
  generate(k, count, 7, (engine, created) => {
    if (created % every === 0) samples.push({ created, inMemory: engine.stats().events, heap: heapUsed() - base });
  });
  const half = samples.slice(Math.floor(samples.length / 2));
  const inMemory = half.map((s) => s.inMemory);
  const heaps = half.map((s) => s.heap);
  const last = samples[samples.length - 1]!;
  emit({ suite: "consensus", name: `memory_per_event_k${k}`, value: Math.round(last.heap / last.inMemory), unit: "bytes", higher_is_better: false, params: { k, inMemory: last.inMemory, heapBytes: last.heap, note: "heap growth over the empty engine / events in memory" } });
  emit({ suite: "consensus", name: `memory_flatness_k${k}`, value: Math.max(...heaps) / Math.max(1, Math.min(...heaps)), unit: "ratio", higher_is_better: false, params: { k, events: count, samples: samples.length, inMemoryMin: Math.min(...inMemory), inMemoryMax: Math.max(...inMemory), note: "max/min heap over the second half of the run" } });
}

/** PHANTOM_BENCH_PARTS=throughput,latency,memory selects parts (default: all). */
const parts = new Set((process.env.PHANTOM_BENCH_PARTS ?? "throughput,latency,memory").split(","));
if (parts.has("throughput")) {
  throughput(21, 40_000, 50_000);
  throughput(64, 30_000, 10_000);
}
if (parts.has("latency")) {
  latency(21, 8_000);
  latency(64, 8_000);
}
if (parts.has("memory")) memory(21, LONG ? 1_000_000 : 100_000);
