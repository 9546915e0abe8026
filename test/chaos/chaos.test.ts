// The short chaos schedule CI runs: four real validator processes on loopback behind
// UDP proxies, a miner, signed transfers to every validator, and a seeded handful of
// faults — SIGKILL + restart, a SIGSTOP past the pruning horizon, a partition, a
// restart from an empty store and one from an old store copy — then every check.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HORIZON_ROUNDS_DEFAULT } from "../../src/consensus/engine.ts";
import { defaultOptions, type ChaosOptions } from "./options.ts";
import { runChaos } from "./run.ts";
import type { CheckName } from "./checks.ts";

/**
 * Checks that fail on today's code for the reasons issue 11 describes (items 1–3): a
 * validator paused past the horizon, or restarted from an empty or old store, is
 * excluded for good, and transactions it acknowledged are lost. The lead's rejoin
 * protocol fixes them; empty this list when it lands, so they are enforced.
 */
const KNOWN_FAILING_UNTIL_ISSUE_11: ReadonlySet<CheckName> = new Set<CheckName>(["rejoin", "rejoin_time", "tx_accounted", "finality", "no_evidence"]);

const options: ChaosOptions = {
  ...defaultOptions,
  nodes: 4,
  seed: 20_261_202,
  faults: 5,
  durationS: 70,
  kinds: ["kill", "pause_long", "partition", "wipe", "old_store"],
  pauseMsMax: 5_000,
  pauseLongMsMax: 35_000,
  recoveryMs: 3_000,
  verbose: false,
};

describe("chaos (short schedule)", () => {
  test("4 validators, 5 faults: same order and state everywhere, every fault healed, the rest as issue 11 allows", async () => {
    const dir = mkdtempSync(join(tmpdir(), "phantom-chaos-test-"));
    const out = join(dir, "summary.json");
    const lines: string[] = [];
    try {
      const summary = await runChaos({ ...options, dir: join(dir, "run"), out }, (l) => lines.push(l));
      console.log(lines.join("\n"));
      expect(JSON.parse(readFileSync(out, "utf8")).seed).toBe(options.seed);
      expect(summary.faults.map((f) => f.kind).sort()).toEqual([...options.kinds].sort());
      expect(summary.faults.every((f) => f.startedAtMs !== null && f.healedAtMs !== null)).toBe(true);
      const pauseLong = summary.faults.find((f) => f.kind === "pause_long")!;
      expect(pauseLong.roundsPassed!).toBeGreaterThanOrEqual(2 * HORIZON_ROUNDS_DEFAULT);
      expect(summary.load.acked).toBeGreaterThan(0);
      expect(summary.rejoins).toHaveLength(5);
      // Safety is never excused.
      for (const name of ["agreement", "caught_up", "integrity", "no_crash"] as const) {
        expect({ name, ok: summary.checks.find((c) => c.name === name)?.ok }).toEqual({ name, ok: true });
      }
      const unexpected = summary.checks.filter((c) => !c.ok && !KNOWN_FAILING_UNTIL_ISSUE_11.has(c.name));
      expect(unexpected.map((c) => `${c.name}: ${c.detail}`)).toEqual([]);
      if (!summary.ok) expect(lines.some((l) => l.startsWith("replay: bun run chaos --nodes 4 --seed 20261202 "))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
