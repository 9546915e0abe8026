/**
 * Runs test files as separate `bun test` processes, `PHANTOM_TEST_JOBS` at a time
 * (default 3), for scripts/test. Much of the suite waits on real processes, sockets,
 * disks and timers rather than computing: with two at a time the 2 cores were 70 % busy,
 * with three the suite takes about a quarter less time. Files start slowest first, so the long ones
 * do not end up alone at the end: by the times of the last run here (.test-times.json,
 * git-ignored), else by TYPICAL_S (a fresh clone has no times file); a file in
 * neither counts UNKNOWN_S. Each file's output is printed as one block when it ends,
 * never interleaved.
 *
 * The last line is always `[test-files] totals: P pass, F fail, S skip`. A file counts
 * at least one failure when its `bun test` exits non-zero without reporting a failed
 * test (a crash, a load error) or when it is still running after
 * PHANTOM_TEST_FILE_LIMIT_S seconds (default 900; it is killed). Exit status 0 only
 * when F is 0.
 *
 * Usage: bun scripts/test-files.ts [test file...]   (default: every test/**\/*.test.ts)
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const TIMES_FILE = join(ROOT, ".test-times.json");
const PER_TEST_TIMEOUT_MS = 60_000;
/**
 * Seconds the slowest files took in a whole-suite run (three at a time) on the 2-core dev
 * machine with nothing else running (2026-12-02); only the start order depends on them.
 */
export const TYPICAL_S: Readonly<Record<string, number>> = {
  "test/quint/quint.test.ts": 110,
  "test/quint/replay.test.ts": 83,
  "test/chaos/chaos.test.ts": 70,
  "test/sim/sim.test.ts": 45,
  "test/sim/sim-k64.test.ts": 44,
  "test/release/release.test.ts": 36,
  "test/security/attacks.test.ts": 31,
  "test/e2e/snapshot-restore.test.ts": 30,
  "test/node/quiet.test.ts": 29,
  "test/e2e/explorer.test.ts": 24,
  "test/e2e/equivocation-slashing.test.ts": 23,
  "test/node/pruning.test.ts": 17,
  "test/sim/stake.test.ts": 16,
  "test/store/crash.test.ts": 16,
  "test/node/stake-weights.test.ts": 16,
  "test/wallet/wallet-scripts-e2e.test.ts": 16,
  // Eight validator processes on two shards (measured under load, not in a suite run).
  "test/e2e/shards.test.ts": 15,
};
/** Most files take well under a second. */
const UNKNOWN_S = 1;

function positiveInt(name: string, fallback: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    console.error(`[test-files] ${name} must be an integer 1..${max}, got "${raw}"`);
    process.exit(2);
  }
  return n;
}

const JOBS = positiveInt("PHANTOM_TEST_JOBS", 3, 16);
const FILE_LIMIT_S = positiveInt("PHANTOM_TEST_FILE_LIMIT_S", 900, 7200);

export interface FileResult {
  file: string;
  pass: number;
  fail: number;
  skip: number;
  seconds: number;
  /** Why the file counts a failure beyond its failed tests (crash, limit), if it does. */
  problem: string | null;
}

/** The counts of bun's end-of-run summary (" 12 pass", " 1 fail", " 2 skip"); the last of each wins. */
export function summaryCounts(output: string): { pass: number; fail: number; skip: number; found: boolean } {
  const last = (word: string): number | null => {
    const all = [...output.matchAll(new RegExp(`^\\s*(\\d+) ${word}$`, "gm"))];
    return all.length ? Number(all.at(-1)![1]) : null;
  };
  const pass = last("pass");
  const fail = last("fail");
  return { pass: pass ?? 0, fail: fail ?? 0, skip: last("skip") ?? 0, found: pass !== null || fail !== null };
}

/** One file's result from its output and how its process ended. */
export function fileResult(file: string, output: string, exitCode: number | null, timedOut: boolean, seconds: number): FileResult {
  const c = summaryCounts(output);
  let problem: string | null = null;
  if (timedOut) problem = `still running after ${FILE_LIMIT_S} s; killed`;
  else if (exitCode !== 0 && c.fail === 0) problem = `bun test exited with ${exitCode ?? "a signal"} without a failed test${c.found ? "" : " (no summary: crashed?)"}`;
  return { file, pass: c.pass, fail: c.fail + (problem ? 1 : 0), skip: c.skip, seconds, problem };
}

function readTimes(): Record<string, number> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(TIMES_FILE, "utf8"));
    if (parsed === null || typeof parsed !== "object") return {};
    return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, number] => typeof e[1] === "number"));
  } catch {
    return {};
  }
}

/** Slowest first (last run's time, else the typical one, else UNKNOWN_S); ties by name. */
export function order(files: readonly string[], times: Readonly<Record<string, number>>, typical: Readonly<Record<string, number>> = TYPICAL_S): string[] {
  const t = (f: string) => times[f] ?? typical[f] ?? UNKNOWN_S;
  return [...files].sort((a, b) => (t(b) - t(a)) || (a < b ? -1 : a > b ? 1 : 0));
}

const running = new Set<ReturnType<typeof Bun.spawn>>();

async function runFile(file: string): Promise<{ result: FileResult; output: string }> {
  const t0 = performance.now();
  // One stream for stdout and stderr, in the order bun wrote them.
  // An absolute path: bun takes it as that file, not as a name filter.
  const proc = Bun.spawn(["sh", "-c", 'exec "$0" test --timeout "$1" "$2" 2>&1', process.execPath, String(PER_TEST_TIMEOUT_MS), resolve(ROOT, file)], {
    cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "inherit",
  });
  running.add(proc);
  let timedOut = false;
  const limit = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, FILE_LIMIT_S * 1000);
  const output = await new Response(proc.stdout).text();
  const exitCode = await proc.exited;
  clearTimeout(limit);
  running.delete(proc);
  const seconds = (performance.now() - t0) / 1000;
  return { result: fileResult(file, output, exitCode, timedOut, seconds), output };
}

async function main(): Promise<number> {
  const args = process.argv.slice(2).map((f) => relative(ROOT, resolve(f)));
  const all = args.length ? args : [...new Bun.Glob("test/**/*.test.ts").scanSync({ cwd: ROOT })].sort();
  const missing = all.filter((f) => !existsSync(join(ROOT, f)));
  if (missing.length) {
    console.error(`[test-files] no such file: ${missing.join(", ")}`);
    console.log("[test-files] totals: 0 pass, 1 fail, 0 skip");
    return 1;
  }
  const times = readTimes();
  const queue = order(all, times);
  const results: FileResult[] = [];
  const t0 = performance.now();
  console.log(`[test-files] ${queue.length} files, ${JOBS} at a time`);
  const worker = async () => {
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      const { result, output } = await runFile(file);
      results.push(result);
      const head = `[test-files] ${file}: ${result.pass} pass, ${result.fail} fail${result.skip ? `, ${result.skip} skip` : ""} (${result.seconds.toFixed(1)} s)`;
      process.stdout.write(`${head}\n${output.endsWith("\n") || output === "" ? output : `${output}\n`}${result.problem ? `[test-files] ${file}: FAILED: ${result.problem}\n` : ""}`);
    }
  };
  await Promise.all(Array.from({ length: JOBS }, worker));
  const next = { ...times };
  for (const r of results) if (r.file.startsWith("test/")) next[r.file] = Math.round(r.seconds * 10) / 10;
  try {
    writeFileSync(TIMES_FILE, JSON.stringify(next, Object.keys(next).sort(), 2) + "\n");
  } catch {
    // Only the order of the next run depends on it.
  }
  const sum = (k: "pass" | "fail" | "skip") => results.reduce((s, r) => s + r[k], 0);
  const slowest = [...results].sort((a, b) => b.seconds - a.seconds).slice(0, 8);
  console.log(`[test-files] ${results.length} files in ${((performance.now() - t0) / 1000).toFixed(0)} s; slowest: ${slowest.map((r) => `${r.file} ${r.seconds.toFixed(0)} s`).join(", ")}`);
  for (const r of results.filter((x) => x.fail > 0)) console.log(`[test-files] FAILED ${r.file}: ${r.problem ?? `${r.fail} failed`}`);
  console.log(`[test-files] totals: ${sum("pass")} pass, ${sum("fail")} fail, ${sum("skip")} skip`);
  return sum("fail") === 0 ? 0 : 1;
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    for (const p of running) p.kill("SIGKILL");
    console.log("[test-files] interrupted");
    console.log("[test-files] totals: 0 pass, 1 fail, 0 skip");
    process.exit(130);
  });
}

if (import.meta.main) process.exit(await main());
