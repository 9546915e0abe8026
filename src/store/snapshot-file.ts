/**
 * Self-contained snapshot files (`phantom snapshot create|restore`, docs/OPERATIONS.md §7):
 * the newest consensus snapshot of a stopped node's store together with everything a
 * fresh store needs to continue from it — the ledger tables (UTXOs and spent outputs,
 * stake table, pending fees, settlements and payouts, mints and the mint tip, evidence,
 * slashes, voided txs), the per-anchor state commitments 0..L and which event sits at each
 * anchor, and the events (with payloads) the consensus state holds in memory, the events
 * stored after it, and those of the fee settlement window.
 *
 * Layout: "PHSNAPF" ‖ u8 version ‖ genesis commitment ‖ u64 engine anchor count ‖
 * anchor-chain hash ‖ bytes engine state ‖ tables ‖ events ‖ BLAKE3 of all before.
 * The anchor-chain hash folds the commitments of anchors 0..L into the genesis
 * commitment (h = genesis; h = blake3_32(h ‖ commitment_i)), so a file whose anchor list
 * was cut or reordered does not verify. Restore writes a new store, then checks with the
 * store's own checks that the ledger's commitment recomputes (UTXO LtHash, stakes,
 * pending fees, payout root) and equals the commitment recorded for anchor L.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join, basename } from "node:path";
import { Reader, Writer, CodecError } from "../codec/index.ts";
import { blake3_32 } from "../crypto/hash.ts";
import { equalBytes, toHex } from "../crypto/bytes.ts";
import { PhantomError, isPhantomError } from "../errors.ts";
import { ConsensusEngine, type EngineConfig } from "../consensus/engine.ts";
import { readSignedEvent, writeSignedEvent, type SignedEvent } from "../types/event.ts";
import type { EmissionParams } from "../genesis/genesis.ts";
import { SqliteStore } from "./sqlite-store.ts";
import { SnapshotStore } from "./snapshot-store.ts";
import { StorePruner } from "./pruning.ts";

const MAGIC = new TextEncoder().encode("PHSNAPF");
export const SNAPSHOT_FILE_VERSION = 1;
const ROWS_MAX = 1 << 30;
const VALUE_BYTES_MAX = 1 << 26;

export type SnapshotFileErrorCode =
  | "SNAPSHOT_FILE_TRUNCATED"
  | "SNAPSHOT_FILE_CORRUPT"
  | "SNAPSHOT_FILE_VERSION"
  | "SNAPSHOT_FILE_GENESIS"
  | "SNAPSHOT_FILE_CHAIN"
  | "SNAPSHOT_FILE_COMMITMENT"
  | "SNAPSHOT_NONE"
  | "SNAPSHOT_TARGET_NOT_EMPTY";

export class SnapshotFileError extends PhantomError<SnapshotFileErrorCode> {
  constructor(code: SnapshotFileErrorCode, message: string) {
    super(code, message);
    this.name = "SnapshotFileError";
  }
}

/**
 * The ledger tables a file carries whole, each with the column it is ordered by. Node-local
 * tables (mempool, tx outcomes, snapshots) and the event tables are not among them.
 */
export const LEDGER_TABLES: readonly { name: string; orderBy: string; optional?: true }[] = [
  { name: "ledger_state", orderBy: "id" },
  { name: "outputs", orderBy: "outpoint" },
  { name: "anchors", orderBy: "anchor" },
  { name: "voided", orderBy: "anchor, position" },
  { name: "mints", orderBy: "height" },
  { name: "evidence", orderBy: "id" },
  { name: "stakes", orderBy: "validator" },
  { name: "fees_pending", orderBy: "anchor" },
  { name: "settlements", orderBy: "anchor" },
  { name: "payouts", orderBy: "anchor, validator" },
  { name: "slashes", orderBy: "anchor, evidence_id" },
  { name: "anchor_events", orderBy: "anchor" },
  // Sharding (schema 6): files written before it lack them, and they restore as empty.
  { name: "shard_exports", orderBy: "anchor, seq", optional: true },
  { name: "shard_roots", orderBy: "epoch", optional: true },
  { name: "shard_imports", orderBy: "export_id", optional: true },
  { name: "shard_certified", orderBy: "shard, epoch", optional: true },
];

type Value = null | bigint | Uint8Array | string;

export interface TableDump {
  name: string;
  columns: string[];
  rows: Value[][];
}

export interface SnapshotFile {
  genesisCommitment: Uint8Array;
  anchorCount: bigint;
  chainHash: Uint8Array;
  engineState: Uint8Array;
  tables: TableDump[];
  /** In the order a fresh store inserts them; the first `coveredEvents` are covered by the engine state. */
  events: { event: SignedEvent; payload: Uint8Array | null }[];
  coveredEvents: number;
}

/** h = genesis commitment; for each anchor in order, h = blake3_32(h ‖ commitment). */
export function anchorChainHash(genesisCommitment: Uint8Array, commitments: readonly Uint8Array[]): Uint8Array {
  let h = genesisCommitment;
  for (const c of commitments) {
    const buf = new Uint8Array(64);
    buf.set(h);
    buf.set(c, 32);
    h = blake3_32(buf);
  }
  return h;
}

function writeValue(w: Writer, v: unknown): void {
  if (v === null || v === undefined) w.u8(0);
  else if (typeof v === "bigint") w.u8(1).u64(BigInt.asUintN(64, v));
  else if (typeof v === "number") w.u8(1).u64(BigInt.asUintN(64, BigInt(v)));
  else if (v instanceof Uint8Array) w.u8(2).bytes(v, VALUE_BYTES_MAX);
  else if (typeof v === "string") w.u8(3).bytes(new TextEncoder().encode(v), VALUE_BYTES_MAX);
  else throw new CodecError("CODEC_INVALID", `cannot encode a ${typeof v} column value`);
}

function readValue(r: Reader): Value {
  const tag = r.u8("value tag");
  if (tag === 0) return null;
  if (tag === 1) return BigInt.asIntN(64, r.u64("integer"));
  if (tag === 2) return r.bytes(VALUE_BYTES_MAX, "blob");
  if (tag === 3) return new TextDecoder("utf-8", { fatal: true }).decode(r.bytes(VALUE_BYTES_MAX, "text"));
  throw new CodecError("CODEC_UNKNOWN_TAG", `column value tag ${tag}`);
}

export function encodeSnapshotFile(f: SnapshotFile): Uint8Array {
  const w = new Writer(1 << 20);
  w.raw(MAGIC).u8(SNAPSHOT_FILE_VERSION).fixed(f.genesisCommitment, 32).u64(f.anchorCount).fixed(f.chainHash, 32);
  w.bytes(f.engineState, 1 << 30);
  w.list(f.tables, 64, (w, t) => {
    w.bytes(new TextEncoder().encode(t.name), 64);
    w.list(t.columns, 64, (w, c) => w.bytes(new TextEncoder().encode(c), 64));
    w.list(t.rows, ROWS_MAX, (w, row) => row.forEach((v) => writeValue(w, v)));
  });
  w.varint(f.coveredEvents);
  w.list(f.events, ROWS_MAX, (w, e) => {
    writeSignedEvent(w, e.event);
    w.u8(e.payload === null ? 0 : 1);
    if (e.payload !== null) w.bytes(e.payload, VALUE_BYTES_MAX);
  });
  const body = w.finish();
  const out = new Uint8Array(body.length + 32);
  out.set(body);
  out.set(blake3_32(body), body.length);
  return out;
}

export function decodeSnapshotFile(bytes: Uint8Array): SnapshotFile {
  if (bytes.length < MAGIC.length + 1 + 32 || !MAGIC.every((b, i) => bytes[i] === b)) {
    throw new SnapshotFileError(bytes.length < MAGIC.length ? "SNAPSHOT_FILE_TRUNCATED" : "SNAPSHOT_FILE_CORRUPT", "not a Phantom snapshot file (bad magic)");
  }
  const version = bytes[MAGIC.length]!;
  if (version !== SNAPSHOT_FILE_VERSION) throw new SnapshotFileError("SNAPSHOT_FILE_VERSION", `snapshot file version ${version}; this build reads ${SNAPSHOT_FILE_VERSION}`);
  const body = bytes.subarray(0, bytes.length - 32);
  if (!equalBytes(blake3_32(body), bytes.subarray(bytes.length - 32))) {
    throw new SnapshotFileError("SNAPSHOT_FILE_TRUNCATED", "snapshot file checksum does not match: the file is truncated or damaged (copy it again)");
  }
  try {
    const r = new Reader(body);
    r.fixed(MAGIC.length + 1, "magic");
    const genesisCommitment = r.fixed(32, "genesis commitment");
    const anchorCount = r.u64("anchor count");
    const chainHash = r.fixed(32, "anchor chain hash");
    const engineState = r.bytes(1 << 30, "engine state");
    const tables = r.list(64, (r) => {
      const name = new TextDecoder().decode(r.bytes(64, "table name"));
      const columns = r.list(64, (r) => new TextDecoder().decode(r.bytes(64, "column")), "columns");
      const rows = r.list(ROWS_MAX, (r) => columns.map(() => readValue(r)), "rows");
      return { name, columns, rows };
    }, "tables");
    const coveredEvents = r.varint("covered events");
    const events = r.list(ROWS_MAX, (r) => {
      const event = readSignedEvent(r);
      const payload = r.u8("payload flag") === 1 ? r.bytes(VALUE_BYTES_MAX, "payload") : null;
      return { event, payload };
    }, "events");
    r.end("snapshot file");
    if (coveredEvents > events.length) throw new CodecError("CODEC_INVALID", "more covered events than events");
    return { genesisCommitment, anchorCount, chainHash, engineState, tables, events, coveredEvents };
  } catch (e) {
    if (e instanceof CodecError) throw new SnapshotFileError("SNAPSHOT_FILE_CORRUPT", `snapshot file does not decode: ${e.message}`);
    throw e;
  }
}

function dumpTable(store: SqliteStore, name: string, orderBy: string): TableDump {
  const columns = (store.db.query(`PRAGMA table_info(${name})`).all() as { name: string }[]).map((c) => c.name);
  const rows = (store.db.query(`SELECT ${columns.join(", ")} FROM ${name} ORDER BY ${orderBy}`).values() as Value[][]);
  return { name, columns, rows };
}

export interface CreateOptions {
  genesisCommitment: Uint8Array;
  engineConfig: EngineConfig;
  /** Anchors before the ledger's next one whose events the ledger may read back (fee settlement window). */
  keepAnchors: bigint;
}

/** Builds a file from a stopped node's store: its newest intact snapshot plus the ledger. */
export function createSnapshotFile(store: SqliteStore, opts: CreateOptions): SnapshotFile {
  const snap = new SnapshotStore(store).list().find((s) => s.intact);
  if (snap === undefined) {
    throw new SnapshotFileError("SNAPSHOT_NONE", "the store holds no consensus snapshot; start the node and stop it cleanly once (it writes one at shutdown)");
  }
  const engine = ConsensusEngine.fromState(opts.engineConfig, snap.engineState);
  // Empty optional tables stay out, so a single-shard store's file is what it was before sharding.
  const tables = LEDGER_TABLES.map((t) => dumpTable(store, t.name, t.orderBy)).filter((t, i) => !LEDGER_TABLES[i]!.optional || t.rows.length > 0);
  const anchors = tables.find((t) => t.name === "anchors")!;
  const commitmentCol = anchors.columns.indexOf("commitment");
  const chainHash = anchorChainHash(opts.genesisCommitment, anchors.rows.map((row) => row[commitmentCol] as Uint8Array));
  const next = store.lastApplied() === undefined ? 0n : store.lastApplied()!.anchorIndex + 1n;
  // Events: the settlement window's anchor events first (old, out of the engine's memory),
  // then the engine's memory in insertion order, then what was stored after the snapshot.
  const seen = new Set<string>();
  const events: SnapshotFile["events"] = [];
  const add = (e: SignedEvent | undefined): void => {
    if (e === undefined || seen.has(toHex(e.id))) return;
    seen.add(toHex(e.id));
    events.push({ event: e, payload: store.getPayload(e.header.payloadDigest) ?? null });
  };
  const memory = engine.eventsAfter(engine.highestSeq().map(() => -1), Number.MAX_SAFE_INTEGER);
  const inMemory = new Set(memory.map((e) => toHex(e.id)));
  const from = next > opts.keepAnchors ? next - opts.keepAnchors : 0n;
  const anchorEvents = store.db.query(`SELECT event_id FROM anchor_events WHERE anchor >= ? ORDER BY anchor`).all(from) as { event_id: Uint8Array }[];
  for (const row of anchorEvents) if (!inMemory.has(toHex(new Uint8Array(row.event_id)))) add(store.getEvent(new Uint8Array(row.event_id)));
  for (const e of memory) add(e);
  const coveredEvents = events.length;
  for (const e of store.allEventsInInsertOrder(snap.eventSeqNo)) add(e);
  return { genesisCommitment: opts.genesisCommitment, anchorCount: snap.anchorCount, chainHash, engineState: snap.engineState, tables, events, coveredEvents };
}

export interface RestoreOptions {
  genesisCommitment: Uint8Array;
  engineConfig: EngineConfig;
  emission: EmissionParams;
}

export interface RestoreResult {
  lastAnchor: bigint | null;
  stateRoot: string;
  events: number;
}

/**
 * Verifies `file` and writes a new store for it at `storeDir` (which must not exist or be
 * empty). Built in a sibling folder and renamed into place only once every check passed.
 */
export function restoreSnapshotFile(file: SnapshotFile, storeDir: string, opts: RestoreOptions): RestoreResult {
  if (!equalBytes(file.genesisCommitment, opts.genesisCommitment)) {
    throw new SnapshotFileError("SNAPSHOT_FILE_GENESIS", `snapshot file belongs to genesis ${toHex(file.genesisCommitment)}, not ${toHex(opts.genesisCommitment)}`);
  }
  if (existsSync(storeDir) && readdirSync(storeDir).length > 0) {
    throw new SnapshotFileError("SNAPSHOT_TARGET_NOT_EMPTY", `${storeDir} is not empty; restore into a new or empty folder (move the old store away first)`);
  }
  const byName = new Map(file.tables.map((t) => [t.name, t]));
  for (const t of LEDGER_TABLES) if (!t.optional && !byName.has(t.name)) throw new SnapshotFileError("SNAPSHOT_FILE_CORRUPT", `snapshot file lacks table ${t.name}`);
  checkChain(file, byName.get("anchors")!, byName.get("ledger_state")!);
  // The engine state must fit this genesis (ENGINE_STATE_MISMATCH otherwise) and the ledger.
  const engine = ConsensusEngine.fromState(opts.engineConfig, file.engineState);
  if (engine.stats().finalizedCount !== file.anchorCount) throw new SnapshotFileError("SNAPSHOT_FILE_CORRUPT", "engine state and header disagree on the anchor count");

  const work = join(dirname(storeDir), `.${basename(storeDir)}.restoring`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true, mode: 0o700 });
  try {
    let store = new SqliteStore({ storeDir: work, emission: opts.emission, fsync: true, genesisCommitment: opts.genesisCommitment });
    try {
      writeTables(store, file.tables);
      const covered = file.events.slice(0, file.coveredEvents);
      if (covered.length > 0) store.putEvents(covered.map((e) => ({ event: e.event, payload: e.payload ?? undefined })));
      const snapshots = new SnapshotStore(store);
      const eventSeqNo = snapshots.lastEventSeqNo();
      snapshots.write({ anchorCount: file.anchorCount, eventSeqNo, engineState: file.engineState });
      const tail = file.events.slice(file.coveredEvents);
      if (tail.length > 0) store.putEvents(tail.map((e) => ({ event: e.event, payload: e.payload ?? undefined })));
      // History before the file is not here: the store counts as pruned through the snapshot.
      new StorePruner(store).markRestored(eventSeqNo, opts.engineConfig.committee.publicKeys.length);
    } finally {
      store.close();
    }
    // Reopening runs the store's commitment check; the audit recomputes the UTXO LtHash.
    try {
      store = new SqliteStore({ storeDir: work, emission: opts.emission, fsync: true, genesisCommitment: opts.genesisCommitment });
    } catch (e) {
      if (isPhantomError(e) && e.code === "STORE_CORRUPT") throw new SnapshotFileError("SNAPSHOT_FILE_COMMITMENT", `the file's ledger does not recompute to its commitment: ${e.message}`);
      throw e;
    }
    try {
      if (!store.auditAccumulator()) throw new SnapshotFileError("SNAPSHOT_FILE_COMMITMENT", "the file's UTXO set does not hash to its recorded accumulator");
      const last = store.lastApplied();
      if (last !== undefined && !equalBytes(store.commitmentAt(last.anchorIndex) ?? new Uint8Array(0), last.commitment)) {
        throw new SnapshotFileError("SNAPSHOT_FILE_COMMITMENT", `the ledger's commitment is not the one recorded for anchor ${last.anchorIndex}`);
      }
      const result = { lastAnchor: last?.anchorIndex ?? null, stateRoot: last ? toHex(last.commitment) : "", events: store.eventCount() };
      store.close();
      if (existsSync(storeDir)) rmSync(storeDir, { recursive: true });
      renameSync(work, storeDir);
      return result;
    } finally {
      store.close();
    }
  } catch (e) {
    rmSync(work, { recursive: true, force: true });
    throw e;
  }
}

/** Anchors 0..L contiguous, L = ledger_state.last_anchor, folding to the header's chain hash. */
function checkChain(file: SnapshotFile, anchors: TableDump, state: TableDump): void {
  const ai = anchors.columns.indexOf("anchor");
  const ci = anchors.columns.indexOf("commitment");
  if (ai < 0 || ci < 0) throw new SnapshotFileError("SNAPSHOT_FILE_CORRUPT", "anchors table lacks its anchor or commitment column");
  anchors.rows.forEach((row, i) => {
    if (row[ai] !== BigInt(i)) throw new SnapshotFileError("SNAPSHOT_FILE_CHAIN", `anchor list is not contiguous at position ${i}`);
  });
  const li = state.columns.indexOf("last_anchor");
  const last = state.rows[0]?.[li];
  const expected = last === null || last === undefined ? 0 : Number(last) + 1;
  if (anchors.rows.length !== expected) throw new SnapshotFileError("SNAPSHOT_FILE_CHAIN", `the file holds ${anchors.rows.length} anchors, its ledger is at ${expected}`);
  if (file.anchorCount > BigInt(expected)) throw new SnapshotFileError("SNAPSHOT_FILE_CHAIN", `consensus state covers ${file.anchorCount} anchors, the ledger only ${expected}`);
  const h = anchorChainHash(file.genesisCommitment, anchors.rows.map((row) => row[ci] as Uint8Array));
  if (!equalBytes(h, file.chainHash)) throw new SnapshotFileError("SNAPSHOT_FILE_CHAIN", "the anchor commitments do not fold to the file's anchor-chain hash from the genesis commitment");
}

/** Inserts the dumped rows; table and column names must be the store's own (never SQL from the file). */
function writeTables(store: SqliteStore, tables: readonly TableDump[]): void {
  const allowed = new Set(LEDGER_TABLES.map((t) => t.name));
  store.runWrite("restoreTables", () =>
    store.db.transaction(() => {
      for (const t of tables) {
        if (!allowed.has(t.name)) throw new SnapshotFileError("SNAPSHOT_FILE_CORRUPT", `unexpected table ${JSON.stringify(t.name)}`);
        const real = new Set((store.db.query(`PRAGMA table_info(${t.name})`).all() as { name: string }[]).map((c) => c.name));
        for (const c of t.columns) if (!real.has(c)) throw new SnapshotFileError("SNAPSHOT_FILE_CORRUPT", `table ${t.name} has no column ${JSON.stringify(c)}`);
        const insert = store.db.query(`INSERT INTO ${t.name} (${t.columns.join(", ")}) VALUES (${t.columns.map(() => "?").join(", ")})`);
        for (const row of t.rows) insert.run(...(row as never[]));
      }
    }).immediate(),
  );
}
