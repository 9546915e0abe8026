// `phantom localnet` on a genesis of 2 shards × 4 validators (what `--shards 2` writes, here
// on ports the OS chose): eight validator processes, each on its own shard (shard_info),
// each shard certifying its epochs, the miner on shard 0 minting to a shard-0 account, and
// every validator started with `--shard_rpc` pointing at the other shard; the faucet pays
// from the miner's account through shard 0 to an address of shard 1.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGenesis } from "../../src/genesis/create.ts";
import { parseGenesis } from "../../src/genesis/genesis.ts";
import { rpcCall } from "../../src/rpc/client.ts";
import { minerAccount, shardRpcOf, shardedDevnetGenesis } from "../../src/cli/commands/localnet.ts";
import { shardOfLock } from "../../src/ledger/shard.ts";
import { decodeAddress, shardOfAddress } from "../../src/wallet/address.ts";
import { accountFromSeed } from "../../src/wallet/keys.ts";
import { freePortBlocks } from "../ports.ts";
import { BIN, ROOT, phantom, until } from "../wallet/localnet-harness.ts";

const LABEL = "e2e-localnet-shards";
const dir = mkdtempSync(join(tmpdir(), "phantom-localnet-shards-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface ShardInfo { shard: number; shardCount: number; validator: number; lastCertifiedEpoch: string | null }

describe("phantom localnet with shards", () => {
  test("the generated genesis and the relay endpoints", () => {
    const g = parseGenesis(shardedDevnetGenesis("localnet", 3, 8n));
    expect({ shardCount: g.shardCount, k: g.k, validators: g.validators.length, rootInterval: g.shardRootInterval }).toEqual({ shardCount: 3, k: 4, validators: 12, rootInterval: 8n });
    // Validator 5 is position 1 of shard 1: it relays to position 1 of shards 0 and 2.
    expect(shardRpcOf(g, 5, 8645)).toBe("0=http://127.0.0.1:8646,2=http://127.0.0.1:8654");
    for (const S of [1, 2, 3, 4]) expect(shardOfLock(decodeAddress(minerAccount("localnet", S).address), S)).toBe(0);
  });

  test("eight validators on two shards certify their epochs; the miner mints on shard 0; the faucet pays across shards", async () => {
    const ports = await freePortBlocks(8);
    const genesisPath = join(dir, "genesis.toml");
    writeFileSync(genesisPath, createGenesis({ k: 4, shards: 2, devnetLabel: LABEL, basePort: ports.p2p, initialTargetBits: 10, maturityAnchors: 4n, shardRootInterval: 4n }).toml);
    const proc = Bun.spawn([
      BIN, "localnet", "--genesis", genesisPath, "--devnet_label", LABEL, "--dir", join(dir, "net"), "--fresh",
      "--base_rpc_port", String(ports.rpc), "--base_metrics_port", String(ports.metrics), "--idle_heartbeat_ms", "500", "--status_s", "2",
    ], { cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    let out = "";
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of proc.stdout) out += decoder.decode(chunk, { stream: true });
    })();
    const rpc = (i: number) => `http://127.0.0.1:${ports.rpc + i}`;
    try {
      const infos = await until("every validator serves its shard and holds a certificate", async () => {
        const all = await Promise.all(Array.from({ length: 8 }, (_, i) => rpcCall<ShardInfo>(rpc(i), "shard_info")));
        return all.every((x) => x.lastCertifiedEpoch !== null) ? all : undefined;
      }, 120_000);
      expect(infos.map((x) => x.shard)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
      expect(infos.map((x) => x.validator)).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
      const miner = minerAccount(LABEL, 2);
      await until("the miner's reward is on shard 0", async () => {
        const a = await rpcCall<{ utxos: unknown[] }>(rpc(0), "address_get", { address: miner.address });
        return a.utxos.length > 0 ? true : undefined;
      }, 120_000);
      // The faucet pays from that account through a shard-0 node, to an address of shard 1
      // (an export, imported there); a shard-1 node is refused with FAUCET_WRONG_SHARD.
      expect(JSON.parse(phantom(["faucet", "--address", "--devnet_label", LABEL, "--shards", "2"]).out).address).toBe(miner.address);
      const user = Array.from({ length: 64 }, (_, i) => accountFromSeed(new Uint8Array(32).fill(i + 1))).find((a) => shardOfAddress(a.address, 2) === 1)!;
      const wrong = phantom(["faucet", "--rpc", rpc(4), "--devnet_label", LABEL, "--to", user.address, "--amount", "1"]);
      expect(wrong.code).toBe(2);
      expect(wrong.err).toContain("[FAUCET_WRONG_SHARD]");
      const paid = await until("the faucet pays once the reward is mature", async () => {
        const r = phantom(["faucet", "--rpc", rpc(0), "--devnet_label", LABEL, "--to", user.address, "--amount", "1"]);
        return r.code === 0 ? r : undefined;
      }, 120_000);
      expect(JSON.parse(paid.out)).toMatchObject({ type: "faucet_sent", to: user.address, amountUnits: "100000000" });
      await until("the faucet's payment is imported on shard 1", async () => {
        const a = await rpcCall<{ balanceUnits: string }>(rpc(4), "address_get", { address: user.address });
        return a.balanceUnits === "100000000" ? true : undefined;
      }, 120_000);
      expect(out).toContain("localnet: 8 validators in 2 shards of 4;");
      // Each validator was started with the other shard's endpoint at its own position.
      const log5 = readFileSync(join(dir, "net", "logs", "v5.log"), "utf8");
      expect(log5).toContain(`--shard_rpc 0=http://127.0.0.1:${ports.rpc + 1}`);
      expect(log5).toContain('"shard":1');
    } finally {
      proc.kill("SIGTERM");
      expect(await Promise.race([proc.exited, Bun.sleep(30_000).then(() => -1)])).toBe(0);
    }
  }, 240_000);
});
