// Sharded simulator in CI (docs/SPEC_SHARDING.md §12): a few bounded seeds of S shards
// with cross-shard transfers under an inter-shard partition, a halted-and-resumed shard and
// a Byzantine minority; supply conserved, no double import, every transfer completes.
// `bun run sim:shards --seeds N` runs many. A failure names the command that replays it.
import { expect, test } from "bun:test";
import { runShardSimulation, shardSimOptions } from "./shards.ts";
import { SOAK } from "./sim.ts";

/** PHANTOM_SOAK=1 runs 60 seeds in the first test. */
const T = SOAK ? 600_000 : 60_000;
const ATTACK_CODES = [
  "IMPORT_DUPLICATE", "IMPORT_NOT_PROVEN", "IMPORT_WRONG_DESTINATION", "SHARD_CERT_BELOW_QUORUM", "SHARD_CERT_BAD_SIGNATURE",
  "SHARD_CERT_DUPLICATE_SIGNER", "SHARD_CERT_UNKNOWN_SIGNER", "TX_INSUFFICIENT_FUNDS",
];

test(`3 shards × 4 validators, ${SOAK ? 60 : 3} seeds: transfers complete exactly once, supply conserved, every attack refused`, () => {
  for (let seed = 1; seed <= (SOAK ? 60 : 3); seed++) {
    const r = runShardSimulation(shardSimOptions({ seed }));
    expect({ seed, failures: r.failures, repro: r.repro }).toEqual({ seed, failures: [], repro: r.repro });
    expect(r.transfers.crossShard).toBeGreaterThanOrEqual(10);
    expect(r.transfers.imported).toBe(r.transfers.crossShard);
    // The partition and the halt did delay relaying, and each kind of attack was made and refused.
    expect(r.relayBlocked).toBeGreaterThan(0);
    expect(r.equivocations).toBeGreaterThan(0);
    for (const code of ATTACK_CODES) expect({ seed, code, seen: (r.refusals[code] ?? 0) > 0 }).toEqual({ seed, code, seen: true });
    // The halted shard finalized less, but it did resume and finalize.
    const halted = r.anchors[r.options.haltShard]!;
    expect(halted).toBeGreaterThan(0);
    expect(halted).toBeLessThan(Math.max(...r.anchors));
  }
}, T);

test("2 shards with a short fault phase: transfers pending at the heal complete in the liveness phase", () => {
  const r = runShardSimulation(shardSimOptions({ seed: 7, shards: 2, ticks: 250, transfers: 20, rootInterval: 4n }));
  expect(r.failures).toEqual([]);
  expect(r.ticks).toBeGreaterThan(250);
  expect(r.transfers.imported).toBe(r.transfers.crossShard);
}, T);

test("the checks bite: a destination that credits claims without the import checks fails supply and exactly-once", () => {
  const r = runShardSimulation(shardSimOptions({ seed: 1, livenessTicksMax: 200, bugSkipImportChecks: true }));
  expect(r.ok).toBe(false);
  expect(r.failures.some((f) => f.startsWith("supply"))).toBe(true);
  expect(r.failures.some((f) => f.includes("unplanned lock"))).toBe(true);
}, T);

test("runs are reproducible from the seed; S = 1 has no cross-shard traffic", () => {
  const a = runShardSimulation(shardSimOptions({ seed: 5, ticks: 200, transfers: 8 }));
  const b = runShardSimulation(shardSimOptions({ seed: 5, ticks: 200, transfers: 8 }));
  expect({ ticks: a.ticks, anchors: a.anchors, refusals: a.refusals }).toEqual({ ticks: b.ticks, anchors: b.anchors, refusals: b.refusals });
  const one = runShardSimulation(shardSimOptions({ seed: 5, shards: 1, ticks: 200, transfers: 8 }));
  expect(one.failures).toEqual([]);
  expect(one.transfers.crossShard).toBe(0);
  expect(one.attacks).toBe(0);
}, T);
