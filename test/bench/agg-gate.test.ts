/**
 * bench/run.ts, bench/agg.ts and bench/gate.ts on synthetic inputs, through their real
 * command lines (child processes) and their exported functions.
 */
import { describe, test, expect, beforeAll, afterAll } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { aggregate, parseCsv, toCsv, readResults, type AggRow } from "../../bench/agg.ts";
import { gate, failures } from "../../bench/gate.ts";
import { parseBenchLine, type BenchResult } from "../../bench/lib.ts";

const ROOT = resolve(import.meta.dir, "../..");
const CHILD_TIMEOUT_MS = 30_000;
let dir = "";

function cli(script: string, args: string[]): { code: number; stdout: string; stderr: string } {
  const p = Bun.spawnSync([process.execPath, "run", join(ROOT, "bench", script), ...args], { cwd: dir, stdout: "pipe", stderr: "pipe", timeout: CHILD_TIMEOUT_MS });
  return { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

const r = (name: string, value: number, unit: string, higher: boolean, extra: Partial<BenchResult> = {}): BenchResult =>
  ({ suite: "synthetic", name, value, unit, higher_is_better: higher, ...extra });

/** A run file as bench/run.ts writes it. */
function runFile(name: string, results: BenchResult[]): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ version: 1, started_at: "2026-01-01T00:00:00.000Z", host: {}, filters: [], results, failures: [] }));
  return path;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "phantom-bench-test-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("bench_agg", () => {
  test("median/min/max per suite+name across runs, written as JSON, CSV and Markdown", () => {
    const files = [
      runFile("run1.json", [r("hash_rate", 100, "MB/s", true, { target: 90 }), r("latency", 7, "ns/op", false)]),
      runFile("run2.json", [r("hash_rate", 300, "MB/s", true, { target: 90 }), r("latency", 5, "ns/op", false)]),
      runFile("run3.json", [r("hash_rate", 200, "MB/s", true, { target: 90 }), r("latency", 6, "ns/op", false), r("only_once", 1, "ratio", true)]),
      runFile("run4.json", [r("latency", 9, "ns/op", false)]),
    ];
    const out = join(dir, "agg-out");
    const res = cli("agg.ts", [...files, "--out-dir", out]);
    expect(res.stderr).toContain("3 rows from 4 runs");
    expect(res.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["criterion_agg.csv", "criterion_agg.json", "criterion_agg.md"]);
    const rows = parseCsv(readFileSync(join(out, "criterion_agg.csv"), "utf8"));
    const byName = new Map(rows.map((x) => [x.name, x]));
    expect(byName.get("hash_rate")).toEqual({ suite: "synthetic", name: "hash_rate", unit: "MB/s", higher_is_better: true, median: 200, min: 100, max: 300, runs: 3, target: 90 });
    // Even count: the median is the mean of the two middle values (6 and 7).
    expect(byName.get("latency")).toMatchObject({ median: 6.5, min: 5, max: 9, runs: 4, higher_is_better: false });
    expect(byName.get("only_once")).toMatchObject({ median: 1, runs: 1 });
    const json = JSON.parse(readFileSync(join(out, "criterion_agg.json"), "utf8")) as { rows: AggRow[]; sources: string[] };
    expect(json.rows).toEqual(rows);
    expect(json.sources).toEqual(files);
    const md = readFileSync(join(out, "criterion_agg.md"), "utf8");
    expect(md).toContain("| synthetic | hash_rate | 200 | 100 | 300 | MB/s | higher | ≥ 90 | 3 |");
    expect(md).toContain("| synthetic | latency | 6.5 | 5 | 9 | ns/op | lower |  | 4 |");
  });

  test("reads raw JSON lines (a bench's stdout) as well as run files", () => {
    const path = join(dir, "lines.jsonl");
    writeFileSync(path, `noise\n${JSON.stringify(r("a", 1, "x", true))}\n{"not":"a result"}\n${JSON.stringify(r("b", 2, "x", false))}\n`);
    expect(readResults(path).map((x) => x.name)).toEqual(["a", "b"]);
  });

  test("a unit change between runs is an error, not a silent mix", () => {
    expect(() => aggregate([[r("m", 1, "ms", false)], [r("m", 1000, "us", false)]])).toThrow("unit or direction changed");
  });

  test("unreadable or malformed input exits 2 with the file named", () => {
    const garbage = join(dir, "garbage.json");
    writeFileSync(garbage, '{"results": [{"suite": "s"}]}');
    const res = cli("agg.ts", [garbage, "--out-dir", join(dir, "never")]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("garbage.json: results[0] is not a bench result");
    const missing = cli("agg.ts", [join(dir, "nope.json")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("cannot read");
  });

  test("CSV round-trips, including quoted fields", () => {
    const rows: AggRow[] = [{ suite: "s", name: 'odd,"name"', unit: "MB/s", higher_is_better: true, median: 1.5, min: 1, max: 2, runs: 2 }];
    expect(parseCsv(toCsv(rows))).toEqual(rows);
  });
});

describe("bench_gate", () => {
  let baseline = "";
  beforeAll(() => {
    baseline = join(dir, "baseline.csv");
    const rows = aggregate([[r("throughput", 1000, "MB/s", true), r("latency", 100, "ns/op", false), r("speedup", 2, "ratio", true)]]);
    writeFileSync(baseline, toCsv(rows));
  });
  const gateCli = (current: BenchResult[], extra: string[] = []) =>
    cli("gate.ts", ["--baseline", baseline, ...extra, runFile(`current-${Bun.hash(JSON.stringify([current, extra]))}.json`, current)]);

  test("a higher-is-better metric that dropped beyond tolerance fails", () => {
    const res = gateCli([r("throughput", 850, "MB/s", true), r("latency", 100, "ns/op", false), r("speedup", 2, "ratio", true)]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/REGRESSED\s+synthetic\/throughput/);
    expect(res.stdout).toContain("FAIL: 1 of 3 metrics (synthetic/throughput regressed)");
  });

  test("a lower-is-better metric that rose beyond tolerance fails", () => {
    const res = gateCli([r("throughput", 1000, "MB/s", true), r("latency", 115, "ns/op", false), r("speedup", 2, "ratio", true)]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/REGRESSED\s+synthetic\/latency/);
  });

  test("improvements in either direction and changes within tolerance pass", () => {
    const res = gateCli([r("throughput", 2000, "MB/s", true), r("latency", 50, "ns/op", false), r("speedup", 1.85, "ratio", true)]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/IMPROVED\s+synthetic\/throughput/);
    expect(res.stdout).toMatch(/IMPROVED\s+synthetic\/latency/);
    expect(res.stdout).toMatch(/OK\s+synthetic\/speedup/);
    expect(res.stdout).toContain("PASS");
  });

  test("the tolerance flag moves the line", () => {
    const current = [r("throughput", 850, "MB/s", true), r("latency", 100, "ns/op", false), r("speedup", 2, "ratio", true)];
    expect(gateCli(current, ["--tolerance", "0.2"]).code).toBe(0);
    expect(gateCli(current, ["--tolerance", "0.1"]).code).toBe(1);
  });

  test("a missing metric is reported and fails, unless --allow-missing", () => {
    const current = [r("throughput", 1000, "MB/s", true), r("latency", 100, "ns/op", false), r("brand_new", 5, "ops/s", true)];
    const res = gateCli(current);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/MISSING\s+synthetic\/speedup\s+baseline 2 -> current -/);
    expect(res.stdout).toMatch(/NEW\s+synthetic\/brand_new/);
    const allowed = gateCli(current, ["--allow-missing"]);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toMatch(/MISSING\s+synthetic\/speedup/);
  });

  test("a changed unit fails", () => {
    const rows = gate(parseCsv(readFileSync(baseline, "utf8")), aggregate([[r("latency", 0.1, "us/op", false)]]), 0.1);
    expect(rows.find((x) => x.name === "latency")!.status).toBe("unit_changed");
    expect(failures(rows, true).map((x) => x.name)).toEqual(["latency"]);
  });

  test("the current figures may be an agg CSV too", () => {
    const csv = join(dir, "current.csv");
    writeFileSync(csv, toCsv(aggregate([[r("throughput", 1000, "MB/s", true), r("latency", 100, "ns/op", false), r("speedup", 2, "ratio", true)]])));
    const res = cli("gate.ts", ["--baseline", baseline, csv]);
    expect(res.code).toBe(0);
  });

  test("bad arguments and bad baselines exit 2", () => {
    expect(cli("gate.ts", []).code).toBe(2);
    expect(cli("gate.ts", ["--baseline", baseline, "--tolerance", "-1", baseline]).code).toBe(2);
    const broken = join(dir, "broken.csv");
    writeFileSync(broken, "suite,name,unit\nx,y,z\n");
    const res = cli("gate.ts", ["--baseline", broken, baseline]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('missing column "higher_is_better"');
    writeFileSync(broken, "suite,name,unit,higher_is_better,median\nx,y,z,true,fast\n");
    expect(cli("gate.ts", ["--baseline", broken, baseline]).stderr).toContain('bad number in "median"');
  });
});

describe("bench runner", () => {
  let benches = "";
  beforeAll(() => {
    benches = join(dir, "benches");
    mkdirSync(benches);
    const line = (name: string, value: number) => JSON.stringify(r(name, value, "ops/s", true));
    writeFileSync(join(benches, "alpha.bench.ts"), `console.log("warming up");\nconsole.log(${JSON.stringify(line("a1", 1))});\nconsole.log(${JSON.stringify(line("a2", 2))});\n`);
    writeFileSync(join(benches, "broken.bench.ts"), `console.log(${JSON.stringify(line("b1", 3))});\nprocess.exit(3);\n`);
    writeFileSync(join(benches, "hang.bench.ts"), `await Bun.sleep(60_000);\n`);
    writeFileSync(join(benches, "not-a-bench.ts"), `throw new Error("must not run");\n`);
  });

  test("runs the matching benches, saves their results and prints them", () => {
    const out = join(dir, "run-alpha.json");
    const res = cli("run.ts", ["alpha", "--dir", benches, "--out", out]);
    expect(res.code).toBe(0);
    const lines = res.stdout.trim().split("\n").map(parseBenchLine);
    expect(lines.map((x) => x?.name)).toEqual(["a1", "a2"]);
    const saved = JSON.parse(readFileSync(out, "utf8")) as { results: { name: string; file: string }[]; failures: unknown[]; filters: string[] };
    expect(saved.results.map((x) => [x.name, x.file])).toEqual([["a1", "alpha.bench.ts"], ["a2", "alpha.bench.ts"]]);
    expect(saved.failures).toEqual([]);
    expect(saved.filters).toEqual(["alpha"]);
    expect(res.stderr).toContain("[alpha.bench.ts] warming up");
  });

  test("a failing or hanging bench is bounded, recorded and makes the run fail", () => {
    const out = join(dir, "run-all.json");
    const res = cli("run.ts", ["--dir", benches, "--out", out, "--timeout-s", "2"]);
    expect(res.code).toBe(1);
    const saved = JSON.parse(readFileSync(out, "utf8")) as { results: { name: string }[]; failures: { file: string; reason: string }[] };
    expect(saved.results.map((x) => x.name)).toEqual(["a1", "a2", "b1"]);
    expect(saved.failures.map((f) => f.file)).toEqual(["broken.bench.ts", "hang.bench.ts"]);
    expect(saved.failures[0]!.reason).toBe("exit code 3");
    expect(saved.failures[1]!.reason).toContain("killed");
  });

  test("a filter that matches nothing is a usage error", () => {
    const res = cli("run.ts", ["zzz", "--dir", benches]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("no bench/*.bench.ts matches zzz");
  });
});
