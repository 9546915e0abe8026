/**
 * Quint for the tests: installed by scripts/setup-quint (npm, pinned) into QUINT_HOME
 * (default .tools/quint); run with the typescript backend from docs/quint/.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "../..");
export const MODEL_DIR = join(ROOT, "docs/quint");
const QUINT_HOME = process.env.QUINT_HOME ?? join(ROOT, ".tools/quint");
const QUINT = join(QUINT_HOME, "node_modules/.bin/quint");
export const QUINT_TIMEOUT_MS = 300_000; // a Quint run is ~4-9 s idle, 5x that on a busy machine

/** Installs Quint when missing; returns why it is unavailable, or undefined when it is ready. */
export function ensureQuint(): string | undefined {
  const r = spawnSync("bash", [join(ROOT, "scripts/setup-quint")], {
    env: { ...process.env, QUINT_HOME },
    encoding: "utf8",
    timeout: 300_000,
  });
  if (r.status !== 0 || !existsSync(QUINT)) {
    return `scripts/setup-quint failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr ?? "").trim().slice(-400)}`;
  }
  return undefined;
}

export function quint(args: string[]): { code: number; out: string } {
  const r = spawnSync(QUINT, args, { cwd: MODEL_DIR, encoding: "utf8", timeout: QUINT_TIMEOUT_MS });
  return { code: r.status ?? -1, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}
