// The wallet's shard logic (src/wallet/shards.ts) on its own: a node's shard from its
// status, the WALLET_WRONG_SHARD refusal and its message, a payment's route and the
// cross-shard notice, export ids of a tx's cross-shard outputs (SPEC_SHARDING §5.2),
// and how a transfer's state follows the source's exports and the import status.
import { describe, expect, test } from "bun:test";
import { accountFromSeed } from "../../src/wallet/keys.ts";
import { shardOfAddress } from "../../src/wallet/address.ts";
import { exportId } from "../../src/ledger/export-tree.ts";
import { fromHex, toHex } from "../../src/crypto/bytes.ts";
import {
  checkServingShard, crossShardNotice, crossShardOutputs, epochOfAnchor, nodeShardFromStatus, shardFields, shardRoute, transferMessage, transferStates,
  type ExportInfo, type NodeShard,
} from "../../src/wallet/shards.ts";
import { PhantomError } from "../../src/errors.ts";
import { fetchExports, fetchImportStatus } from "../../src/wallet/shards.ts";
import { startRpcServer } from "../../src/rpc/server.ts";
import { createRegistry } from "../../src/metrics/registry.ts";

/** Accounts from fixed seeds, the first found on each of `count` shards. */
function onShards(count: number): string[] {
  const found: string[] = [];
  for (let i = 1; found.filter((x) => x).length < count && i < 200; i++) {
    const a = accountFromSeed(new Uint8Array(32).fill(i)).address;
    const s = shardOfAddress(a, count);
    found[s] ??= a;
  }
  expect(found.filter((x) => x)).toHaveLength(count);
  return found;
}

function thrown(f: () => unknown): PhantomError {
  try {
    f();
  } catch (e) {
    if (e instanceof PhantomError) return e;
    throw e;
  }
  throw new Error("did not throw");
}

describe("wallet shards", () => {
  test("a node's shard from phantom_status; an older node is shard 0 of 1; malformed fields are WALLET_BAD_RESPONSE", () => {
    expect(nodeShardFromStatus({})).toEqual({ shard: 0, shardCount: 1, rootInterval: 64n });
    expect(nodeShardFromStatus({ shard: 1, shardCount: 2, shardRootInterval: "8" })).toEqual({ shard: 1, shardCount: 2, rootInterval: 8n });
    for (const bad of [{ shard: 2, shardCount: 2 }, { shard: -1, shardCount: 2 }, { shard: 0, shardCount: 0 }, { shard: "0", shardCount: 2 }, { shard: 0 }, { shard: 0, shardCount: 2000 }]) {
      expect(thrown(() => nodeShardFromStatus(bad)).code).toBe("WALLET_BAD_RESPONSE");
    }
  });

  test("one shard: every address is served, no route crosses, no extra fields", () => {
    const one: NodeShard = { shard: 0, shardCount: 1, rootInterval: 64n };
    const [a] = onShards(1);
    const b = accountFromSeed(new Uint8Array(32).fill(99)).address;
    expect(checkServingShard(one, "http://127.0.0.1:8645", a!, "the wallet's address")).toBe(0);
    expect(shardRoute(one, a!, b)).toEqual({ sourceShard: 0, destShard: 0, crossShard: false });
    expect(shardFields(one, { shard: 0 })).toEqual({});
  });

  test("a node of another shard is refused with WALLET_WRONG_SHARD naming both shards and what to do, never the token", () => {
    const [a0, a1] = onShards(2);
    const node0: NodeShard = { shard: 0, shardCount: 2, rootInterval: 8n };
    expect(checkServingShard(node0, "http://127.0.0.1:8645", a0!, "the wallet's address")).toBe(0);
    const e = thrown(() => checkServingShard(node0, "http://:s3cret@127.0.0.1:8645", a1!, "the wallet's address"));
    expect(e.code).toBe("WALLET_WRONG_SHARD");
    expect(e.message).toContain(`the wallet's address ${a1} is on shard 1 of 2`);
    expect(e.message).toContain("the node at http://127.0.0.1:8645 serves shard 0");
    expect(e.message).toContain("pass --rpc of a node of shard 1");
    expect(e.message).not.toContain("s3cret");
    expect(e.details).toEqual({ addressShard: 1, nodeShard: 0, shardCount: 2 });
  });

  test("a payment to another shard is cross-shard: route, fields and the notice say source → destination", () => {
    const [a0, a1] = onShards(2);
    const node0: NodeShard = { shard: 0, shardCount: 2, rootInterval: 8n };
    const route = shardRoute(node0, a0!, a1!);
    expect(route).toEqual({ sourceShard: 0, destShard: 1, crossShard: true });
    expect(shardRoute(node0, a0!, a0!).crossShard).toBe(false);
    expect(shardFields(node0, { fromShard: 0, toShard: 1, crossShard: true })).toEqual({ fromShard: 0, toShard: 1, crossShard: true, shardCount: 2 });
    const notice = crossShardNotice(route, "ab".repeat(32));
    expect(notice).toStartWith("cross-shard transfer: shard 0 → shard 1.");
    expect(notice).toContain("after shard 0 certifies the epoch");
    expect(notice).toContain(`phantom wallet transfer-status ${"ab".repeat(32)}`);
  });

  test("cross-shard outputs carry export_id(source, txid, index); states follow the tx, the exports and the import status", () => {
    const [a0, a1, a2, a3] = onShards(4);
    const node: NodeShard = { shard: 2, shardCount: 4, rootInterval: 8n };
    const txid = "5a".repeat(32);
    const outputs = [{ index: 0, amount: "100", address: a1! }, { index: 1, amount: "7", address: a2! }, { index: 2, amount: "5", address: a3! }, { index: 3, amount: "1", address: a0! }];
    const cross = crossShardOutputs(node, txid, outputs);
    // Output 1 stays on shard 2 (the change); the others leave it.
    expect(cross.map((o) => [o.outputIndex, o.destShard, o.amountUnits])).toEqual([[0, 1, "100"], [2, 3, "5"], [3, 0, "1"]]);
    for (const o of cross) expect(o.exportId).toBe(toHex(exportId({ sourceShard: 2, txid: fromHex(txid), outputIndex: o.outputIndex })));
    // Another source shard gives other ids: the source is part of the id.
    expect(crossShardOutputs({ ...node, shard: 1 }, txid, outputs).find((o) => o.outputIndex === 2)!.exportId).not.toBe(cross[1]!.exportId);

    expect(transferStates({ state: "pending" }, cross, [], new Map()).map((o) => o.state)).toEqual(["not_final", "not_final", "not_final"]);
    expect(transferStates({ state: "void" }, cross, [], new Map()).map((o) => o.state)).toEqual(["not_final", "not_final", "not_final"]);
    const leaf = (i: number, state: string): ExportInfo => ({ exportId: cross[i]!.exportId, destShard: cross[i]!.destShard, amount: BigInt(cross[i]!.amountUnits), state });
    expect(transferStates({ state: "final" }, cross, [], new Map()).map((o) => o.state)).toEqual(["awaiting_certificate", "awaiting_certificate", "awaiting_certificate"]);
    const states = transferStates({ state: "final" }, cross, [leaf(0, "certified"), leaf(1, "relayed"), leaf(2, "pending")], new Map());
    expect(states.map((o) => o.state)).toEqual(["certified", "relayed", "awaiting_certificate"]);
    // Imported as soon as either side says so.
    const done = transferStates({ state: "final" }, cross, [leaf(0, "imported"), leaf(1, "relayed")], new Map([[cross[1]!.exportId, true], [cross[2]!.exportId, false]]));
    expect(done.map((o) => o.state)).toEqual(["imported", "imported", "awaiting_certificate"]);

    expect(epochOfAnchor(15n, 8n)).toBe(1n);
    expect(epochOfAnchor(16n, 8n)).toBe(2n);
    expect(transferMessage(node, 1n, states[2]!)).toContain("waiting for shard 2 to certify that epoch (anchors 8..15)");
    expect(transferMessage(node, 1n, done[0]!)).toBe("output 0 (100 units to shard 1): imported on shard 1: complete");
    expect(transferMessage(node, null, transferStates({ state: "pending" }, cross, [], new Map())[0]!)).toContain("not final on shard 2");
  });

  test("a node without shard_exports / shard_importStatus (JSON-RPC -32601) is WALLET_NO_SHARD_STATUS, said plainly", async () => {
    // The real RPC server with a node's read method but no cross-shard ones: a node built before sharding.
    const server = startRpcServer({ addr: "127.0.0.1:0", registry: createRegistry(), rest: {}, ready: () => true, methods: { phantom_status: () => ({ shard: 0, shardCount: 1 }) } });
    try {
      for (const ask of [() => fetchExports(server.url, 0n), () => fetchImportStatus(server.url, ["00".repeat(32)])]) {
        const e = await ask().then(() => undefined, (x: unknown) => x as PhantomError);
        expect(e?.code).toBe("WALLET_NO_SHARD_STATUS");
        expect(e?.message).toContain(`the node at ${server.url} does not support cross-shard status`);
      }
    } finally {
      server.stop();
    }
  });
});
