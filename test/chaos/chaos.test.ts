// The short chaos schedule CI runs: four real validator processes on loopback behind
// UDP proxies (genesis horizon 16 rounds, so a pause past it is short), a miner,
// signed transfers to every validator, and a seeded handful of faults — SIGKILL +
// restart, a SIGSTOP past the pruning horizon, a partition, a restart from an empty
// store and one from an old store copy, a full disk where a tmpfs can be mounted —
// then every check.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ANCIENT_ROUNDS } from "../../src/types/constants.ts";
import { defaultOptions, type ChaosOptions } from "./options.ts";
import { runChaos } from "./run.ts";
import { TIMING_CHECKS } from "./checks.ts";

const options: ChaosOptions = {
  ...defaultOptions,
  nodes: 4,
  seed: 20_261_202,
  faults: 6,
  durationS: 60,
  kinds: ["kill", "pause_long", "partition", "wipe", "old_store", "disk_full"],
  horizonRounds: 16,
  pauseMsMax: 5_000,
  pauseLongMsMax: 20_000,
  recoveryMs: 3_000,
  verbose: false,
};

describe("chaos (short schedule)", () => {
  test("4 validators, 6 faults: same order and state everywhere, every healed validator finalizes again, every acknowledged tx accounted for", async () => {
    const dir = mkdtempSync(join(tmpdir(), "phantom-chaos-test-"));
    const out = join(dir, "summary.json");
    const lines: string[] = [];
    try {
      const summary = await runChaos({ ...options, dir: join(dir, "run"), out }, (l) => lines.push(l));
      console.log(lines.join("\n"));
      expect(JSON.parse(readFileSync(out, "utf8")).seed).toBe(options.seed);
      // disk_full needs `mount -t tmpfs`; where it is not allowed the kind is skipped and noted.
      const skipped = summary.notes.some((n) => n.startsWith("disk_full "));
      expect(summary.faults.map((f) => f.kind).sort()).toEqual(options.kinds.filter((k) => !(skipped && k === "disk_full")).sort());
      expect(summary.faults.every((f) => f.startedAtMs !== null && f.healedAtMs !== null)).toBe(true);
      const pauseLong = summary.faults.find((f) => f.kind === "pause_long")!;
      expect(pauseLong.roundsPassed!).toBeGreaterThanOrEqual(2 * (options.horizonRounds + ANCIENT_ROUNDS));
      expect(summary.load.acked).toBeGreaterThan(0);
      expect(summary.rejoins).toHaveLength(summary.faults.length);
      for (const name of ["agreement", "caught_up", "integrity", "no_evidence", "rejoin", "tx_accounted", "no_crash"] as const) {
        expect(summary.checks.some((c) => c.name === name)).toBe(true);
      }
      // Wall-clock targets (rejoin within 10 s, no stall over 15 s, disk-full exit within 1 s) are
      // printed above but not asserted here: a loaded CI machine is no place to measure them.
      const failed = summary.checks.filter((c) => !c.ok && !TIMING_CHECKS.has(c.name));
      expect(failed.map((c) => `${c.name}: ${c.detail}`)).toEqual([]);
      if (!summary.ok) expect(lines.some((l) => l.startsWith("replay: bun run chaos --nodes 4 --seed 20261202 "))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
