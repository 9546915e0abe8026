/**
 * Deletes old events and payloads from the store (docs/STORAGE.md "Pruning"). What may go
 * is decided by the node (src/node/pruning.ts); this module deletes it, keeps the events
 * the ledger still reads (the settlement window's anchor events), records how far it
 * pruned, and returns the freed pages to the file system.
 */
import { blake3_32 } from "../crypto/hash.ts";
import { EMPTY_PAYLOAD_BYTES } from "../types/payload.ts";
import type { SqliteStore } from "./sqlite-store.ts";

const META_THROUGH = "pruned_through_seq_no";
const META_SEQS = "pruned_seqs";
const EMPTY_DIGEST = blake3_32(EMPTY_PAYLOAD_BYTES);
/** Freed pages returned to the file system per pass (incremental_vacuum). */
export const VACUUM_PAGES_PER_PASS = 16_384;

export interface PruneResult {
  events: number;
  payloads: number;
  /** Pages returned to the file system. */
  pages: number;
}

type Row = Record<string, unknown>;

export class StorePruner {
  constructor(private readonly store: SqliteStore) {}

  /** Store position through which events were pruned (0: never pruned; a full replay is then impossible). */
  prunedThrough(): bigint {
    const v = this.meta(META_THROUGH);
    return v === undefined ? 0n : BigInt(new TextDecoder().decode(v));
  }

  /**
   * Per creator, the highest seq of a pruned event (-1: none): a peer whose highest known
   * seq of some creator is below it asks for history this store no longer has.
   */
  prunedSeqs(k: number): number[] {
    const v = this.meta(META_SEQS);
    const seqs = v === undefined ? [] : (JSON.parse(new TextDecoder().decode(v)) as number[]);
    return Array.from({ length: k }, (_, c) => (Number.isSafeInteger(seqs[c]) ? seqs[c]! : -1));
  }

  /**
   * Deletes the events stored at positions up to `throughSeqNo`, except those sitting at
   * anchors from `keepAnchorsFrom` on, and the payloads no remaining event names (the
   * empty payload always stays). One transaction, then an incremental vacuum.
   */
  prune(throughSeqNo: bigint, keepAnchorsFrom: bigint, k: number): PruneResult {
    const db = this.store.db;
    if (throughSeqNo <= this.prunedThrough()) return { events: 0, payloads: 0, pages: 0 };
    const result = this.store.runWrite("prune", () =>
      db.transaction(() => {
        const doomed = `seq_no <= ?1 AND id NOT IN (SELECT event_id FROM anchor_events WHERE anchor >= ?2)`;
        const seqs = this.prunedSeqs(k);
        for (const r of db.query(`SELECT creator, MAX(seq) AS s FROM events WHERE ${doomed} GROUP BY creator`).all(throughSeqNo, keepAnchorsFrom) as Row[]) {
          const c = Number(r.creator);
          if (c < k) seqs[c] = Math.max(seqs[c]!, Number(r.s));
        }
        const digests = (db.query(`SELECT DISTINCT payload_digest AS d FROM events WHERE ${doomed}`).all(throughSeqNo, keepAnchorsFrom) as Row[]).map((r) => r.d as Uint8Array);
        const events = Number(db.query(`DELETE FROM events WHERE ${doomed}`).run(throughSeqNo, keepAnchorsFrom).changes);
        let payloads = 0;
        const unused = db.query(`DELETE FROM payloads WHERE digest = ?1 AND NOT EXISTS (SELECT 1 FROM events WHERE payload_digest = ?1)`);
        for (const d of digests) {
          if (Buffer.compare(Buffer.from(d), Buffer.from(EMPTY_DIGEST)) === 0) continue;
          payloads += Number(unused.run(d).changes);
        }
        this.setMeta(META_THROUGH, new TextEncoder().encode(throughSeqNo.toString()));
        this.setMeta(META_SEQS, new TextEncoder().encode(JSON.stringify(seqs)));
        return { events, payloads };
      }).immediate(),
    );
    // The caches may hold what was deleted; a cache hit must not serve history we claim not to have.
    this.store.headerCache.clear();
    this.store.payloadCache.clear();
    return { ...result, pages: this.vacuum() };
  }

  /**
   * A store written by `snapshot restore` starts at its snapshot: it counts as pruned
   * through `seqNo` (no full replay), and per creator everything below the lowest seq it
   * holds counts as pruned.
   */
  markRestored(seqNo: bigint, k: number): void {
    const seqs = Array.from({ length: k }, () => -1);
    for (const r of this.store.db.query(`SELECT creator, MIN(seq) AS s FROM events GROUP BY creator`).all() as Row[]) {
      const c = Number(r.creator);
      if (c < k) seqs[c] = Number(r.s) - 1;
    }
    this.store.runWrite("markRestored", () => {
      this.setMeta(META_THROUGH, new TextEncoder().encode(seqNo.toString()));
      this.setMeta(META_SEQS, new TextEncoder().encode(JSON.stringify(seqs)));
    });
  }

  /** Whether freed pages can go back to the file system (stores created before pruning existed need one VACUUM). */
  incrementalVacuumOn(): boolean {
    const row = this.store.db.query(`PRAGMA auto_vacuum`).get() as Row;
    return Number(row.auto_vacuum) === 2;
  }

  /** Rewrites the whole file once with auto_vacuum = INCREMENTAL (a store made by an older version). */
  enableIncrementalVacuum(): void {
    this.store.runWrite("vacuum", () => {
      this.store.db.run(`PRAGMA auto_vacuum = INCREMENTAL`);
      this.store.db.run(`VACUUM`);
    });
  }

  private vacuum(): number {
    if (!this.incrementalVacuumOn()) return 0;
    const free = Number((this.store.db.query(`PRAGMA freelist_count`).get() as Row).freelist_count);
    const pages = Math.min(free, VACUUM_PAGES_PER_PASS);
    if (pages > 0) this.store.runWrite("incremental_vacuum", () => this.store.db.run(`PRAGMA incremental_vacuum(${pages})`));
    return pages;
  }

  private meta(key: string): Uint8Array | undefined {
    const row = this.store.db.query(`SELECT value FROM meta WHERE key = ?`).get(key) as { value: Uint8Array } | null;
    return row === null ? undefined : new Uint8Array(row.value);
  }

  private setMeta(key: string, value: Uint8Array): void {
    this.store.db.query(`INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)`).run(key, value);
  }
}
