/**
 * Keeps a set of child processes running: a child that exits while the set is not
 * stopping is started again after an exponential backoff (bounded), and a child that
 * keeps crashing without ever running stably is given up on, which stops the set.
 * Used by `phantom localnet` so one crashed validator does not take the network down.
 */
import type { Subprocess } from "bun";

export interface BackoffPolicy {
  /** First restart delay. */
  delayMsMin: number;
  /** The delay doubles per unstable restart up to this. */
  delayMsMax: number;
  /** A child that ran this long before exiting counts as stable: its backoff starts over. */
  stableMs: number;
  /** Consecutive unstable restarts after which the supervisor gives up. */
  restartsUnstableMax: number;
}

export const localnetBackoff: BackoffPolicy = { delayMsMin: 500, delayMsMax: 10_000, stableMs: 30_000, restartsUnstableMax: 12 };

/** Delay before restart number `unstable` (0-based count of consecutive unstable restarts). */
export function backoffDelayMs(policy: BackoffPolicy, unstable: number): number {
  const doublings = Math.min(unstable, 30); // 2^30 * anything exceeds any sane max
  return Math.min(policy.delayMsMax, policy.delayMsMin * 2 ** doublings);
}

/** Next count of consecutive unstable restarts after a child ran `ranMs` and exited. */
export function nextUnstableCount(policy: BackoffPolicy, unstable: number, ranMs: number): number {
  return ranMs >= policy.stableMs ? 0 : unstable + 1;
}

export type Child = Subprocess<"ignore", "pipe", "pipe">;

export interface SupervisedSpec {
  name: string;
  /** Starts (or restarts) the process; attach its output here. */
  spawn(): Child;
}

interface Slot {
  spec: SupervisedSpec;
  proc: Child;
  startedAt: number;
  unstable: number;
  restarts: number;
  timer: ReturnType<typeof setTimeout> | null;
}

const stopGraceMs = 10_000;

export class Supervisor {
  private readonly slots: Slot[] = [];
  private stopping = false;
  private gaveUpResolve!: (why: string) => void;
  /** Resolves with a reason when a child crashed too often and the set should stop. */
  readonly gaveUp: Promise<string> = new Promise((res) => (this.gaveUpResolve = res));

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly say: (line: string) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  add(spec: SupervisedSpec): void {
    const slot: Slot = { spec, proc: spec.spawn(), startedAt: this.now(), unstable: 0, restarts: 0, timer: null };
    this.slots.push(slot);
    this.watch(slot);
  }

  /** Restarts so far, per child name. */
  restarts(): Record<string, number> {
    return Object.fromEntries(this.slots.map((s) => [s.spec.name, s.restarts]));
  }

  private watch(slot: Slot): void {
    const proc = slot.proc;
    void proc.exited.then((code) => {
      if (this.stopping || slot.proc !== proc) return;
      const ranMs = this.now() - slot.startedAt;
      slot.unstable = nextUnstableCount(this.policy, slot.unstable, ranMs);
      const how = proc.signalCode ? `signal ${proc.signalCode}` : `code ${code}`;
      if (slot.unstable > this.policy.restartsUnstableMax) {
        this.gaveUpResolve(`${slot.spec.name} exited with ${how} after ${slot.unstable - 1} quick restarts in a row; giving up`);
        return;
      }
      const delayMs = backoffDelayMs(this.policy, Math.max(0, slot.unstable - 1));
      slot.restarts++;
      this.say(`localnet: ${slot.spec.name} exited with ${how} after ${(ranMs / 1000).toFixed(1)} s; restarting in ${(delayMs / 1000).toFixed(1)} s (restart ${slot.restarts})`);
      slot.timer = setTimeout(() => {
        slot.timer = null;
        if (this.stopping) return;
        slot.proc = slot.spec.spawn();
        slot.startedAt = this.now();
        this.watch(slot);
      }, delayMs);
    });
  }

  /** SIGTERM every child (SIGKILL after a grace period) and cancel pending restarts. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const s of this.slots) {
      if (s.timer) clearTimeout(s.timer);
      s.timer = null;
      s.proc.kill("SIGCONT"); // a stopped (kill -STOP) child would not see SIGTERM until the grace ran out
      s.proc.kill("SIGTERM");
    }
    await Promise.all(this.slots.map((s) => Promise.race([s.proc.exited, Bun.sleep(stopGraceMs).then(() => s.proc.kill("SIGKILL"))])));
  }
}
