// The node's JSON-RPC methods on a running validator: real answers, and typed errors
// (never a crash) for bad parameters, garbage transactions and bad mint headers.
import { afterAll, describe, expect, test } from "bun:test";
import { dispatch, type RpcResponse } from "../../src/rpc/jsonrpc.ts";
import { nodeRpcMethods } from "../../src/node/rpc-methods.ts";
import { accountFromSeed } from "../../src/wallet/keys.ts";
import { shardOfAddress } from "../../src/wallet/address.ts";
import { blake3, fromHex, leadingZeroBits, toHex } from "../../src/crypto/index.ts";
import { TestNet, applied, stopAll, until, type TestNode } from "./harness.ts";

const net = new TestNet({ k: 4, devnetLabel: "rpc-methods-test", initialTargetBits: 8 });
afterAll(() => net.cleanup());

async function call(n: TestNode, method: string, params: unknown): Promise<RpcResponse> {
  const methods = nodeRpcMethods(n.node, n.store, net.genesis);
  return (await dispatch(methods, JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }))) as RpcResponse;
}

describe("node RPC methods", () => {
  test("answer from the chain and refuse bad input with typed codes", async () => {
    const nodes = [0, 1, 2, 3].map((i) => net.node(i));
    for (const n of nodes) await n.node.start();
    try {
      await until(() => nodes.every((n) => applied(n) >= 3n));
      const n = nodes[0]!;
      const status = (await call(n, "phantom_status", {})).result as Record<string, unknown>;
      expect(status.k).toBe(4);
      // One shard: this node serves shard 0 of 1 (the interval is genesis's default, unused with one shard).
      expect([status.shard, status.shardCount, status.shardRootInterval]).toEqual([0, 1, "64"]);
      expect(BigInt(status.anchorCount as string)).toBeGreaterThanOrEqual(4n);
      const anchor = (await call(n, "chain_anchor", { index: "0" })).result as { eventId: string; stateRoot: string };
      expect(anchor.stateRoot).toBe(Buffer.from(n.store.commitmentAt(0n)!).toString("hex"));
      const looked = (await call(n, "chain_lookup", { id: anchor.eventId })).result as { type: string; anchorIndex: string };
      expect(looked).toMatchObject({ type: "event", anchorIndex: "0" });
      const empty = (await call(n, "address_get", { address: accountFromSeed(new Uint8Array(32).fill(1)).address })).result;
      expect(empty).toMatchObject({ balanceUnits: "0", shard: 0, truncated: false, utxos: [] });
      // A two-shard genesis view (validators 2, 3 on shard 1): the node's shard is its validator's, an address's is shard_of(lock, 2).
      const twoShards = { ...net.genesis, shardCount: 2, shardRootInterval: 8n, validators: net.genesis.validators.map((v) => ({ ...v, shard: v.index >= 2 ? 1 : 0 })) };
      const viaShards = async (node: TestNode, method: string, params: unknown) =>
        ((await dispatch(nodeRpcMethods(node.node, node.store, twoShards), JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }))) as RpcResponse).result as Record<string, unknown>;
      expect(await viaShards(n, "phantom_status", {})).toMatchObject({ shard: 0, shardCount: 2, shardRootInterval: "8" });
      expect(await viaShards(nodes[3]!, "phantom_status", {})).toMatchObject({ shard: 1, shardCount: 2 });
      const seeded = Array.from({ length: 8 }, (_, i) => accountFromSeed(new Uint8Array(32).fill(10 + i)).address);
      const addressShards = await Promise.all(seeded.map(async (a) => (await viaShards(n, "address_get", { address: a })).shard));
      expect(addressShards).toEqual(seeded.map((a) => shardOfAddress(a, 2)));
      expect(new Set(addressShards).size).toBe(2); // both shards occur among these eight

      // Stake table (genesis until a penalty) and an anchor whose fees settle k·D_max later.
      const stakes = (await call(n, "chain_stakes", {})).result as { stakes: { stakeUnits: string; genesisUnits: string }[]; slashes: unknown[] };
      expect(stakes.stakes.map((x) => x.stakeUnits)).toEqual(net.genesis.validators.map((v) => v.stake.toString()));
      expect(stakes.slashes).toEqual([]);
      expect((await call(n, "chain_supply", {})).result).toMatchObject({ balanced: true });
      const last = n.store.lastApplied()!.anchorIndex;
      const pending = (await call(n, "chain_payouts", { index: last.toString() })).result;
      expect(pending).toMatchObject({ anchorIndex: last.toString(), settled: false, settlesAt: (last + BigInt(net.genesis.k * net.genesis.fees.dMax)).toString() });

      const code = async (method: string, params: unknown) => {
        const r = await call(n, method, params);
        return r.error ? `${r.error.code}:${r.error.data?.code ?? ""}` : "ok";
      };
      expect(await code("chain_anchor", { index: "abc" })).toBe("-32602:RPC_BAD_PARAMS");
      expect(await code("chain_anchor", { index: "999999999" })).toBe("-32000:RPC_NOT_FOUND");
      // Beyond what the store can hold (2^63) or what a JSON number carries exactly (2^53).
      expect(await code("chain_anchor", { index: "9223372036854775807" })).toBe("-32000:RPC_NOT_FOUND");
      expect(await code("chain_anchor", { index: "9223372036854775808" })).toBe("-32602:RPC_BAD_PARAMS");
      expect(await code("chain_anchor", { index: 2 ** 53 + 2 })).toBe("-32602:RPC_BAD_PARAMS");
      expect(await code("chain_anchors", { limit: -1 })).toBe("-32602:RPC_BAD_PARAMS");
      expect(await code("chain_lookup", { id: "00" })).toBe("-32602:RPC_BAD_PARAMS");
      expect(await code("chain_payouts", { index: "x" })).toBe("-32602:RPC_BAD_PARAMS");
      expect(await code("chain_payouts", { index: "999999999" })).toBe("-32000:RPC_NOT_FOUND");
      expect(await code("chain_lookup", { id: "11".repeat(32) })).toBe("-32000:RPC_NOT_FOUND");
      expect(await code("address_get", { address: "pc1qqqq" })).toBe("-32602:RPC_BAD_PARAMS");
      expect(await code("address_get", [])).toBe("-32602:RPC_BAD_PARAMS");
      expect(await code("tx_submit", { tx: "zz" })).toBe("-32602:RPC_BAD_PARAMS");
      expect(await code("tx_submit", { txs: new Array(300).fill("00") })).toBe("-32602:RPC_BAD_PARAMS");
      expect(await code("mint_getTemplate", { recipient: "nope" })).toBe("-32602:RPC_BAD_PARAMS");

      // Garbage bytes as a transaction: refused by the mempool with a typed reason.
      const garbage = (await call(n, "tx_submit", { tx: "030102ff" })).result as { accepted: boolean; code: string }[];
      expect(garbage[0]).toMatchObject({ accepted: false, code: "TX_MALFORMED" });
      // A mint header that does not decode, and one without the work: not accepted, typed.
      expect((await call(n, "mint_submit", { header: "0401" })).result).toMatchObject({ accepted: false, code: "MINT_MALFORMED" });
      const template = (await call(n, "mint_getTemplate", { recipient: accountFromSeed(new Uint8Array(32).fill(2)).address })).result as { header: string; nonceOffset: number; targetBits: number };
      const header = fromHex(template.header);
      // A nonce whose hash really misses the target (a lucky 1-in-256 nonce would be valid work).
      for (let nonce = 0n; leadingZeroBits(blake3(header)) >= template.targetBits; nonce++) new DataView(header.buffer).setBigUint64(template.nonceOffset, nonce, true);
      const lazy = (await call(n, "mint_submit", { header: toHex(header) })).result as { accepted: boolean; code: string };
      expect(lazy.accepted).toBe(false);
      expect(lazy.code).toStartWith("MINT_");
      // The node is still fine.
      const before = applied(n);
      await until(() => applied(n) >= before + 3n);
    } finally {
      await stopAll(nodes);
    }
  }, 120_000);
});
