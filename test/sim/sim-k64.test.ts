// k = 64 simulator seeds (the committee maximum): 2 seeds of 256 events in CI, more with PHANTOM_SOAK=1.
import { expect, test } from "bun:test";
import { runSeeds, SOAK } from "./sim.ts";

test(`simulator at k=64 (${SOAK ? 40 : 2} seeds)`, () => {
  const failed = runSeeds(64, SOAK ? 40 : 2, 64_000, SOAK ? 2560 : 256);
  expect(failed.map((r) => r.repro)).toEqual([]);
}, 300_000);
