/**
 * Asks each unresolved transaction's fate from the validator that acknowledged it,
 * through `tx_status` (docs/RPC.md) where the node has that method. A terminal state
 * with a typed reason (void, expired, replaced, evicted) accounts for a transaction;
 * `pending` and `unknown` do not.
 */
import { batch, batchMax, rpc } from "./rpc.ts";
import type { AckedTx } from "./load.ts";

export interface TxStatusAnswer {
  state: string;
  reason: string | null;
}

/** Method not found (JSON-RPC -32601): the node predates tx_status. */
const methodNotFound = "-32601";
/** Transactions asked about at most (bounds the end of a long run). */
const askedMax = 20_000;

export async function askTxStatus(txs: AckedTx[], rpcOf: (v: number) => string | null): Promise<{ available: boolean; answers: Map<string, TxStatusAnswer> }> {
  const answers = new Map<string, TxStatusAnswer>();
  const byValidator = new Map<number, string[]>();
  for (const t of txs.slice(0, askedMax)) byValidator.set(t.validator, [...(byValidator.get(t.validator) ?? []), t.txid]);
  let available = false;
  for (const [v, ids] of byValidator) {
    const url = rpcOf(v);
    const probe = await rpc<TxStatusAnswer>(url, "tx_status", { txid: ids[0]! });
    if (!probe.ok && probe.code === methodNotFound) return { available: false, answers };
    if (probe.ok) available = true;
    for (let i = 0; i < ids.length; i += batchMax) {
      const part = ids.slice(i, i + batchMax);
      const got = await batch<TxStatusAnswer>(url, part.map((txid) => ({ method: "tx_status", params: { txid } })));
      part.forEach((id, j) => {
        const a = got[j];
        if (a && typeof a.state === "string") answers.set(id, { state: a.state, reason: a.reason ?? null });
      });
    }
  }
  return { available, answers };
}

/** Whether an answer accounts for the transaction (a terminal state with its reason). */
export const accountsFor = (a: TxStatusAnswer | undefined): boolean => a !== undefined && a.state !== "pending" && a.state !== "unknown" && a.reason !== null;
