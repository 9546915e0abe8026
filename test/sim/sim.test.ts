// Bounded simulator run for CI: 118 seeds across k = 4, 7, 21 (k = 64 is in sim-k64.test.ts).
// PHANTOM_SOAK=1 multiplies seeds and events. A failure names the command that replays it.
import { expect, test } from "bun:test";
import { runSimulation, simOptions, runSeeds, SOAK } from "./sim.ts";

const TEST_TIMEOUT_MS = 300_000; // CPU-bound: slow on a busy machine (a k = 21 run took 173 s at load 20)

const plan: { k: number; seeds: number; events?: number }[] = [
  { k: 4, seeds: SOAK ? 1000 : 80 },
  { k: 7, seeds: SOAK ? 500 : 32 },
  { k: 21, seeds: SOAK ? 100 : 6, ...(SOAK ? { events: 4000 } : {}) },
];

for (const p of plan) {
  test(`simulator: agreement, validity, liveness, linear extension (k=${p.k}, ${p.seeds} seeds)`, () => {
    const failed = runSeeds(p.k, p.seeds, 1000 * p.k, p.events);
    expect(failed.map((r) => r.repro)).toEqual([]);
  }, TEST_TIMEOUT_MS);
}

test("simulator runs are reproducible from the seed", () => {
  const a = runSimulation(simOptions({ seed: 77, k: 7 }));
  const b = runSimulation(simOptions({ seed: 77, k: 7 }));
  expect(a.ok).toBe(true);
  expect({ ticks: a.ticks, fin: a.finalizedMin, ev: a.evidence }).toEqual({ ticks: b.ticks, fin: b.finalizedMin, ev: b.evidence });
}, TEST_TIMEOUT_MS);

test("a validator paused until its peers pruned past it rejoins: its events are final again (k=4 and 7, 6 seeds)", () => {
  for (const [k, seed] of [[4, 1], [4, 2], [4, 3], [7, 4], [7, 5], [7, 6]] as const) {
    const r = runSimulation(simOptions({ seed, k, faults: ["pause"], events: 150 * k, partition: false }));
    expect({ seed, k, failures: r.failures }).toEqual({ seed, k, failures: [] });
    // It did come back across the pruning horizon: it linked past its own old events.
    expect(r.ancient.rejoins).toBeGreaterThan(0);
  }
}, TEST_TIMEOUT_MS);

test("faulty runs exercise every fault kind and produce evidence", () => {
  const r = runSimulation(simOptions({ seed: 5, k: 16, faults: ["equivocate", "invalid", "withhold", "lag", "crash", "pause"] }));
  expect(r.ok).toBe(true);
  expect(r.evidence.equivocation).toBeGreaterThan(0);
  expect(r.evidence.invalid).toBeGreaterThan(0);
}, TEST_TIMEOUT_MS);
