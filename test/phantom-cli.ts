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

/**
 * Reads a child's output stream until it contains `text` or the stream ends, at most
 * `limitMs` (a bound, not an assertion on time); returns what was read. With
 * `text` undefined it reads to the end.
 */
export async function readUntil(reader: { read(): Promise<{ value?: Uint8Array; done: boolean }> }, text?: string, limitMs = 30_000): Promise<string> {
  const decoder = new TextDecoder();
  let got = "";
  const deadline = performance.now() + limitMs;
  while ((text === undefined || !got.includes(text)) && performance.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    got += decoder.decode(value, { stream: true });
  }
  return got;
}
