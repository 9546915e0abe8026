// The wallet as a user runs it, against a real localnet (4 validator processes over
// QUIC on loopback, own ports): create two wallets, mine two coins to the first,
// wait for maturity, `phantom wallet send` to the second, check both balances by RPC.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { statSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { rpcCall } from "../../src/rpc/client.ts";
import { startLocalnet, until, phantom, type Localnet } from "./localnet-harness.ts";

const maturityAnchors = 5n;
const rewardUnits = 5_000_000_000n; // initial_reward_units of createGenesis
const feeUnits = 10_000n;

interface AddressGet { balanceUnits: string; utxos: { txid: string; amount: string; createdAt: string; coinbase: boolean }[] }

// The CLI children inherit it: the wallets below are encrypted under this passphrase.
process.env.PHANTOM_WALLET_PASSPHRASE = "e2e wallet passphrase";

let net: Localnet;
beforeAll(async () => {
  net = await startLocalnet({ label: `wallet-e2e-${process.pid}`, maturityAnchors, miner: false, durationS: 120 });
});
afterAll(async () => {
  await net?.stop();
});

describe("phantom wallet against a localnet", () => {
  test("new, address, balance, send; errors are typed", async () => {
    const w1 = join(net.dir, "w1.mnemonic");
    const w2 = join(net.dir, "w2.mnemonic");
    const created = phantom(["wallet", "new", "--wallet", w1, "--scrypt_log_n", "12"]);
    expect(created.code).toBe(0);
    expect(readFileSync(w1).subarray(0, 8).toString()).toBe("PHWALLET");
    expect(Object.keys(JSON.parse(created.out))).toEqual(["type", "file", "address", "encrypted"]); // the phrase is never printed unless asked
    expect(statSync(w1).mode & 0o777).toBe(0o600);
    expect(phantom(["wallet", "new", "--wallet", w1]).err).toContain("WALLET_FILE_EXISTS");
    const shown = phantom(["wallet", "new", "--wallet", w2, "--words", "12", "--show_mnemonic", "--scrypt_log_n", "12"]);
    expect(JSON.parse(shown.out).mnemonic.split(" ")).toHaveLength(12);
    const a1 = phantom(["wallet", "address", "--wallet", w1]).out.trim();
    const a2 = phantom(["wallet", "address", "--wallet", w2]).out.trim();
    expect(a1).toMatch(/^pc1[02-9ac-hj-np-z]{58}$/);
    expect(JSON.parse(created.out).address).toBe(a1);
    const rpc = net.rpc[0]!;

    await until("node ready", async () => ((await fetch(`${rpc}/ready`)).ok ? true : undefined), 30_000);
    const mined = phantom(["mine", "--rpc", rpc, "--to", a1, "--max_mints", "2", "--threads", "1"], 60_000);
    expect(mined.code).toBe(0);
    expect(mined.out.split("\n").filter((l) => l.includes('"accepted":true'))).toHaveLength(2);

    // Both rewards final and mature: next anchor >= createdAt + maturity for each.
    await until("two mature rewards", async () => {
      const info = await rpcCall<AddressGet>(rpc, "address_get", { address: a1 });
      const status = await rpcCall<{ anchorCount: string }>(rpc, "phantom_status");
      const mature = info.utxos.filter((u) => u.coinbase && BigInt(status.anchorCount) >= BigInt(u.createdAt) + maturityAnchors);
      return mature.length === 2 ? true : undefined;
    }, 30_000);
    // One shard: `address` prints the address alone, also when it may ask the node (nothing about shards).
    const addressAsked = phantom(["wallet", "address", "--wallet", w1, "--rpc", rpc]);
    expect([addressAsked.code, addressAsked.out]).toEqual([0, `${a1}\n`]);
    expect(addressAsked.err).not.toMatch(/is on shard/);
    const before = JSON.parse(phantom(["wallet", "balance", "--wallet", w1, "--rpc", rpc, "--genesis", net.genesisPath]).out);
    expect(Object.keys(before)).toEqual(["address", "account", "balancePc", "balanceUnits", "rewardsPc", "rewardsUnits", "utxos", "spendablePc", "spendableUnits"]);
    expect(before).toMatchObject({ address: a1, balanceUnits: String(2n * rewardUnits), balancePc: "100.00000000", spendableUnits: String(2n * rewardUnits), utxos: 2 });

    // Typed refusals before anything is submitted.
    const refuse = (args: string[], code: string) => {
      const r = phantom(["wallet", "send", "--wallet", w1, "--rpc", rpc, ...args]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`[${code}]`);
    };
    refuse(["--to", a2, "--amount", "100.00000001"], "WALLET_INSUFFICIENT_FUNDS");
    refuse(["--to", a2, "--amount", "1.123456789"], "WALLET_AMOUNT_PRECISION");
    refuse(["--to", a2, "--amount", "one"], "WALLET_BAD_AMOUNT");
    refuse(["--to", a2.slice(0, -1) + (a2.endsWith("q") ? "p" : "q"), "--amount", "1"], "WALLET_BAD_ADDRESS");
    refuse(["--to", a2, "--amount", "1", "--rpc", "http://127.0.0.1:1"], "RPC_UNREACHABLE");

    const sent = phantom(["wallet", "send", "--wallet", w1, "--rpc", rpc, "--to", a2, "--amount", "1.5", "--fee", `${feeUnits}u`, "--genesis", net.genesisPath, "--wait_s", "30"]);
    expect(sent.code).toBe(0);
    const [tx, final] = sent.out.trim().split("\n").map((l) => JSON.parse(l));
    // One shard: the line has the fields it always had, and nothing is said about shards.
    expect(Object.keys(tx)).toEqual(["type", "accepted", "txid", "to", "amountPc", "amountUnits", "feeUnits", "changeUnits", "inputs", "txBytes"]);
    expect(sent.err).not.toMatch(/cross-shard|shard \d/);
    expect(tx).toMatchObject({ type: "tx_submitted", accepted: true, amountUnits: "150000000", feeUnits: String(feeUnits), inputs: 1 });
    expect(tx.txid).toMatch(/^[0-9a-f]{64}$/);

    // Final on another validator too: the tx travelled over P2P and was finalized.
    const other = net.rpc[2]!;
    await until("recipient credited", async () => {
      const r = await rpcCall<AddressGet>(other, "address_get", { address: a2 });
      return r.balanceUnits === "150000000" ? r : undefined;
    }, 30_000);
    const r2 = await rpcCall<AddressGet>(other, "address_get", { address: a2 });
    expect(r2.utxos).toEqual([expect.objectContaining({ txid: tx.txid, amount: "150000000", coinbase: false })]);
    const r1 = await rpcCall<AddressGet>(other, "address_get", { address: a1 });
    expect(BigInt(r1.balanceUnits)).toBe(2n * rewardUnits - 150_000_000n - feeUnits);
    const lookup = await rpcCall<{ type: string; outputs: { address: string; amount: string; createdAt: string }[] }>(other, "chain_lookup", { id: tx.txid });
    expect(lookup.type).toBe("tx");
    expect(final).toEqual({ type: "tx_final", txid: tx.txid, anchorIndex: lookup.outputs[0]!.createdAt });
    expect(lookup.outputs.map((o) => [o.address, o.amount])).toEqual([[a2, "150000000"], [a1, String(rewardUnits - 150_000_000n - feeUnits)]]);
    // `wallet status` shows what became of the sent tx, with its anchor.
    const status = phantom(["wallet", "status", "--rpc", rpc, "--txid", tx.txid]);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.out)).toMatchObject({ type: "tx_status", txid: tx.txid, state: "final", reason: "INCLUDED", anchorIndex: final.anchorIndex });
    const after2 = JSON.parse(phantom(["wallet", "balance", "--wallet", w2, "--rpc", other]).out);
    expect(after2.balancePc).toBe("1.50000000");

    // transfer-status on one shard: nothing crosses; the tx's own state is given.
    const transfer = phantom(["wallet", "transfer-status", tx.txid, "--rpc", rpc]);
    expect(transfer.code).toBe(0);
    expect(JSON.parse(transfer.out)).toEqual({
      type: "transfer_status", txid: tx.txid, sourceShard: 0, shardCount: 1, txState: "final", anchorIndex: final.anchorIndex, crossShard: false, complete: true, outputs: [],
      message: "a single-shard network: no transfer crosses shards (see wallet status)",
    });
    const unknownTx = JSON.parse(phantom(["wallet", "transfer-status", "ee".repeat(32), "--rpc", rpc]).out);
    expect(unknownTx).toMatchObject({ txState: "unknown", crossShard: null, complete: false, message: `the node (shard 0) knows no tx ${"ee".repeat(32)}` });
    const noTxid = phantom(["wallet", "transfer-status", "--rpc", rpc]);
    expect([noTxid.code, noTxid.err.includes("[CLI_MISSING_FLAG]")]).toEqual([2, true]);
  }, 100_000);
});
