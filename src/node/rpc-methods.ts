/**
 * The node's JSON-RPC methods (docs/RPC.md) and their REST names. Handlers read the
 * store and the node; every bad parameter is an RPC_BAD_PARAMS error (-32602).
 */
import type { Json, RpcMethods } from "../rpc/jsonrpc.ts";
import { PhantomError } from "../errors.ts";
import { toHex } from "../crypto/bytes.ts";
import { anchorIndexParam, countParam, hexParam, hexValue, objectParams as params, stringParam as str, type Params } from "../rpc/params.ts";
import { decodeAddress, encodeAddress } from "../wallet/address.ts";
import { shardOfLock } from "../ledger/shard.ts";
import { mintTemplate, mintTemplateToRpc } from "../ledger/emission.ts";
import { UNITS_PER_PC } from "../types/constants.ts";
import type { SqliteStore } from "../store/sqlite-store.ts";
import { holdsTx, type PhantomNode } from "./node.ts";
import type { Genesis } from "../genesis/genesis.ts";
import { EXPLORER_REST_ROUTES, EXPLORER_RPC_COSTS, explorerRpcMethods, fameName, txStatusJson } from "./explorer-methods.ts";
import { payoutProof, type PayoutEntry } from "../consensus/payout.ts";
import { settlementDelay } from "../ledger/settlement.ts";
import { DISCOVER_METHOD, openrpc } from "../rpc/descriptions.ts";
import { SHARD_RPC_COSTS, shardRpcMethods } from "./shard-rpc.ts";

export const anchorsPageMax = 200;
export const addressUtxosMax = 1_000;
export const submitTxsMax = 256;
const notRelayedMessage = "no other validator confirmed holding this tx in time (peers down or behind); it stays in this validator's mempool and may still finalize: check tx_status, or submit it again (here or to another validator)";

function addressParam(p: Params, key: string): Uint8Array {
  try {
    return decodeAddress(str(p, key));
  } catch (e) {
    throw new PhantomError("RPC_BAD_PARAMS", (e as Error).message);
  }
}

/** Round, witness and fame of an event still in the engine's memory; null once pruned. */
function dagFacts(node: PhantomNode, id: Uint8Array): Json {
  const d = node.engine.describe(id);
  return d === undefined ? null : { round: d.round, witness: d.witness, fame: d.witness ? fameName(d.fame) : null };
}

const pc = (units: bigint): string => `${units / UNITS_PER_PC}.${(units % UNITS_PER_PC).toString().padStart(8, "0")}`;

/**
 * The shard this node serves: its validator's `[[validators]] shard` (SPEC_SHARDING §3),
 * 0 with one shard. Read from the genesis the node runs on, whole or one shard's view.
 */
export function nodeShard(genesis: Genesis, validator: number): number {
  return genesis.validators[validator]?.shard ?? 0;
}

export function nodeRpcMethods(node: PhantomNode, store: SqliteStore, genesis: Genesis): RpcMethods {
  // Read when called: building the table touches neither node nor genesis (test/e2e/explorer.test.ts builds it empty).
  const shard = () => nodeShard(genesis, node.validator);
  const anchorJson = (index: bigint): Json | null => {
    const a = node.index.anchor(index);
    if (!a) return null;
    return {
      anchorIndex: a.anchorIndex.toString(), eventId: toHex(a.eventId), creator: a.creator, round: a.round, txCount: a.txCount,
      fees: a.feesUnits.toString(), stateRoot: toHex(a.commitment),
      voided: store.voidedAt(index).map((v) => ({ position: v.position, kind: v.kind, id: toHex(v.id), code: v.code })),
    };
  };
  return {
    [DISCOVER_METHOD]: () => openrpc,
    ...explorerRpcMethods(node, store, genesis.k, genesis.shardCount),
    ...shardRpcMethods(node, store, genesis),
    phantom_status: () => {
      const tip = store.mintTip();
      const last = store.lastApplied();
      const stats = node.engine.stats();
      return {
        chainId: genesis.chainId, validator: node.validator, k: genesis.k, commitment: toHex(genesis.commitment),
        shard: shard(), shardCount: genesis.shardCount, shardRootInterval: genesis.shardRootInterval.toString(),
        anchorCount: last === undefined ? "0" : (last.anchorIndex + 1n).toString(),
        stateRoot: last ? toHex(last.commitment) : "", lastDecidedRound: stats.lastDecidedRound, dagEvents: stats.events,
        orphans: stats.orphans, highestSeq: node.engine.highestSeq(), peers: node.peers.readyPeers().length,
        mempoolSize: node.mempool.size, mintHeight: tip.nextHeight.toString(), targetBits: tip.targetBits,
        supplyUnits: tip.emittedUnits.toString(), supplyPc: pc(tip.emittedUnits), ready: node.ready(),
        maturityAnchors: genesis.emission.maturityAnchors.toString(),
      };
    },
    peers_list: () => node.peers.info().map((p) => ({ validator: p.validator, remote: p.remote, score: p.score })),
    chain_anchors: (raw) => {
      const p = params(raw);
      const limit = countParam(p, "limit", 20, anchorsPageMax);
      const last = store.lastApplied();
      if (!last) return [];
      const out: Json[] = [];
      for (let i = last.anchorIndex; i >= 0n && out.length < limit; i--) {
        const a = anchorJson(i);
        if (a) out.push(a);
      }
      return out;
    },
    chain_anchor: (raw) => {
      const p = params(raw);
      const index = anchorIndexParam(p, "index");
      const a = anchorJson(index);
      if (!a) throw new PhantomError("RPC_NOT_FOUND", `anchor ${index} is not finalized yet`);
      return a;
    },
    chain_lookup: (raw): Json => {
      const id = hexParam(params(raw), "id", 32);
      const event = store.getEvent(id);
      if (event) {
        const h = event.header;
        return { type: "event", id: toHex(id), creator: h.creator, seq: h.seq, lamport: h.lamport, parents: h.parents.map(toHex), payloadDigest: toHex(h.payloadDigest), anchorIndex: node.index.anchorOfEvent(id)?.toString() ?? null, dag: dagFacts(node, id) };
      }
      const outputs = node.index.outputsOfTx(id);
      if (outputs.length > 0) return { type: "tx", txid: toHex(id), outputs: outputs.map((o) => ({ index: o.index, amount: o.amount.toString(), address: encodeAddress(o.lockCommitment), createdAt: o.createdAt.toString(), spentAt: o.spentAt?.toString() ?? null })) };
      throw new PhantomError("RPC_NOT_FOUND", "no event or transaction with that id");
    },
    chain_payouts: (raw): Json => {
      const index = anchorIndexParam(params(raw), "index");
      const economics = node.ledgerParams.economics;
      const a = node.index.anchor(index);
      if (!a || !economics) throw new PhantomError("RPC_NOT_FOUND", `anchor ${index} is not finalized yet`);
      const settlesAt = index + settlementDelay(economics);
      const st = store.settlementOf(index);
      if (!st) return { anchorIndex: index.toString(), fees: a.feesUnits.toString(), settled: false, settlesAt: settlesAt.toString() };
      // Zero-fee anchors store no entries: all k amounts are 0.
      const entries: PayoutEntry[] = st.entries.length > 0 ? st.entries : economics.payoutLocks.map((recipient, i) => ({ index: i, recipient, amount: 0n }));
      return {
        anchorIndex: index.toString(), fees: st.feesUnits.toString(), settled: true, settlesAt: st.settledAt.toString(), eventId: toHex(st.eventId),
        proposer: st.creator, root: toHex(st.root), txid: toHex(st.txid), ackDistances: st.distances,
        payouts: entries.map((e) => {
          const proof = payoutProof(entries, e.index);
          return {
            index: e.index, recipient: toHex(e.recipient), address: encodeAddress(e.recipient), amount: e.amount.toString(),
            outpoint: e.amount > 0n ? { txid: toHex(st.txid), index: e.index } : null,
            proof: { leafCount: proof.leafCount, siblings: proof.siblings.map(toHex) },
          };
        }),
      };
    },
    chain_stakes: (): Json => ({
      // Before the first anchor the table is the genesis one.
      stakes: (store.stakeTable().length > 0 ? store.stakeTable() : genesis.validators.map((v) => ({ stakeUnits: v.stake, daOffenses: 0 }))).map((e, v) => ({ validator: v, stakeUnits: e.stakeUnits.toString(), genesisUnits: genesis.validators[v]!.stake.toString(), daOffenses: e.daOffenses })),
      feesPendingUnits: store.pendingFeesUnits().toString(),
      slashes: store.slashes(anchorsPageMax).map((x) => ({ anchorIndex: x.anchorIndex.toString(), evidenceId: toHex(x.evidenceId), kind: x.kind, offender: x.offender, bps: x.bps, slashedUnits: x.slashedUnits.toString() })),
    }),
    chain_supply: (): Json => {
      // Commits are synchronous and these reads are too, so the figures belong to one anchor.
      const emitted = store.mintTip().emittedUnits;
      const unspent = store.unspentUnits();
      const pending = store.pendingFeesUnits();
      // Sharded: value leaves as exports and arrives as imports (SPEC_SHARDING §10); one shard: both 0.
      const { exported, imported } = node.shardSide ? store.shardSupply() : { exported: 0n, imported: 0n };
      return {
        anchorIndex: store.lastApplied()?.anchorIndex.toString() ?? null, emittedUnits: emitted.toString(), unspentUnits: unspent.toString(),
        feesPendingUnits: pending.toString(), exportedUnits: exported.toString(), importedUnits: imported.toString(),
        balanced: emitted - exported + imported === unspent + pending,
      };
    },
    address_get: (raw) => {
      const p = params(raw);
      const lock = addressParam(p, "address");
      const utxos = store.utxosByLock(lock, addressUtxosMax + 1);
      const truncated = utxos.length > addressUtxosMax;
      if (truncated) utxos.pop();
      const balance = store.balanceOf(lock);
      const rewards = store.payoutBalanceOf(lock);
      return {
        // The address's shard (SPEC_SHARDING §2); when it is not this node's, the node holds none of its outputs.
        address: encodeAddress(lock), shard: shardOfLock(lock, genesis.shardCount), balanceUnits: balance.toString(), balancePc: pc(balance),
        rewardsUnits: rewards.toString(), rewardsPc: pc(rewards),
        truncated,
        utxos: utxos.map((u) => ({ txid: toHex(u.txid), index: u.index, amount: u.entry.amount.toString(), createdAt: u.entry.createdAt.toString(), coinbase: u.entry.coinbase, payout: store.isPayoutTxid(u.txid) })),
      };
    },
    tx_submit: async (raw) => {
      const p = params(raw);
      const list = Array.isArray(p.txs) ? p.txs : [p.tx];
      if (list.length === 0 || list.length > submitTxsMax) throw new PhantomError("RPC_BAD_PARAMS", `send 1..${submitTxsMax} txs`);
      const encoded = list.map((t, i) => {
        if (typeof t !== "string" || t.length === 0) throw new PhantomError("RPC_BAD_PARAMS", `txs[${i}] must be a non-empty hex string`);
        return hexValue(t, `txs[${i}]`);
      });
      const results = await node.submitTxsAsync(encoded);
      // Held here (admitted now, or already: a resubmission); acknowledged once a peer holds it too.
      const acked = await node.acknowledged(results.flatMap((r) => (holdsTx(r) && r.txid ? [toHex(r.txid)] : [])));
      return results.map((r): Json => {
        const txid = r.txid ? toHex(r.txid) : null;
        if (txid !== null && holdsTx(r) && acked.has(txid)) return { accepted: true, txid, fee: (r.ok ? r.fee : node.mempool.get(r.txid!)?.fee ?? 0n).toString() };
        if (r.ok || holdsTx(r)) return { accepted: false, txid, code: "TX_NOT_RELAYED", message: notRelayedMessage };
        return { accepted: false, txid, code: r.error.code, message: r.error.message };
      });
    },
    tx_status: (raw): Json => {
      const txid = hexParam(params(raw), "txid", 32);
      return txStatusJson(txid, node.txLife.status(txid, node.mempool, node.index));
    },
    mint_getTemplate: (raw) => {
      const recipient = addressParam(params(raw), "recipient");
      node.checkMintShard(recipient); // sharded: only shard 0 mints, and only to a shard-0 lock
      return mintTemplateToRpc(mintTemplate(store, node.ledgerParams.emission, recipient));
    },
    mint_submit: (raw): Json => {
      const header = hexParam(params(raw), "header");
      try {
        return { accepted: true, mintId: toHex(node.submitMint(header).mintId) };
      } catch (e) {
        if (e instanceof PhantomError && e.code.startsWith("MINT_")) return { accepted: false, mintId: "", code: e.code, message: e.message };
        throw e;
      }
    },
  };
}

/**
 * Rate-limit cost of each method in tokens (docs/RPC.md), roughly its work: one token is
 * about one anchor row read. Malformed params cost the minimum; the handler refuses them.
 */
export const NODE_RPC_COSTS: Record<string, (params: unknown) => number> = {
  phantom_status: () => 2,
  peers_list: () => 1,
  chain_anchors: (raw) => {
    try {
      return Math.max(1, countParam(params(raw), "limit", 20, anchorsPageMax));
    } catch {
      return 1;
    }
  },
  chain_anchor: () => 2,
  chain_lookup: () => 2,
  chain_payouts: () => 5,
  chain_stakes: () => 5,
  chain_supply: () => 50,
  address_get: () => 50,
  mint_getTemplate: () => 5,
  mint_submit: () => 10,
  ...EXPLORER_RPC_COSTS,
  ...SHARD_RPC_COSTS,
  tx_submit: (raw) => {
    const txs = typeof raw === "object" && raw !== null && Array.isArray((raw as Params).txs) ? ((raw as Params).txs as unknown[]).length : 1;
    return 5 * Math.max(1, Math.min(txs, submitTxsMax)); // a full list (1 280) fits the default burst
  },
};

/** REST names (GET /api/<name>) of the read methods; the explorer uses these. */
export const NODE_REST_ROUTES: Record<string, string> = {
  status: "phantom_status",
  peers: "peers_list",
  anchors: "chain_anchors",
  anchor: "chain_anchor",
  lookup: "chain_lookup",
  payouts: "chain_payouts",
  stakes: "chain_stakes",
  supply: "chain_supply",
  tx: "tx_status",
  address: "address_get",
  template: "mint_getTemplate",
  shard: "shard_info",
  shard_exports: "shard_exports",
  ...EXPLORER_REST_ROUTES,
};
