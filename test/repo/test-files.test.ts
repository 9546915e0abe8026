// scripts/test-files.ts, what scripts/test runs: its totals line is what CI reads, so a
// failed test, a crashed `bun test` (exit without a summary) and a file still running
// at the limit must each count a failure, and a clean run must add up every file.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileResult, order, summaryCounts } from "../../scripts/test-files.ts";

const ROOT = resolve(import.meta.dir, "../..");
const dir = mkdtempSync(join(tmpdir(), "phantom-test-files-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const head = 'import { test, expect } from "bun:test";\n';
const files = {
  ok: `${head}test("a", () => { expect(1).toBe(1); });\ntest("b", () => { expect(2).toBe(2); });\ntest.skip("later", () => {});\n`,
  failing: `${head}test("a", () => { expect(1).toBe(1); });\ntest("b", () => { expect(1).toBe(2); });\n`,
  crash: `${head}test("a", () => { expect(1).toBe(1); });\ntest("exits", () => { process.exit(3); });\n`,
  hang: `${head}test("waits", async () => { await new Promise(() => {}); }, 600_000);\n`,
};
for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, `${name}.test.ts`), text);

function run(names: string[], env: Record<string, string> = {}): { code: number | null; totals: string; out: string } {
  const p = Bun.spawnSync([process.execPath, "run", join(ROOT, "scripts/test-files.ts"), ...names.map((n) => join(dir, `${n}.test.ts`))], {
    cwd: ROOT, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe", timeout: 60_000,
  });
  const out = p.stdout.toString();
  const lines = out.trimEnd().split("\n");
  return { code: p.exitCode, totals: lines.at(-1) ?? "", out };
}

describe("scripts/test-files.ts", () => {
  test("clean files add up; the exit status is 0", () => {
    const r = run(["ok", "ok"]);
    expect(r.totals).toBe("[test-files] totals: 4 pass, 0 fail, 2 skip");
    expect(r.code).toBe(0);
  }, 60_000);

  test("a failed test, a crash and a file past the limit each count as failed", () => {
    const r = run(["ok", "failing", "crash", "hang"], { PHANTOM_TEST_FILE_LIMIT_S: "3" });
    // ok: 2 pass; failing: 1 pass 1 fail; crash: no summary -> 1 fail; hang: killed -> 1 fail.
    expect(r.totals).toBe("[test-files] totals: 3 pass, 3 fail, 1 skip");
    expect(r.out).toContain("crash.test.ts: FAILED: bun test exited with 3 without a failed test (no summary: crashed?)");
    expect(r.out).toContain("hang.test.ts: FAILED: still running after 3 s; killed");
    expect(r.code).toBe(1);
  }, 60_000);

  test("a missing file or a bad setting fails instead of passing quietly", () => {
    const missing = Bun.spawnSync([process.execPath, "run", join(ROOT, "scripts/test-files.ts"), join(dir, "nope.test.ts")], { cwd: ROOT, stdout: "pipe", stderr: "pipe", timeout: 30_000 });
    expect(missing.stdout.toString().trimEnd().split("\n").at(-1)).toBe("[test-files] totals: 0 pass, 1 fail, 0 skip");
    expect(missing.exitCode).toBe(1);
    const bad = run(["ok"], { PHANTOM_TEST_JOBS: "zero" });
    expect(bad.code).toBe(2);
  }, 60_000);

  test("summary parsing and order", () => {
    expect(summaryCounts("(pass) x\n\n 12 pass\n 2 skip\n 1 fail\n 40 expect() calls\n")).toEqual({ pass: 12, fail: 1, skip: 2, found: true });
    expect(summaryCounts("segfault")).toEqual({ pass: 0, fail: 0, skip: 0, found: false });
    expect(fileResult("f", " 3 pass\n 0 fail\n", 0, false, 1).fail).toBe(0);
    expect(fileResult("f", " 3 pass\n 0 fail\n", 1, false, 1)).toMatchObject({ pass: 3, fail: 1 });
    expect(fileResult("f", " 3 pass\n 2 fail\n", 1, false, 1)).toMatchObject({ fail: 2, problem: null });
    // Last run's times win over typical ones; a file in neither counts 1 s.
    expect(order(["a", "b", "c", "d", "new"], { a: 2, b: 30, c: 5 }, { a: 100, d: 10 })).toEqual(["b", "d", "c", "a", "new"]);
    // A fresh clone (no times file): the typical slow files first.
    expect(order(["test/a.test.ts", "test/chaos/chaos.test.ts", "test/sim/sim.test.ts"], {}).slice(0, 2)).toEqual(["test/chaos/chaos.test.ts", "test/sim/sim.test.ts"]);
  });
});
