/**
 * Synchronous vs asynchronous signature verification, measured alternately in the same
 * run (ROUNDS rounds; every figure is the median over rounds, so load from other
 * processes hits both sides alike). The batches are what admission verifies: BATCHES
 * batches of BATCH_ITEMS transfer signatures (a tx_submit call's 256 txs each).
 *   - verify_sync_sig_s: verifyBatch (2 threads, the caller's included) batch after batch;
 *     the JavaScript thread is blocked for each whole batch.
 *   - verify_async_sig_s: verifyBatchAsync, every batch started at once and awaited
 *     together (as admissions queue up in the node), on the native pool's 2 threads.
 *   - verify_async_serial_sig_s: one batch at a time, awaited before the next (adds the
 *     1 ms poll per batch).
 *   - *_cpu_us_per_sig: process CPU (all threads) per signature.
 *   - js_blocked_max_ms_*: the longest the event loop went without a turn (a 1 ms timer) in a
 *     separate pass of each (synchronous: one batch per turn of the event loop).
 *   - overlap: a fixed amount of JavaScript work (BLAKE3 over 1 KiB chunks, JS_WORK_SLICES
 *     slices on setImmediate turns, about as long as the verification) done after the
 *     synchronous verification vs alongside the asynchronous one: `overlap_speedup` =
 *     sequential time / overlapped time. On a machine whose cores the pool and the JS
 *     thread share, this is what asynchronous verification can win.
 * Run: `bun run bench/verify-async.bench.ts [--rounds N] [--batches N] [--batch N]` (~20 s).
 */
import { cpus, loadavg } from "node:os";
import { blake3, keyPairFromSeed, sign, verifyBatch, verifyBatchAsync, type VerifyItem } from "../src/crypto/index.ts";
import { emit, median, round1 } from "./lib.ts";

const SUITE = "verify_async";
const THREADS = 2;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) {
    console.error(`verify-async.bench: --${name} needs a positive integer`);
    process.exit(2);
  }
  return v;
}
const ROUNDS = arg("rounds", 5);
const BATCHES = arg("batches", 16);
const BATCH_ITEMS = arg("batch", 256);
const SIGS = BATCHES * BATCH_ITEMS;
const LOAD_AT_START = round1(loadavg()[0]!);

function transferSignatures(n: number): VerifyItem[] {
  const keys = Array.from({ length: 64 }, (_, i) => keyPairFromSeed(new Uint8Array(32).fill(i + 1)));
  return Array.from({ length: n }, (_, i) => {
    const kp = keys[i % keys.length]!;
    const message = blake3(new Uint8Array([i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff])); // a txid
    return { signature: sign(kp.secretKey, message), message, publicKey: kp.publicKey };
  });
}

const items = transferSignatures(SIGS);
const batches = Array.from({ length: BATCHES }, (_, b) => items.slice(b * BATCH_ITEMS, (b + 1) * BATCH_ITEMS));
const chunk = new Uint8Array(1024).fill(7);
const fail = (message: string): never => {
  console.error(`verify-async.bench: ${message}`);
  process.exit(1);
};

const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** One slice of JavaScript work (about what a node does per message: hashing and bookkeeping). */
let sink = 0;
function jsSlice(hashes: number): void {
  for (let i = 0; i < hashes; i++) sink ^= blake3(chunk)[0]!;
}

/** Runs `slices` slices on setImmediate turns; resolves when done. Records the longest gap between turns. */
function jsWork(slices: number, hashes: number, gaps: number[]): Promise<void> {
  return new Promise((resolve) => {
    let left = slices;
    let last = performance.now();
    const turn = () => {
      const now = performance.now();
      gaps.push(now - last);
      jsSlice(hashes);
      last = performance.now();
      if (--left > 0) setImmediate(turn);
      else resolve();
    };
    setImmediate(turn);
  });
}

/**
 * The longest the event loop went without a turn while `p` ran (ms), from a 1 ms timer
 * (a setImmediate loop would itself keep a core busy and slow the pool down).
 */
async function blockedMax(p: () => Promise<unknown> | unknown): Promise<number> {
  let last = performance.now();
  let max = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    max = Math.max(max, now - last);
    last = now;
  }, 1);
  await new Promise((r) => setTimeout(r, 2));
  last = performance.now();
  max = 0;
  await p();
  max = Math.max(max, performance.now() - last);
  clearInterval(timer);
  return max;
}

interface Round {
  syncSigS: number;
  asyncSigS: number;
  serialSigS: number;
  syncCpu: number;
  asyncCpu: number;
  syncBlocked: number;
  asyncBlocked: number;
  seqMs: number;
  overlapMs: number;
  overlapWorkShare: number;
}

const check = (answers: boolean[][]) => {
  if (!answers.every((a) => a.length === BATCH_ITEMS && a.every(Boolean))) fail("a valid signature was rejected");
};

async function round(hashesPerSlice: number, slices: number): Promise<Round> {
  let t = performance.now();
  let c = cpuUs();
  check(batches.map((b) => verifyBatch(b, THREADS)));
  const syncMs = performance.now() - t;
  const syncCpu = (cpuUs() - c) / SIGS;

  t = performance.now();
  c = cpuUs();
  check(await Promise.all(batches.map((b) => verifyBatchAsync(b, THREADS))));
  const asyncMs = performance.now() - t;
  const asyncCpu = (cpuUs() - c) / SIGS;

  // Each batch in its own turn of the event loop, as separate tx_submit calls would be.
  const syncBlocked = await blockedMax(async () => {
    for (const b of batches) {
      check([verifyBatch(b, THREADS)]);
      await new Promise((r) => setImmediate(r));
    }
  });
  const asyncBlocked = await blockedMax(async () => check(await Promise.all(batches.map((b) => verifyBatchAsync(b, THREADS)))));

  t = performance.now();
  for (const b of batches) check([await verifyBatchAsync(b, THREADS)]);
  const serialMs = performance.now() - t;

  // Verification, then the JavaScript work; vs both at once.
  t = performance.now();
  check(batches.map((b) => verifyBatch(b, THREADS)));
  await jsWork(slices, hashesPerSlice, []);
  const seqMs = performance.now() - t;
  t = performance.now();
  let verifiedAt = 0;
  const gaps: number[] = [];
  const work = jsWork(slices, hashesPerSlice, gaps);
  const verified = Promise.all(batches.map((b) => verifyBatchAsync(b, THREADS))).then((a) => {
    verifiedAt = performance.now();
    return a;
  });
  const [answers] = await Promise.all([verified, work]);
  check(answers);
  const overlapMs = performance.now() - t;
  // Share of the JS work done while the verification ran (turns before verifiedAt).
  let elapsed = 0;
  let doneWhileVerifying = 0;
  for (const g of gaps) {
    elapsed += g;
    if (t + elapsed < verifiedAt) doneWhileVerifying++;
  }
  return {
    syncSigS: SIGS / (syncMs / 1000), asyncSigS: SIGS / (asyncMs / 1000), serialSigS: SIGS / (serialMs / 1000),
    syncCpu, asyncCpu, syncBlocked, asyncBlocked, seqMs, overlapMs, overlapWorkShare: doneWhileVerifying / slices,
  };
}

// Size the JS work to about the verification's wall time: hashes per ms, measured once.
const warm = performance.now();
check(batches.map((b) => verifyBatch(b, THREADS)));
const verifyMs = performance.now() - warm;
const probeStart = performance.now();
jsSlice(2_000);
const hashesPerMs = 2_000 / Math.max(0.001, performance.now() - probeStart);
const SLICE_MS = 0.5; // one slice ~ a message's worth of work
const hashesPerSlice = Math.max(1, Math.round(hashesPerMs * SLICE_MS));
const slices = Math.max(1, Math.round(verifyMs / SLICE_MS));

const rounds: Round[] = [];
for (let r = 0; r < ROUNDS; r++) rounds.push(await round(hashesPerSlice, slices));
const med = (f: (r: Round) => number) => median(rounds.map(f));
const params = { load_avg_1m_start: LOAD_AT_START, batches: BATCHES, batch: BATCH_ITEMS, threads: THREADS, rounds: ROUNDS, cpus: cpus().length, load_avg_1m: round1(loadavg()[0]!) };

const syncSigS = med((r) => r.syncSigS);
const asyncSigS = med((r) => r.asyncSigS);
emit({ suite: SUITE, name: "verify_sync_sig_s", value: Math.round(syncSigS), unit: "sig/s", higher_is_better: true, params });
emit({ suite: SUITE, name: "verify_async_sig_s", value: Math.round(asyncSigS), unit: "sig/s", higher_is_better: true, params });
emit({ suite: SUITE, name: "verify_async_vs_sync", value: median(rounds.map((r) => r.asyncSigS / r.syncSigS)), unit: "ratio", higher_is_better: true, params });
emit({ suite: SUITE, name: "verify_async_serial_sig_s", value: Math.round(med((r) => r.serialSigS)), unit: "sig/s", higher_is_better: true, params: { ...params, note: "one batch awaited at a time" } });
emit({ suite: SUITE, name: "verify_sync_cpu_us_per_sig", value: round1(med((r) => r.syncCpu)), unit: "us", higher_is_better: false, params });
emit({ suite: SUITE, name: "verify_async_cpu_us_per_sig", value: round1(med((r) => r.asyncCpu)), unit: "us", higher_is_better: false, params });
emit({ suite: SUITE, name: "js_blocked_max_ms_sync", value: round1(med((r) => r.syncBlocked)), unit: "ms", higher_is_better: false, params });
emit({ suite: SUITE, name: "js_blocked_max_ms_async", value: round1(med((r) => r.asyncBlocked)), unit: "ms", higher_is_better: false, params });
emit({
  suite: SUITE, name: "overlap_speedup", value: median(rounds.map((r) => r.seqMs / r.overlapMs)), unit: "ratio", higher_is_better: true,
  params: { ...params, js_slices: slices, js_slice_ms: SLICE_MS, seq_ms: round1(med((r) => r.seqMs)), overlap_ms: round1(med((r) => r.overlapMs)), js_work_share_while_verifying: round1(100 * med((r) => r.overlapWorkShare)) / 100, sink: sink & 1 },
});
