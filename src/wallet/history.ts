/**
 * `wallet history`: what this wallet received and sent, from the node's RPC and the
 * wallet's journal (journal.ts). Received outputs: the unspent ones from address_get,
 * the ones this wallet spent from the journal; creation and spend anchors from
 * chain_lookup. Sent txs: the journal, each with its state from tx_status. An output
 * that another copy of the wallet spent (same mnemonic, another machine) is not seen:
 * the node keeps no by-address index of spent outputs (not yet).
 */
import { rpcCall } from "../rpc/client.ts";
import { isPhantomError } from "../errors.ts";
import { fetchAddress, fetchTxStatus, type TxStatusInfo } from "./remote.ts";
import type { JournalEntry } from "./journal.ts";

/** Most chain_lookup/tx_status calls one history makes (the newest journal entries). */
export const historyLookupsMax = 500;
/** Most addresses one history asks address_get about (the wallet's own first, then the journal's). */
export const historyAddressesMax = 64;

export interface ReceivedItem {
  type: "received";
  txid: string;
  index: number;
  address: string;
  amountUnits: string;
  coinbase: boolean | null;
  createdAt: string | null;
  spentAt: string | null;
  spentBy: string | null;
}

export interface SentItem {
  type: "sent";
  txid: string;
  state: TxStatusInfo["state"];
  reason: string | null;
  anchorIndex: string | null;
  to: { address: string; amountUnits: string }[];
  amountUnits: string;
  feeUnits: string;
  changeUnits: string;
  inputs: number;
}

interface LookupJson {
  type: string;
  outputs?: { index: number; amount: string; address: string; createdAt: string; spentAt: string | null }[];
}

/** Where each output of `txid` was created and spent (chain_lookup), or an empty map when the node has no such tx. */
async function lookupOutputs(rpc: string, txid: string, signal?: AbortSignal): Promise<Map<number, { createdAt: string; spentAt: string | null }>> {
  try {
    const r = await rpcCall<LookupJson>(rpc, "chain_lookup", { id: txid }, signal);
    if (r?.type !== "tx" || !Array.isArray(r.outputs)) return new Map();
    return new Map(r.outputs.map((o) => [o.index, { createdAt: String(o.createdAt), spentAt: o.spentAt === null ? null : String(o.spentAt) }]));
  } catch (e) {
    if (isPhantomError(e) && e.code === "RPC_NOT_FOUND") return new Map();
    throw e;
  }
}

const anchorKey = (a: string | null): bigint => (a === null ? 1n << 64n : BigInt(a));

/** The history of `addresses` (the wallet's own), oldest first; pending items last. */
export async function walletHistory(rpc: string, addresses: readonly string[], journal: readonly JournalEntry[], signal?: AbortSignal): Promise<(ReceivedItem | SentItem)[]> {
  const own = new Set(addresses);
  for (const e of journal) for (const i of e.inputs) own.add(i.address);
  const recent = journal.slice(-historyLookupsMax);
  const received = new Map<string, ReceivedItem>();
  const key = (txid: string, index: number) => `${txid}:${index}`;
  for (const address of [...own].slice(0, historyAddressesMax)) {
    for (const u of (await fetchAddress(rpc, address, signal)).utxos) {
      received.set(key(u.txid, u.index), { type: "received", txid: u.txid, index: u.index, address, amountUnits: u.amount.toString(), coinbase: u.coinbase, createdAt: u.createdAt.toString(), spentAt: null, spentBy: null });
    }
  }
  const sent: SentItem[] = [];
  for (const e of recent) {
    for (const i of e.inputs) {
      const k = key(i.txid, i.index);
      const item = received.get(k) ?? { type: "received", txid: i.txid, index: i.index, address: i.address, amountUnits: i.amountUnits, coinbase: null, createdAt: null, spentAt: null, spentBy: null };
      item.spentBy = e.txid;
      received.set(k, item);
    }
    e.outputs.forEach((o, index) => {
      if (own.has(o.address) && !received.has(key(e.txid, index))) {
        received.set(key(e.txid, index), { type: "received", txid: e.txid, index, address: o.address, amountUnits: o.amountUnits, coinbase: false, createdAt: null, spentAt: null, spentBy: null });
      }
    });
    const st = await fetchTxStatus(rpc, e.txid, signal);
    const to = e.outputs.filter((o) => !own.has(o.address));
    const change = e.outputs.filter((o) => own.has(o.address)).reduce((s, o) => s + BigInt(o.amountUnits), 0n);
    sent.push({
      type: "sent", txid: e.txid, state: st.state, reason: st.reason, anchorIndex: st.anchorIndex?.toString() ?? null, to,
      amountUnits: to.reduce((s, o) => s + BigInt(o.amountUnits), 0n).toString(), feeUnits: e.feeUnits, changeUnits: change.toString(), inputs: e.inputs.length,
    });
  }
  // Fill creation and spend anchors the UTXO list and the journal do not carry.
  const byTx = new Map<string, ReceivedItem[]>();
  for (const r of received.values()) if (r.createdAt === null || r.spentBy !== null) byTx.set(r.txid, [...(byTx.get(r.txid) ?? []), r]);
  let lookups = 0;
  for (const [txid, items] of [...byTx].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (++lookups > historyLookupsMax) break;
    const outs = await lookupOutputs(rpc, txid, signal);
    for (const r of items) {
      const o = outs.get(r.index);
      if (o) ({ createdAt: r.createdAt, spentAt: r.spentAt } = o);
    }
  }
  const items: (ReceivedItem | SentItem)[] = [...received.values(), ...sent];
  const at = (i: ReceivedItem | SentItem) => anchorKey(i.type === "received" ? i.createdAt : i.anchorIndex);
  return items.sort((a, b) => {
    const d = at(a) - at(b);
    if (d !== 0n) return d < 0n ? -1 : 1;
    if (a.type !== b.type) return a.type === "received" ? -1 : 1;
    return a.txid < b.txid ? -1 : a.txid > b.txid ? 1 : 0;
  });
}
