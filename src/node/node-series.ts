/**
 * A small in-memory time series of what the explorer charts: finalized transactions per
 * second, finality latency, mempool size and peers. The node samples it on a timer; it
 * holds at most `seriesPointsMax` points and `seriesPendingMax` own events waiting for
 * finality, so its memory is bounded whatever the load. Node layer only: it reads clocks,
 * consensus never sees them.
 */
import { toHex } from "../crypto/bytes.ts";

/** Milliseconds between two samples. */
export const seriesSampleMs = 2_000;
/** Samples kept (10 minutes at the default interval). */
export const seriesPointsMax = 300;
/** Own events remembered while they wait for finality; the oldest is forgotten first. */
export const seriesPendingMax = 4_096;

export interface SeriesPoint {
  /** Wall-clock time of the sample, Unix milliseconds (for the chart's axis only). */
  atMs: number;
  /** Anchors applied since the previous sample. */
  anchors: number;
  /** MicroTxs and mints applied since the previous sample. */
  txs: number;
  /** `txs` per second over the interval. */
  tps: number;
  /** Median and highest finality latency (own event created → finalized here) of the own events finalized in the interval; null when none was. */
  latencyP50Ms: number | null;
  latencyMaxMs: number | null;
  mempool: number;
  peers: number;
  lastDecidedRound: number;
}

export interface SeriesGauges {
  mempool: number;
  peers: number;
  lastDecidedRound: number;
}

export class NodeSeries {
  private readonly points: SeriesPoint[] = [];
  /** Own event id (hex) -> monotonic ms of its creation; Map keeps insertion order for eviction. */
  private readonly created = new Map<string, number>();
  private anchors = 0;
  private txs = 0;
  private latencies: number[] = [];
  private lastSampleAt: number;

  constructor(
    /** Monotonic milliseconds (durations). */
    private readonly now: () => number,
    /** Wall-clock Unix milliseconds (labels). */
    private readonly wallNow: () => number = Date.now,
  ) {
    this.lastSampleAt = now();
  }

  /** This validator created (and inserted) event `id`. */
  noteCreated(id: Uint8Array): void {
    if (this.created.size >= seriesPendingMax) {
      const oldest = this.created.keys().next().value;
      if (oldest !== undefined) this.created.delete(oldest);
    }
    this.created.set(toHex(id), this.now());
  }

  /** An anchor was applied: event `eventId` with `txs` applied MicroTxs and mints. */
  noteApplied(eventId: Uint8Array, txs: number): void {
    this.anchors++;
    this.txs += txs;
    const key = toHex(eventId);
    const at = this.created.get(key);
    if (at === undefined) return;
    this.created.delete(key);
    this.latencies.push(this.now() - at);
  }

  /** Closes the current interval into a point. */
  sample(g: SeriesGauges): SeriesPoint {
    const now = this.now();
    const seconds = Math.max(0.001, (now - this.lastSampleAt) / 1000);
    const sorted = this.latencies.sort((a, b) => a - b);
    const point: SeriesPoint = {
      atMs: this.wallNow(), anchors: this.anchors, txs: this.txs, tps: round2(this.txs / seconds),
      latencyP50Ms: sorted.length ? Math.round(sorted[(sorted.length - 1) >> 1]!) : null,
      latencyMaxMs: sorted.length ? Math.round(sorted[sorted.length - 1]!) : null,
      mempool: g.mempool, peers: g.peers, lastDecidedRound: g.lastDecidedRound,
    };
    this.points.push(point);
    if (this.points.length > seriesPointsMax) this.points.shift();
    this.anchors = 0;
    this.txs = 0;
    this.latencies = [];
    this.lastSampleAt = now;
    return point;
  }

  /** The newest `limit` points, oldest first. */
  recent(limit: number = seriesPointsMax): SeriesPoint[] {
    return this.points.slice(Math.max(0, this.points.length - limit));
  }
}

const round2 = (x: number): number => Math.round(x * 100) / 100;
