/**
 * The seeded fault schedule: which fault hits which validators when, for how long.
 * A pure function of its inputs (a seeded PRNG, no clock), so a seed replays the same
 * schedule. Invariant: at no time are more than f = ⌊(n−1)/3⌋ validators inside a
 * fault window, where a window runs from the fault's start to its heal plus a
 * recovery margin (a validator that is catching up is not yet a healthy one).
 */
import { seededRandom } from "../quic/lossy-proxy.ts";
import { faultyMax } from "./options.ts";

export type FaultKind =
  /** SIGKILL, restart on its own store after `durationMs`. */
  | "kill"
  /** SIGSTOP for `durationMs`, then SIGCONT. */
  | "pause"
  /** SIGSTOP until the others decided twice the pruning horizon of rounds (at most `durationMs`), then SIGCONT. */
  | "pause_long"
  /** SIGKILL, delete the store, restart on an empty one after `durationMs`. */
  | "wipe"
  /** Copy the store at `snapshotAtMs`; at `atMs` SIGKILL, put the copy back, restart after `durationMs`. */
  | "old_store"
  /** The targets can reach each other but not the rest, for `durationMs`. */
  | "partition"
  /** The target's store file system is full for `durationMs`, then has space again. */
  | "disk_full";

export interface Fault {
  id: number;
  kind: FaultKind;
  targets: number[];
  /** Start, from the beginning of the fault phase. */
  atMs: number;
  /** Planned length (a cap for pause_long). */
  durationMs: number;
  /** old_store only: when the copy is taken. */
  snapshotAtMs?: number;
}

export interface ScheduleParams {
  nodes: number;
  seed: number;
  faults: number;
  phaseMs: number;
  kinds: readonly FaultKind[];
  pauseMsMax: number;
  pauseLongMsMax: number;
  recoveryMs: number;
}

const ms = (s: number) => Math.round(s * 1000);

function durationFor(kind: FaultKind, p: ScheduleParams, r: () => number): number {
  const between = (lo: number, hi: number) => Math.round(lo + r() * Math.max(0, hi - lo));
  switch (kind) {
    case "kill":
    case "wipe":
    case "old_store":
      return between(ms(1), ms(4));
    case "pause":
      return between(ms(2), Math.max(ms(2), p.pauseMsMax));
    case "pause_long":
      return p.pauseLongMsMax;
    case "partition":
      return between(ms(3), Math.max(ms(3), Math.min(p.pauseMsMax, ms(15))));
    case "disk_full":
      return between(ms(3), ms(8));
  }
}

/** Validators inside some window that overlaps [from, to). */
function busyDuring(faults: readonly Fault[], from: number, to: number, recoveryMs: number): Set<number> {
  const busy = new Set<number>();
  for (const f of faults) {
    if (f.atMs < to && f.atMs + f.durationMs + recoveryMs > from) for (const t of f.targets) busy.add(t);
  }
  return busy;
}

export function makeSchedule(p: ScheduleParams): Fault[] {
  if (p.kinds.length === 0) return [];
  const r = seededRandom(p.seed);
  const f = faultyMax(p.nodes);
  // Every kind once (in a seeded order) before any repeats, so a short schedule covers them all.
  const order = p.kinds.map((k) => ({ k, key: r() })).sort((a, b) => a.key - b.key).map((x) => x.k);
  const meanGapMs = p.phaseMs / Math.max(1, p.faults);
  const faults: Fault[] = [];
  let cursor = 0;
  for (let i = 0; i < p.faults; i++) {
    const kind = i < order.length ? order[i]! : p.kinds[Math.floor(r() * p.kinds.length)]!;
    const durationMs = durationFor(kind, p, r);
    // A gap after the previous start, but never so late that the fault cannot end inside the phase.
    let atMs = Math.min(cursor + Math.round(meanGapMs * (0.1 + 0.4 * r())), Math.max(cursor, p.phaseMs - durationMs));
    let free: number[] = [];
    // Move the start past window ends until a target is free (at most one step per earlier fault).
    for (let step = 0; step <= faults.length; step++) {
      const busy = busyDuring(faults, atMs, atMs + durationMs + p.recoveryMs, p.recoveryMs);
      free = Array.from({ length: p.nodes }, (_, v) => v).filter((v) => !busy.has(v));
      if (busy.size < f && free.length > 0) break;
      const ends = faults.map((x) => x.atMs + x.durationMs + p.recoveryMs).filter((e) => e > atMs);
      if (ends.length === 0) break;
      atMs = Math.min(...ends) + 1;
      free = [];
    }
    if (free.length === 0 || atMs + durationMs > p.phaseMs) break;
    const room = f - busyDuring(faults, atMs, atMs + durationMs + p.recoveryMs, p.recoveryMs).size;
    const size = 1 + Math.floor(r() * Math.min(room, free.length));
    const targets: number[] = [];
    for (let j = 0; j < size && free.length > 0; j++) targets.push(free.splice(Math.floor(r() * free.length), 1)[0]!);
    targets.sort((a, b) => a - b);
    const fault: Fault = { id: faults.length, kind, targets, atMs, durationMs };
    if (kind === "old_store") fault.snapshotAtMs = Math.max(0, atMs - Math.round(ms(5) + r() * ms(10)));
    faults.push(fault);
    cursor = atMs;
  }
  return faults;
}

/** Largest number of validators inside fault windows at any moment (the invariant says ≤ f). */
export function peakFaulty(faults: readonly Fault[], recoveryMs: number): number {
  let peak = 0;
  for (const f of faults) peak = Math.max(peak, busyDuring(faults, f.atMs, f.atMs + 1, recoveryMs).size);
  return peak;
}

export function describeFault(f: Fault): string {
  const who = f.targets.map((t) => `v${t}`).join("+");
  const snap = f.snapshotAtMs !== undefined ? ` (copy at ${(f.snapshotAtMs / 1000).toFixed(1)} s)` : "";
  return `#${f.id} ${f.kind} ${who} at ${(f.atMs / 1000).toFixed(1)} s for ${(f.durationMs / 1000).toFixed(1)} s${snap}`;
}
