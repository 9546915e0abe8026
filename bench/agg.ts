/**
 * `bun run bench_agg [result files...] [--out-dir DIR]`: aggregates several benchmark
 * runs (bench/results/<timestamp>.json, written by bench/run.ts; by default every one
 * there) into one row per suite+name with the median, min and max value, and writes
 * DIR/criterion_agg.json, DIR/criterion_agg.csv and DIR/criterion_agg.md (the names the
 * seed gives them; default DIR: bench/results/agg). The CSV is
 * what bench/gate.ts takes as a baseline. Exits 2 on unreadable input.
 */
import { readdirSync, readFileSync, mkdirSync, writeFileSync, existsSync } from "node:fs";
import { join, resolve, basename } from "node:path";
import { isBenchResult, parseBenchLine, type BenchResult } from "./lib.ts";

const RESULTS_DIR = join(import.meta.dir, "results");
const AGG_DIR_DEFAULT = join(RESULTS_DIR, "agg");
/** Output file name without extension, as the seed names it (criterion_agg.{json,csv,md}). */
export const AGG_BASENAME = "criterion_agg";
export const CSV_HEADER = ["suite", "name", "unit", "higher_is_better", "median", "min", "max", "runs", "target"] as const;

export interface AggRow {
  suite: string;
  name: string;
  unit: string;
  higher_is_better: boolean;
  median: number;
  min: number;
  max: number;
  /** How many values (runs) the row aggregates. */
  runs: number;
  target?: number;
}

export class BenchInputError extends Error {
  readonly code = "BENCH_BAD_INPUT";
}

/**
 * Reads the results of one run: a RunFile (`{ results: [...] }`) or JSON lines of
 * BenchResult (what a bench prints). Anything else is a BenchInputError.
 */
export function readResults(file: string): BenchResult[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new BenchInputError(`${file}: cannot read (${(e as Error).message})`);
  }
  const trimmed = text.trim();
  if (trimmed.startsWith("{") && trimmed.includes("\"results\"")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (e) {
      throw new BenchInputError(`${file}: not valid JSON (${(e as Error).message})`);
    }
    const results = (parsed as { results?: unknown }).results;
    if (!Array.isArray(results)) throw new BenchInputError(`${file}: "results" is not an array`);
    results.forEach((r, i) => {
      if (!isBenchResult(r)) throw new BenchInputError(`${file}: results[${i}] is not a bench result`);
    });
    return results as BenchResult[];
  }
  const results = trimmed.split("\n").map(parseBenchLine).filter((r): r is NonNullable<typeof r> => r !== null);
  if (results.length === 0) throw new BenchInputError(`${file}: no bench results found`);
  return results;
}

function median(sorted: readonly number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** One row per suite+name, sorted by suite then name. A unit change between runs is an error. */
export function aggregate(runs: readonly (readonly BenchResult[])[]): AggRow[] {
  const groups = new Map<string, { first: BenchResult; last: BenchResult; values: number[] }>();
  for (const run of runs) {
    for (const r of run) {
      const key = `${r.suite}\u0000${r.name}`;
      const g = groups.get(key);
      if (!g) {
        groups.set(key, { first: r, last: r, values: [r.value] });
        continue;
      }
      if (g.first.unit !== r.unit || g.first.higher_is_better !== r.higher_is_better) {
        throw new BenchInputError(`${r.suite}/${r.name}: unit or direction changed between runs (${g.first.unit} vs ${r.unit})`);
      }
      g.values.push(r.value);
      g.last = r;
    }
  }
  const rows = [...groups.values()].map(({ first, last, values }): AggRow => {
    const sorted = [...values].sort((a, b) => a - b);
    return {
      suite: first.suite,
      name: first.name,
      unit: first.unit,
      higher_is_better: first.higher_is_better,
      median: median(sorted),
      min: sorted[0]!,
      max: sorted[sorted.length - 1]!,
      runs: values.length,
      ...(last.target === undefined ? {} : { target: last.target }),
    };
  });
  return rows.sort((a, b) => (a.suite === b.suite ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.suite < b.suite ? -1 : 1));
}

function csvField(v: string | number | boolean | undefined): string {
  const s = v === undefined ? "" : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(rows: readonly AggRow[]): string {
  const lines = [CSV_HEADER.join(",")];
  for (const r of rows) lines.push(CSV_HEADER.map((h) => csvField(r[h])).join(","));
  return lines.join("\n") + "\n";
}

/** Splits CSV text into records (RFC 4180 quoting). */
function splitCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = "";
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") record.push(field), (field = "");
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      record.push(field), (field = "");
      if (record.some((f) => f !== "")) records.push(record);
      record = [];
    } else field += c;
  }
  record.push(field);
  if (record.some((f) => f !== "")) records.push(record);
  return records;
}

/** Parses an agg CSV (as written by toCsv); rejects missing columns and bad numbers. */
export function parseCsv(text: string, source = "csv"): AggRow[] {
  const [header, ...records] = splitCsv(text);
  if (!header) throw new BenchInputError(`${source}: empty CSV`);
  const col = new Map(header.map((h, i) => [h.trim(), i]));
  for (const h of ["suite", "name", "unit", "higher_is_better", "median"]) {
    if (!col.has(h)) throw new BenchInputError(`${source}: missing column "${h}"`);
  }
  return records.map((rec, i) => {
    const get = (h: string) => (col.has(h) ? (rec[col.get(h)!] ?? "").trim() : "");
    const num = (h: string, fallback?: number): number => {
      const s = get(h);
      if (s === "" && fallback !== undefined) return fallback;
      const n = Number(s);
      if (s === "" || !Number.isFinite(n)) throw new BenchInputError(`${source}: line ${i + 2}: bad number in "${h}": "${s}"`);
      return n;
    };
    const hib = get("higher_is_better");
    if (hib !== "true" && hib !== "false") throw new BenchInputError(`${source}: line ${i + 2}: higher_is_better must be true or false`);
    const medianValue = num("median");
    const target = get("target");
    return {
      suite: get("suite"),
      name: get("name"),
      unit: get("unit"),
      higher_is_better: hib === "true",
      median: medianValue,
      min: num("min", medianValue),
      max: num("max", medianValue),
      runs: num("runs", 1),
      ...(target === "" ? {} : { target: num("target") }),
    };
  });
}

export function toMarkdown(rows: readonly AggRow[], sources: readonly string[]): string {
  const fmt = (v: number) => (Math.abs(v) >= 1000 ? Math.round(v).toLocaleString("en-US") : Number(v.toPrecision(4)).toString());
  const lines = [
    `# Benchmark aggregate (${sources.length} run${sources.length === 1 ? "" : "s"})`,
    "",
    "| suite | name | median | min | max | unit | better | target | runs |",
    "|---|---|---:|---:|---:|---|---|---:|---:|",
  ];
  for (const r of rows) {
    const target = r.target === undefined ? "" : `${r.higher_is_better ? "≥" : "≤"} ${fmt(r.target)}`;
    lines.push(`| ${r.suite} | ${r.name} | ${fmt(r.median)} | ${fmt(r.min)} | ${fmt(r.max)} | ${r.unit} | ${r.higher_is_better ? "higher" : "lower"} | ${target} | ${r.runs} |`);
  }
  lines.push("", `Sources: ${sources.map((s) => basename(s)).join(", ")}`, "");
  return lines.join("\n");
}

/** The run files in bench/results (newest last by name, which is a UTC timestamp). */
export function resultFiles(dir = RESULTS_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".json"))
    .map((e) => join(dir, e.name))
    .sort();
}

function main(argv: readonly string[]): number {
  let outDir = AGG_DIR_DEFAULT;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--out-dir") {
      const dir = argv[++i];
      if (!dir) return fail("--out-dir needs a directory");
      outDir = resolve(dir);
    } else if (argv[i]!.startsWith("--")) return fail(`unknown option ${argv[i]}`);
    else files.push(resolve(argv[i]!));
  }
  const sources = files.length ? files : resultFiles();
  if (sources.length === 0) return fail("no result files (run `bun run bench` first, or name files)");
  const rows = aggregate(sources.map(readResults));
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, `${AGG_BASENAME}.json`), JSON.stringify({ version: 1, sources, rows }, null, 2) + "\n");
  writeFileSync(join(outDir, `${AGG_BASENAME}.csv`), toCsv(rows));
  const md = toMarkdown(rows, sources);
  writeFileSync(join(outDir, `${AGG_BASENAME}.md`), md);
  console.log(md);
  console.error(`[bench_agg] ${rows.length} rows from ${sources.length} runs -> ${join(outDir, `${AGG_BASENAME}.{json,csv,md}`)}`);
  return 0;
}

function fail(message: string): number {
  console.error(`bench_agg: ${message}\nusage: bun run bench_agg [result files...] [--out-dir DIR]`);
  return 2;
}

if (import.meta.main) {
  try {
    process.exit(main(process.argv.slice(2)));
  } catch (e) {
    if (e instanceof BenchInputError) process.exit(fail(e.message));
    throw e;
  }
}
