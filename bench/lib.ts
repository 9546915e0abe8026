/**
 * Shared benchmark helpers. Every bench/*.bench.ts is a standalone script
 * (`bun run bench/<name>.bench.ts`) that prints one JSON object per line via
 * `emit`; bench/run.ts runs them all, bench/agg.ts aggregates runs and
 * bench/gate.ts compares against a baseline CSV.
 *
 * A result names what was measured and, where the issue asks for one, the
 * reference measured in the same run (`ratio` results compare the two).
 */
export interface BenchResult {
  /** The bench file's suite, e.g. "crypto", "consensus", "ledger", "quic". */
  suite: string;
  /** snake_case, unit-free name, e.g. "blake3_1mib_ffi". */
  name: string;
  value: number;
  /** e.g. "MB/s", "ops/s", "ns/op", "ms", "ratio", "bytes". */
  unit: string;
  higher_is_better: boolean;
  /** The issue's target for this figure, when it has one (same unit). */
  target?: number;
  /** Free-form context: thread counts, sizes, sample counts, the reference's value. */
  params?: Record<string, string | number | boolean>;
}

export function emit(result: BenchResult): void {
  const met = result.target === undefined ? undefined : result.higher_is_better ? result.value >= result.target : result.value <= result.target;
  console.log(JSON.stringify({ ...result, ...(met === undefined ? {} : { target_met: met }) }));
}

export interface Timing {
  iterations: number;
  totalMs: number;
  /** Mean milliseconds per iteration. */
  perIterMs: number;
}

/**
 * Runs `fn` repeatedly for at least `minMs` (after `warmup` untimed calls), bounded by
 * `maxIterations`, and returns the mean time per call. Wall-clock time is fine here:
 * benchmarks measure, tests never assert times.
 */
export function measure(fn: () => void, opts: { minMs?: number; maxIterations?: number; warmup?: number } = {}): Timing {
  const minMs = opts.minMs ?? 500;
  const maxIterations = opts.maxIterations ?? 1_000_000_000;
  for (let i = 0; i < (opts.warmup ?? 3); i++) fn();
  let iterations = 0;
  const start = performance.now();
  let now = start;
  while (iterations < maxIterations && now - start < minMs) {
    fn();
    iterations++;
    now = performance.now();
  }
  const totalMs = now - start;
  return { iterations, totalMs, perIterMs: totalMs / Math.max(1, iterations) };
}

/** Operations per second of one measured run (no warm-up) of `fn`, which does `ops` operations per call. */
export function opsPerSecond(fn: () => void, ops: number, minMs: number): number {
  return ops / (measure(fn, { minMs, warmup: 0 }).perIterMs / 1000);
}

/** Median of a sample; for an even count the lower of the two middle values (NaN when empty). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** Rounds to one decimal place (for figures printed in params). */
export const round1 = (x: number): number => Math.round(x * 10) / 10;

/** Percentile of a sample (nearest rank); `p` in [0, 100]. */
export function percentile(sample: readonly number[], p: number): number {
  if (sample.length === 0) return NaN;
  const sorted = [...sample].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/**
 * Runs `measure` `samples` times and returns the sample with the median time per
 * iteration (robust against a noisy shared machine), plus every sample's ms/iter.
 */
export function measureMedian(
  fn: () => void,
  opts: { minMs?: number; maxIterations?: number; warmup?: number; samples?: number } = {},
): Timing & { samplesMs: number[] } {
  const count = Math.max(1, opts.samples ?? 5);
  const timings: Timing[] = [];
  for (let i = 0; i < count; i++) timings.push(measure(fn, { ...opts, warmup: i === 0 ? opts.warmup : 0 }));
  const sorted = [...timings].sort((a, b) => a.perIterMs - b.perIterMs);
  return { ...sorted[Math.floor((sorted.length - 1) / 2)]!, samplesMs: timings.map((t) => t.perIterMs) };
}

/** Parses one line of bench output; null for anything that is not a BenchResult. */
export function parseBenchLine(line: string): (BenchResult & { target_met?: boolean }) | null {
  const text = line.trim();
  if (!text.startsWith("{")) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  return isBenchResult(value) ? value : null;
}

export function isBenchResult(value: unknown): value is BenchResult {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Record<string, unknown>;
  return typeof r.suite === "string" && r.suite !== "" && typeof r.name === "string" && r.name !== "" &&
    typeof r.value === "number" && Number.isFinite(r.value) && typeof r.unit === "string" &&
    typeof r.higher_is_better === "boolean" && (r.target === undefined || typeof r.target === "number");
}

export interface Interleaved {
  /** Median ms per iteration of `subject` and of `reference` over the pairs. */
  subjectMs: number;
  referenceMs: number;
  /** Median over the pairs of referenceMs / subjectMs: how many times faster the subject is. */
  speedup: number;
  pairs: number;
}

/**
 * Measures `subject` and `reference` alternately, `pairs` times each, so a change in
 * machine load (a shared CI box) hits both sides of every pair; the speed-up is the
 * median of the per-pair ratios, which is far steadier than a ratio of two separate runs.
 */
export function measureInterleaved(
  subject: () => void,
  reference: () => void,
  opts: { minMs?: number; pairs?: number; warmup?: number; subjectMinMs?: number; referenceMinMs?: number } = {},
): Interleaved {
  const pairs = Math.max(1, opts.pairs ?? 5);
  const s: number[] = [];
  const r: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < pairs; i++) {
    const warmup = i === 0 ? opts.warmup : 0;
    const a = measure(subject, { minMs: opts.subjectMinMs ?? opts.minMs ?? 200, warmup }).perIterMs;
    const b = measure(reference, { minMs: opts.referenceMinMs ?? opts.minMs ?? 200, warmup }).perIterMs;
    s.push(a);
    r.push(b);
    ratios.push(b / a);
  }
  return { subjectMs: median(s), referenceMs: median(r), speedup: median(ratios), pairs };
}
