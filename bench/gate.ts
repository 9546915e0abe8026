/**
 * `bun run bench_gate --baseline bench/baselines/<name>.csv [--tolerance 0.1]
 *  [--allow-missing] [current...]`: compares current benchmark figures with a baseline
 * CSV (as written by bench_agg) and exits 1 if any metric regressed by more than the
 * tolerance (a fraction: 0.1 = 10 %), honouring higher_is_better, or if a baseline
 * metric is missing from the current figures (unless --allow-missing). Improvements
 * and new metrics pass. `current` is one or more run files (bench/results/*.json) or
 * agg CSVs, aggregated by median; by default the newest run in bench/results.
 * Exits 2 on bad arguments or unreadable input.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { aggregate, parseCsv, readResults, resultFiles, BenchInputError, type AggRow } from "./agg.ts";

export const TOLERANCE_DEFAULT = 0.1;

export type GateStatus = "ok" | "improved" | "regressed" | "missing" | "new" | "unit_changed";

export interface GateRow {
  suite: string;
  name: string;
  unit: string;
  higher_is_better: boolean;
  baseline: number | null;
  current: number | null;
  /** current / baseline (null when either side is absent or the baseline is 0). */
  ratio: number | null;
  status: GateStatus;
}

const FAILING: readonly GateStatus[] = ["regressed", "missing", "unit_changed"];

function classify(base: AggRow, cur: AggRow, tolerance: number): GateStatus {
  if (base.unit !== cur.unit || base.higher_is_better !== cur.higher_is_better) return "unit_changed";
  const b = base.median;
  const c = cur.median;
  if (base.higher_is_better) {
    if (c < b * (1 - tolerance)) return "regressed";
    return c > b * (1 + tolerance) ? "improved" : "ok";
  }
  if (c > b * (1 + tolerance)) return "regressed";
  return c < b * (1 - tolerance) ? "improved" : "ok";
}

/** Compares by suite+name; rows come out in baseline order, then new metrics. */
export function gate(baseline: readonly AggRow[], current: readonly AggRow[], tolerance: number): GateRow[] {
  const key = (r: AggRow) => `${r.suite}\u0000${r.name}`;
  const cur = new Map(current.map((r) => [key(r), r]));
  const seen = new Set<string>();
  const rows: GateRow[] = [];
  for (const base of baseline) {
    const k = key(base);
    seen.add(k);
    const c = cur.get(k);
    rows.push({
      suite: base.suite,
      name: base.name,
      unit: base.unit,
      higher_is_better: base.higher_is_better,
      baseline: base.median,
      current: c ? c.median : null,
      ratio: c && base.median !== 0 ? c.median / base.median : null,
      status: c ? classify(base, c, tolerance) : "missing",
    });
  }
  for (const c of current) {
    if (seen.has(key(c))) continue;
    rows.push({ suite: c.suite, name: c.name, unit: c.unit, higher_is_better: c.higher_is_better, baseline: null, current: c.median, ratio: null, status: "new" });
  }
  return rows;
}

export function failures(rows: readonly GateRow[], allowMissing: boolean): GateRow[] {
  return rows.filter((r) => FAILING.includes(r.status) && !(allowMissing && r.status === "missing"));
}

function loadCurrent(files: readonly string[]): AggRow[] {
  const csvs = files.filter((f) => f.endsWith(".csv"));
  const runs = files.filter((f) => !f.endsWith(".csv"));
  const fromRuns = runs.length ? aggregate(runs.map(readResults)) : [];
  const fromCsv = csvs.flatMap((f) => parseCsv(readFileSync(f, "utf8"), f));
  return [...fromRuns, ...fromCsv];
}

function report(rows: readonly GateRow[], tolerance: number): string {
  const n = (v: number | null) => (v === null ? "-" : Number(v.toPrecision(5)).toString());
  const lines = [`bench_gate: tolerance ${(tolerance * 100).toFixed(1)} %`];
  for (const r of rows) {
    const dir = r.higher_is_better ? "higher" : "lower";
    const ratio = r.ratio === null ? "" : ` (x${r.ratio.toFixed(3)})`;
    lines.push(`${r.status.toUpperCase().padEnd(12)} ${`${r.suite}/${r.name}`.padEnd(44)} baseline ${n(r.baseline)} -> current ${n(r.current)} ${r.unit}${ratio}, ${dir} is better`);
  }
  return lines.join("\n");
}

function usage(message: string): number {
  console.error(`bench_gate: ${message}\nusage: bun run bench_gate --baseline <file.csv> [--tolerance 0.1] [--allow-missing] [current results...]`);
  return 2;
}

function main(argv: readonly string[]): number {
  let baselineFile: string | null = null;
  let tolerance = TOLERANCE_DEFAULT;
  let allowMissing = false;
  const current: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--baseline") baselineFile = argv[++i] ?? null;
    else if (a === "--tolerance") tolerance = Number(argv[++i]);
    else if (a === "--allow-missing") allowMissing = true;
    else if (a.startsWith("--")) return usage(`unknown option ${a}`);
    else current.push(resolve(a));
  }
  if (!baselineFile) return usage("--baseline is required");
  if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance >= 1) return usage("--tolerance must be a fraction in [0, 1), e.g. 0.1");
  let baseText: string;
  try {
    baseText = readFileSync(baselineFile, "utf8");
  } catch {
    return usage(`cannot read baseline ${baselineFile}`);
  }
  const baseline = parseCsv(baseText, baselineFile);
  const sources = current.length ? current : resultFiles().slice(-1);
  if (sources.length === 0) return usage("no current results (run `bun run bench` first, or name files)");
  const rows = gate(baseline, loadCurrent(sources), tolerance);
  console.log(report(rows, tolerance));
  const bad = failures(rows, allowMissing);
  console.log(bad.length === 0 ? `PASS: ${rows.length} metrics within tolerance` : `FAIL: ${bad.length} of ${rows.length} metrics (${bad.map((r) => `${r.suite}/${r.name} ${r.status}`).join(", ")})`);
  return bad.length === 0 ? 0 : 1;
}

if (import.meta.main) {
  try {
    process.exit(main(process.argv.slice(2)));
  } catch (e) {
    if (e instanceof BenchInputError) process.exit(usage(e.message));
    throw e;
  }
}
