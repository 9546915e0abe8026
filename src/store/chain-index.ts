/**
 * Which event sits at each anchor index, for RPC and the explorer. It is an index
 * derived from consensus, not ledger state: written right after the anchor's own
 * transaction and rebuilt by the start-up replay (which re-finalizes every event in
 * the same order), so a crash between the two loses nothing.
 */
import type { SqliteStore } from "./sqlite-store.ts";
import { HASH_BYTES } from "../types/constants.ts";

export interface AnchorRecord {
  anchorIndex: bigint;
  eventId: Uint8Array;
  creator: number;
  round: number;
  txCount: number;
  feesUnits: bigint;
  commitment: Uint8Array;
}

export interface TxOutputRecord {
  index: number;
  amount: bigint;
  lockCommitment: Uint8Array;
  createdAt: bigint;
  spentAt: bigint | null;
}

type Row = Record<string, unknown>;
const big = (v: unknown): bigint => (typeof v === "bigint" ? v : BigInt(v as number));

export class ChainIndex {
  private readonly st;

  constructor(private readonly store: SqliteStore) {
    const db = store.db; // the table comes from schema migration 2
    this.st = {
      insert: db.prepare(`INSERT OR IGNORE INTO anchor_events (anchor, event_id, creator, round, tx_count) VALUES (?, ?, ?, ?, ?)`),
      has: db.prepare(`SELECT 1 FROM anchor_events WHERE anchor = ?`),
      get: db.prepare(`SELECT event_id, creator, round, tx_count FROM anchor_events WHERE anchor = ?`),
      byEvent: db.prepare(`SELECT anchor FROM anchor_events WHERE event_id = ?`),
      outputsOfTx: db.prepare(`SELECT outpoint, amount, lock, created_at, spent_at FROM outputs WHERE outpoint >= ? AND outpoint <= ? ORDER BY outpoint LIMIT 1024`),
    };
  }

  record(anchorIndex: bigint, eventId: Uint8Array, creator: number, round: number, txCount: number): void {
    this.store.runWrite("anchorIndex", () => this.st.insert.run(anchorIndex, eventId, creator, round, txCount));
  }

  has(anchorIndex: bigint): boolean {
    return this.st.has.get(anchorIndex) !== null;
  }

  anchor(anchorIndex: bigint): AnchorRecord | undefined {
    const row = this.st.get.get(anchorIndex) as Row | null;
    const ledger = this.store.anchorAt(anchorIndex);
    if (!row || !ledger) return undefined;
    return {
      anchorIndex, eventId: row.event_id as Uint8Array, creator: Number(row.creator), round: Number(row.round),
      txCount: Number(row.tx_count), feesUnits: ledger.feesUnits, commitment: ledger.commitment,
    };
  }

  anchorOfEvent(eventId: Uint8Array): bigint | undefined {
    const row = this.st.byEvent.get(eventId) as Row | null;
    return row ? big(row.anchor) : undefined;
  }

  /** Every output a transaction created (spent or not): outpoints of one txid share its 32-byte prefix. */
  outputsOfTx(txid: Uint8Array): TxOutputRecord[] {
    const lo = new Uint8Array(HASH_BYTES + 4);
    lo.set(txid);
    const hi = lo.slice();
    hi.fill(0xff, HASH_BYTES);
    return (this.st.outputsOfTx.all(lo, hi) as Row[]).map((r) => {
      const key = r.outpoint as Uint8Array;
      return {
        index: new DataView(key.buffer, key.byteOffset, key.byteLength).getUint32(HASH_BYTES, false),
        amount: big(r.amount), lockCommitment: r.lock as Uint8Array, createdAt: big(r.created_at),
        spentAt: r.spent_at === null ? null : big(r.spent_at),
      };
    });
  }
}
