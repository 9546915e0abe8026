/**
 * What became of an accepted transaction (docs/RPC.md `tx_status`). Every tx the
 * mempool accepts ends in exactly one of these states, each with a typed reason.
 */
export type TxTerminalState = "final" | "void" | "expired" | "replaced" | "evicted";

export interface TxTerminal {
  state: TxTerminalState;
  /** `INCLUDED` (final), a `TX_*` code (void), `MEMPOOL_EXPIRED`, `MEMPOOL_RBF`, `MEMPOOL_FULL`. */
  reason: string;
  /** One line a person can act on. */
  message: string;
  /** final: the anchor that applied it; void: the anchor whose spend made it invalid, when known. */
  anchorIndex?: bigint;
  /** void: the tx that spent the contested input (the winner); replaced: the replacement. */
  by?: Uint8Array;
}
