/**
 * Schema and migrations (docs/STORAGE.md). `schema_version` holds one row; opening
 * a database applies every missing migration in order, each in its own transaction,
 * and refuses a database written by a newer version.
 */
import type { Database } from "bun:sqlite";
import { StoreError } from "./errors.ts";

export interface Migration {
  version: number;
  statements: string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    statements: [
      `CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID`,
      // Exactly one row (id = 0): the ledger's tip. Rewritten in every anchor transaction.
      `CREATE TABLE ledger_state (
        id INTEGER PRIMARY KEY CHECK (id = 0),
        last_anchor INTEGER,
        commitment BLOB NOT NULL,
        accumulator BLOB NOT NULL,
        mint_tip BLOB NOT NULL,
        mint_next_height INTEGER NOT NULL,
        mint_target_bits INTEGER NOT NULL,
        mint_window_start INTEGER NOT NULL,
        emitted_units INTEGER NOT NULL)`,
      // Every output ever created; the UTXO set is the rows with spent_at NULL. Spending is one
      // UPDATE (not a delete plus an insert elsewhere), and a later spend finds where it went.
      `CREATE TABLE outputs (
        outpoint BLOB PRIMARY KEY,
        amount INTEGER NOT NULL,
        lock BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        coinbase INTEGER NOT NULL,
        spent_at INTEGER,
        spent_by BLOB) WITHOUT ROWID`,
      `CREATE TABLE anchors (anchor INTEGER PRIMARY KEY, commitment BLOB NOT NULL, fees INTEGER NOT NULL, applied INTEGER NOT NULL, voided INTEGER NOT NULL, payload_error TEXT)`,
      `CREATE TABLE voided (anchor INTEGER NOT NULL, position INTEGER NOT NULL, kind TEXT NOT NULL, id BLOB NOT NULL, code TEXT NOT NULL, PRIMARY KEY (anchor, position)) WITHOUT ROWID`,
      `CREATE TABLE mints (height INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE, anchor INTEGER NOT NULL, reward INTEGER NOT NULL, header BLOB NOT NULL)`,
      `CREATE TABLE evidence (id BLOB PRIMARY KEY, anchor INTEGER NOT NULL, kind TEXT NOT NULL, offender INTEGER NOT NULL, bytes BLOB NOT NULL) WITHOUT ROWID`,
      `CREATE TABLE events (seq_no INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE, creator INTEGER NOT NULL, seq INTEGER NOT NULL, payload_digest BLOB NOT NULL, bytes BLOB NOT NULL)`,
      `CREATE INDEX events_by_creator ON events (creator, seq)`,
      `CREATE TABLE payloads (digest BLOB PRIMARY KEY, bytes BLOB NOT NULL)`,
    ],
  },
  {
    version: 2,
    statements: [
      // Which event sits at each anchor index (src/store/chain-index.ts). IF NOT EXISTS:
      // development stores made before this migration created the table themselves.
      `CREATE TABLE IF NOT EXISTS anchor_events (anchor INTEGER PRIMARY KEY, event_id BLOB NOT NULL, creator INTEGER NOT NULL, round INTEGER NOT NULL, tx_count INTEGER NOT NULL)`,
      `CREATE INDEX IF NOT EXISTS anchor_events_by_event ON anchor_events (event_id)`,
    ],
  },
  {
    version: 3,
    statements: [
      // The mempool's accepted, pending transactions (src/store/tx-journal-store.ts): written
      // where the mempool admits and removes, reloaded and re-validated at start-up. `row`
      // keeps admission order; bounded by the mempool's own limits.
      `CREATE TABLE mempool_txs (row INTEGER PRIMARY KEY, txid BLOB NOT NULL UNIQUE, admitted_at INTEGER NOT NULL, bytes BLOB NOT NULL)`,
      // What became of each accepted transaction (final, void, expired, replaced, evicted),
      // for tx_status; the oldest rows beyond the retention bound are deleted.
      `CREATE TABLE tx_outcomes (row INTEGER PRIMARY KEY, txid BLOB NOT NULL UNIQUE, state TEXT NOT NULL, reason TEXT NOT NULL, message TEXT NOT NULL, anchor INTEGER, other BLOB, admitted_at INTEGER)`,
    ],
  },
  {
    version: 4,
    statements: [
      // Ledger economics (SPEC_FEES §7, SPEC_SLASHING §6), written in each anchor's transaction.
      // The stake table: one row per validator once the first anchor is applied.
      `CREATE TABLE stakes (validator INTEGER PRIMARY KEY, stake INTEGER NOT NULL, da_offenses INTEGER NOT NULL)`,
      // Fees awaiting settlement (at most k·D_max + 1 rows).
      `CREATE TABLE fees_pending (anchor INTEGER PRIMARY KEY, event_id BLOB NOT NULL, creator INTEGER NOT NULL, fees INTEGER NOT NULL)`,
      // One row per settled anchor (zero-fee anchors too: their root is committed as well).
      `CREATE TABLE settlements (anchor INTEGER PRIMARY KEY, settled_at INTEGER NOT NULL UNIQUE, event_id BLOB NOT NULL, creator INTEGER NOT NULL, fees INTEGER NOT NULL, root BLOB NOT NULL, txid BLOB NOT NULL UNIQUE, distances BLOB NOT NULL)`,
      // The k payout entries of every settled anchor with fees (zero-fee anchors: all amounts 0, not stored).
      `CREATE TABLE payouts (anchor INTEGER NOT NULL, validator INTEGER NOT NULL, recipient BLOB NOT NULL, amount INTEGER NOT NULL, PRIMARY KEY (anchor, validator)) WITHOUT ROWID`,
      `CREATE TABLE slashes (anchor INTEGER NOT NULL, evidence_id BLOB NOT NULL, kind TEXT NOT NULL, offender INTEGER NOT NULL, bps INTEGER NOT NULL, stake_before INTEGER NOT NULL, slashed INTEGER NOT NULL, PRIMARY KEY (anchor, evidence_id)) WITHOUT ROWID`,
    ],
  },
  {
    version: 5,
    statements: [
      // Consensus engine snapshots (src/store/snapshot-store.ts, docs/STORAGE.md "Snapshots"):
      // the engine state after the events stored up to `event_seq_no`, when `anchor_count`
      // anchors were final. The ledger is not copied: it is the ledger of that anchor count.
      `CREATE TABLE IF NOT EXISTS snapshots (anchor_count INTEGER PRIMARY KEY, event_seq_no INTEGER NOT NULL, engine_state BLOB NOT NULL, checksum BLOB NOT NULL)`,
      // Pruning (src/store/pruning.ts) deletes a payload once no stored event names it.
      `CREATE INDEX IF NOT EXISTS events_by_payload ON events (payload_digest)`,
    ],
  },
  {
    version: 6,
    statements: [
      // Sharding (docs/SPEC_SHARDING.md), written in each anchor's transaction; empty on one shard.
      // Exports of this shard in finalized order (anchor, then position in the anchor's diff):
      // the leaves of each epoch's export tree. Kept for ever (relays prove them; pruning never deletes them).
      `CREATE TABLE shard_exports (anchor INTEGER NOT NULL, seq INTEGER NOT NULL, epoch INTEGER NOT NULL, export_id BLOB NOT NULL UNIQUE, dest_shard INTEGER NOT NULL, amount INTEGER NOT NULL, leaf BLOB NOT NULL, PRIMARY KEY (anchor, seq)) WITHOUT ROWID`,
      `CREATE INDEX shard_exports_by_epoch ON shard_exports (epoch, anchor, seq)`,
      // This shard's root of every closed epoch (§6), with its digest.
      `CREATE TABLE shard_roots (epoch INTEGER PRIMARY KEY, anchor INTEGER NOT NULL, digest BLOB NOT NULL, root BLOB NOT NULL)`,
      // Every accepted import (§8): its export id is imported exactly once, for ever.
      `CREATE TABLE shard_imports (export_id BLOB PRIMARY KEY, anchor INTEGER NOT NULL, seq INTEGER NOT NULL, source_shard INTEGER NOT NULL, epoch INTEGER NOT NULL, amount INTEGER NOT NULL, lock BLOB NOT NULL) WITHOUT ROWID`,
      // Other shards' certified roots an accepted import relied on (a conflicting one is refused).
      `CREATE TABLE shard_certified (shard INTEGER NOT NULL, epoch INTEGER NOT NULL, digest BLOB NOT NULL, anchor INTEGER NOT NULL, PRIMARY KEY (shard, epoch)) WITHOUT ROWID`,
    ],
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export function currentVersion(db: Database): number {
  db.run(`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`);
  const row = db.query<{ version: number | bigint }, []>(`SELECT version FROM schema_version`).get();
  return row ? Number(row.version) : 0;
}

/** Brings `db` to SCHEMA_VERSION; returns the version it found. */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): number {
  const found = currentVersion(db);
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  if (found > latest) throw new StoreError("STORE_SCHEMA_TOO_NEW", `store schema version ${found} is newer than this node's ${latest}; upgrade the node`);
  for (const m of migrations) {
    if (m.version <= found) continue;
    db.transaction(() => {
      for (const sql of m.statements) db.run(sql);
      db.run(`DELETE FROM schema_version`);
      db.run(`INSERT INTO schema_version (version) VALUES (${m.version})`);
    }).immediate();
  }
  return found;
}

/**
 * Optional index for wallet queries (balance, coins of a lock); partial, so spent outputs
 * leave it. A node setting, not schema: created or dropped on open.
 */
export function setLockIndex(db: Database, enabled: boolean): void {
  if (enabled) db.run(`CREATE INDEX IF NOT EXISTS outputs_unspent_by_lock ON outputs (lock) WHERE spent_at IS NULL`);
  else db.run(`DROP INDEX IF EXISTS outputs_unspent_by_lock`);
}
