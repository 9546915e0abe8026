// `phantom wallet` (the real CLI, as a child process) against validators that serve one
// shard of a two-shard network: four in-process validators (real engines, SQLite stores)
// behind the real RPC server, answering with the shard-0 view of a genesis with
// shard_count = 2 (this committee, S = 2, as the node runs on genesisForShard), and a
// second server giving the same node the view of shard 1. The wallet shows shards in
// balance and send, says a payment to shard 1 is cross-shard, refuses a node of another
// shard with WALLET_WRONG_SHARD, and transfer-status passes on the node's refusal (the
// node under the view runs one shard). The ledger under it is the single-shard one here; the full path, with certificates and imports, is test/wallet/wallet-shards-e2e.test.ts.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { accountFromMnemonic } from "../../src/wallet/keys.ts";
import { shardOfAddress } from "../../src/wallet/address.ts";
import { nodeRpcMethods, NODE_REST_ROUTES } from "../../src/node/rpc-methods.ts";
import { startRpcServer } from "../../src/rpc/server.ts";
import { createRegistry } from "../../src/metrics/registry.ts";
import type { Genesis } from "../../src/genesis/genesis.ts";
import { TestNet, applied, minedHeader, stopAll, until } from "../node/harness.ts";
import { BIN, ROOT } from "./localnet-harness.ts";

const reference = `${"abandon ".repeat(11)}about`; // BIP39 reference phrase
const dir = mkdtempSync(join(tmpdir(), "phantom-wallet-shards-node-"));
const net = new TestNet({ k: 4, devnetLabel: "wallet-shards-node-test", initialTargetBits: 8, maturityAnchors: 4n });
afterAll(() => {
  net.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** The CLI as a child, spawned asynchronously: the node it talks to runs in this process. */
async function phantom(args: string[]) {
  const p = Bun.spawn([BIN, ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe", stdin: "ignore", timeout: 60_000 });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

/** The first account of the reference phrase on `shard` of 2. */
function accountOnShard(shard: number) {
  for (let i = 0; i < 64; i++) {
    const a = accountFromMnemonic(reference, i);
    if (shardOfAddress(a.address, 2) === shard) return a;
  }
  throw new Error(`no account on shard ${shard}`);
}

describe("phantom wallet against a validator of one shard of two", () => {
  test("shards shown, a cross-shard send announced, a node of the other shard refused, a one-shard node's refusal of shard_exports passed on", async () => {
    const file = join(dir, "w.mnemonic");
    writeFileSync(file, reference + "\n", { mode: 0o600 });
    const nodes = [0, 1, 2, 3].map((i) => net.node(i));
    for (const n of nodes) await n.node.start();
    const n = nodes[0]!;
    const shard0: Genesis = { ...net.genesis, shardCount: 2, shardRootInterval: 8n };
    const shard1: Genesis = { ...shard0, validators: shard0.validators.map((v) => ({ ...v, shard: 1 })) };
    const serve = (view: Genesis) => startRpcServer({ addr: "127.0.0.1:0", registry: createRegistry(), rest: NODE_REST_ROUTES, methods: nodeRpcMethods(n.node, n.store, view), ready: () => true });
    const rpc0 = serve(shard0);
    const rpc1 = serve(shard1);
    try {
      const a = accountOnShard(0);
      const b = accountOnShard(1);
      const wallet = (account: number, args: string[], server = rpc0) => phantom(["wallet", ...args, "--wallet", file, "--account", String(account), "--rpc", server.url]);

      // A mature coin for account a (shard 0).
      const { mintId } = n.node.submitMint(await minedHeader(n.store, net.genesis, a.lockCommitment));
      await until(() => nodes.every((x) => x.store.mintTip().nextHeight === 1n));
      const coin = n.store.getUtxo(mintId, 0)!;
      await until(() => nodes.every((x) => applied(x) >= coin.createdAt + net.genesis.emission.maturityAnchors));

      const balance = await wallet(a.index, ["balance"]);
      expect(balance.code, balance.err).toBe(0);
      expect(JSON.parse(balance.out)).toMatchObject({ address: a.address, shard: 0, shardCount: 2, balanceUnits: coin.amount.toString() });
      // `address` asked with --rpc names the shard and whether that node serves it.
      const shown = await wallet(a.index, ["address"], rpc1);
      expect([shown.code, shown.out]).toEqual([0, `${a.address}\n`]);
      expect(shown.err).toContain(`address ${a.address} is on shard 0 of 2; the node at --rpc serves shard 1: use a node of shard 0 for balance and send`);

      // Account b is on shard 1: this shard-0 node holds none of its outputs.
      for (const [account, args, server, addressShard, nodeShard] of [
        [b.index, ["balance"], rpc0, 1, 0], [a.index, ["balance"], rpc1, 0, 1], [a.index, ["send", "--to", b.address, "--amount", "1"], rpc1, 0, 1], [a.index, ["history"], rpc1, 0, 1],
      ] as const) {
        const r = await wallet(account, [...args], server);
        expect(r.code).toBe(2);
        expect(r.err).toContain("[WALLET_WRONG_SHARD]");
        expect(r.err).toContain(`is on shard ${addressShard} of 2, but the node at ${server.url} serves shard ${nodeShard}`);
        expect(r.err).toContain(`pass --rpc of a node of shard ${addressShard}`);
      }

      // Shard 0 → shard 1 through the shard-0 node: announced as cross-shard.
      const sent = await wallet(a.index, ["send", "--to", b.address, "--amount", "1.5", "--wait_s", "30"]);
      expect(sent.code, sent.err).toBe(0);
      const [tx, final] = sent.out.trim().split("\n").map((l) => JSON.parse(l));
      expect(tx).toMatchObject({ type: "tx_submitted", accepted: true, amountUnits: "150000000", fromShard: 0, toShard: 1, crossShard: true, shardCount: 2 });
      expect(final).toMatchObject({ type: "tx_final", txid: tx.txid });
      expect(sent.err).toContain(`cross-shard transfer: shard 0 → shard 1. The amount leaves shard 0 when this tx is final there; the network completes it on shard 1 after shard 0 certifies the epoch of that anchor`);
      // Within shard 0: not cross-shard, said so in the line, nothing on stderr about it.
      const sameShard = Array.from({ length: 64 }, (_, i) => accountFromMnemonic(reference, i)).filter((x) => shardOfAddress(x.address, 2) === 0);
      const a2 = sameShard.find((x) => x.index !== a.index)!;
      const local = await wallet(a.index, ["send", "--to", a2.address, "--amount", "1"]);
      expect(local.code, local.err).toBe(0);
      expect(JSON.parse(local.out)).toMatchObject({ fromShard: 0, toShard: 0, crossShard: false, shardCount: 2 });
      expect(local.err).not.toContain("cross-shard");

      // transfer-status: the cross-shard output is found (export id from source shard 0), but the
      // node behind this view runs one shard, so shard_exports refuses (test/wallet/wallet-shards-e2e.test.ts
      // follows a transfer on real shards; test/wallet/shards.test.ts a node without the methods).
      const st = await phantom(["wallet", "transfer-status", tx.txid, "--rpc", rpc0.url]);
      expect(st.code).not.toBe(0);
      expect(st.err).toContain("[RPC_NOT_FOUND]");
      expect(st.err).toContain("this network has one shard");
      // A tx the node does not know: the line says to ask the source shard.
      const none = await phantom(["wallet", "transfer-status", "ee".repeat(32), "--rpc", rpc1.url]);
      expect(JSON.parse(none.out)).toMatchObject({ txState: "unknown", sourceShard: 1, shardCount: 2, message: `the node (shard 1) knows no tx ${"ee".repeat(32)}; ask a node of the tx's source shard (the shard of the address that paid)` });
    } finally {
      rpc0.stop();
      rpc1.stop();
      await stopAll(nodes);
    }
  }, 180_000);
});
