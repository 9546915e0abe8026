/**
 * Options of a chaos run, their defaults, the command-line parser and the one command
 * that replays a run. Everything a run does follows from these and the seed.
 */
import type { FaultKind } from "./schedule.ts";

export const FAULT_KINDS: readonly FaultKind[] = ["kill", "pause", "pause_long", "wipe", "old_store", "partition", "disk_full"];

export interface ChaosOptions {
  /** Validators (4..7). */
  nodes: number;
  seed: number;
  /** Faults in the schedule (fewer when they do not fit in the duration). */
  faults: number;
  /** Length of the fault phase; warm-up and the final drain come on top. */
  durationS: number;
  /** Fault kinds to draw from. */
  kinds: FaultKind[];
  /** JSON summary path, or null. */
  out: string | null;
  /** Working directory (a fresh temporary one when null); kept after a failed run. */
  dir: string | null;
  /** How often a validator considers creating an event. */
  eventIntervalMs: number;
  /** Genesis `consensus.horizon_rounds` (pruning horizon); smaller makes a pause past it shorter. */
  horizonRounds: number;
  /** Transfers the load generator submits per second (spread over the validators). */
  txPerSecond: number;
  /** Longest SIGSTOP of a `pause` fault. */
  pauseMsMax: number;
  /** Cap of a `pause_long` fault, which lasts until the others decided twice the pruning horizon of rounds. */
  pauseLongMsMax: number;
  /** After each fault heals, its validator(s) count as faulty this much longer (they catch up). */
  recoveryMs: number;
  /** Target: a healed validator's events are finalized again within this. */
  rejoinMsTarget: number;
  /** Finality may stall at most this long while at most f validators are faulty. */
  stallMsMax: number;
  /** Print progress lines. */
  verbose: boolean;
}

export const defaultOptions: ChaosOptions = {
  nodes: 4,
  seed: 1,
  faults: 8,
  durationS: 120,
  kinds: [...FAULT_KINDS],
  out: null,
  dir: null,
  eventIntervalMs: 100,
  horizonRounds: 64,
  txPerSecond: 10,
  pauseMsMax: 20_000,
  pauseLongMsMax: 60_000,
  recoveryMs: 10_000,
  rejoinMsTarget: 10_000,
  stallMsMax: 15_000,
  verbose: true,
};

const usage = `usage: bun run chaos [--nodes 4..7] [--seed N] [--faults N] [--duration_s S] [--kinds kill,pause,...]
                     [--out summary.json] [--dir DIR] [--event_interval_ms MS] [--horizon_rounds N] [--tx_per_second N]
                     [--pause_ms_max MS] [--pause_long_ms_max MS] [--recovery_ms MS] [--stall_ms_max MS] [--quiet]
fault kinds: ${FAULT_KINDS.join(", ")}`;

export class ChaosUsageError extends Error {
  readonly code = "CHAOS_USAGE";
  constructor(message: string) {
    super(`${message}\n${usage}`);
  }
}

const intFlags: Record<string, keyof ChaosOptions> = {
  nodes: "nodes", seed: "seed", faults: "faults", duration_s: "durationS", event_interval_ms: "eventIntervalMs",
  tx_per_second: "txPerSecond", pause_ms_max: "pauseMsMax", pause_long_ms_max: "pauseLongMsMax", recovery_ms: "recoveryMs",
  stall_ms_max: "stallMsMax", horizon_rounds: "horizonRounds",
};

export function parseChaosArgs(argv: string[]): ChaosOptions {
  const o: ChaosOptions = { ...defaultOptions, kinds: [...defaultOptions.kinds] };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    if (!raw.startsWith("--")) throw new ChaosUsageError(`unexpected argument ${raw}`);
    const name = raw.slice(2).replaceAll("-", "_");
    if (name === "quiet") {
      o.verbose = false;
      continue;
    }
    if (name === "help") throw new ChaosUsageError("");
    const value = argv[++i];
    if (value === undefined) throw new ChaosUsageError(`--${name} needs a value`);
    const key = intFlags[name];
    if (key) {
      const n = Number(value);
      if (!Number.isSafeInteger(n) || n < 0) throw new ChaosUsageError(`--${name} must be a non-negative integer, got ${value}`);
      (o as unknown as Record<string, number>)[key] = n;
    } else if (name === "kinds") {
      const kinds = value.split(",").filter((k) => k !== "");
      const bad = kinds.find((k) => !FAULT_KINDS.includes(k as FaultKind));
      if (bad || kinds.length === 0) throw new ChaosUsageError(`--kinds: unknown fault kind ${bad ?? "(none)"}`);
      o.kinds = kinds as FaultKind[];
    } else if (name === "out") o.out = value;
    else if (name === "dir") o.dir = value;
    else throw new ChaosUsageError(`unknown option --${name}`);
  }
  if (o.nodes < 4 || o.nodes > 7) throw new ChaosUsageError(`--nodes must be 4..7, got ${o.nodes}`);
  if (o.horizonRounds < 16) throw new ChaosUsageError(`--horizon_rounds must be >= 16 (genesis rule), got ${o.horizonRounds}`);
  if (o.durationS < 10) throw new ChaosUsageError(`--duration_s must be >= 10, got ${o.durationS}`);
  return o;
}

/** The command that replays this run: same seed, same schedule, same load. */
export function replayCommand(o: ChaosOptions): string {
  const parts = [
    "bun run chaos", `--nodes ${o.nodes}`, `--seed ${o.seed}`, `--faults ${o.faults}`, `--duration_s ${o.durationS}`,
    `--kinds ${o.kinds.join(",")}`, `--event_interval_ms ${o.eventIntervalMs}`, `--horizon_rounds ${o.horizonRounds}`, `--tx_per_second ${o.txPerSecond}`,
    `--pause_ms_max ${o.pauseMsMax}`, `--pause_long_ms_max ${o.pauseLongMsMax}`, `--recovery_ms ${o.recoveryMs}`, `--stall_ms_max ${o.stallMsMax}`,
  ];
  return parts.join(" ");
}

/** f = ⌊(n−1)/3⌋: validators that may be faulty at once with finality continuing. */
export const faultyMax = (nodes: number): number => Math.floor((nodes - 1) / 3);
