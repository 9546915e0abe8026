/**
 * The end of a chaos run: a table of checks, per-fault rejoin lines, the targets of
 * issue 11, the JSON summary, and on failure the one command that replays the run.
 */
import { writeFileSync } from "node:fs";
import type { Check } from "./checks.ts";
import { replayCommand, type ChaosOptions } from "./options.ts";
import { describeFault, type Fault } from "./schedule.ts";
import type { RejoinOutcome } from "./checks.ts";

export interface ExecutedFault extends Fault {
  startedAtMs: number | null;
  healedAtMs: number | null;
  /** pause_long: rounds the others decided while it was paused. */
  roundsPassed?: number;
  note: string;
}

export interface ChaosSummary {
  ok: boolean;
  seed: number;
  options: ChaosOptions;
  wallMs: number;
  faults: ExecutedFault[];
  rejoins: RejoinOutcome[];
  checks: Check[];
  load: { acked: number; refused: Record<string, number>; unanswered: number };
  notes: string[];
  dir: string;
  replay: string;
}

export function summarize(parts: Omit<ChaosSummary, "ok" | "replay" | "seed">): ChaosSummary {
  return { ...parts, seed: parts.options.seed, ok: parts.checks.every((c) => c.ok), replay: replayCommand(parts.options) };
}

export function printSummary(s: ChaosSummary, out: (line: string) => void): void {
  out(`chaos: ${s.options.nodes} validators, seed ${s.seed}, ${s.faults.length} faults, ${(s.wallMs / 1000).toFixed(0)} s wall`);
  for (const f of s.faults) out(`  ${describeFault(f)}${f.note ? ` — ${f.note}` : ""}`);
  for (const r of s.rejoins) {
    const t = r.finalizedAtMs === null ? "no new event finalized while watched" : `first new event finalized ${((r.finalizedAtMs - r.healAtMs) / 1000).toFixed(1)} s after heal`;
    out(`  rejoin v${r.validator} after #${r.faultId} ${r.kind}: ${t}; seq at heal ${r.seqAtHeal}, finalized at end ${r.endSeq}`);
  }
  out(`  load: ${s.load.acked} acknowledged, refused ${JSON.stringify(s.load.refused)}, unanswered ${s.load.unanswered}`);
  for (const n of s.notes) out(`  note: ${n}`);
  for (const c of s.checks) out(`  ${c.ok ? "PASS" : "FAIL"} ${c.name.padEnd(18)} ${c.detail}`);
  out(s.ok ? "chaos: all checks passed" : `chaos: FAILED (${s.checks.filter((c) => !c.ok).map((c) => c.name).join(", ")}); logs and stores kept in ${s.dir}`);
  if (!s.ok) out(`replay: ${s.replay}`);
}

export function writeSummary(s: ChaosSummary, path: string): void {
  writeFileSync(path, JSON.stringify(s, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v instanceof Map ? Object.fromEntries(v) : v), 2) + "\n");
}
