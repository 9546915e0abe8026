/**
 * `bun run bench [filter...] [--timeout-s N] [--out FILE] [--dir DIR]`: runs every bench/*.bench.ts
 * (or those whose file name contains one of the filters) as a child process, one at a
 * time, each killed after `--timeout-s` seconds. Their JSON result lines are echoed,
 * collected and saved to bench/results/<timestamp>.json (a RunFile, see below); other
 * output from a bench goes to stderr, then a summary table. `--dir` runs the *.bench.ts
 * of another folder (tests use it). Exits 1 if a bench failed, timed out or printed no
 * result, 2 on bad arguments.
 */
import { readdirSync, mkdirSync, writeFileSync, existsSync } from "node:fs";
import { join, basename, resolve } from "node:path";
import { availableParallelism, cpus, loadavg } from "node:os";
import { parseBenchLine, type BenchResult } from "./lib.ts";

const BENCH_DIR = import.meta.dir;
export const RESULTS_DIR = join(BENCH_DIR, "results");
/** Default bound on one bench file's run; the benches aim for ~60 s. */
const BENCH_TIMEOUT_S_DEFAULT = 180;
const BENCH_TIMEOUT_S_MAX = 3600;

export type StoredResult = BenchResult & { target_met?: boolean; file: string };

/** What bench/results/<timestamp>.json holds. */
export interface RunFile {
  version: 1;
  started_at: string;
  /** loadavg_1m: the machine's load when the run started (figures are noisy when it exceeds cpus). */
  host: { platform: string; arch: string; cpus: number; cpu_model: string; bun: string; loadavg_1m: number };
  filters: string[];
  results: StoredResult[];
  failures: { file: string; reason: string }[];
}

interface Options {
  filters: string[];
  timeoutS: number;
  out: string | null;
  dir: string;
}

function usage(message: string): never {
  console.error(`bench: ${message}\nusage: bun run bench [filter...] [--timeout-s N] [--out FILE] [--dir DIR]`);
  process.exit(2);
}

function parseOptions(argv: readonly string[]): Options {
  const opts: Options = { filters: [], timeoutS: BENCH_TIMEOUT_S_DEFAULT, out: null, dir: BENCH_DIR };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--timeout-s") {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1 || n > BENCH_TIMEOUT_S_MAX) usage(`--timeout-s must be 1..${BENCH_TIMEOUT_S_MAX}`);
      opts.timeoutS = n;
    } else if (a === "--out") {
      opts.out = argv[++i] ?? usage("--out needs a file");
    } else if (a === "--dir") {
      opts.dir = resolve(argv[++i] ?? usage("--dir needs a folder"));
    } else if (a.startsWith("--")) {
      usage(`unknown option ${a}`);
    } else {
      opts.filters.push(a);
    }
  }
  return opts;
}

export function benchFiles(filters: readonly string[], dir = BENCH_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".bench.ts"))
    .filter((f) => filters.length === 0 || filters.some((flt) => f.includes(flt)))
    .sort()
    .map((f) => join(dir, f));
}

/** Runs one bench file; echoes and returns its results, or the reason it failed. */
async function runOne(file: string, timeoutS: number): Promise<{ results: StoredResult[]; failure: string | null }> {
  const child = Bun.spawn([process.execPath, "run", file], {
    stdout: "pipe",
    stderr: "inherit",
    timeout: timeoutS * 1000,
    killSignal: "SIGKILL",
  });
  const results: StoredResult[] = [];
  const name = basename(file);
  let pending = "";
  const decoder = new TextDecoder();
  const take = (line: string) => {
    const r = parseBenchLine(line);
    if (r) {
      results.push({ ...r, file: name });
      console.log(line.trim());
    } else if (line.trim() !== "") {
      console.error(`[${name}] ${line}`);
    }
  };
  for await (const chunk of child.stdout) {
    pending += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      take(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  }
  take(pending);
  const code = await child.exited;
  if (child.signalCode) return { results, failure: `killed by ${child.signalCode} (timeout ${timeoutS} s?)` };
  if (code !== 0) return { results, failure: `exit code ${code}` };
  if (results.length === 0) return { results, failure: "printed no results" };
  return { results, failure: null };
}

function summary(results: readonly StoredResult[]): string {
  const rows = results.map((r) => {
    const target = r.target === undefined ? "" : `${r.higher_is_better ? ">=" : "<="} ${r.target}${r.target_met === false ? "  MISSED" : "  ok"}`;
    return `${`${r.suite}/${r.name}`.padEnd(44)} ${formatValue(r.value).padStart(14)} ${r.unit.padEnd(8)} ${target}`;
  });
  return rows.join("\n");
}

export function formatValue(v: number): string {
  if (v === 0) return "0";
  const abs = Math.abs(v);
  if (abs >= 1000) return Math.round(v).toLocaleString("en-US");
  return v.toPrecision(abs >= 1 ? 4 : 3);
}

function timestamp(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, "Z").replace(/:/g, "-");
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  if (!existsSync(opts.dir)) usage(`no folder ${opts.dir}`);
  const files = benchFiles(opts.filters, opts.dir);
  if (files.length === 0) usage(`no bench/*.bench.ts matches ${opts.filters.join(", ") || "(all)"}`);
  const started = new Date();
  const run: RunFile = {
    version: 1,
    started_at: started.toISOString(),
    host: { platform: process.platform, arch: process.arch, cpus: availableParallelism(), cpu_model: cpus()[0]?.model ?? "unknown", bun: Bun.version, loadavg_1m: loadavg()[0] ?? 0 },
    filters: opts.filters,
    results: [],
    failures: [],
  };
  if (run.host.loadavg_1m > run.host.cpus) {
    console.error(`[bench] warning: load average ${run.host.loadavg_1m.toFixed(1)} on ${run.host.cpus} CPUs; figures will be noisy`);
  }
  for (const file of files) {
    console.error(`[bench] ${basename(file)} (timeout ${opts.timeoutS} s)`);
    const t0 = performance.now();
    const { results, failure } = await runOne(file, opts.timeoutS);
    run.results.push(...results);
    if (failure) run.failures.push({ file: basename(file), reason: failure });
    console.error(`[bench] ${basename(file)}: ${results.length} results in ${((performance.now() - t0) / 1000).toFixed(1)} s${failure ? `, FAILED: ${failure}` : ""}`);
  }
  const out = opts.out ? resolve(opts.out) : join(RESULTS_DIR, `${timestamp(started)}.json`);
  mkdirSync(join(out, ".."), { recursive: true });
  writeFileSync(out, JSON.stringify(run, null, 2) + "\n");
  console.error(`\n${summary(run.results)}\n`);
  for (const f of run.failures) console.error(`[bench] FAILED ${f.file}: ${f.reason}`);
  console.error(`[bench] saved ${out}`);
  return run.failures.length === 0 ? 0 : 1;
}

if (import.meta.main) process.exit(await main());
