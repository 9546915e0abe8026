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
  importCheckUs: 9, certVerifyUs: 150, certBytes: 1000, nodeCpuUsPerTx: 400,
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
  // the node today: 1000 × 400 µs
  expect(o.nodeCores).toBeCloseTo(0.4, 9);
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
  // 500 imports/s per shard: a leaf hash, an import check and a ledger apply each
  expect(o.crossImportsPerSPerShard).toBe(500);
  expect(o.cores.crossShard).toBeCloseTo((500 * (1 + 9 + 100)) / 1e6, 9);
  // 2 other shards × 1 range/s × one certificate check
  expect(o.cores.certificates).toBeCloseTo((2 * 150) / 1e6, 9);
  // 1000 tx/s × 200 B × 2 + 100 events × 300 B + imports: 500 × (200 B + 9 proof hashes × 32 B) + 2 certificates × 1000 B
  expect(o.bandwidthMbitPerS.total).toBeCloseTo(((2 * 1000 * 200 + 100 * 300 + 500 * (200 + 9 * 32) + 2 * 1000) * 8) / 1e6, 9);
  const b = bottleneck(o, { name: "tiny", cores: 0.0001, linkMbitPerS: 1e6 });
  expect(b.resource).toBe("cpu");
  expect(b.use).toBeGreaterThan(1);
}, 5_000);

test("docs/SCALING.md is what report.ts renders from bench/scale/inputs.json (regenerate: bun run scale)", () => {
  const recorded = JSON.parse(readFileSync(join(ROOT, "bench", "scale", "inputs.json"), "utf8")) as MeasuredInputs;
  expect(readFileSync(join(ROOT, "docs", "SCALING.md"), "utf8")).toBe(render(recorded));
}, 5_000);
