/**
 * Watches the running network over RPC: every validator's status (anchors, decided
 * round, highest seq per creator), finality progress (the longest stretch with no new
 * anchor anywhere), and, for each healed validator, when an event it created after
 * its fault is first seen finalized.
 */
import { batch, call, type AnchorInfo, type Status } from "./rpc.ts";

const statusTimeoutMs = 1_500;
const anchorsPage = 200;
/** Event lookups per tick at most (bounds the work while several validators are watched). */
const lookupsPerTickMax = 50;

export interface Rejoin {
  faultId: number;
  validator: number;
  healAtMs: number;
  /** Highest seq of the validator its peers held when it healed: anything above is new. */
  seqAtHeal: number;
  /** When an event of it with a higher seq was first seen finalized; null = not (yet). */
  finalizedAtMs: number | null;
  finalizedSeq: number | null;
}

export interface ObserverTarget {
  nodes: number;
  rpcOf(i: number): string | null;
  /** Whether validator i is fit to be asked (up and not inside a fault). */
  healthy(i: number): boolean;
}

export class Observer {
  private readonly statuses: (Status | undefined)[];
  private lastProgressMs: number;
  private maxAnchors = -1n;
  /** Longest time without a new anchor at any validator, and when it ended. */
  stallMsMax = 0;
  stallEndedAtMs = 0;
  /** Validators healed but with no new event finalized yet while that longest stall went on. */
  stallNotRejoined: number[] = [];
  readonly rejoins: Rejoin[] = [];
  private readonly seqByEvent = new Map<string, number>();

  constructor(private readonly target: ObserverTarget, private readonly now: () => number) {
    this.statuses = new Array(target.nodes).fill(undefined);
    this.lastProgressMs = now();
  }

  latest(i: number): Status | undefined {
    return this.statuses[i];
  }

  anchorCount(): bigint {
    return this.maxAnchors;
  }

  /** Highest decided round among the healthy validators. */
  round(): number {
    return Math.max(-1, ...this.healthyList().map((i) => this.statuses[i]?.lastDecidedRound ?? -1));
  }

  /** The healthy validator with the most anchors (the freshest reads), or null. */
  reader(): number | null {
    const healthy = this.healthyList();
    if (healthy.length === 0) return null;
    return healthy.reduce((a, b) => (BigInt(this.statuses[b]?.anchorCount ?? "-1") > BigInt(this.statuses[a]?.anchorCount ?? "-1") ? b : a));
  }

  healthyList(): number[] {
    return Array.from({ length: this.target.nodes }, (_, i) => i).filter((i) => this.target.healthy(i));
  }

  private measuring = false;

  /** Starts measuring stalls (warm-up and drain are not measured). */
  startStallClock(): void {
    this.lastProgressMs = this.now();
    this.measuring = true;
  }

  stopStallClock(): void {
    this.measuring = false;
  }

  async tick(): Promise<void> {
    const healthy = this.healthyList();
    const got = await Promise.all(healthy.map((i) => call<Status>(this.target.rpcOf(i), "phantom_status", {}, statusTimeoutMs)));
    healthy.forEach((i, j) => {
      if (got[j]) this.statuses[i] = got[j];
    });
    const now = this.now();
    const best = got.reduce((m, s) => (s && BigInt(s.anchorCount) > m ? BigInt(s.anchorCount) : m), -1n);
    if (best > this.maxAnchors || !this.measuring) {
      if (best > this.maxAnchors) this.maxAnchors = best;
      this.lastProgressMs = now;
    } else if (this.measuring && now - this.lastProgressMs > this.stallMsMax) {
      this.stallMsMax = now - this.lastProgressMs;
      this.stallEndedAtMs = now;
      this.stallNotRejoined = [...new Set(this.rejoins.filter((r) => r.finalizedAtMs === null).map((r) => r.validator))];
    }
    await this.checkRejoins(healthy);
  }

  /** The highest seq of `v` any of `from` holds right now (fresh statuses). */
  async seqOf(v: number, from: number[]): Promise<number> {
    const got = await Promise.all(from.map((i) => call<Status>(this.target.rpcOf(i), "phantom_status", {}, statusTimeoutMs)));
    return Math.max(-1, ...got.map((s) => s?.highestSeq[v] ?? -1));
  }

  watchRejoin(faultId: number, validator: number, healAtMs: number, seqAtHeal: number): void {
    this.rejoins.push({ faultId, validator, healAtMs, seqAtHeal, finalizedAtMs: null, finalizedSeq: null });
  }

  private async checkRejoins(healthy: number[]): Promise<void> {
    const waiting = this.rejoins.filter((r) => r.finalizedAtMs === null);
    if (waiting.length === 0) this.seqByEvent.clear(); // only needed while someone is watched
    if (waiting.length === 0 || healthy.length === 0) return;
    // The most advanced healthy validator answers for the finalized order.
    const ref = this.reader() ?? healthy[0]!;
    const url = this.target.rpcOf(ref);
    const anchors = await call<AnchorInfo[]>(url, "chain_anchors", { limit: anchorsPage });
    if (!anchors) return;
    const wanted = new Set(waiting.map((r) => r.validator));
    const unknown = anchors.filter((a) => wanted.has(a.creator) && !this.seqByEvent.has(a.eventId)).slice(0, lookupsPerTickMax);
    const found = await batch<{ seq: number }>(url, unknown.map((a) => ({ method: "chain_lookup", params: { id: a.eventId } })));
    unknown.forEach((a, i) => {
      const seq = found[i]?.seq;
      if (typeof seq === "number") this.seqByEvent.set(a.eventId, seq);
    });
    const now = this.now();
    for (const r of waiting) {
      const seqs = anchors.filter((a) => a.creator === r.validator).map((a) => this.seqByEvent.get(a.eventId) ?? -1);
      const best = Math.max(-1, ...seqs);
      if (best > r.seqAtHeal) {
        r.finalizedAtMs = now;
        r.finalizedSeq = best;
      }
    }
  }
}
