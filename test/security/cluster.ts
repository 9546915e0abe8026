/**
 * A live committee for the attack suite: k real `phantom P2pQuicListen` processes on
 * loopback (P2P ports chosen by the OS, RPC and metrics on port 0), each optionally
 * started under a command prefix (e.g. `faketime '1970-01-02 00:00:00'`). Stdout is
 * drained continuously (a full pipe would stall the child) and its tail kept for errors.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGenesis } from "../../src/genesis/create.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { rpcCall } from "../../src/rpc/client.ts";
import { BIN } from "../phantom-cli.ts";
import { freePortBlocks } from "../ports.ts";

const startLimitMs = 60_000;
const tailCharsMax = 20_000;

export interface Status {
  anchorCount: string;
  peers: number;
  ready: boolean;
  stateRoot: string;
}

export interface ClusterNode {
  index: number;
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  rpc: string;
  /** The Prometheus scrape URL (…/metrics). */
  metrics: string;
  /** The node's QUIC (UDP) port on 127.0.0.1. */
  p2pPort: number;
  storeDir: string;
  /** Log lines so far (tail). */
  log(): string;
}

export interface ClusterOptions {
  k: number;
  label: string;
  /** Command words put before bin/phantom for validator i (none: run it directly). */
  prefix?(i: number): string[];
  /** Extra environment for validator i. */
  env?(i: number): Record<string, string>;
  extraArgs?: string[];
}

export class Cluster {
  readonly dir = mkdtempSync(join(tmpdir(), "phantom-security-"));
  readonly nodes: ClusterNode[] = [];
  genesisPath = "";
  keyPaths: string[] = [];

  static async start(opts: ClusterOptions): Promise<Cluster> {
    const c = new Cluster();
    try {
      await c.launch(opts);
    } catch (e) {
      await c.stop();
      throw e;
    }
    return c;
  }

  private async launch(opts: ClusterOptions): Promise<void> {
    const { p2p } = await freePortBlocks(opts.k);
    const created = createGenesis({ k: opts.k, devnetLabel: opts.label, basePort: p2p, initialTargetBits: 10, maturityAnchors: 10n });
    this.genesisPath = join(this.dir, "genesis.toml");
    writeFileSync(this.genesisPath, created.toml);
    this.keyPaths = created.seeds.map((seed, i) => {
      const p = join(this.dir, `validator-${i}.key`);
      writeFileSync(p, toHex(seed) + "\n", { mode: 0o600 });
      return p;
    });
    const starts = this.keyPaths.map((keyPath, i) => this.startOne(i, keyPath, p2p + i, opts));
    this.nodes.push(...(await Promise.all(starts)));
  }

  private async startOne(i: number, keyPath: string, p2pPort: number, opts: ClusterOptions): Promise<ClusterNode> {
    const storeDir = join(this.dir, `store-${i}`);
    const args = ["P2pQuicListen", "--genesis", this.genesisPath, "--key_file", keyPath, "--store_dir", storeDir, "--addr", `127.0.0.1:${p2pPort}`, "--rpc_addr", "127.0.0.1:0", "--metrics_addr", "127.0.0.1:0", "--idle_heartbeat_ms", "1000", ...(opts.extraArgs ?? [])];
    const proc = Bun.spawn([...(opts.prefix?.(i) ?? []), BIN, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, ...(opts.env?.(i) ?? {}) } });
    let text = "";
    let errText = "";
    void (async () => {
      const d = new TextDecoder();
      for await (const chunk of proc.stdout) text = (text + d.decode(chunk, { stream: true })).slice(-tailCharsMax);
    })();
    void (async () => {
      const d = new TextDecoder();
      for await (const chunk of proc.stderr) errText = (errText + d.decode(chunk, { stream: true })).slice(-tailCharsMax);
    })();
    const deadline = performance.now() + startLimitMs;
    let line: string | undefined;
    while (!(line = text.split("\n").find((l) => l.includes('"node_started"'))) && performance.now() < deadline && proc.exitCode === null) await Bun.sleep(50);
    if (!line) {
      proc.kill("SIGKILL");
      throw new Error(`validator ${i} did not start:\n${text}\n${errText}`);
    }
    const started = JSON.parse(line) as { rpc: string; metrics: string };
    return { index: i, proc, rpc: started.rpc, metrics: started.metrics, p2pPort, storeDir, log: () => text + errText };
  }

  status(i: number): Promise<Status | null> {
    return rpcCall<Status>(this.nodes[i]!.rpc, "phantom_status").catch(() => null);
  }

  /** Polls until every node's status satisfies `cond`; bounded, never asserts a duration. */
  async untilAll(cond: (s: Status) => boolean, limitMs = 120_000): Promise<Status[]> {
    const deadline = performance.now() + limitMs;
    for (;;) {
      const all = await Promise.all(this.nodes.map((_, i) => this.status(i)));
      if (all.every((s) => s !== null && cond(s))) return all as Status[];
      if (performance.now() > deadline) throw new Error(`cluster did not get there in time: ${JSON.stringify(all)}`);
      await Bun.sleep(250);
    }
  }

  /** Anchors applied by node i (0 before the first). */
  async anchorCount(i: number): Promise<bigint> {
    const s = await this.status(i);
    if (!s) throw new Error(`node ${i} does not answer phantom_status`);
    return BigInt(s.anchorCount);
  }

  /** Waits until every node applied `more` anchors beyond what node 0 has now: the committee keeps finalizing. */
  async keepsFinalizing(more = 10n, limitMs = 120_000): Promise<bigint> {
    const from = await this.anchorCount(0);
    await this.untilAll((s) => BigInt(s.anchorCount) >= from + more, limitMs);
    return from;
  }

  async stop(): Promise<(number | null)[]> {
    const codes = await Promise.all(this.nodes.map(async (n) => {
      // A prefix such as faketime runs the node as its child and passes no signal on: stop
      // the children first, or they outlive the test.
      const children = descendants(n.proc.pid);
      for (const pid of children) signal(pid, "SIGTERM");
      n.proc.kill("SIGTERM");
      const code = await Promise.race([n.proc.exited, Bun.sleep(20_000).then(() => null)]);
      if (code === null) n.proc.kill("SIGKILL");
      for (const pid of children) signal(pid, "SIGKILL"); // gone already unless it hung
      return code;
    }));
    rmSync(this.dir, { recursive: true, force: true });
    return codes;
  }
}

/** Every process below `pid` (Linux /proc; none elsewhere or once it exited). */
function descendants(pid: number): number[] {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8");
  } catch {
    return [];
  }
  return text.trim().split(/\s+/).filter(Boolean).map(Number).flatMap((c) => [c, ...descendants(c)]);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // it exited already
  }
}

/** Resident set size of a process in bytes (Linux /proc). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  if (!kb) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}

/** One metric sample from a Prometheus text page (first series matching the labels; 0 when absent). */
export function metricSample(page: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of page.split("\n")) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? "").includes(`${k}="${v}"`))) return Number(m[3]);
  }
  return 0;
}

/** Prints one JSON figure line the suite reports (RSS growth, stall, counts). */
export function reportFigure(name: string, figure: Record<string, unknown>): void {
  console.log(JSON.stringify({ type: "security_figure", name, ...figure }));
}
