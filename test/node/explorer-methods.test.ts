// The explorer's read methods on four in-process validators (real engines, SQLite stores,
// timers): dag_recent shows the live DAG with finalized events carrying the same anchor
// index as chain_anchor; tx_get shows a real transfer's inputs, outputs, fee and status,
// from the mempool while pending and from its anchor once final; node_series samples.
import { afterAll, describe, expect, test } from "bun:test";
import { fromHex, toHex } from "../../src/crypto/bytes.ts";
import { accountFromSeed } from "../../src/wallet/keys.ts";
import { buildTransfer, payTo, sigLock } from "../../src/wallet/tx-builder.ts";
import { digestMicroTx, encodeMicroTx } from "../../src/types/tx.ts";
import { dispatch, type Json, type RpcResponse } from "../../src/rpc/jsonrpc.ts";
import { nodeRpcMethods } from "../../src/node/rpc-methods.ts";
import { dagEventsMax, explorerRpcMethods } from "../../src/node/explorer-methods.ts";
import { shardOfAddress } from "../../src/wallet/address.ts";
import { NodeSeries, seriesPointsMax } from "../../src/node/node-series.ts";
import { signEvent } from "../../src/types/event.ts";
import { keyPairFromSeed } from "../../src/crypto/ed25519.ts";
import { TestNet, applied, minedHeader, stopAll, until, type TestNode } from "./harness.ts";

const net = new TestNet({ k: 4, devnetLabel: "explorer-methods-test", initialTargetBits: 8, maturityAnchors: 4n });
afterAll(() => net.cleanup());

async function call<T = Record<string, unknown>>(n: TestNode, method: string, params: unknown): Promise<T> {
  const r = (await dispatch(nodeRpcMethods(n.node, n.store, net.genesis), JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }))) as RpcResponse;
  if (r.error) throw new Error(`${method}: ${r.error.data?.code ?? r.error.code} ${r.error.message}`);
  return r.result as T;
}
async function errorCode(n: TestNode, method: string, params: unknown): Promise<string> {
  const r = (await dispatch(nodeRpcMethods(n.node, n.store, net.genesis), JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }))) as RpcResponse;
  return r.error ? `${r.error.code}:${r.error.data?.code ?? ""}` : "ok";
}

interface DagJson {
  k: number; lastDecidedRound: number; maxRound: number; forkedCreators: number[]; evidence: unknown[];
  events: { id: string; creator: number; seq: number; round: number; witness: boolean; fame: string | null; anchorIndex: string | null; stale: boolean; fork: boolean; parents: { id: string; round: number; inPlay: boolean }[] }[];
}
interface TxJson {
  txid: string; kind: string | null; source: string | null; fee: string | null; eventId: string | null; sizeBytes: number | null;
  status: { state: string; anchorIndex: string | null };
  inputs: { txid: string; index: number; amount: string | null; address: string | null; createdAt: string | null }[];
  outputs: { index: number; amount: string | null; address: string; shard: number; createdAt: string | null; spentAt: string | null }[];
}

describe("explorer RPC methods", () => {
  test("dag_recent, tx_get and node_series answer from a running committee; bad params are typed", async () => {
    const { genesis } = net;
    const nodes = [0, 1, 2, 3].map((i) => net.node(i));
    for (const n of nodes) await n.node.start();
    try {
      await until(() => nodes.every((n) => applied(n) >= 8n));
      const n = nodes[0]!;

      // The DAG: newest first, every lane present, finalized events name their anchor.
      const dag = await call<DagJson>(n, "dag_recent", { limit: 80 });
      expect(dag.k).toBe(4);
      expect(dag.events.length).toBeGreaterThan(0);
      expect(dag.events.length).toBeLessThanOrEqual(80);
      expect(new Set(dag.events.map((e) => e.creator)).size).toBe(4);
      expect(dag.forkedCreators).toEqual([]);
      expect(dag.events.some((e) => e.witness && e.fame === "undecided")).toBe(true);
      const final = dag.events.filter((e) => e.anchorIndex !== null);
      expect(final.length).toBeGreaterThan(0);
      for (const e of final.slice(0, 5)) expect((await call<{ eventId: string }>(n, "chain_anchor", { index: e.anchorIndex })).eventId).toBe(e.id);
      for (const e of dag.events) {
        expect(e.fame === null).toBe(!e.witness);
        if (e.seq > 0) expect(e.parents.some((p) => p.inPlay)).toBe(true); // the highest-claimed parent always is
      }
      expect((await call<DagJson>(n, "dag_recent", { limit: 5 })).events).toHaveLength(5);
      expect(await errorCode(n, "dag_recent", { limit: "x" })).toBe("-32602:RPC_BAD_PARAMS");
      expect((await call<DagJson>(n, "dag_recent", { limit: dagEventsMax * 10 })).events.length).toBeLessThanOrEqual(dagEventsMax);
      const looked = await call<{ dag: { round: number; witness: boolean } | null }>(n, "chain_lookup", { id: dag.events[0]!.id });
      expect(looked.dag?.round).toBe(dag.events[0]!.round);

      // A real transfer: a mined coin, mature, sent with a 10 000-unit fee and change.
      const wallet = accountFromSeed(new Uint8Array(32).fill(51));
      const { mintId } = n.node.submitMint(await minedHeader(n.store, genesis, wallet.lockCommitment));
      await until(() => nodes.every((x) => x.store.mintTip().nextHeight === 1n));
      const coin = n.store.getUtxo(mintId, 0)!;
      await until(() => nodes.every((x) => applied(x) >= coin.createdAt + genesis.emission.maturityAnchors));
      const mint = await call<TxJson>(n, "tx_get", { txid: toHex(mintId) });
      expect(mint).toMatchObject({ kind: "mint", source: "anchor", fee: null, inputs: [], status: { state: "final", anchorIndex: coin.createdAt.toString() } });
      expect(mint.outputs).toEqual([{ index: 0, amount: coin.amount.toString(), address: wallet.address, shard: 0, createdAt: coin.createdAt.toString(), spentAt: null, spentBy: null } as never]);

      const to = accountFromSeed(new Uint8Array(32).fill(52));
      const tx = buildTransfer({ keyPair: wallet.keyPair, spend: [{ outpoint: { txid: mintId, index: 0 }, amount: coin.amount }], to: [payTo(sigLock(to.keyPair.publicKey), 100_000_000n)], fee: 10_000n });
      const txid = toHex(digestMicroTx(tx));
      expect(n.node.submitTxs([encodeMicroTx(tx)])[0]!.ok).toBe(true);
      const pending = await call<TxJson>(n, "tx_get", { txid });
      expect(pending).toMatchObject({ kind: "micro", source: "mempool", fee: "10000", sizeBytes: encodeMicroTx(tx).length, status: { state: "pending" } });
      expect(pending.inputs).toEqual([{ txid: toHex(mintId), index: 0, amount: coin.amount.toString(), address: wallet.address, createdAt: coin.createdAt.toString() }]);
      expect(pending.outputs.map((o) => [o.amount, o.address, o.createdAt])).toEqual([
        ["100000000", to.address, null], [(coin.amount - 100_000_000n - 10_000n).toString(), wallet.address, null],
      ]);
      // Each output's shard is shard_of(its lock, S): 0 with one shard; with S = 16 the rule of SPEC_SHARDING §2.
      expect(pending.outputs.map((o) => o.shard)).toEqual([0, 0]);
      const sixteen = (await dispatch(explorerRpcMethods(n.node, n.store, 4, 16), JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tx_get", params: { txid } }))) as RpcResponse;
      const shards = (sixteen.result as unknown as TxJson).outputs.map((o) => o.shard);
      expect(shards).toEqual([shardOfAddress(to.address, 16), shardOfAddress(wallet.address, 16)]);

      await until(() => n.store.getUtxo(mintId, 0) === undefined);
      const done = await call<TxJson>(n, "tx_get", { txid });
      expect(done).toMatchObject({ kind: "micro", source: "anchor", fee: "10000", sizeBytes: encodeMicroTx(tx).length, status: { state: "final" } });
      const at = done.status.anchorIndex!;
      expect(done.outputs.map((o) => o.createdAt)).toEqual([at, at]);
      expect(done.eventId).toBe((await call<{ eventId: string }>(n, "chain_anchor", { index: at })).eventId);
      expect(done.inputs[0]!.amount).toBe(coin.amount.toString());
      // The spent coin's page names where it went.
      expect((await call<TxJson>(n, "tx_get", { txid: toHex(mintId) })).outputs[0]).toMatchObject({ spentAt: at, spentBy: txid });

      expect(await errorCode(n, "tx_get", { txid: "11".repeat(32) })).toBe("-32000:RPC_NOT_FOUND");
      expect(await errorCode(n, "tx_get", { txid: "zz" })).toBe("-32602:RPC_BAD_PARAMS");

      const series = await call<{ intervalMs: number; points: Json[] }>(n, "node_series", {});
      expect(series.intervalMs).toBeGreaterThan(0);
      expect(await errorCode(n, "node_series", { limit: -1 })).toBe("-32602:RPC_BAD_PARAMS");

      // Last (it leaves node 0's engine holding an event its store lacks): validator 3 signs a
      // twin of its newest event (same seq and parents, another payload); both halves of the
      // fork are marked and validator 3 is named.
      const newest = (await call<DagJson>(n, "dag_recent", { limit: dagEventsMax })).events.find((e) => e.creator === 3)!;
      const original = n.node.engine.getEvent(fromHex(newest.id))!;
      const twin = signEvent({ ...original.header, payloadDigest: new Uint8Array(32).fill(3) }, keyPairFromSeed(net.seeds[3]!).secretKey);
      expect(n.node.engine.addEvents([twin]).evidence.map((e) => e.kind)).toEqual(["equivocation"]);
      const forked = await call<DagJson>(n, "dag_recent", { limit: dagEventsMax });
      expect(forked.forkedCreators).toEqual([3]);
      expect(forked.events.filter((e) => e.fork).map((e) => [e.creator, e.seq])).toEqual([[3, newest.seq], [3, newest.seq]]);
    } finally {
      await stopAll(nodes);
    }
  }, 120_000);
});

describe("NodeSeries", () => {
  test("counts applied txs per interval, measures own events' finality latency, keeps a bounded window", () => {
    let mono = 1_000;
    const s = new NodeSeries(() => mono, () => 1_700_000_000_000 + mono);
    const own = [1, 2, 3].map((i) => new Uint8Array(32).fill(i));
    own.forEach((id) => s.noteCreated(id));
    mono += 400;
    s.noteApplied(own[0]!, 3);
    mono += 200;
    s.noteApplied(own[1]!, 1);
    s.noteApplied(new Uint8Array(32).fill(9), 4); // another validator's event: counted, no latency
    mono += 1_400;
    const p = s.sample({ mempool: 7, peers: 3, lastDecidedRound: 12 });
    expect(p).toEqual({ atMs: 1_700_000_003_000, anchors: 3, txs: 8, tps: 4, latencyP50Ms: 400, latencyMaxMs: 600, mempool: 7, peers: 3, lastDecidedRound: 12 });
    mono += 2_000;
    expect(s.sample({ mempool: 0, peers: 3, lastDecidedRound: 13 })).toMatchObject({ anchors: 0, txs: 0, tps: 0, latencyP50Ms: null, latencyMaxMs: null });
    for (let i = 0; i < seriesPointsMax + 10; i++) s.sample({ mempool: i, peers: 3, lastDecidedRound: 13 });
    expect(s.recent()).toHaveLength(seriesPointsMax);
    expect(s.recent(5).map((x) => x.mempool)).toEqual([seriesPointsMax + 5, seriesPointsMax + 6, seriesPointsMax + 7, seriesPointsMax + 8, seriesPointsMax + 9]);
    s.noteApplied(own[2]!, 0); // still remembered: latency measured
    expect(s.sample({ mempool: 0, peers: 0, lastDecidedRound: 0 }).latencyP50Ms).not.toBeNull();
  }, 10_000);
});
