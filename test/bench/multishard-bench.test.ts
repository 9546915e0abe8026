// The multishard bench's pure parts: which transfers cross shards, and its options.
import { describe, expect, test } from "bun:test";
import { crossPlan, parseMultishardArgs } from "../../bench/multishard.bench.ts";

describe("multishard bench", () => {
  test("crossPlan marks the share evenly: every 10th of 100 at 10 %", () => {
    const plan = crossPlan(100, 0.1);
    expect(plan.filter(Boolean).length).toBe(10);
    expect(plan.flatMap((c, i) => (c ? [i] : []))).toEqual([9, 19, 29, 39, 49, 59, 69, 79, 89, 99]);
    expect(crossPlan(50, 0).some(Boolean)).toBe(false);
    expect(crossPlan(7, 1).every(Boolean)).toBe(true);
    expect(crossPlan(1000, 0.5).filter(Boolean).length).toBe(500);
  });

  test("options: defaults, flags, the environment, and refusals", () => {
    expect(parseMultishardArgs([])).toMatchObject({ shards: 4, rate: 100, seconds: 20, cross: 0.1, rootInterval: 4 });
    expect(parseMultishardArgs(["--shards", "2", "--rate", "50", "--cross", "0.5", "--keep_dir"])).toMatchObject({ shards: 2, rate: 50, cross: 0.5, keepDir: true });
    expect(parseMultishardArgs([], { PHANTOM_BENCH_MULTISHARD_RATE: "30", PHANTOM_BENCH_MULTISHARD_SECONDS: "5" })).toMatchObject({ rate: 30, seconds: 5 });
    expect(() => parseMultishardArgs(["--shards", "1"])).toThrow("--shards must be 2..16");
    expect(() => parseMultishardArgs(["--cross", "1.5"])).toThrow("--cross must be 0..1");
    expect(() => parseMultishardArgs(["--bogus"])).toThrow("unknown option --bogus");
  });
});
