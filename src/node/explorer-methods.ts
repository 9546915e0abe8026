/**
 * The read-only RPC methods behind the explorer's DAG view, charts and transaction pages
 * (docs/RPC.md): dag_recent, node_series, tx_get. Each answer is bounded by a documented
 * limit; bad params are RPC_BAD_PARAMS, unknown ids RPC_NOT_FOUND.
 */
import type { Json, RpcMethods } from "../rpc/jsonrpc.ts";
import { PhantomError } from "../errors.ts";
import { equalBytes, toHex } from "../crypto/bytes.ts";
import { countParam, hexParam, objectParams as params } from "../rpc/params.ts";
import { encodeAddress } from "../wallet/address.ts";
import { shardOfLock } from "../ledger/shard.ts";
import { decodeAnchorPayload } from "../types/payload.ts";
import { digestMicroTx, encodeMicroTx, type MicroTx } from "../types/tx.ts";
import { mintId, type MintTx } from "../types/mint.ts";
import { ExplorerReads } from "../store/explorer-reads.ts";
import { seriesPointsMax, seriesSampleMs } from "./node-series.ts";
import type { SqliteStore } from "../store/sqlite-store.ts";
import type { PhantomNode } from "./node.ts";
import type { TxStatus } from "./tx-lifecycle.ts";

/** Most events one dag_recent call returns. */
export const dagEventsMax = 1_000;
export const dagEventsDefault = 200;
/** Newest recorded evidence items dag_recent lists. */
export const dagEvidenceMax = 16;

/** A witness's fame as the RPC names it (1, 0, -1 in the engine). */
export const fameName = (f: number): string => (f === 1 ? "famous" : f === 0 ? "not_famous" : "undecided");

/** tx_status's JSON (docs/RPC.md `tx_status`). */
export function txStatusJson(txid: Uint8Array, st: TxStatus): Json {
  return {
    txid: toHex(txid), state: st.state, reason: st.reason, message: st.message,
    anchorIndex: st.anchorIndex?.toString() ?? null, by: st.by ? toHex(st.by) : null,
    admittedAt: st.admittedAt?.toString() ?? null, expiresAfter: st.expiresAfter?.toString() ?? null,
  };
}

type Body = { kind: "micro"; tx: MicroTx; fee: bigint | null; bytes: number } | { kind: "mint"; tx: MintTx };

/** `shardCount`: S of genesis; each output's shard in tx_get is shard_of(its lock, S) (SPEC_SHARDING §2). */
export function explorerRpcMethods(node: PhantomNode, store: SqliteStore, k: number, shardCount = 1): RpcMethods {
  let cached: ExplorerReads | undefined;
  const reads = (): ExplorerReads => (cached ??= new ExplorerReads(store.db));

  /** The tx's body from the anchor that applied it: that anchor's payload, decoded. */
  const fromAnchor = (txid: Uint8Array, anchorIndex: bigint): { body: Body; eventId: Uint8Array } | undefined => {
    const a = node.index.anchor(anchorIndex);
    const event = a && store.getEvent(a.eventId);
    const bytes = event && store.getPayload(event.header.payloadDigest);
    if (!a || !bytes) return undefined;
    let txs;
    try {
      txs = decodeAnchorPayload(bytes).txs;
    } catch {
      return undefined; // applied as empty (SPEC_POW §9): it carried nothing
    }
    for (const t of txs) {
      if (t.kind === "micro" && equalBytes(digestMicroTx(t.tx), txid)) return { body: { kind: "micro", tx: t.tx, fee: null, bytes: encodeMicroTx(t.tx).length }, eventId: a.eventId };
      if (t.kind === "mint" && equalBytes(mintId(t.tx), txid)) return { body: { kind: "mint", tx: t.tx }, eventId: a.eventId };
    }
    return undefined;
  };

  return {
    dag_recent: (raw): Json => {
      const limit = countParam(params(raw), "limit", dagEventsDefault, dagEventsMax);
      const view = node.engine.recentEvents(limit);
      return {
        validator: node.validator, k, lastDecidedRound: view.lastDecidedRound, maxRound: view.maxRound,
        prunedBelowRound: view.prunedBelowRound, forkedCreators: view.forkedCreators,
        evidence: reads().recentEvidence(dagEvidenceMax).map((e) => ({ id: toHex(e.id), anchorIndex: e.anchorIndex.toString(), kind: e.kind, offender: e.offender })),
        events: view.events.map((e) => {
          const h = e.event.header;
          const anchor = e.done ? node.index.anchorOfEvent(e.event.id) : undefined;
          return {
            id: toHex(e.event.id), creator: h.creator, seq: h.seq, lamport: h.lamport, round: e.round, witness: e.witness,
            fame: e.witness ? fameName(e.fame) : null, anchorIndex: anchor?.toString() ?? null, stale: e.done && anchor === undefined, fork: e.fork,
            parents: h.parents.map((p, i) => ({ id: toHex(p), round: h.parentRounds[i] ?? null, inPlay: e.parentsInPlay[i] ?? false })),
          };
        }),
      };
    },
    node_series: (raw): Json => {
      const limit = countParam(params(raw), "limit", seriesPointsMax, seriesPointsMax);
      return { intervalMs: seriesSampleMs, points: node.series.recent(limit) as unknown as Json };
    },
    tx_get: (raw): Json => {
      const txid = hexParam(params(raw), "txid", 32);
      const st = node.txLife.status(txid, node.mempool, node.index);
      const entry = node.mempool.get(txid);
      let body: Body | undefined;
      let eventId: Uint8Array | undefined;
      let source: "mempool" | "anchor" | null = null;
      if (entry) {
        body = { kind: "micro", tx: entry.tx, fee: entry.fee, bytes: entry.encodedBytes };
        source = "mempool";
      } else if (st.state === "final" && st.anchorIndex !== undefined) {
        const found = fromAnchor(txid, st.anchorIndex);
        if (found) [body, eventId, source] = [found.body, found.eventId, "anchor"];
      }
      if (!body && st.state === "unknown") throw new PhantomError("RPC_NOT_FOUND", "this node knows no transaction with that txid");
      const inputs = body?.kind === "micro" ? body.tx.inputs.map((op) => {
        const o = reads().outputAt(op.txid, op.index);
        return {
          txid: toHex(op.txid), index: op.index, amount: o?.amount.toString() ?? null, address: o ? encodeAddress(o.lockCommitment) : null,
          createdAt: o?.createdAt.toString() ?? null,
        };
      }) : [];
      const outputsBody = body === undefined ? [] : body.kind === "micro" ? body.tx.outputs : [{ amount: null, lockCommitment: body.tx.recipient }];
      const outputs = outputsBody.map((o, index) => {
        const rec = reads().outputAt(txid, index);
        const amount = rec?.amount ?? o.amount;
        return {
          index, amount: amount?.toString() ?? null, address: encodeAddress(o.lockCommitment), shard: shardOfLock(o.lockCommitment, shardCount), createdAt: rec?.createdAt.toString() ?? null,
          spentAt: rec?.spentAt?.toString() ?? null, spentBy: rec?.spentBy ? toHex(rec.spentBy) : null,
        };
      });
      let fee: bigint | null = null;
      if (body?.kind === "micro") {
        fee = body.fee;
        if (fee === null && inputs.every((i) => i.amount !== null)) {
          fee = inputs.reduce((s, i) => s + BigInt(i.amount!), 0n) - body.tx.outputs.reduce((s, o) => s + o.amount, 0n);
        }
      }
      return {
        txid: toHex(txid), kind: body?.kind ?? null, source, status: txStatusJson(txid, st),
        eventId: eventId ? toHex(eventId) : null, sizeBytes: body?.kind === "micro" ? body.bytes : null,
        fee: fee?.toString() ?? null, inputs, outputs,
      };
    },
  };
}

/** Rate-limit costs (docs/RPC.md): dag_recent reads one index row per final event it lists. */
export const EXPLORER_RPC_COSTS: Record<string, (params: unknown) => number> = {
  dag_recent: (raw) => {
    try {
      return Math.max(1, Math.ceil(countParam(params(raw), "limit", dagEventsDefault, dagEventsMax) / 4));
    } catch {
      return 1;
    }
  },
  node_series: () => 2,
  tx_get: () => 20,
};

export const EXPLORER_REST_ROUTES: Record<string, string> = {
  dag: "dag_recent",
  series: "node_series",
  transaction: "tx_get",
};

