/**
 * The mempool's persistent side (docs/STORAGE.md, tables from schema migration 3):
 * `mempool_txs` holds every accepted tx still pending, so the mempool survives a
 * restart; `tx_outcomes` holds what became of accepted txs (final, void, expired,
 * replaced, evicted) for `tx_status`, the oldest rows pruned beyond a retention bound.
 * Each mempool operation is written in one SQLite transaction.
 */
import type { Database, Statement } from "bun:sqlite";
import type { TxTerminal, TxTerminalState } from "../types/tx-outcome.ts";
import { invariant } from "../errors.ts";

/** Default number of terminal-state records kept (the oldest are deleted beyond it). */
export const TX_OUTCOMES_RETAIN = 200_000;
/** Outcome rows written between two pruning passes. */
export const TX_OUTCOMES_PRUNE_EVERY = 1_000;
/** Pending rows read per page at start-up. */
export const PENDING_PAGE_ROWS = 1_000;

export interface PendingTxRow {
  txid: Uint8Array;
  admittedAt: bigint;
  encoded: Uint8Array;
}

export interface TxOutcomeRow extends TxTerminal {
  txid: Uint8Array;
  admittedAt?: bigint;
}

export type TxJournalOp =
  | { kind: "pending"; txid: Uint8Array; admittedAt: bigint; encoded: Uint8Array }
  /** The tx left the mempool (or never re-entered it at start-up): its row goes, its outcome is kept. */
  | { kind: "outcome"; outcome: TxOutcomeRow };

type Row = Record<string, unknown>;
const big = (v: unknown): bigint => (typeof v === "bigint" ? v : BigInt(v as number));

export class TxJournalStore {
  private readonly st: Record<string, Statement>;
  private readonly writeOps: ReturnType<TxJournalStore["makeWrite"]>;
  private readonly promoteOps: ReturnType<TxJournalStore["makePromote"]>;
  private sincePrune = 0;
  private outcomeRows: number;

  constructor(private readonly db: Database, readonly retain: number = TX_OUTCOMES_RETAIN) {
    invariant(Number.isSafeInteger(retain) && retain >= 1, `tx outcome retention must be a positive integer, got ${retain}`);
    this.st = {
      insertPending: db.prepare(`INSERT OR IGNORE INTO mempool_txs (txid, admitted_at, bytes) VALUES (?, ?, ?)`),
      deletePending: db.prepare(`DELETE FROM mempool_txs WHERE txid = ?`),
      pendingPage: db.prepare(`SELECT row, txid, admitted_at, bytes FROM mempool_txs WHERE row > ? ORDER BY row LIMIT ?`),
      putOutcome: db.prepare(`INSERT OR REPLACE INTO tx_outcomes (txid, state, reason, message, anchor, other, admitted_at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
      getOutcome: db.prepare(`SELECT state, reason, message, anchor, other, admitted_at FROM tx_outcomes WHERE txid = ?`),
      promote: db.prepare(`UPDATE tx_outcomes SET state = 'final', reason = 'INCLUDED', message = ?, anchor = ?, other = NULL WHERE txid = ? AND state <> 'final'`),
      prune: db.prepare(`DELETE FROM tx_outcomes WHERE row <= (SELECT MAX(row) FROM tx_outcomes) - ?`),
    };
    this.writeOps = this.makeWrite();
    this.promoteOps = this.makePromote();
    this.outcomeRows = this.countOutcomes();
  }

  private makeWrite() {
    return this.db.transaction((ops: readonly TxJournalOp[]) => {
      let pendingDelta = 0;
      let outcomes = 0;
      for (const op of ops) {
        if (op.kind === "pending") {
          pendingDelta += this.st.insertPending!.run(op.txid, op.admittedAt, op.encoded).changes;
          continue;
        }
        const o = op.outcome;
        pendingDelta -= this.st.deletePending!.run(o.txid).changes;
        this.st.putOutcome!.run(o.txid, o.state, o.reason, o.message, o.anchorIndex ?? null, o.by ?? null, o.admittedAt ?? null);
        outcomes++;
      }
      return { pendingDelta, outcomes };
    });
  }

  /** Applies `ops` in order, in one transaction; returns the change in pending rows and the outcomes written. */
  write(ops: readonly TxJournalOp[]): { pendingDelta: number; outcomes: number } {
    if (ops.length === 0) return { pendingDelta: 0, outcomes: 0 };
    const r = this.writeOps.immediate(ops);
    this.sincePrune += r.outcomes;
    this.outcomeRows += r.outcomes;
    if (this.sincePrune >= TX_OUTCOMES_PRUNE_EVERY) this.prune();
    return r;
  }

  /** Deletes the oldest outcome rows beyond the retention bound; returns how many. */
  prune(): number {
    this.sincePrune = 0;
    const n = this.st.prune!.run(this.retain).changes;
    this.outcomeRows = this.countOutcomes();
    return n;
  }

  /** Pending txs in admission order (start-up), paged. */
  *pending(): Generator<PendingTxRow> {
    let after = 0n;
    for (;;) {
      const rows = this.st.pendingPage!.all(after, PENDING_PAGE_ROWS) as Row[];
      for (const r of rows) yield { txid: r.txid as Uint8Array, admittedAt: big(r.admitted_at), encoded: r.bytes as Uint8Array };
      if (rows.length < PENDING_PAGE_ROWS) return;
      after = big(rows[rows.length - 1]!.row);
    }
  }

  pendingCount(): number {
    return Number(big((this.db.query(`SELECT COUNT(*) AS n FROM mempool_txs`).get() as Row).n));
  }

  /** Outcome rows kept: exact after open and after each pruning pass, an upper bound in between (a rewritten record counts twice). */
  outcomeCount(): number {
    return this.outcomeRows;
  }

  private countOutcomes(): number {
    return Number(big((this.db.query(`SELECT COUNT(*) AS n FROM tx_outcomes`).get() as Row).n));
  }

  outcome(txid: Uint8Array): TxOutcomeRow | undefined {
    const r = this.st.getOutcome!.get(txid) as Row | null;
    if (!r) return undefined;
    return {
      txid, state: String(r.state) as TxTerminalState, reason: String(r.reason), message: String(r.message),
      ...(r.anchor === null ? {} : { anchorIndex: big(r.anchor) }),
      ...(r.other === null ? {} : { by: r.other as Uint8Array }),
      ...(r.admitted_at === null ? {} : { admittedAt: big(r.admitted_at) }),
    };
  }

  /**
   * A finalized anchor applied these txs: a record saying this node dropped one of them
   * (expired, evicted, replaced) becomes final, since another validator still carried
   * it. Returns the txids promoted. One transaction.
   */
  promoteToFinal(txids: readonly Uint8Array[], anchorIndex: bigint): Uint8Array[] {
    if (txids.length === 0) return [];
    return this.promoteOps.immediate(txids, anchorIndex);
  }

  private makePromote() {
    return this.db.transaction((txids: readonly Uint8Array[], anchorIndex: bigint) => {
      const message = `applied by anchor ${anchorIndex} (another validator carried it after this node dropped it)`;
      return txids.filter((t) => this.st.promote!.run(message, anchorIndex, t).changes > 0);
    });
  }
}
