// Four validator processes over QUIC; validator 2 prunes its store. It is stopped, a
// snapshot file is made from its store with `phantom snapshot create`, a truncated copy is
// refused by `phantom snapshot restore`, the good file is restored into a new folder, and
// validator 2 restarted on it rejoins, finalizes with the others on the same state roots
// and never equivocates.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { Database } from "bun:sqlite";
import { createGenesis } from "../../src/genesis/create.ts";
import { freePortBlocks } from "../ports.ts";
import { rpcCall } from "../../src/rpc/client.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { until as pollUntil } from "../wallet/localnet-harness.ts";
import { runPhantom } from "../phantom-cli.ts";

const ROOT = join(import.meta.dir, "..", "..");
const { p2p: P2P_PORT, rpc: RPC_PORT, metrics: METRICS_PORT } = await freePortBlocks(4);
const dir = mkdtempSync(join(tmpdir(), "phantom-snaprestore-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const created = createGenesis({ k: 4, devnetLabel: "e2e-snapshot", basePort: P2P_PORT, initialTargetBits: 10 });
const genesisPath = join(dir, "genesis.toml");
// The smallest horizon the genesis allows (16 rounds): pruning's minimum window is then
// 16 + 8 ancient + 16 margin = 40 rounds, so pruning starts after a few hundred anchors.
const HORIZON_ROUNDS = 16;
const KEEP_ROUNDS = HORIZON_ROUNDS + 24;
writeFileSync(genesisPath, created.toml.replace("[consensus]\n", `[consensus]\nhorizon_rounds = ${HORIZON_ROUNDS}\n`));
created.seeds.forEach((s, i) => writeFileSync(join(dir, `v${i}.key`), toHex(s) + "\n", { mode: 0o600 }));
/** The store position a store has pruned through (0 while it has pruned nothing); read while the node runs (WAL). */
function prunedThrough(storeDir: string): bigint {
  let db: Database;
  try {
    db = new Database(join(storeDir, "phantom.sqlite"), { readonly: true });
  } catch {
    return 0n;
  }
  try {
    const row = db.query(`SELECT value FROM meta WHERE key = 'pruned_through_seq_no'`).get() as { value: Uint8Array } | null;
    return row === null ? 0n : BigInt(new TextDecoder().decode(row.value));
  } catch {
    return 0n; // the schema is still being created
  } finally {
    db.close();
  }
}
const rpc = (i: number) => `http://127.0.0.1:${RPC_PORT + i}`;

function startValidator(i: number, storeDir = join(dir, `store-${i}`)): Subprocess<"ignore", "ignore", "ignore"> {
  const pruning = i === 2 ? ["--prune_keep_rounds", String(KEEP_ROUNDS), "--snapshot_interval_anchors", "20"] : [];
  return Bun.spawn([
    join(ROOT, "bin", "phantom"), "P2pQuicListen", "--genesis", genesisPath, "--key_file", join(dir, `v${i}.key`),
    "--store_dir", storeDir, "--rpc_addr", `127.0.0.1:${RPC_PORT + i}`, "--metrics_addr", `127.0.0.1:${METRICS_PORT + i}`,
    "--fsync", "false", "--event_interval_ms", "50", "--idle_heartbeat_ms", "500", "--tx_proposer_interval_ms", "200", ...pruning,
  ], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
}

const anchors = (i: number) => rpcCall<{ anchorCount: string }>(rpc(i), "phantom_status").then((s) => BigInt(s.anchorCount), () => -1n);
const until = (what: string, cond: () => Promise<boolean>, limitMs = 120_000): Promise<true> =>
  pollUntil(what, async () => ((await cond()) ? true : undefined), limitMs, 200);
const rootAt = async (i: number, index: bigint): Promise<string> =>
  (await rpcCall<{ stateRoot: string }>(rpc(i), "chain_anchor", { index: index.toString() })).stateRoot;

describe("snapshot files", () => {
  test("a validator refuses --prune_keep_rounds below the minimum (exit 2, typed)", () => {
    const r = runPhantom([
      "P2pQuicListen", "--genesis", genesisPath, "--key_file", join(dir, "v1.key"), "--store_dir", join(dir, "store-refused"),
      "--addr", "127.0.0.1:0", "--rpc_addr", "127.0.0.1:0", "--metrics_addr", "127.0.0.1:0", "--prune_keep_rounds", "10",
    ], { timeoutMs: 60_000 });
    expect(r.code).toBe(2);
    expect(r.err).toContain("error [CONFIG_PRUNE_KEEP_ROUNDS]");
  }, 60_000);

  test("a pruning validator's store goes to a file and back, and the validator rejoins from it", async () => {
    const procs = [0, 1, 2, 3].map((i) => startValidator(i));
    try {
      // Validator 2 has pruned once its store records a pruned position (a snapshot
      // interval or two past its 40-round window); the others keep finalizing meanwhile.
      await until("validator 2 prunes its store", async () => prunedThrough(join(dir, "store-2")) > 0n, 240_000);
      await until("all finalize", async () => (await Promise.all([0, 1, 2, 3].map(anchors))).every((a) => a >= 20n));
      procs[2]!.kill("SIGTERM");
      expect(await procs[2]!.exited).toBe(0);
      expect(prunedThrough(join(dir, "store-2"))).toBeGreaterThan(0n);

      const file = join(dir, "v2.snapshot");
      const made = runPhantom(["snapshot", "create", "--genesis", genesisPath, "--store_dir", join(dir, "store-2"), "--out", file], { timeoutMs: 60_000 });
      expect(made.code).toBe(0);
      const createdLine = JSON.parse(made.out.trim().split("\n").pop()!) as { type: string; lastAnchor: string; stateRoot: string };
      expect(createdLine.type).toBe("snapshot_created");

      const bytes = readFileSync(file);
      const cut = join(dir, "cut.snapshot");
      writeFileSync(cut, bytes.subarray(0, bytes.length - 1000));
      const refused = runPhantom(["snapshot", "restore", "--genesis", genesisPath, "--file", cut, "--store_dir", join(dir, "store-2-cut")], { timeoutMs: 60_000 });
      expect(refused.code).toBe(2);
      expect(refused.err).toContain("SNAPSHOT_FILE_TRUNCATED");

      const restoredDir = join(dir, "store-2-restored");
      const restored = runPhantom(["snapshot", "restore", "--genesis", genesisPath, "--file", file, "--store_dir", restoredDir], { timeoutMs: 60_000 });
      expect(restored.code).toBe(0);
      const line = JSON.parse(restored.out.trim().split("\n").pop()!) as { type: string; lastAnchor: string; stateRoot: string };
      expect(line).toMatchObject({ type: "snapshot_restored", lastAnchor: createdLine.lastAnchor, stateRoot: createdLine.stateRoot });

      procs[2] = startValidator(2, restoredDir);
      const target = (await anchors(0)) + 10n;
      await until("restored validator catches up", async () => (await anchors(2)) >= target);
      const roots = await Promise.all([0, 1, 2, 3].map((i) => rootAt(i, target - 1n)));
      expect(new Set(roots).size).toBe(1);
      for (let i = 0; i < 4; i++) {
        const metrics = await (await fetch(`http://127.0.0.1:${METRICS_PORT + i}/metrics`)).text();
        expect(metrics).not.toMatch(/^pc_node_evidence_total\{[^}]*\} [1-9]/m);
      }
    } finally {
      for (const p of procs) p.kill("SIGTERM");
      await Promise.all(procs.map((p) => Promise.race([p.exited, Bun.sleep(15_000).then(() => p.kill("SIGKILL"))])));
    }
  }, 300_000);
});
