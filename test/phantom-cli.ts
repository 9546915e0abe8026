/** Runs the real bin/phantom in a child process, for the CLI tests. */
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "..");
export const BIN = join(ROOT, "bin", "phantom");

export interface CliRun {
  code: number | null;
  out: string;
  err: string;
}

/** Runs `bin/phantom args` to completion in `cwd` (killed after `timeoutMs` when given). */
export function runPhantom(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): CliRun {
  const p = Bun.spawnSync([BIN, ...args], { cwd: opts.cwd, stdout: "pipe", stderr: "pipe", timeout: opts.timeoutMs });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}
