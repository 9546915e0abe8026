/**
 * Process control for a chaos run: n real `phantom P2pQuicListen` processes on
 * loopback, each behind its own UDP proxy (the genesis names the proxies, so every
 * P2P datagram passes one and a partition is a gate on it), their stores (copy,
 * restore, wipe, fill), and the `phantom mine` process. Validators that exit on their
 * own are restarted (as a service manager would) and the exit is recorded.
 */
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import type { Subprocess } from "bun";
import { createGenesis } from "../../src/genesis/create.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { STORE_FILE_NAME } from "../../src/store/sqlite-store.ts";
import { LossyProxy } from "../quic/lossy-proxy.ts";

export const ROOT = join(import.meta.dir, "..", "..");
export const BIN = join(ROOT, "bin", "phantom");

/** Leading zero bits of the first mints: a mint costs milliseconds on one thread. */
const targetBits = 10;
const maturityAnchors = 10n;
const startWaitMs = 30_000;
const stopGraceMs = 10_000;
const restartAfterExitMs = 1_000;
const listenAttemptsMax = 3;
const tailLinesMax = 20;
/** tmpfs size for a store that gets a disk_full fault. */
const tmpfsBytes = 256 * 1024 * 1024;
const fillChunkBytes = 1024 * 1024;

type Proc = Subprocess<"ignore", "pipe", "pipe">;
export type ValidatorState = "up" | "paused" | "down";

export interface UnexpectedExit {
  validator: number;
  code: number | null;
  signal: string | null;
  atMs: number;
  /** The last log line before the exit. */
  lastLine: string;
  /** The last few log lines (the typed error may precede shutdown lines). */
  tail: string[];
}

interface Validator {
  index: number;
  storeDir: string;
  keyFile: string;
  /** Real QUIC port (behind the proxy). */
  port: number;
  proxy: LossyProxy;
  proc: Proc | null;
  state: ValidatorState;
  rpc: string | null;
  lastLine: string;
  tail: string[];
  /** The last start failed to bind its QUIC port (someone took it while it was down). */
  listenFailed: boolean;
  /** Incarnation counter: a stale exit handler of an old process does nothing. */
  generation: number;
}

/** A free UDP port on 127.0.0.1 right now (bound and released). */
async function freeUdpPort(): Promise<number> {
  const s = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
  const port = s.port;
  s.close();
  return port;
}

/** Whether `mount -t tmpfs` works here (root in a sandbox that allows it). */
export function tmpfsAvailable(probeDir: string): boolean {
  mkdirSync(probeDir, { recursive: true });
  const m = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", probeDir], { stdout: "ignore", stderr: "ignore" });
  if (m.exitCode !== 0) return false;
  Bun.spawnSync(["umount", probeDir], { stdout: "ignore", stderr: "ignore" });
  return true;
}

export interface ClusterOptions {
  nodes: number;
  dir: string;
  label: string;
  seed: number;
  eventIntervalMs: number;
  /** Genesis consensus.horizon_rounds. */
  horizonRounds: number;
  /** Validators whose store lives on its own small tmpfs (disk_full targets). */
  tmpfsStores: number[];
  now: () => number;
  say: (line: string) => void;
}

/** Clusters not yet stopped, for an interrupted run (Ctrl-C) to clean up. */
const live = new Set<Cluster>();

/** SIGKILLs every child of every live cluster and unmounts their tmpfs stores, synchronously. */
export function emergencyStop(): void {
  for (const c of live) c.killAllNow();
}

export class Cluster {
  readonly validators: Validator[] = [];
  readonly exits: UnexpectedExit[] = [];
  readonly genesisPath: string;
  /** Partition side per validator: 0 = the main side, else the id + 1 of the partition fault isolating it. */
  private side: number[];
  private readonly portOwner = new Map<number, number>();
  private miner: { proc: Proc; target: number } | null = null;
  private stopping = false;
  private readonly mounted: string[] = [];

  private constructor(private readonly opts: ClusterOptions, genesisPath: string) {
    this.genesisPath = genesisPath;
    this.side = new Array(opts.nodes).fill(0);
  }

  static async start(opts: ClusterOptions): Promise<Cluster> {
    mkdirSync(join(opts.dir, "logs"), { recursive: true });
    const genesisPath = join(opts.dir, "genesis.toml");
    const c = new Cluster(opts, genesisPath);
    live.add(c);
    const created = createGenesis({ k: opts.nodes, devnetLabel: opts.label, basePort: 1, initialTargetBits: targetBits, maturityAnchors });
    let toml = created.toml.replace("parents_max = 4\n", `parents_max = 4\nhorizon_rounds = ${opts.horizonRounds}\n`);
    if (!toml.includes(`horizon_rounds = ${opts.horizonRounds}`)) throw new Error("genesis template changed: cannot set horizon_rounds");
    for (let i = 0; i < opts.nodes; i++) {
      const proxy = await LossyProxy.start({ seed: opts.seed + i, serverPort: 1, gate: (port) => c.passes(i, port) });
      const port = await freeUdpPort();
      const storeDir = join(opts.dir, `store-${i}`);
      const keyFile = join(opts.dir, `v${i}.key`);
      writeFileSync(keyFile, toHex(created.seeds[i]!) + "\n", { mode: 0o600 });
      mkdirSync(storeDir, { recursive: true });
      if (opts.tmpfsStores.includes(i)) c.mountTmpfs(storeDir);
      proxy.retarget(port);
      c.portOwner.set(port, i);
      toml = toml.replace(`address = "127.0.0.1:${1 + i}"`, `address = "127.0.0.1:${proxy.port}"`);
      c.validators.push({ index: i, storeDir, keyFile, port, proxy, proc: null, state: "down", rpc: null, lastLine: "", tail: [], listenFailed: false, generation: 0 });
    }
    writeFileSync(genesisPath, toml);
    await Promise.all(c.validators.map((v) => c.startValidator(v.index)));
    return c;
  }

  get nodes(): number {
    return this.opts.nodes;
  }

  /** Whether datagrams between validator `proxyOf` and the client at `clientPort` pass. */
  private passes(proxyOf: number, clientPort: number): boolean {
    const owner = this.portOwner.get(clientPort);
    return owner === undefined || this.side[owner] === this.side[proxyOf];
  }

  private mountTmpfs(dir: string): void {
    const m = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", `size=${tmpfsBytes}`, "tmpfs", dir], { stdout: "ignore", stderr: "pipe" });
    if (m.exitCode !== 0) throw new Error(`mount tmpfs on ${dir}: ${m.stderr.toString()}`);
    this.mounted.push(dir);
  }

  rpc(i: number): string | null {
    return this.validators[i]!.rpc;
  }

  state(i: number): ValidatorState {
    return this.validators[i]!.state;
  }

  /**
   * Starts validator i on whatever its store dir holds; resolves once its RPC answers.
   * Its QUIC port was free when chosen but another process may have taken it while the
   * validator was down: then it moves to a new port (the proxy follows), at most a few times.
   */
  async startValidator(i: number): Promise<void> {
    const v = this.validators[i]!;
    for (let attempt = 0; attempt < listenAttemptsMax; attempt++) {
      await this.spawnValidator(i);
      if (!v.listenFailed) return;
      v.listenFailed = false;
      this.portOwner.delete(v.port);
      v.port = await freeUdpPort();
      this.portOwner.set(v.port, i);
      v.proxy.retarget(v.port);
      this.opts.say(`chaos: v${i}'s QUIC port was taken; moved to ${v.port}`);
    }
  }

  private async spawnValidator(i: number): Promise<void> {
    const v = this.validators[i]!;
    if (v.proc) throw new Error(`v${i} is already running`);
    const gen = ++v.generation;
    v.rpc = null;
    v.tail = [];
    const proc: Proc = Bun.spawn([
      BIN, "P2pQuicListen", "--genesis", this.genesisPath, "--key_file", v.keyFile, "--store_dir", v.storeDir,
      "--addr", `127.0.0.1:${v.port}`, "--rpc_addr", "127.0.0.1:0", "--metrics_addr", "127.0.0.1:0", "--fsync", "false",
      "--event_interval_ms", String(this.opts.eventIntervalMs), "--idle_heartbeat_ms", String(this.opts.eventIntervalMs * 10), "--tx_proposer_interval_ms", "200", "--log_format", "json",
      // The harness is the operator's own client: its end-of-run lookups (thousands of
      // chain_lookup/tx_status calls) must not be rate-limited into "lost" transactions.
      "--rpc_rate_per_s", "0",
    ], { cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    v.proc = proc;
    v.state = "up";
    const logPath = join(this.opts.dir, "logs", `v${i}.log`);
    appendFileSync(logPath, `--- chaos: start pid ${proc.pid} at ${(this.opts.now() / 1000).toFixed(1)} s\n`);
    const started = new Promise<void>((resolve) => {
      const follow = async (stream: ReadableStream<Uint8Array>) => {
        const decoder = new TextDecoder();
        let buf = "";
        for await (const chunk of stream) {
          buf += decoder.decode(chunk, { stream: true });
          let nl: number;
          while ((nl = buf.indexOf("\n")) !== -1) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            appendFileSync(logPath, line + "\n");
            if (line.trim() !== "") {
              v.lastLine = line.slice(0, 500);
              v.tail.push(v.lastLine);
              if (v.tail.length > tailLinesMax) v.tail.shift();
            }
            if (line.includes('"node_started"') && gen === v.generation) {
              try {
                v.rpc = (JSON.parse(line) as { rpc: string }).rpc;
                resolve();
              } catch {
                /* not JSON: keep reading */
              }
            }
          }
        }
      };
      void follow(proc.stdout);
      void follow(proc.stderr);
      void proc.exited.then(() => resolve());
    });
    void proc.exited.then((code) => this.onExit(i, gen, code, proc.signalCode === null ? null : String(proc.signalCode)));
    await Promise.race([started, Bun.sleep(startWaitMs)]);
  }

  /** A validator the harness did not stop exited: record it and restart it (a service manager's job). */
  private onExit(i: number, gen: number, code: number, signal: string | null): void {
    const v = this.validators[i]!;
    if (gen !== v.generation || v.proc === null) return; // stopped by the harness
    v.proc = null;
    v.state = "down";
    v.rpc = null;
    if (v.tail.some((l) => l.includes("TRANSPORT_LISTEN_FAILED"))) {
      v.listenFailed = true; // startValidator picks another port: the harness's doing, not a crash
      return;
    }
    this.exits.push({ validator: i, code, signal, atMs: this.opts.now(), lastLine: v.lastLine, tail: [...v.tail] });
    if (this.stopping) return;
    this.opts.say(`chaos: v${i} exited on its own (code ${code}${signal ? `, ${signal}` : ""}); restarting in ${restartAfterExitMs} ms: ${v.lastLine.slice(0, 200)}`);
    setTimeout(() => {
      if (!this.stopping && v.proc === null && v.state === "down" && v.generation === gen) void this.startValidator(i);
    }, restartAfterExitMs);
  }

  /** SIGKILL validator i (no restart until startValidator). */
  async kill(i: number): Promise<void> {
    const v = this.validators[i]!;
    const proc = v.proc;
    if (!proc) return;
    v.proc = null;
    v.state = "down";
    v.rpc = null;
    proc.kill("SIGKILL");
    await proc.exited;
  }

  pause(i: number): void {
    const v = this.validators[i]!;
    if (!v.proc) return;
    v.proc.kill("SIGSTOP");
    v.state = "paused";
  }

  resume(i: number): void {
    const v = this.validators[i]!;
    if (!v.proc) return;
    v.proc.kill("SIGCONT");
    v.state = "up";
  }

  /** Isolates `targets` from everyone else (they still talk among themselves); `id` names this partition. */
  partition(id: number, targets: number[]): void {
    for (const t of targets) this.side[t] = id + 1;
  }

  /** Ends partition `id` (another one may still hold). */
  heal(id: number): void {
    this.side = this.side.map((s) => (s === id + 1 ? 0 : s));
  }

  private storeFile(i: number): string {
    return join(this.validators[i]!.storeDir, STORE_FILE_NAME);
  }

  /** A consistent copy of validator i's store while it runs (SQLite's VACUUM INTO reads one snapshot). */
  snapshot(i: number, to: string): boolean {
    if (!existsSync(this.storeFile(i))) return false;
    rmSync(to, { force: true });
    const db = new Database(this.storeFile(i), { readonly: true });
    try {
      db.run(`VACUUM INTO '${to.replaceAll("'", "''")}'`);
      return true;
    } finally {
      db.close();
    }
  }

  /** Empties validator i's store dir (a mount point stays). Call with the validator down. */
  wipe(i: number): void {
    const dir = this.validators[i]!.storeDir;
    for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
  }

  /** Puts a copy back as validator i's store (its WAL and shm are removed with the rest). */
  restore(i: number, from: string): void {
    this.wipe(i);
    copyFileSync(from, this.storeFile(i));
  }

  /** Fills validator i's store file system (a tmpfs) to the last byte; returns bytes written. */
  fill(i: number): number {
    const path = join(this.validators[i]!.storeDir, "chaos-filler");
    const fd = openSync(path, "w");
    const chunk = new Uint8Array(fillChunkBytes);
    let written = 0;
    try {
      for (let n = 0; n < tmpfsBytes / fillChunkBytes + 1; n++) written += writeSync(fd, chunk);
    } catch {
      // ENOSPC: full. Fill the last partial block too.
      for (let size = fillChunkBytes >> 1; size >= 512; size >>= 1) {
        try {
          written += writeSync(fd, chunk.subarray(0, size));
        } catch {
          /* smaller next */
        }
      }
    } finally {
      closeSync(fd);
    }
    return written;
  }

  unfill(i: number): void {
    rmSync(join(this.validators[i]!.storeDir, "chaos-filler"), { force: true });
  }

  /** (Re)starts the miner against validator `target`, paying `address`. */
  async startMiner(target: number, address: string): Promise<void> {
    await this.stopMiner();
    const rpc = this.rpc(target);
    if (!rpc) return;
    const proc: Proc = Bun.spawn([BIN, "mine", "--rpc", rpc, "--to", address, "--threads", "1"], { cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const logPath = join(this.opts.dir, "logs", "miner.log");
    for (const stream of [proc.stdout, proc.stderr]) {
      void (async () => {
        for await (const chunk of stream) appendFileSync(logPath, chunk);
      })();
    }
    this.miner = { proc, target };
  }

  minerTarget(): number | null {
    return this.miner?.target ?? null;
  }

  async stopMiner(): Promise<void> {
    const m = this.miner;
    this.miner = null;
    if (!m) return;
    m.proc.kill("SIGTERM");
    await Promise.race([m.proc.exited, Bun.sleep(stopGraceMs).then(() => m.proc.kill("SIGKILL"))]);
  }

  /** Stops everything: SIGCONT paused ones, SIGTERM all (SIGKILL after a grace), close proxies, unmount. */
  /** Last resort on interrupt: no grace, no waiting. */
  killAllNow(): void {
    this.stopping = true;
    this.miner?.proc.kill("SIGKILL");
    for (const v of this.validators) v.proc?.kill("SIGKILL");
    for (const dir of this.mounted.splice(0)) Bun.spawnSync(["umount", "-l", dir], { stdout: "ignore", stderr: "ignore" });
    live.delete(this);
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    live.delete(this);
    this.stopping = true;
    await this.stopMiner();
    const procs = this.validators.map((v) => v.proc).filter((p): p is Proc => p !== null);
    for (const v of this.validators) {
      if (v.proc) {
        v.proc.kill("SIGCONT");
        v.proc.kill("SIGTERM");
      }
      v.proc = null;
      v.state = "down";
    }
    await Promise.all(procs.map((p) => Promise.race([p.exited, Bun.sleep(stopGraceMs).then(() => p.kill("SIGKILL"))])));
    for (const v of this.validators) v.proxy.close();
  }

  /** Unmounts the tmpfs stores (after a copy of their contents, so the checks can read them). */
  unmountAll(): void {
    for (const dir of this.mounted.splice(0)) {
      const keep = `${dir}.copy`;
      mkdirSync(keep, { recursive: true });
      for (const name of readdirSync(dir)) if (name !== "chaos-filler") copyFileSync(join(dir, name), join(keep, name));
      Bun.spawnSync(["umount", "-l", dir], { stdout: "ignore", stderr: "ignore" });
      rmSync(dir, { recursive: true, force: true });
      Bun.spawnSync(["mv", keep, dir]);
    }
  }

  storePath(i: number): string {
    return this.storeFile(i);
  }
}
