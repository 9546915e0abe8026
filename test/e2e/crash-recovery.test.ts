// Four validator processes over QUIC; one is killed with SIGKILL mid-run. The other
// three (a quorum of stake) keep finalizing; the killed one restarts on its store,
// catches up, agrees on every state root and never equivocates.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { createGenesis } from "../../src/genesis/create.ts";
import { freePortBlocks } from "../ports.ts";
import { rpcCall } from "../../src/rpc/client.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { until as pollUntil } from "../wallet/localnet-harness.ts";

const ROOT = join(import.meta.dir, "..", "..");
// Consecutive port blocks starting where the OS chose (test/ports.ts), never fixed numbers.
const { p2p: P2P_PORT, rpc: RPC_PORT, metrics: METRICS_PORT } = await freePortBlocks(4);
const dir = mkdtempSync(join(tmpdir(), "phantom-crash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Status {
  anchorCount: string;
}

const created = createGenesis({ k: 4, devnetLabel: "e2e-crash", basePort: P2P_PORT, initialTargetBits: 10 });
const genesisPath = join(dir, "genesis.toml");
writeFileSync(genesisPath, created.toml);
created.seeds.forEach((s, i) => writeFileSync(join(dir, `v${i}.key`), toHex(s) + "\n", { mode: 0o600 }));
const rpc = (i: number) => `http://127.0.0.1:${RPC_PORT + i}`;

function startValidator(i: number): Subprocess<"ignore", "ignore", "ignore"> {
  return Bun.spawn([
    join(ROOT, "bin", "phantom"), "P2pQuicListen", "--genesis", genesisPath, "--key_file", join(dir, `v${i}.key`),
    "--store_dir", join(dir, `store-${i}`), "--rpc_addr", `127.0.0.1:${RPC_PORT + i}`, "--metrics_addr", `127.0.0.1:${METRICS_PORT + i}`,
    "--fsync", "true", "--event_interval_ms", "50", "--idle_heartbeat_ms", "500", "--tx_proposer_interval_ms", "200",
  ], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
}

const anchors = (i: number) => rpcCall<Status>(rpc(i), "phantom_status").then((s) => BigInt(s.anchorCount), () => -1n);

/** Polls `cond` (bounded, never a timing assertion). */
const until = (what: string, cond: () => Promise<boolean>, limitMs = 90_000): Promise<true> =>
  pollUntil(what, async () => ((await cond()) ? true : undefined), limitMs, 200);

async function rootAt(i: number, index: bigint): Promise<string> {
  return (await rpcCall<{ stateRoot: string }>(rpc(i), "chain_anchor", { index: index.toString() })).stateRoot;
}

describe("validator crash recovery", () => {
  test("SIGKILL one validator: the rest continue, it resumes from its store and agrees", async () => {
    const procs = [0, 1, 2, 3].map(startValidator);
    try {
      await until("all finalize", async () => (await Promise.all([0, 1, 2, 3].map(anchors))).every((a) => a >= 20n));
      procs[2]!.kill("SIGKILL");
      await procs[2]!.exited;
      const atKill = await anchors(0);
      await until("three keep finalizing", async () => (await anchors(0)) >= atKill + 20n && (await anchors(1)) >= atKill + 20n);

      procs[2] = startValidator(2);
      const target = (await anchors(0)) + 10n;
      await until("restarted validator catches up", async () => (await anchors(2)) >= target);
      const index = target - 1n;
      const roots = await Promise.all([0, 1, 2, 3].map((i) => rootAt(i, index)));
      expect(new Set(roots).size).toBe(1);
      // A restart on its own store never signs a second event at a used seq.
      const metrics = await (await fetch(`http://127.0.0.1:${METRICS_PORT}/metrics`)).text();
      expect(metrics).not.toMatch(/^pc_node_evidence_total\{[^}]*\} [1-9]/m);
    } finally {
      for (const p of procs) p.kill("SIGTERM");
      await Promise.all(procs.map((p) => Promise.race([p.exited, Bun.sleep(15_000).then(() => p.kill("SIGKILL"))])));
    }
  }, 300_000);
});
