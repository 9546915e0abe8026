/**
 * No silent transaction loss (docs/RPC.md `tx_status`, docs/STORAGE.md): every tx the
 * mempool accepts is persisted until it leaves, and leaves in exactly one terminal
 * state with a reason — final (the anchor), void (the winning spend, or the input that
 * is gone), expired (MEMPOOL_EXPIRY_ANCHORS anchors without being final), replaced (by
 * a higher fee rate) or evicted (the mempool was full). At start-up the persisted txs
 * are re-validated against the ledger; the mempool is re-announced to each peer whose
 * session becomes ready.
 */
import type { Registry } from "prom-client";
import { equalBytes, toHex } from "../crypto/bytes.ts";
import { isPhantomError } from "../errors.ts";
import type { LedgerStore, AnchorDiff } from "../ledger/state.ts";
import type { ValidationContext } from "../ledger/validate.ts";
import type { MempoolChange, MempoolJournal } from "../mempool/journal.ts";
import { MEMPOOL_EXPIRY_ANCHORS, type Mempool, type MempoolEntry } from "../mempool/mempool.ts";
import { createTxLifecycleMetrics, type TxLifecycleMetrics } from "../mempool/metrics.ts";
import { messageBytesMax, txsPerMessageMax, type P2pMessage } from "../net/p2p/messages.ts";
import type { ChainIndex } from "../store/chain-index.ts";
import type { TxJournalOp, TxJournalStore, TxOutcomeRow } from "../store/tx-journal-store.ts";
import { decodeMicroTx } from "../types/tx.ts";
import type { TxTerminal, TxTerminalState } from "../types/tx-outcome.ts";

/** Pending txs (oldest first) sent to a peer when its session becomes ready. */
export const announceOnReadyMax = 4_096;
/** Bytes of txs per announcement message (well under the P2P frame limit). */
const announceMessageBytes = Math.min(1024 * 1024, messageBytesMax / 2);

export type TxState = "pending" | TxTerminalState | "unknown";

export interface TxStatus {
  state: TxState;
  reason: string | null;
  message: string;
  anchorIndex?: bigint;
  by?: Uint8Array;
  admittedAt?: bigint;
  /** pending: the anchor after which the tx expires from this node's mempool. */
  expiresAfter?: bigint;
}

export interface RestoreSummary {
  persisted: number;
  pending: number;
  final: number;
  void: number;
  evicted: number;
  replaced: number;
}

export class TxLifecycle implements MempoolJournal {
  readonly metrics: TxLifecycleMetrics;
  private persisted: number;

  constructor(private readonly store: TxJournalStore, registry: Registry, readonly expiryAnchors: bigint = MEMPOOL_EXPIRY_ANCHORS) {
    this.metrics = createTxLifecycleMetrics(registry);
    this.persisted = store.pendingCount();
    this.metrics.persisted.set(this.persisted);
    this.metrics.outcomes.set(store.outcomeCount());
  }

  /** MempoolJournal: persists one mempool operation in one SQLite transaction, before it returns. */
  record(changes: readonly MempoolChange[]): void {
    const ops: TxJournalOp[] = changes.map((c) => c.kind === "added"
      ? { kind: "pending", txid: c.entry.txid, admittedAt: c.entry.admittedAt, encoded: c.entry.encoded }
      : { kind: "outcome", outcome: { ...c.outcome, txid: c.entry.txid, admittedAt: c.entry.admittedAt } });
    this.write(ops);
  }

  private write(ops: readonly TxJournalOp[]): void {
    if (ops.length === 0) return;
    const r = this.store.write(ops);
    this.persisted += r.pendingDelta;
    this.metrics.persisted.set(this.persisted);
    for (const op of ops) if (op.kind === "outcome") this.metrics.terminal.inc({ state: op.outcome.state, reason: op.outcome.reason });
    if (r.outcomes > 0) this.metrics.outcomes.set(this.store.outcomeCount());
  }

  /**
   * Start-up: offers every persisted tx to the (empty) mempool again, in admission
   * order, against the current ledger. A refused one gets its terminal state: final
   * when its own spend of an input is on the ledger (the node stopped between applying
   * the anchor and forgetting the tx), void naming the winner when another tx spent an
   * input, void with the validation code otherwise, evicted/replaced by mempool policy.
   */
  restore(mempool: Mempool, ledger: LedgerStore, ctx: ValidationContext): RestoreSummary {
    const rows = [...this.store.pending()];
    const results = mempool.restore(rows, ctx);
    const summary: RestoreSummary = { persisted: rows.length, pending: 0, final: 0, void: 0, evicted: 0, replaced: 0 };
    const ops: TxJournalOp[] = [];
    results.forEach((r, i) => {
      if (r.ok) return void summary.pending++;
      const row = rows[i]!;
      if (r.error.code === "MEMPOOL_DUPLICATE") return; // held already: its row stays
      const outcome = restoredOutcome(row.encoded, row.txid, r.error, ledger, mempool);
      summary[outcome.state === "expired" ? "void" : outcome.state]++;
      ops.push({ kind: "outcome", outcome: { ...outcome, txid: row.txid, admittedAt: row.admittedAt } });
    });
    this.write(ops);
    return summary;
  }

  /**
   * After each applied anchor: the mempool drops what it included (final) and what it
   * made invalid (void, naming the winner); a tx this node had dropped earlier but
   * another validator carried becomes final; then txs past the expiry bound leave,
   * except those `isHeld` (carried by an event not final yet).
   */
  afterAnchor(diff: AnchorDiff, mempool: Mempool, isHeld: (e: MempoolEntry) => boolean): void {
    const spent = diff.spent.map((s) => ({ txid: s.txid, index: s.index, spentBy: s.spentBy }));
    const applied = diff.outcomes.flatMap((o) => (o.kind === "micro" && o.applied ? [o.id] : []));
    const { included } = mempool.onFinalized(spent, applied, diff.anchorIndex);
    if (included.length < applied.length) {
      const fromMempool = new Set(included.map(toHex));
      const promoted = this.store.promoteToFinal(applied.filter((t) => !fromMempool.has(toHex(t))), diff.anchorIndex);
      if (promoted.length > 0) this.metrics.terminal.inc({ state: "final", reason: "INCLUDED_AFTER_DROP" }, promoted.length);
    }
    mempool.expire(diff.anchorIndex, this.expiryAnchors, isHeld);
  }

  /** What this node knows of `txid`: the mempool first, then the outcome records, then the chain. */
  status(txid: Uint8Array, mempool: Mempool, chain: ChainIndex): TxStatus {
    const e = mempool.get(txid);
    if (e !== undefined) {
      const expiresAfter = e.admittedAt + this.expiryAnchors;
      return { state: "pending", reason: null, message: `in the mempool since anchor ${e.admittedAt}; expires after anchor ${expiresAfter} if not final`, admittedAt: e.admittedAt, expiresAfter };
    }
    const record = this.store.outcome(txid);
    if (record?.state === "final") return fromRecord(record);
    const created = chain.outputsOfTx(txid)[0]?.createdAt;
    if (created !== undefined) {
      // Final on the ledger, whatever this node recorded when it dropped it.
      return { state: "final", reason: "INCLUDED", message: `applied by anchor ${created}`, anchorIndex: created, ...(record?.admittedAt === undefined ? {} : { admittedAt: record.admittedAt }) };
    }
    if (record) return fromRecord(record);
    return { state: "unknown", reason: null, message: "this node has no record of the tx (never accepted here, or its record is older than the retention bound)" };
  }
}

function fromRecord(r: TxOutcomeRow): TxStatus {
  return {
    state: r.state, reason: r.reason, message: r.message,
    ...(r.anchorIndex === undefined ? {} : { anchorIndex: r.anchorIndex }),
    ...(r.by === undefined ? {} : { by: r.by }),
    ...(r.admittedAt === undefined ? {} : { admittedAt: r.admittedAt }),
  };
}

/** The terminal state of a persisted tx the mempool refused at start-up. */
function restoredOutcome(encoded: Uint8Array, txid: Uint8Array, error: { code: string; message: string }, ledger: LedgerStore, mempool: Mempool): TxTerminal {
  let inputs: { txid: Uint8Array; index: number }[] = [];
  try {
    inputs = decodeMicroTx(encoded).inputs;
  } catch (e) {
    if (!isPhantomError(e)) throw e;
  }
  for (const op of inputs) {
    const spent = ledger.getSpent(op.txid, op.index);
    if (spent === undefined) continue;
    if (equalBytes(spent.spentBy, txid)) return { state: "final", reason: "INCLUDED", message: `applied by anchor ${spent.anchorIndex}`, anchorIndex: spent.anchorIndex };
    return {
      state: "void", reason: "TX_DOUBLE_SPEND", anchorIndex: spent.anchorIndex, by: spent.spentBy,
      message: `input ${toHex(op.txid)}:${op.index} was spent at anchor ${spent.anchorIndex} by ${toHex(spent.spentBy)} while this node was down`,
    };
  }
  if (error.code === "MEMPOOL_FULL") return { state: "evicted", reason: "MEMPOOL_FULL", message: `not reloaded at start-up: ${error.message}` };
  if (error.code.startsWith("MEMPOOL_RBF")) {
    const rival = inputs.map((op) => mempool.spender(op)).find((s) => s !== undefined);
    return { state: "replaced", reason: "MEMPOOL_RBF", message: `a reloaded tx spending the same input won: ${error.message}`, ...(rival ? { by: rival.txid } : {}) };
  }
  return { state: "void", reason: error.code, message: `no longer valid at start-up: ${error.message}` };
}

/** The pending txs to announce to a peer whose session just became ready: oldest first, at most `max`, in messages within the frame limits. */
export function mempoolAnnouncement(mempool: Mempool, max: number = announceOnReadyMax): P2pMessage[] {
  const messages: P2pMessage[] = [];
  let txs: Uint8Array[] = [];
  let bytes = 0;
  let n = 0;
  for (const e of mempool.entries()) {
    if (n++ >= max) break;
    if (txs.length >= txsPerMessageMax || bytes + e.encodedBytes > announceMessageBytes) {
      messages.push({ kind: "txs", txs });
      txs = [];
      bytes = 0;
    }
    txs.push(e.encoded);
    bytes += e.encodedBytes;
  }
  if (txs.length > 0) messages.push({ kind: "txs", txs });
  return messages;
}
