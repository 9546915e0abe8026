// The scale model (bench/scale/model.ts) on inputs whose answers are worked out by hand,
// and docs/SCALING.md: it must be exactly what report.ts renders from the recorded inputs
// (bench/scale/inputs.json), so the doc is generated, never edited.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bottleneck, model, quorum, type MeasuredInputs } from "../../bench/scale/model.ts";
import { render } from "../../bench/scale/report.ts";

const ROOT = join(import.meta.dir, "..", "..");
const inputs: MeasuredInputs = {
  measuredAt: "2026-01-01T00:00:00.000Z", host: { cpu_model: "x", cpus: 2, loadavg_1m: 0, platform: "linux", arch: "x64" }, k: 21,
  eventConsensusCpuUs: 10, signatureVerifyCpuUs: 50, eventSignCpuUs: 21, txLedgerCpuUs: 100, hash64CpuUs: 1,
  eventWireBytes: 300, txPayloadBytes: 200, quicWireOverhead: 1, eventStoreBytes: 400, utxoStoreBytes: 100,
};

test("quorum is more than two thirds of k", () => {
  expect([1, 3, 4, 21, 64].map(quorum)).toEqual([1, 3, 3, 15, 43]);
}, 5_000);

test("one shard, no cross-shard: cores, bandwidth and storage by hand", () => {
  const o = model(inputs, { shards: 1, k: 21, totalTxPerS: 1_000, txPerEvent: 1, crossShare: 0, anchorsPerRange: 16, anchorsPerS: 2, pruning: false });
  // events: 1000 × (10 + 50) µs + (1000 / 21) × 21 µs = 60,000 + 1,000 µs/s
  expect(o.cores.events).toBeCloseTo(0.061, 9);
  // transfers: 1000 × (50 + 100) µs
  expect(o.cores.txs).toBeCloseTo(0.15, 9);
  expect(o.cores.crossShard + o.cores.certificates).toBe(0);
  // 1000 events × 300 B + 2 × 1000 × 200 B = 700,000 B/s = 5.6 Mbit/s
  expect(o.bandwidthMbitPerS.total).toBeCloseTo(5.6, 9);
  // (1000 × (100 + 200) + 1000 × 400) B/s × 86,400 s
  expect(o.storageGbPerDay).toBeCloseTo((700_000 * 86_400) / 1e9, 9);
  const pruned = model(inputs, { ...o.scenario, pruning: true });
  expect(pruned.storageGbPerDay).toBeCloseTo((100_000 * 86_400) / 1e9, 9);
}, 5_000);

test("cross-shard imports cost a proof and an apply; certificates are shared by a range", () => {
  const s = { shards: 3, k: 4, totalTxPerS: 3_000, txPerEvent: 10, crossShare: 0.5, anchorsPerRange: 2, anchorsPerS: 2, pruning: true };
  const o = model(inputs, s);
  // 500 imports/s per shard, 1 range/s, 250 exports per range per source, 500 leaves: 9 proof hashes
  expect(o.crossImportsPerSPerShard).toBe(500);
  expect(o.cores.crossShard).toBeCloseTo((500 * ((1 + 9) * 1 + 100)) / 1e6, 9);
  // 2 other shards × 1 range/s × quorum(4) = 3 signatures × 50 µs
  expect(o.cores.certificates).toBeCloseTo((2 * 3 * 50) / 1e6, 9);
  const b = bottleneck(o, { name: "tiny", cores: 0.0001, linkMbitPerS: 1e6 });
  expect(b.resource).toBe("cpu");
  expect(b.use).toBeGreaterThan(1);
}, 5_000);

test("docs/SCALING.md is what report.ts renders from bench/scale/inputs.json (regenerate: bun run scale)", () => {
  const recorded = JSON.parse(readFileSync(join(ROOT, "bench", "scale", "inputs.json"), "utf8")) as MeasuredInputs;
  expect(readFileSync(join(ROOT, "docs", "SCALING.md"), "utf8")).toBe(render(recorded));
}, 5_000);
