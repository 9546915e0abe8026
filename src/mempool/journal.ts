/**
 * What the mempool reports after each operation (admit, restore, finalized anchor,
 * expiry): the txs it admitted and the txs it removed, each removal with its terminal
 * state. The node persists these (src/node/tx-lifecycle.ts) so that the mempool
 * survives a restart and every accepted tx has an answer in `tx_status`.
 */
import type { TxTerminal } from "../types/tx-outcome.ts";
import type { MempoolEntry } from "./mempool.ts";

export type { TxTerminal } from "../types/tx-outcome.ts";

export type MempoolChange =
  | { kind: "added"; entry: MempoolEntry }
  | { kind: "removed"; entry: MempoolEntry; outcome: TxTerminal };

export interface MempoolJournal {
  /** The changes of one operation, in the order they happened. Called synchronously, before the operation returns. */
  record(changes: readonly MempoolChange[]): void;
}
