/**
 * The localnet's status line: every few seconds, what the network did since the last
 * line, read from the validators' RPC (phantom_status and node_series):
 *
 *   localnet 06:41:05Z  anchors 4.5/s (#1234)  finalized 12.0 tx/s  finality p50 850 ms  peers 3 3 3 3  mempool 7
 *
 * anchors/s and tx/s come from the series of the lowest-numbered validator that answers,
 * the finality latency is the median over every validator's own events finalized in the
 * window, peers are per validator ("-": not answering), mempool is the largest.
 */
import { rpcCall } from "../rpc/client.ts";

/** What one validator's node_series answers (the fields used here). */
export interface SeriesAnswer {
  intervalMs: number;
  points: { atMs: number; anchors: number; txs: number; latencyP50Ms: number | null }[];
}

/** What one validator's phantom_status answers (the fields used here). */
export interface StatusAnswer {
  anchorCount: string;
  peers: number;
  mempoolSize: number;
}

export interface StatusSample {
  /** Per validator: its status, or null when it did not answer. */
  statuses: (StatusAnswer | null)[];
  /** Per validator: its series points newer than the previous line, or null. */
  series: (SeriesAnswer | null)[];
}

export interface StatusFigures {
  anchorsPerS: number | null;
  txPerS: number | null;
  finalityP50Ms: number | null;
  anchorCount: bigint | null;
  peers: (number | null)[];
  mempoolMax: number | null;
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[(s.length - 1) >> 1]!;
};

/** The figures of one line from the validators' answers (pure: tested directly). */
export function statusFigures(sample: StatusSample): StatusFigures {
  const reference = sample.series.find((s) => s !== null && s.points.length > 0) ?? null;
  const seconds = reference ? (reference.points.length * reference.intervalMs) / 1000 : 0;
  const sum = (f: (p: SeriesAnswer["points"][number]) => number) => (reference ? reference.points.reduce((a, p) => a + f(p), 0) : 0);
  const latencies = sample.series.flatMap((s) => (s ? s.points.map((p) => p.latencyP50Ms).filter((x): x is number => x !== null) : []));
  const answered = sample.statuses.filter((s): s is StatusAnswer => s !== null);
  return {
    anchorsPerS: reference ? sum((p) => p.anchors) / seconds : null,
    txPerS: reference ? sum((p) => p.txs) / seconds : null,
    finalityP50Ms: median(latencies),
    anchorCount: answered.length ? answered.reduce((m, s) => (BigInt(s.anchorCount) > m ? BigInt(s.anchorCount) : m), 0n) : null,
    peers: sample.statuses.map((s) => (s ? s.peers : null)),
    mempoolMax: answered.length ? Math.max(...answered.map((s) => s.mempoolSize)) : null,
  };
}

export function formatStatusLine(f: StatusFigures, at: Date): string {
  const dash = (x: number | null, digits: number) => (x === null ? "-" : x.toFixed(digits));
  return [
    `localnet ${at.toISOString().slice(11, 19)}Z`,
    `anchors ${dash(f.anchorsPerS, 1)}/s (#${f.anchorCount ?? "-"})`,
    `finalized ${dash(f.txPerS, 1)} tx/s`,
    `finality p50 ${f.finalityP50Ms === null ? "-" : `${Math.round(f.finalityP50Ms)} ms`}`,
    `peers ${f.peers.map((p) => (p === null ? "-" : String(p))).join(" ")}`,
    `mempool ${f.mempoolMax ?? "-"}`,
  ].join("  ");
}

/** How long one RPC call of the status poll may take (a stopped validator must not stall the line). */
export const statusRpcTimeoutMs = 2_000;

/** Polls the validators' RPC endpoints; each call of `line()` covers the time since the previous one. */
export class LocalnetStatus {
  /** Per validator: the newest series point already reported (Unix ms). */
  private readonly seen: number[];

  constructor(private readonly rpcUrls: readonly string[], private readonly intervalMs: number) {
    this.seen = rpcUrls.map(() => 0);
  }

  async sample(): Promise<StatusSample> {
    const call = <T>(url: string, method: string, params: unknown) => rpcCall<T>(url, method, params, AbortSignal.timeout(statusRpcTimeoutMs)).catch(() => null);
    const answers = await Promise.all(this.rpcUrls.map(async (url, i) => {
      const [status, series] = await Promise.all([
        call<StatusAnswer>(url, "phantom_status", {}),
        // Enough points to cover the interval; the ones already reported are skipped below.
        call<SeriesAnswer>(url, "node_series", { limit: Math.ceil(this.intervalMs / 1000) + 1 }),
      ]);
      const fresh = series ? { intervalMs: series.intervalMs, points: series.points.filter((p) => p.atMs > this.seen[i]!) } : null;
      if (fresh && fresh.points.length) this.seen[i] = fresh.points.at(-1)!.atMs;
      return { status, series: fresh };
    }));
    return { statuses: answers.map((a) => a.status), series: answers.map((a) => a.series) };
  }

  async line(at: Date = new Date()): Promise<string> {
    return formatStatusLine(statusFigures(await this.sample()), at);
  }
}
