/**
 * Read-only queries the explorer needs beyond the ledger interface: any output by
 * outpoint (spent ones too, for a transaction's inputs) and the newest recorded slashing
 * evidence. Each returns a bounded number of rows.
 */
import type { Database, Statement } from "bun:sqlite";
import { outpointKey } from "../ledger/state.ts";

export interface OutputRecord {
  amount: bigint;
  lockCommitment: Uint8Array;
  createdAt: bigint;
  spentAt: bigint | null;
  spentBy: Uint8Array | null;
}

export interface EvidenceRecord {
  id: Uint8Array;
  anchorIndex: bigint;
  kind: string;
  offender: number;
}

type Row = Record<string, unknown>;
const big = (v: unknown): bigint => (typeof v === "bigint" ? v : BigInt(v as number));

export class ExplorerReads {
  private readonly output: Statement;
  private readonly evidence: Statement;

  constructor(db: Database) {
    this.output = db.prepare(`SELECT amount, lock, created_at, spent_at, spent_by FROM outputs WHERE outpoint = ?`);
    // Evidence rows exist only for committee misbehaviour (each one is slashable), so the
    // sort touches few rows; the result is bounded by the caller's limit.
    this.evidence = db.prepare(`SELECT id, anchor, kind, offender FROM evidence ORDER BY anchor DESC, id LIMIT ?`);
  }

  /** The output at `txid:index`, spent or not; undefined when it never existed. */
  outputAt(txid: Uint8Array, index: number): OutputRecord | undefined {
    const r = this.output.get(outpointKey(txid, index)) as Row | null;
    if (!r) return undefined;
    return {
      amount: big(r.amount), lockCommitment: r.lock as Uint8Array, createdAt: big(r.created_at),
      spentAt: r.spent_at === null ? null : big(r.spent_at), spentBy: (r.spent_by as Uint8Array | null) ?? null,
    };
  }

  /** The newest `limit` evidence records, newest anchor first. */
  recentEvidence(limit: number): EvidenceRecord[] {
    return (this.evidence.all(limit) as Row[]).map((r) => ({ id: r.id as Uint8Array, anchorIndex: big(r.anchor), kind: String(r.kind), offender: Number(r.offender) }));
  }
}
