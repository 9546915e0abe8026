/**
 * Runs `bin/phantom localnet` as a real child process on its own free ports (a
 * generated devnet genesis), for the end-to-end tests. Every wait is bounded and
 * stop() SIGTERMs the localnet, which stops its validators and miner.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { createGenesis } from "../../src/genesis/create.ts";
import { freePortBlocks } from "../ports.ts";

export const ROOT = join(import.meta.dir, "..", "..");
export const BIN = join(ROOT, "bin", "phantom");
/** Validators in the test committee; each takes one UDP, one RPC and one metrics port. */
export const harnessK = 4;
const stopWaitMs = 15_000;

export interface Localnet {
  dir: string;
  genesisPath: string;
  rpc: string[];
  metrics: string[];
  log(): string;
  stop(): Promise<void>;
}

/** Three blocks of `harnessK` ports (UDP P2P, TCP RPC, TCP metrics) per shard, each starting at a port the OS chose (test/ports.ts). */
export function freePorts(shards = 1): Promise<{ p2p: number; rpc: number; metrics: number }> {
  return freePortBlocks(harnessK * shards);
}

/** Leading zero bits of the first mints: low, so a test's mint costs milliseconds even on a loaded machine. */
export const harnessTargetBits = 12;

/**
 * `shards` > 1: a genesis of that many shards of `harnessK` validators each (validator i
 * on shard ⌊i / harnessK⌋, RPC port base + i), with `shardRootInterval` anchors per epoch.
 */
export async function startLocalnet(opts: { label: string; maturityAnchors?: bigint; miner?: boolean; durationS: number; shards?: number; shardRootInterval?: number }): Promise<Localnet> {
  const dir = mkdtempSync(join(tmpdir(), `phantom-${opts.label}-`));
  const shards = opts.shards ?? 1;
  const ports = await freePorts(shards);
  const genesisPath = join(dir, "genesis.toml");
  let toml = createGenesis({ k: harnessK, shards, devnetLabel: opts.label, basePort: ports.p2p, maturityAnchors: opts.maturityAnchors, initialTargetBits: harnessTargetBits }).toml;
  if (opts.shardRootInterval !== undefined) toml = toml.replace(/^shard_count = (\d+)$/m, `shard_count = $1\nshard_root_interval = ${opts.shardRootInterval}`);
  writeFileSync(genesisPath, toml);
  const proc: Subprocess<"ignore", "pipe", "pipe"> = Bun.spawn([
    BIN, "localnet", "--genesis", genesisPath, "--devnet_label", opts.label, "--dir", join(dir, "net"), "--fresh",
    "--base_rpc_port", String(ports.rpc), "--base_metrics_port", String(ports.metrics), "--miner", String(opts.miner ?? false),
    "--duration_s", String(opts.durationS),
    // The tests wait for anchors (maturity, time locks) with no transactions: a short idle
    // heartbeat keeps them coming (SPEC_CONSENSUS §15).
    "--idle_heartbeat_ms", "1000",
    ...(shards > 1 ? ["--shards", String(shards)] : []),
  ], { cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let text = "";
  for (const stream of [proc.stdout, proc.stderr]) {
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) text = (text + decoder.decode(chunk, { stream: true })).slice(-200_000);
    })();
  }
  const range = (base: number) => Array.from({ length: harnessK * shards }, (_, i) => base + i);
  return {
    dir, genesisPath,
    rpc: range(ports.rpc).map((p) => `http://127.0.0.1:${p}`),
    metrics: range(ports.metrics).map((p) => `http://127.0.0.1:${p}/metrics`),
    // The localnet's own lines, then the tail of each child's log file (<dir>/logs/<name>.log).
    log: () => {
      const logs = join(dir, "net", "logs");
      const files = existsSync(logs) ? readdirSync(logs).sort() : [];
      return [text, ...files.map((f) => `--- ${f}\n${readFileSync(join(logs, f), "utf8").slice(-4_000)}`)].join("\n");
    },
    async stop() {
      proc.kill("SIGTERM");
      await Promise.race([proc.exited, Bun.sleep(stopWaitMs).then(() => proc.kill("SIGKILL"))]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `probe` every `everyMs` until it returns a value, at most `limitMs` (a bound, not a timing assertion). */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, limitMs: number, everyMs = 250): Promise<T> {
  const deadline = performance.now() + limitMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (performance.now() > deadline) throw new Error(`${what}: not reached within ${limitMs} ms`);
    await Bun.sleep(everyMs);
  }
}

export async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

/** Runs the CLI to completion; the child gets this process's environment as it is now (set after start-up too). */
export function phantom(args: string[], timeoutMs = 60_000) {
  const p = Bun.spawnSync([BIN, ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe", stdin: "ignore", timeout: timeoutMs, env: { ...process.env } });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}
