// The wallet on a two-shard localnet (2 shards × 4 validator processes over QUIC on
// loopback, own ports): `address` names each account's shard, `balance` and `send`
// through a node of another shard are refused with WALLET_WRONG_SHARD, a payment from
// shard 0 to shard 1 is announced as cross-shard, `transfer-status` follows it until
// shard 1 imported it, and the recipient's balance shows there.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { rpcCall } from "../../src/rpc/client.ts";
import { exportId } from "../../src/ledger/export-tree.ts";
import { fromHex, toHex } from "../../src/crypto/bytes.ts";
import { harnessK, phantom, startLocalnet, until } from "./localnet-harness.ts";

const maturityAnchors = 5n;
const rewardUnits = 5_000_000_000n;
/** Anchors per shard-root epoch: short, so a certificate follows the transfer soon. */
const rootInterval = 8;

process.env.PHANTOM_WALLET_PASSPHRASE = "e2e shard wallet passphrase";

interface AddressGet { balanceUnits: string; utxos: { createdAt: string; coinbase: boolean }[] }

describe("phantom wallet on a two-shard localnet", () => {
  test("shards shown, a node of another shard refused, a cross-shard send followed until imported", async () => {
    const net = await startLocalnet({ label: `wallet-shards-e2e-${process.pid}`, shards: 2, shardRootInterval: rootInterval, maturityAnchors, miner: false, durationS: 220 });
    try {
      const rpc0 = net.rpc[0]!; // a validator of shard 0
      const rpc1 = net.rpc[harnessK]!; // a validator of shard 1
      const w = join(net.dir, "w.mnemonic");
      expect(phantom(["wallet", "new", "--wallet", w, "--scrypt_log_n", "12"]).code).toBe(0);

      // `address` with the genesis names the shard (stderr; stdout stays the address alone).
      const byShard = new Map<number, { account: number; address: string }>();
      for (let account = 0; account < 24 && byShard.size < 2; account++) {
        const r = phantom(["wallet", "address", "--wallet", w, "--account", String(account), "--genesis", net.genesisPath]);
        expect(r.code).toBe(0);
        const address = r.out.trim();
        const m = new RegExp(`^address ${address} is on shard ([01]) of 2$`, "m").exec(r.err);
        expect(m, r.err).not.toBeNull();
        if (!byShard.has(Number(m![1]))) byShard.set(Number(m![1]), { account, address });
      }
      const a = byShard.get(0)!;
      const b = byShard.get(1)!;
      expect(a && b).toBeTruthy();

      await until("both shards ready", async () => ((await fetch(`${rpc0}/ready`)).ok && (await fetch(`${rpc1}/ready`)).ok ? true : undefined), 60_000);
      expect(await rpcCall(rpc1, "phantom_status")).toMatchObject({ shard: 1, shardCount: 2, shardRootInterval: String(rootInterval) });
      // Asked with --rpc, `address` also says whether that node serves it.
      const asked = phantom(["wallet", "address", "--wallet", w, "--account", String(a.account), "--rpc", rpc1]);
      expect(asked.err).toContain(`address ${a.address} is on shard 0 of 2; the node at --rpc serves shard 1: use a node of shard 0 for balance and send`);

      // A coin for account a, mined on shard 0 (mints are on shard 0 only), and mature.
      const mined = phantom(["mine", "--rpc", rpc0, "--to", a.address, "--max_mints", "1", "--threads", "1"], 90_000);
      expect(mined.code, mined.err).toBe(0);
      await until("a mature reward", async () => {
        const info = await rpcCall<AddressGet>(rpc0, "address_get", { address: a.address });
        const s = await rpcCall<{ anchorCount: string }>(rpc0, "phantom_status");
        return info.utxos.some((u) => u.coinbase && BigInt(s.anchorCount) >= BigInt(u.createdAt) + maturityAnchors) ? true : undefined;
      }, 60_000);

      const balance = JSON.parse(phantom(["wallet", "balance", "--wallet", w, "--account", String(a.account), "--rpc", rpc0]).out);
      expect(balance).toMatchObject({ address: a.address, shard: 0, shardCount: 2, balanceUnits: String(rewardUnits) });

      // Through the shard-1 node: refused, with the shard to use.
      for (const args of [["balance"], ["send", "--to", b.address, "--amount", "1"]]) {
        const r = phantom(["wallet", ...args, "--wallet", w, "--account", String(a.account), "--rpc", rpc1]);
        expect(r.code).toBe(2);
        expect(r.err).toContain("[WALLET_WRONG_SHARD]");
        expect(r.err).toContain(`is on shard 0 of 2, but the node at ${rpc1} serves shard 1`);
        expect(r.err).toContain("pass --rpc of a node of shard 0");
      }

      // Shard 0 → shard 1: said to be cross-shard; final on shard 0.
      const sent = phantom(["wallet", "send", "--wallet", w, "--account", String(a.account), "--rpc", rpc0, "--to", b.address, "--amount", "1.5", "--wait_s", "60"], 90_000);
      expect(sent.code, sent.err).toBe(0);
      const [tx, final] = sent.out.trim().split("\n").map((l) => JSON.parse(l));
      expect(tx).toMatchObject({ type: "tx_submitted", accepted: true, fromShard: 0, toShard: 1, crossShard: true, shardCount: 2, amountUnits: "150000000" });
      expect(final).toMatchObject({ type: "tx_final", txid: tx.txid });
      expect(sent.err).toContain("cross-shard transfer: shard 0 → shard 1.");
      expect(sent.err).toContain(`phantom wallet transfer-status ${tx.txid}`);

      // Followed until shard 1 imported it (the epoch certified, the claim relayed and applied).
      const id = toHex(exportId({ sourceShard: 0, txid: fromHex(tx.txid), outputIndex: 0 }));
      const seen = new Set<string>();
      const done = await until("transfer imported", async () => {
        const r = phantom(["wallet", "transfer-status", tx.txid, "--rpc", rpc0, "--dest_rpc", rpc1]);
        if (r.code !== 0) throw new Error(r.err);
        const st = JSON.parse(r.out);
        for (const o of st.outputs) seen.add(o.state);
        return st.complete ? st : undefined;
      }, 120_000, 1_000);
      expect(done).toMatchObject({ type: "transfer_status", txid: tx.txid, sourceShard: 0, shardCount: 2, txState: "final", anchorIndex: final.anchorIndex, crossShard: true, complete: true });
      expect(done.epoch).toBe((BigInt(final.anchorIndex) / BigInt(rootInterval)).toString());
      expect(done.outputs).toEqual([expect.objectContaining({ outputIndex: 0, address: b.address, destShard: 1, amountUnits: "150000000", exportId: id, state: "imported" })]);
      for (const s of seen) expect(["awaiting_certificate", "certified", "relayed", "imported"]).toContain(s);

      // The recipient's coin is on shard 1, read through a shard-1 node.
      const received = JSON.parse(phantom(["wallet", "balance", "--wallet", w, "--account", String(b.account), "--rpc", rpc1]).out);
      expect(received).toMatchObject({ address: b.address, shard: 1, shardCount: 2, balanceUnits: "150000000" });
    } catch (e) {
      throw new Error(`${(e as Error).message}\nlocalnet log tail:\n${net.log().slice(-4_000)}`);
    } finally {
      await net.stop();
    }
  }, 400_000);
});
