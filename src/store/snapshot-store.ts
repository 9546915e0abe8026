/**
 * Consensus engine snapshots in the store (docs/STORAGE.md "Snapshots"): one row per
 * snapshot, keyed by the number of anchors final when it was taken. A row's checksum
 * (BLAKE3 over the anchor count, the event position and the state bytes) catches a damaged
 * row; whether the state fits the node's genesis is the engine's check (engine-state.ts).
 */
import { blake3_32 } from "../crypto/hash.ts";
import { equalBytes } from "../crypto/bytes.ts";
import { Writer } from "../codec/index.ts";
import type { SqliteStore } from "./sqlite-store.ts";

/** Snapshots kept: the newest and the one before it (a fallback if the newest is damaged). */
export const SNAPSHOTS_KEPT = 2;

export interface SnapshotRecord {
  /** Anchors final when the snapshot was taken (the engine's next anchor index). */
  anchorCount: bigint;
  /** The store position (events.seq_no) of the last event the engine state contains; 0 for none. */
  eventSeqNo: bigint;
  engineState: Uint8Array;
}

export interface StoredSnapshot extends SnapshotRecord {
  /** The checksum recomputes. */
  intact: boolean;
}

type Row = { anchor_count: number | bigint; event_seq_no: number | bigint; engine_state: Uint8Array; checksum: Uint8Array };

export function snapshotChecksum(r: SnapshotRecord): Uint8Array {
  return blake3_32(new Writer(r.engineState.length + 32).u64(r.anchorCount).u64(r.eventSeqNo).raw(r.engineState).finish());
}

export class SnapshotStore {
  constructor(private readonly store: SqliteStore) {}

  /** Writes a snapshot (replacing one with the same anchor count) and drops all but the newest SNAPSHOTS_KEPT. */
  write(r: SnapshotRecord): void {
    const db = this.store.db;
    this.store.runWrite("writeSnapshot", () =>
      db.transaction(() => {
        db.query(`INSERT OR REPLACE INTO snapshots (anchor_count, event_seq_no, engine_state, checksum) VALUES (?, ?, ?, ?)`)
          .run(r.anchorCount, r.eventSeqNo, r.engineState, snapshotChecksum(r));
        db.query(`DELETE FROM snapshots WHERE anchor_count NOT IN (SELECT anchor_count FROM snapshots ORDER BY anchor_count DESC LIMIT ?)`).run(SNAPSHOTS_KEPT);
      }).immediate(),
    );
  }

  /** Stored snapshots, newest first. */
  list(): StoredSnapshot[] {
    const rows = this.store.db.query(`SELECT * FROM snapshots ORDER BY anchor_count DESC`).all() as Row[];
    return rows.map((row) => {
      const r: SnapshotRecord = { anchorCount: BigInt(row.anchor_count), eventSeqNo: BigInt(row.event_seq_no), engineState: new Uint8Array(row.engine_state) };
      return { ...r, intact: equalBytes(snapshotChecksum(r), new Uint8Array(row.checksum)) };
    });
  }

  /** The store position of the newest stored event (0 when there is none). */
  lastEventSeqNo(): bigint {
    const row = this.store.db.query(`SELECT COALESCE(MAX(seq_no), 0) AS n FROM events`).get() as { n: number | bigint };
    return BigInt(row.n);
  }

  deleteAll(): void {
    this.store.runWrite("deleteSnapshots", () => this.store.db.run(`DELETE FROM snapshots`));
  }
}
