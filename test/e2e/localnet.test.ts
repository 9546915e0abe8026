// The main job as a user runs it: `phantom localnet` starts four validator processes
// talking QUIC on loopback and a miner; they finalize anchors, apply mints, agree on
// every state root, survive a `kill -9` of one validator (the localnet restarts it with a
// printed line while the others keep finalizing), stop cleanly on SIGTERM, and resume
// from their stores. The terminal shows status lines; each child logs to its own file.
// The validators run the default idle heartbeat (10 minutes, SPEC_CONSENSUS §15): the
// miner's mints are what keeps anchors coming.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { createGenesis } from "../../src/genesis/create.ts";
import { freePortBlocks } from "../ports.ts";
import { rpcCall } from "../../src/rpc/client.ts";

const ROOT = join(import.meta.dir, "..", "..");
const LABEL = "e2e-localnet";
// Consecutive port blocks starting where the OS chose (test/ports.ts), never fixed numbers.
const { p2p: P2P_PORT, rpc: RPC_PORT, metrics: METRICS_PORT } = await freePortBlocks(4);
const dir = mkdtempSync(join(tmpdir(), "phantom-localnet-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Status {
  anchorCount: string;
  stateRoot: string;
  mintHeight: string;
  peers: number;
  ready: boolean;
}

const rpc = (i: number) => `http://127.0.0.1:${RPC_PORT + i}`;

/** The localnet's stderr so far (its supervisor's restart lines go there). */
let stderrText = "";
/** The localnet's stdout so far (start-up and status lines). */
let stdoutText = "";

function startLocalnet(genesisPath: string, fresh: boolean): Subprocess<"ignore", "pipe", "pipe"> {
  const proc = Bun.spawn([
    join(ROOT, "bin", "phantom"), "localnet", "--genesis", genesisPath, "--devnet_label", LABEL, "--dir", join(dir, "net"),
    "--base_rpc_port", String(RPC_PORT), "--base_metrics_port", String(METRICS_PORT), "--status_s", "2", ...(fresh ? ["--fresh"] : []),
  ], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stdout) stdoutText = (stdoutText + decoder.decode(chunk, { stream: true })).slice(-100_000);
  })();
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) stderrText = (stderrText + decoder.decode(chunk, { stream: true })).slice(-100_000);
  })();
  return proc;
}

/** Pid of the localnet's validator `i` (a direct child whose arguments name its key file). */
function validatorPid(localnetPid: number, i: number): number {
  const ps = Bun.spawnSync(["ps", "-o", "pid=,args=", "--ppid", String(localnetPid)]).stdout.toString();
  const line = ps.split("\n").find((l) => l.includes("P2pQuicListen") && l.includes(`validator-${i}.key`));
  if (!line) throw new Error(`validator ${i} is not a child of the localnet:\n${ps}`);
  return Number(line.trim().split(/\s+/)[0]);
}

async function statuses(): Promise<(Status | null)[]> {
  return Promise.all([0, 1, 2, 3].map((i) => rpcCall<Status>(rpc(i), "phantom_status").catch(() => null)));
}

/** Polls until every validator's status satisfies `cond`; bounded, never asserts a duration. */
async function untilAll(cond: (s: Status) => boolean, limitMs = 120_000): Promise<Status[]> {
  const deadline = performance.now() + limitMs;
  for (;;) {
    const all = await statuses();
    if (all.every((s) => s !== null && cond(s))) return all as Status[];
    if (performance.now() > deadline) throw new Error(`localnet did not get there in time: ${JSON.stringify(all)}`);
    await Bun.sleep(250);
  }
}

async function stop(proc: Subprocess<"ignore", "pipe", "pipe">): Promise<number> {
  proc.kill("SIGTERM");
  const code = await Promise.race([proc.exited, Bun.sleep(30_000).then(() => -1)]);
  if (code === -1) proc.kill("SIGKILL");
  return code;
}

describe("phantom localnet", () => {
  test("validators finalize, mine, agree on state roots, stop cleanly and resume", async () => {
    const created = createGenesis({ k: 4, devnetLabel: LABEL, basePort: P2P_PORT, initialTargetBits: 10, maturityAnchors: 10n });
    const genesisPath = join(dir, "genesis.toml");
    writeFileSync(genesisPath, created.toml);
    let proc = startLocalnet(genesisPath, true);
    try {
      const first = await untilAll((s) => s.ready && s.peers === 3 && BigInt(s.anchorCount) >= 30n && BigInt(s.mintHeight) >= 2n);
      // Same state root at the same anchor index on every validator.
      const index = first.reduce((m, s) => (BigInt(s.anchorCount) < m ? BigInt(s.anchorCount) : m), BigInt(first[0]!.anchorCount)) - 1n;
      const anchors = await Promise.all([0, 1, 2, 3].map((i) => rpcCall<{ stateRoot: string; eventId: string }>(rpc(i), "chain_anchor", { index: index.toString() })));
      expect(new Set(anchors.map((a) => a.stateRoot)).size).toBe(1);
      expect(new Set(anchors.map((a) => a.eventId)).size).toBe(1);
      // Every unit accounted on every validator: emitted = unspent outputs + fees awaiting settlement.
      const supply = await Promise.all([0, 1, 2, 3].map((i) => rpcCall<{ balanced: boolean; emittedUnits: string }>(rpc(i), "chain_supply")));
      for (const x of supply) expect(x).toMatchObject({ balanced: true });
      const metrics = await (await fetch(`http://127.0.0.1:${METRICS_PORT}/metrics`)).text();
      expect(metrics).toMatch(/^pc_node_ledger_anchor_index\{[^}]*\} \d+/m);
      expect(metrics).toMatch(/^pc_p2p_peers\{[^}]*\} 3/m);
      expect(metrics).toMatch(/^pc_p2p_peer_rtt_seconds_count\{[^}]*validator="1"[^}]*\} [1-9]/m);
      expect(metrics).toMatch(/^pc_p2p_outbox_dequeued_total\{[^}]*\} [1-9]/m);
      expect(metrics).toMatch(/^pc_process_resident_memory_bytes\{[^}]*\} [1-9]/m);

      // The terminal: status lines with real figures once anchors finalize (bounded wait for the next line).
      const statusLine = /^localnet \d\d:\d\d:\d\dZ {2}anchors (\d+\.\d)\/s \(#(\d+)\) {2}finalized \d+\.\d tx\/s {2}finality p50 (?:\d+ ms|-) {2}peers 3 3 3 3 {2}mempool \d+$/gm;
      // A line printed before the first poll answered may still show #0: wait for one past it.
      const highestStatusAnchor = () => [...stdoutText.matchAll(statusLine)].reduce((m, x) => (BigInt(x[2]!) > m ? BigInt(x[2]!) : m), -1n);
      for (let i = 0; i < 150 && highestStatusAnchor() <= 0n; i++) await Bun.sleep(200);
      expect(highestStatusAnchor(), stdoutText.slice(-2_000)).toBeGreaterThan(0n);
      // Each child logs to its own file; the terminal carries none of their lines.
      const logsDir = join(dir, "net", "logs");
      for (const name of ["v0", "v1", "v2", "v3"]) expect(readFileSync(join(logsDir, `${name}.log`), "utf8")).toContain('"type":"node_started"');
      expect(readFileSync(join(logsDir, "miner.log"), "utf8")).toContain('"type":"mint_submitted"');
      expect(stdoutText).not.toContain("node_started");
      expect(stdoutText).not.toContain("mint_submitted");
      expect(stderrText).not.toContain("not reachable yet");
      expect(existsSync(join(logsDir, "v4.log"))).toBe(false);

      // kill -9 one validator: the localnet says so, restarts it, and the others keep finalizing.
      const victim = validatorPid(proc.pid, 2);
      process.kill(victim, "SIGKILL");
      const atKill = BigInt((await rpcCall<Status>(rpc(0), "phantom_status")).anchorCount);
      await untilAll((s) => s.ready && BigInt(s.anchorCount) >= atKill + 20n);
      expect(stderrText).toMatch(/localnet: v2 exited with signal SIGKILL after [\d.]+ s; restarting in 0\.5 s \(restart 1\)/);
      expect(validatorPid(proc.pid, 2)).not.toBe(victim);
      expect(proc.exitCode).toBeNull();

      expect(await stop(proc)).toBe(0);
      proc = startLocalnet(genesisPath, false);
      await untilAll((s) => s.ready && BigInt(s.anchorCount) > index + 20n);
      const again = await Promise.all([0, 1, 2, 3].map((i) => rpcCall<{ stateRoot: string }>(rpc(i), "chain_anchor", { index: index.toString() })));
      expect(again.map((a) => a.stateRoot)).toEqual(anchors.map((a) => a.stateRoot));
    } finally {
      expect(await stop(proc)).toBe(0);
    }
  }, 300_000);
});
