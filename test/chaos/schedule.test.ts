// The chaos schedule and options, without processes: a seed gives one schedule, the
// schedule never has more than f validators faulty at once, a short one covers every
// requested kind, and the printed replay command parses back to the same options.
import { describe, expect, test } from "bun:test";
import { makeSchedule, peakFaulty, type ScheduleParams } from "./schedule.ts";
import { FAULT_KINDS, defaultOptions, faultyMax, parseChaosArgs, replayCommand, ChaosUsageError } from "./options.ts";

const base: ScheduleParams = { nodes: 4, seed: 9, faults: 7, phaseMs: 300_000, kinds: FAULT_KINDS, pauseMsMax: 20_000, pauseLongMsMax: 60_000, recoveryMs: 10_000 };

describe("chaos schedule", () => {
  test("same seed, same schedule; another seed, another one", () => {
    expect(makeSchedule(base)).toEqual(makeSchedule(base));
    expect(makeSchedule({ ...base, seed: 10 })).not.toEqual(makeSchedule(base));
  });

  test("never more than f faulty at once, for 4..7 validators and many seeds", () => {
    for (let nodes = 4; nodes <= 7; nodes++) {
      for (let seed = 1; seed <= 30; seed++) {
        const s = makeSchedule({ ...base, nodes, seed, faults: 60, phaseMs: 1_800_000 });
        expect(peakFaulty(s, base.recoveryMs)).toBeLessThanOrEqual(faultyMax(nodes));
        expect(s.every((f) => f.targets.length >= 1 && f.targets.every((t) => t >= 0 && t < nodes))).toBe(true);
        expect(s.every((f) => f.atMs + f.durationMs <= 1_800_000)).toBe(true);
      }
    }
  });

  test("a 30-minute schedule holds at least 50 faults; with f = 2 some overlap", () => {
    expect(makeSchedule({ ...base, faults: 60, phaseMs: 1_800_000 }).length).toBeGreaterThanOrEqual(50);
    const seven = makeSchedule({ ...base, nodes: 7, faults: 60, phaseMs: 1_800_000 });
    expect(peakFaulty(seven, base.recoveryMs)).toBe(2);
  });

  test("every requested kind appears once before any repeats; old_store copies before it strikes", () => {
    const s = makeSchedule(base);
    expect(new Set(s.slice(0, FAULT_KINDS.length).map((f) => f.kind))).toEqual(new Set(FAULT_KINDS));
    for (const f of s.filter((x) => x.kind === "old_store")) expect(f.snapshotAtMs!).toBeLessThan(f.atMs);
  });
});

describe("chaos options", () => {
  test("the replay command parses back to the same options", () => {
    const o = parseChaosArgs(["--nodes", "5", "--seed", "77", "--faults", "12", "--duration_s", "200", "--kinds", "kill,partition"]);
    expect(parseChaosArgs(replayCommand(o).split(" ").slice(3))).toEqual(o);
    expect(o.nodes).toBe(5);
    expect(o.kinds).toEqual(["kill", "partition"]);
    expect(parseChaosArgs([])).toEqual(defaultOptions);
  });

  test("bad options are usage errors", () => {
    for (const argv of [["--nodes", "3"], ["--nodes", "8"], ["--kinds", "meteor"], ["--seed"], ["--frobnicate", "1"], ["--duration_s", "-1"]]) {
      expect(() => parseChaosArgs(argv)).toThrow(ChaosUsageError);
    }
  });
});
