/**
 * The node's SQLite store (docs/STORAGE.md): one WAL database under the store dir
 * holding the UTXO set, per-anchor commitments, the mint chain, evidence, metadata,
 * and every accepted signed event and payload. Implements the pure ledger's
 * WritableLedgerStore: each finalized anchor is committed in ONE transaction.
 */
import { Database, type Statement } from "bun:sqlite";
import { ensurePrivateDir, ensurePrivateFile, tightenIfLoose } from "./private-files.ts";
import { join } from "node:path";
import { toHex, equalBytes } from "../crypto/bytes.ts";
import { blake3_32 } from "../crypto/hash.ts";
import { invariant } from "../errors.ts";
import type { EmissionParams } from "../genesis/genesis.ts";
import { genesisMintTip } from "../ledger/emission.ts";
import { LtHash, LTHASH_BYTES } from "../ledger/lthash.ts";
import type { UtxoEntry } from "../ledger/validate.ts";
import { type AnchorDiff, type AppliedAnchor, type CreatedUtxo, type MintTip, type SpentRecord, type WritableLedgerStore, outpointKey, outpointMapKey } from "../ledger/state.ts";
import { type SignedEvent, encodeSignedEvent, decodeSignedEvent } from "../types/event.ts";
import { encodeMintTx } from "../types/mint.ts";
import { HASH_BYTES } from "../types/constants.ts";
import { StoreError } from "./errors.ts";
import { LruCache } from "./lru.ts";
import { migrate, setLockIndex } from "./schema.ts";
import type { SlashRecord, StakeEntry } from "../ledger/stake.ts";
import type { PendingFee, SettlementRecord } from "../ledger/settlement.ts";
import { NO_PAYOUT_ROOT, commitmentOf } from "../ledger/commitment.ts";
import type { PayoutEntry } from "../consensus/payout.ts";
import type { StoreMetrics } from "./metrics.ts";
import { type ExportLeaf, encodeExportLeaf, decodeExportLeaf, exportId } from "../ledger/export-tree.ts";
import { type ShardRoot, encodeShardRoot, decodeShardRoot, shardRootDigest } from "../ledger/shard-root.ts";
import type { SupplyCounters } from "../ledger/cross-shard.ts";

export const STORE_FILE_NAME = "phantom.sqlite";
export const CACHE_HEADERS_DEFAULT = 10_000;
export const CACHE_PAYLOADS_DEFAULT = 5_000;
/** Recently created outputs kept in memory (most spends are of recent outputs). */
export const CACHE_UTXOS_DEFAULT = 100_000;
/** Rows read per page by allEventsInInsertOrder (bounds memory during replay). */
export const REPLAY_PAGE_ROWS = 1_000;
/** Most rows one listing call returns (eventsByCreatorFrom, utxosByLock, eventIds, payloadDigests). */
export const LIST_ROWS_MAX = 10_000;
/** Page size of new databases. */
export const PAGE_SIZE_BYTES = 4096;
/** WAL pages between automatic checkpoints (SQLite's default is 1,000). */
export const WAL_AUTOCHECKPOINT_PAGES = 1_000;
/** SQLite page cache, in KiB (negative cache_size means KiB). */
export const SQLITE_CACHE_KIB = 64 * 1024;

export interface SqliteStoreOptions {
  storeDir: string;
  /** Genesis emission parameters (the mint tip of an empty ledger). Tools that never touch the ledger may omit them. */
  emission?: EmissionParams;
  /** true: synchronous=FULL (durable on power loss); false: NORMAL (durable on process crash). */
  fsync: boolean;
  cacheHeadersCap?: number;
  cachePayloadsCap?: number;
  /** Recently created unspent outputs served from memory; 0 = off. Filled only by commits, so never stale. */
  cacheUtxosCap?: number;
  /** Genesis commitment: a store created for another genesis refuses to open. */
  genesisCommitment?: Uint8Array;
  metrics?: StoreMetrics;
  /** Keep the partial index that makes utxosByLock/balanceOf fast (default true; costs write time and disk). */
  lockIndex?: boolean;
  /** WAL pages before SQLite checkpoints into the main file (default WAL_AUTOCHECKPOINT_PAGES). */
  walAutocheckpointPages?: number;
  /** Page size of a NEW database file (ignored for an existing one). */
  pageSizeBytes?: number;
  /**
   * Told of every write SQLite refused, before the STORE_WRITE_FAILED error is thrown,
   * so the node fail-stops even if a caller catches the error (src/node/fail-stop.ts).
   */
  onWriteFailed?(error: StoreError): void;
}

export interface StoredEventInput {
  event: SignedEvent;
  /** Payload bytes for event.header.payloadDigest, when known. */
  payload?: Uint8Array;
}

type Row = Record<string, unknown>;
const big = (v: unknown): bigint => (typeof v === "bigint" ? v : BigInt(v as number));
const bytes = (v: unknown): Uint8Array => v as Uint8Array;

export class SqliteStore implements WritableLedgerStore {
  readonly db: Database;
  readonly path: string;
  readonly headerCache: LruCache<string, SignedEvent>;
  readonly payloadCache: LruCache<string, Uint8Array>;
  readonly utxoCache: LruCache<string, UtxoEntry>;
  private readonly metrics: StoreMetrics | undefined;
  private readonly emission: EmissionParams | undefined;
  private readonly onWriteFailed: ((error: StoreError) => void) | undefined;
  private readonly st: ReturnType<typeof prepareStatements>;
  private tip: MintTip | undefined;
  private acc!: Uint8Array;
  private last: AppliedAnchor | undefined;
  private stakes: StakeEntry[] = [];
  private pending: PendingFee[] = [];
  /** Sharding: cumulative exported and imported units (loaded at open, advanced by commits) and the last root. */
  private exportedUnits = 0n;
  private importedUnits = 0n;
  private lastRoot: ShardRoot | undefined;
  private closed = false;
  private readonly writeDiff: ReturnType<SqliteStore["makeWriteDiff"]>;
  private readonly writeEvents: ReturnType<SqliteStore["makeWriteEvents"]>;

  constructor(opts: SqliteStoreOptions) {
    this.path = join(opts.storeDir, STORE_FILE_NAME);
    try {
      ensurePrivateDir(opts.storeDir);
      // Created 0600 before SQLite opens it, so its -wal and -shm files are 0600 too; older stores are tightened.
      ensurePrivateFile(this.path);
      for (const suffix of ["-wal", "-shm"]) tightenIfLoose(this.path + suffix);
    } catch (e) {
      throw new StoreError("STORE_OPEN_FAILED", `cannot create store ${this.path}: ${(e as Error).message}`);
    }
    this.db = openDatabase(this.path, opts.fsync, opts.pageSizeBytes ?? PAGE_SIZE_BYTES, opts.walAutocheckpointPages ?? WAL_AUTOCHECKPOINT_PAGES);
    setLockIndex(this.db, opts.lockIndex ?? true);
    this.emission = opts.emission;
    this.metrics = opts.metrics;
    this.onWriteFailed = opts.onWriteFailed;
    this.headerCache = new LruCache(opts.cacheHeadersCap ?? CACHE_HEADERS_DEFAULT);
    this.payloadCache = new LruCache(opts.cachePayloadsCap ?? CACHE_PAYLOADS_DEFAULT);
    this.utxoCache = new LruCache(opts.cacheUtxosCap ?? CACHE_UTXOS_DEFAULT);
    this.st = prepareStatements(this.db);
    this.writeDiff = this.makeWriteDiff();
    this.writeEvents = this.makeWriteEvents();
    this.checkGenesis(opts.genesisCommitment);
    this.loadState();
  }

  private checkGenesis(commitment: Uint8Array | undefined): void {
    if (!commitment) return;
    const row = this.db.query<Row, [string]>(`SELECT value FROM meta WHERE key = ?`).get("genesis_commitment");
    if (!row) {
      this.runWrite("genesis", () => this.db.query(`INSERT INTO meta (key, value) VALUES (?, ?)`).run("genesis_commitment", commitment));
    } else if (!equalBytes(bytes(row.value), commitment)) {
      throw new StoreError("STORE_GENESIS_MISMATCH", `store ${this.path} belongs to genesis ${toHex(bytes(row.value))}, not ${toHex(commitment)}`);
    }
  }

  private loadState(): void {
    this.exportedUnits = big((this.db.query(`SELECT COALESCE(SUM(amount), 0) AS total FROM shard_exports`).get() as Row).total);
    this.importedUnits = big((this.db.query(`SELECT COALESCE(SUM(amount), 0) AS total FROM shard_imports`).get() as Row).total);
    const lastRoot = this.db.query(`SELECT root FROM shard_roots ORDER BY epoch DESC LIMIT 1`).get() as Row | null;
    this.lastRoot = lastRoot ? decodeShardRoot(bytes(lastRoot.root)) : undefined;
    const row = this.db.query<Row, []>(`SELECT * FROM ledger_state WHERE id = 0`).get();
    if (!row) {
      this.tip = this.emission ? genesisMintTip(this.emission) : undefined;
      this.acc = new Uint8Array(LTHASH_BYTES);
      this.last = undefined;
      return;
    }
    this.acc = bytes(row.accumulator).slice();
    if (this.acc.length !== LTHASH_BYTES) throw new StoreError("STORE_CORRUPT", "ledger_state.accumulator has the wrong size");
    const commitment = bytes(row.commitment).slice();
    this.stakes = (this.db.query(`SELECT stake, da_offenses FROM stakes ORDER BY validator`).all() as Row[]).map((r) => ({ stakeUnits: big(r.stake), daOffenses: Number(r.da_offenses) }));
    this.pending = (this.db.query(`SELECT anchor, event_id, creator, fees FROM fees_pending ORDER BY anchor`).all() as Row[]).map(rowToPending);
    const utxoRoot = LtHash.fromBytes(this.acc).commitment();
    const settled = row.last_anchor === null ? null : (this.st.settlementAt.get(big(row.last_anchor)) as Row | null);
    const recomputed = commitmentOf(utxoRoot, this.stakes, this.pending, settled ? bytes(settled.root) : NO_PAYOUT_ROOT);
    if (!equalBytes(recomputed, commitment)) {
      // Before schema 4 the commitment was blake3_32(accumulator) alone (state commitment v0).
      const v0 = equalBytes(utxoRoot, commitment) ? " (it was written before state commitment v1: rebuild this store by resyncing)" : "";
      throw new StoreError("STORE_CORRUPT", `ledger_state commitment does not match its accumulator, stakes, pending fees and payout root${v0}`);
    }
    this.last = row.last_anchor === null ? undefined : { anchorIndex: big(row.last_anchor), commitment };
    this.tip = {
      tipId: bytes(row.mint_tip).slice(),
      nextHeight: big(row.mint_next_height),
      targetBits: Number(row.mint_target_bits),
      windowStartAnchor: big(row.mint_window_start),
      emittedUnits: big(row.emitted_units),
    };
  }

  // ---- LedgerStore ----

  getUtxo(txid: Uint8Array, index: number): UtxoEntry | undefined {
    const cached = this.utxoCache.capacity > 0 ? this.utxoCache.peek(outpointMapKey(txid, index)) : undefined;
    if (cached) return cached;
    const row = this.st.getOutput.get(outpointKey(txid, index)) as Row | null;
    if (!row || row.spent_at !== null) return undefined;
    return { amount: big(row.amount), lockCommitment: bytes(row.lock), createdAt: big(row.created_at), coinbase: big(row.coinbase) === 1n };
  }

  getSpent(txid: Uint8Array, index: number): SpentRecord | undefined {
    const row = this.st.getOutput.get(outpointKey(txid, index)) as Row | null;
    return row && row.spent_at !== null ? { anchorIndex: big(row.spent_at), spentBy: bytes(row.spent_by) } : undefined;
  }

  mintTip(): MintTip {
    invariant(this.tip, "store opened without emission parameters has no mint tip");
    return this.tip;
  }

  accumulator(): Uint8Array {
    return this.acc;
  }

  lastApplied(): AppliedAnchor | undefined {
    return this.last;
  }

  /** Anchor index of the newest applied mint (its output's maturity counts from there), or undefined before the first. */
  lastMintAnchor(): bigint | undefined {
    const row = this.db.query(`SELECT anchor FROM mints ORDER BY height DESC LIMIT 1`).get() as Row | null;
    return row ? big(row.anchor) : undefined;
  }

  hasEvidence(id: Uint8Array): boolean {
    return this.st.hasEvidence.get(id) !== null;
  }

  stakeTable(): readonly StakeEntry[] {
    return this.stakes;
  }

  pendingFees(): readonly PendingFee[] {
    return this.pending;
  }

  // ---- sharding (docs/SPEC_SHARDING.md) ----

  exportsOfEpoch(epoch: bigint): ExportLeaf[] {
    return (this.st.exportsOfEpoch.all(epoch) as Row[]).map((r) => decodeExportLeaf(bytes(r.leaf)));
  }

  shardRoot(epoch: bigint): ShardRoot | undefined {
    const row = this.st.shardRootAt.get(epoch) as Row | null;
    return row ? decodeShardRoot(bytes(row.root)) : undefined;
  }

  lastShardRoot(): ShardRoot | undefined {
    return this.lastRoot;
  }

  isImported(id: Uint8Array): boolean {
    return this.st.isImported.get(id) !== null;
  }

  certifiedRoot(shard: number, epoch: bigint): Uint8Array | undefined {
    const row = this.st.certifiedRoot.get(shard, epoch) as Row | null;
    return row ? bytes(row.digest) : undefined;
  }

  shardSupply(): SupplyCounters {
    return { minted: this.tip?.emittedUnits ?? 0n, exported: this.exportedUnits, imported: this.importedUnits };
  }

  /** The accepted import of `exportId`: where it was applied (wallets, RPC). */
  importOf(id: Uint8Array): { anchorIndex: bigint; sourceShard: number; epoch: bigint; amount: bigint; lockCommitment: Uint8Array } | undefined {
    const row = this.db.query(`SELECT anchor, source_shard, epoch, amount, lock FROM shard_imports WHERE export_id = ?`).get(id) as Row | null;
    return row ? { anchorIndex: big(row.anchor), sourceShard: Number(row.source_shard), epoch: big(row.epoch), amount: big(row.amount), lockCommitment: bytes(row.lock) } : undefined;
  }

  /** The root digest of this shard's closed epoch. */
  shardRootDigestAt(epoch: bigint): Uint8Array | undefined {
    const row = this.st.shardRootAt.get(epoch) as Row | null;
    return row ? bytes(row.digest) : undefined;
  }

  /** Writes the sharding part of one anchor (inside its transaction). */
  private writeShard(diff: AnchorDiff): void {
    const st = this.st;
    if (diff.exports.length > 0) {
      const epoch = diff.shardEpoch;
      invariant(epoch !== undefined, "store: a diff with exports names its epoch");
      diff.exports.forEach((e, seq) => st.insertExport.run(diff.anchorIndex, seq, epoch, exportId(e), e.destShard, e.amount, encodeExportLeaf(e)));
    }
    diff.imports.forEach((a, seq) => {
      st.insertImport.run(a.exportId, diff.anchorIndex, seq, a.sourceShard, a.epoch, a.output.amount, a.output.lockCommitment);
      st.insertCertified.run(a.sourceShard, a.epoch, a.rootDigest, diff.anchorIndex);
    });
    const root = diff.shardRoot;
    if (root) st.insertShardRoot.run(root.epoch, diff.anchorIndex, diff.shardRootDigest ?? shardRootDigest(root), encodeShardRoot(root));
  }

  /**
   * Runs `fn` (several commitAnchor and index writes) in one SQLite transaction, so a node
   * catching up pays one commit for a batch of anchors instead of one each. Nested writes
   * become savepoints. A failure rolls the whole batch back and is fatal (fail-stop), so
   * the in-memory state the nested commits updated is never used again.
   */
  batchWrites<T>(operation: string, fn: () => T): T {
    this.assertOpen();
    return this.runWrite(operation, () => this.db.transaction(fn).immediate());
  }

  /** Commits one anchor's diff in one SQLite transaction (all or nothing). */
  commitAnchor(diff: AnchorDiff): void {
    this.assertOpen();
    const expected = this.last ? this.last.anchorIndex + 1n : 0n;
    invariant(diff.anchorIndex === expected, `store: anchor ${diff.anchorIndex} committed out of order (expected ${expected})`);
    const started = this.metrics ? performance.now() : 0;
    this.runWrite("commitAnchor", () => this.writeDiff.immediate(diff));
    // Only after COMMIT: the cache never holds what the database does not.
    if (this.utxoCache.capacity > 0) {
      for (const c of diff.created) this.utxoCache.set(outpointMapKey(c.txid, c.index), c.entry);
      for (const s of diff.spent) this.utxoCache.delete(outpointMapKey(s.txid, s.index));
    }
    this.tip = diff.mintTip;
    this.acc = diff.accumulator;
    this.stakes = diff.stakes;
    if (diff.settlement) {
      const settled = diff.settlement.anchorIndex;
      this.pending = this.pending.filter((p) => p.anchorIndex !== settled);
    }
    if (diff.pendingAdded) this.pending = [...this.pending, diff.pendingAdded];
    for (const e of diff.exports) this.exportedUnits += e.amount;
    for (const a of diff.imports) this.importedUnits += a.output.amount;
    if (diff.shardRoot) this.lastRoot = diff.shardRoot;
    this.last = { anchorIndex: diff.anchorIndex, commitment: diff.commitment };
    if (this.metrics) this.observeAnchor(this.metrics, diff, started);
  }

  private observeAnchor(m: StoreMetrics, diff: AnchorDiff, started: number): void {
    m.anchorCommitSeconds.observe((performance.now() - started) / 1000);
    m.anchorsCommitted.inc();
    m.ledgerAnchorIndex.set(Number(diff.anchorIndex));
    m.ledgerFeesUnits.inc(Number(diff.feesUnits));
    m.ledgerFeesPendingUnits.set(Number(diff.pendingFeesUnits));
    if (diff.settlement) m.ledgerPayoutsUnits.inc(Number(diff.settlement.feesUnits));
    for (const x of diff.slashes) m.ledgerSlashedUnits.inc({ kind: x.kind }, Number(x.slashedUnits));
    diff.stakes.forEach((e, v) => m.stakeUnits.set({ validator: String(v) }, Number(e.stakeUnits)));
    for (const o of diff.outcomes) {
      m.ledgerTxs.inc({ kind: o.kind, outcome: o.applied ? "applied" : "void" });
      if (!o.applied) m.ledgerVoid.inc({ code: o.code });
    }
  }

  private makeWriteDiff() {
    const fn = (diff: AnchorDiff) => {
      const st = this.st;
      for (const c of diff.created) st.insertOutput.run(outpointKey(c.txid, c.index), c.entry.amount, c.entry.lockCommitment, c.entry.createdAt, c.entry.coinbase ? 1 : 0);
      for (const s of diff.spent) {
        const key = outpointKey(s.txid, s.index);
        const spent = st.spendOutput.run(diff.anchorIndex, s.spentBy, key);
        invariant(spent.changes === 1, `store: spent output ${toHex(key)} was not in the UTXO set`);
      }
      for (const m of diff.mints) st.insertMint.run(m.mint.height, m.id, m.anchorIndex, m.rewardUnits, encodeMintTx(m.mint));
      for (const e of diff.evidence) st.insertEvidence.run(e.id, e.anchorIndex, e.kind, e.offender, e.bytes);
      this.writeEconomics(diff);
      this.writeShard(diff);
      let voided = 0;
      for (const o of diff.outcomes) {
        if (o.applied) continue;
        voided++;
        st.insertVoided.run(diff.anchorIndex, o.position, o.kind, o.id, o.code);
      }
      st.insertAnchor.run(diff.anchorIndex, diff.commitment, diff.feesUnits, diff.outcomes.length - voided, voided, diff.payloadError ?? null);
      const t = diff.mintTip;
      st.upsertState.run(diff.anchorIndex, diff.commitment, diff.accumulator, t.tipId, t.nextHeight, t.targetBits, t.windowStartAnchor, t.emittedUnits);
    };
    return this.db.transaction(fn);
  }

  /** Stake table, pending fees, settlement and penalties of one anchor (inside its transaction). */
  private writeEconomics(diff: AnchorDiff): void {
    const st = this.st;
    if (diff.slashes.length > 0 || this.stakes.length !== diff.stakes.length) {
      diff.stakes.forEach((e, v) => st.upsertStake.run(v, e.stakeUnits, e.daOffenses));
    }
    for (const x of diff.slashes) st.insertSlash.run(x.anchorIndex, x.evidenceId, x.kind, x.offender, x.bps, x.stakeBeforeUnits, x.slashedUnits);
    const s = diff.settlement;
    if (s) {
      st.deletePending.run(s.anchorIndex);
      st.insertSettlement.run(s.anchorIndex, s.settledAt, s.eventId, s.creator, s.feesUnits, s.root, s.txid, new Uint8Array(s.distances));
      if (s.feesUnits > 0n) for (const e of s.entries) st.insertPayout.run(s.anchorIndex, e.index, e.recipient, e.amount);
    }
    const p = diff.pendingAdded;
    if (p) st.insertPending.run(p.anchorIndex, p.eventId, p.creator, p.feesUnits);
  }

  // ---- ledger queries ----

  /** The settlement of anchor `anchorIndex` (its fees split k·D_max anchors later), undefined until then. */
  settlementOf(anchorIndex: bigint): SettlementRecord | undefined {
    const row = this.db.query(`SELECT * FROM settlements WHERE anchor = ?`).get(anchorIndex) as Row | null;
    if (!row) return undefined;
    const stored = (this.db.query(`SELECT validator, recipient, amount FROM payouts WHERE anchor = ? ORDER BY validator`).all(anchorIndex) as Row[]).map(
      (r): PayoutEntry => ({ index: Number(r.validator), recipient: bytes(r.recipient), amount: big(r.amount) }),
    );
    return {
      anchorIndex, settledAt: big(row.settled_at), eventId: bytes(row.event_id), creator: Number(row.creator), feesUnits: big(row.fees),
      distances: [...bytes(row.distances)], entries: stored, root: bytes(row.root), txid: bytes(row.txid),
    };
  }

  /** True when `txid` is the txid of an anchor's payout outputs (validator rewards). */
  isPayoutTxid(txid: Uint8Array): boolean {
    return this.st.isPayoutTxid.get(txid) !== null;
  }

  /** Σ of the unspent payout outputs (validator rewards) locked to `lockCommitment`, in units. */
  payoutBalanceOf(lockCommitment: Uint8Array): bigint {
    return big((this.st.payoutBalanceOf.get(lockCommitment) as Row).total);
  }

  /** Every penalty applied, in anchor order (at most `limit`). */
  slashes(limit: number): SlashRecord[] {
    return (this.db.query(`SELECT * FROM slashes ORDER BY anchor, evidence_id LIMIT ?`).all(clampLimit(limit)) as Row[]).map((r) => ({
      anchorIndex: big(r.anchor), evidenceId: bytes(r.evidence_id), kind: String(r.kind) as SlashRecord["kind"], offender: Number(r.offender),
      bps: Number(r.bps), stakeBeforeUnits: big(r.stake_before), slashedUnits: big(r.slashed),
    }));
  }

  /**
   * Units slashed per (anchor, offender), in anchor order: everything, unbounded, because a
   * restarted node re-derives its consensus weights from it (SPEC_CONSENSUS §1a). One row
   * per slashing anchor and offender, so it stays small.
   */
  slashedByAnchor(): { anchorIndex: bigint; offender: number; slashedUnits: bigint }[] {
    return (this.db.query(`SELECT anchor, offender, SUM(slashed) AS units FROM slashes GROUP BY anchor, offender ORDER BY anchor, offender`).all() as Row[]).map((r) => ({
      anchorIndex: big(r.anchor), offender: Number(r.offender), slashedUnits: big(r.units),
    }));
  }

  /** Σ fees awaiting settlement, in units. */
  pendingFeesUnits(): bigint {
    return this.pending.reduce((s, p) => s + p.feesUnits, 0n);
  }

  /** Σ of every unspent output, in units (supply audits). */
  unspentUnits(): bigint {
    return big((this.db.query(`SELECT COALESCE(SUM(amount), 0) AS total FROM outputs WHERE spent_at IS NULL`).get() as Row).total);
  }

  commitmentAt(anchorIndex: bigint): Uint8Array | undefined {
    const row = this.st.getAnchor.get(anchorIndex) as Row | null;
    return row ? bytes(row.commitment) : undefined;
  }

  /** What the store recorded for one anchor index. */
  anchorAt(anchorIndex: bigint): { commitment: Uint8Array; feesUnits: bigint; applied: number; voided: number; payloadError: string | null } | undefined {
    const row = this.db.query(`SELECT * FROM anchors WHERE anchor = ?`).get(anchorIndex) as Row | null;
    if (!row) return undefined;
    return { commitment: bytes(row.commitment), feesUnits: big(row.fees), applied: Number(row.applied), voided: Number(row.voided), payloadError: row.payload_error === null ? null : String(row.payload_error) };
  }

  anchorCount(): bigint {
    return big((this.db.query(`SELECT COUNT(*) AS n FROM anchors`).get() as Row).n);
  }

  utxoCount(): bigint {
    return big((this.db.query(`SELECT COUNT(*) AS n FROM outputs WHERE spent_at IS NULL`).get() as Row).n);
  }

  /** Every UTXO, in outpoint order (audits; streams rows). */
  *allUtxos(): Generator<CreatedUtxo> {
    for (const row of this.db.query(`SELECT * FROM outputs WHERE spent_at IS NULL ORDER BY outpoint`).iterate() as IterableIterator<Row>) yield rowToUtxo(row);
  }

  /** Unspent outputs locked to `lockCommitment`, in outpoint order, at most `limit` (wallets). */
  utxosByLock(lockCommitment: Uint8Array, limit: number): CreatedUtxo[] {
    return (this.st.utxosByLock.all(lockCommitment, clampLimit(limit)) as Row[]).map(rowToUtxo);
  }

  /** Sum of the unspent outputs locked to `lockCommitment`, in units. */
  balanceOf(lockCommitment: Uint8Array): bigint {
    return big((this.st.balanceOf.get(lockCommitment) as Row).total);
  }

  /** Recomputes the LtHash of the stored UTXO set from scratch and compares it with the recorded accumulator. */
  auditAccumulator(): boolean {
    const h = new LtHash();
    for (const u of this.allUtxos()) h.addUtxo(u.txid, u.index, u.entry);
    return equalBytes(h.toBytes(), this.acc);
  }

  voidedAt(anchorIndex: bigint): { position: number; kind: string; id: Uint8Array; code: string }[] {
    return (this.st.voidedAt.all(anchorIndex) as Row[]).map((r) => ({ position: Number(r.position), kind: String(r.kind), id: bytes(r.id), code: String(r.code) }));
  }

  // ---- events and payloads ----

  /** Persists signed events (and their payloads) in one transaction; duplicates are ignored. */
  putEvents(items: readonly StoredEventInput[]): void {
    this.assertOpen();
    for (const it of items) {
      if (it.payload && !equalBytes(blake3_32(it.payload), it.event.header.payloadDigest)) {
        throw new StoreError("STORE_PAYLOAD_DIGEST_MISMATCH", `payload for event ${toHex(it.event.id)} does not hash to its payload digest`);
      }
    }
    this.runWrite("putEvents", () => this.writeEvents.immediate(items));
    for (const it of items) {
      this.headerCache.set(toHex(it.event.id), it.event);
      if (it.payload) this.payloadCache.set(toHex(it.event.header.payloadDigest), it.payload);
    }
  }

  private makeWriteEvents() {
    return this.db.transaction((items: readonly StoredEventInput[]) => {
      for (const { event, payload } of items) {
        this.st.insertEvent.run(event.id, event.header.creator, event.header.seq, event.header.payloadDigest, encodeSignedEvent(event));
        if (payload) this.st.insertPayload.run(event.header.payloadDigest, payload);
      }
    });
  }

  /** Stores payload bytes under their digest (blake3_32 of the bytes). */
  /** Stores `payload` under its BLAKE3 digest; a caller that has just computed it passes it in. */
  putPayload(payload: Uint8Array, digest: Uint8Array = blake3_32(payload)): Uint8Array {
    this.assertOpen();
    this.runWrite("putPayload", () => this.st.insertPayload.run(digest, payload));
    this.payloadCache.set(toHex(digest), payload);
    return digest;
  }

  getEvent(id: Uint8Array): SignedEvent | undefined {
    const key = toHex(id);
    const cached = this.headerCache.get(key);
    if (cached) {
      this.metrics?.headerHits.inc();
      return cached;
    }
    this.metrics?.headerMisses.inc();
    const started = this.metrics ? performance.now() : 0;
    const row = this.st.getEvent.get(id) as Row | null;
    this.metrics?.headerReadSeconds.observe((performance.now() - started) / 1000);
    if (!row) return undefined;
    const event = decodeSignedEvent(bytes(row.bytes));
    this.headerCache.set(key, event);
    return event;
  }

  hasEvent(id: Uint8Array): boolean {
    return this.headerCache.has(toHex(id)) || this.st.hasEvent.get(id) !== null;
  }

  getPayload(digest: Uint8Array): Uint8Array | undefined {
    const key = toHex(digest);
    const cached = this.payloadCache.get(key);
    if (cached) {
      this.metrics?.payloadHits.inc();
      return cached;
    }
    this.metrics?.payloadMisses.inc();
    const started = this.metrics ? performance.now() : 0;
    const row = this.st.getPayload.get(digest) as Row | null;
    this.metrics?.payloadReadSeconds.observe((performance.now() - started) / 1000);
    if (!row) return undefined;
    const payload = bytes(row.bytes);
    this.payloadCache.set(key, payload);
    return payload;
  }

  /** A creator's events with seq >= `seq`, by seq (equivocating twins both appear), at most `limit`. */
  eventsByCreatorFrom(creator: number, seq: number, limit: number): SignedEvent[] {
    return (this.st.eventsByCreator.all(creator, seq, clampLimit(limit)) as Row[]).map((r) => decodeSignedEvent(bytes(r.bytes)));
  }

  /**
   * The first `limit` stored events a peer with `highestSeq` lacks (seq above its highest
   * per creator), in the order this store first stored them: a sync answer in that order
   * lets a node that is far behind insert everything this node inserted, pruning no
   * earlier than this node did (SPEC_CONSENSUS §12). Scans at most `scanRowsMax` rows.
   */
  eventsAfterInStoreOrder(highestSeq: readonly number[], limit: number, scanRowsMax = LIST_ROWS_MAX * 4): SignedEvent[] {
    let start: bigint | null = null;
    for (let c = 0; c < highestSeq.length; c++) {
      const row = this.st.firstRowAbove.get(c, highestSeq[c] ?? -1) as { first: number | bigint | null } | null;
      if (row?.first !== null && row?.first !== undefined && (start === null || big(row.first) < start)) start = big(row.first);
    }
    const out: SignedEvent[] = [];
    if (start === null) return out;
    let after = start - 1n;
    let scanned = 0;
    while (out.length < limit && scanned < scanRowsMax) {
      const rows = this.st.eventsPageMeta.all(after, REPLAY_PAGE_ROWS) as { seq_no: number | bigint; creator: number; seq: number; bytes: Uint8Array }[];
      for (const r of rows) {
        if (r.seq > (highestSeq[r.creator] ?? -1) && out.length < limit) out.push(decodeSignedEvent(bytes(r.bytes)));
      }
      scanned += rows.length;
      if (rows.length < REPLAY_PAGE_ROWS) break;
      after = big(rows[rows.length - 1]!.seq_no);
    }
    return out;
  }

  /**
   * Every stored event after store position `afterSeqNo` (0: all) in the order it was first
   * stored (replay after restart, the tail after a snapshot); pages through the table.
   */
  *allEventsInInsertOrder(afterSeqNo = 0n): Generator<SignedEvent> {
    let after = afterSeqNo;
    for (;;) {
      const rows = this.st.eventsPage.all(after, REPLAY_PAGE_ROWS) as Row[];
      for (const r of rows) yield decodeSignedEvent(bytes(r.bytes));
      if (rows.length < REPLAY_PAGE_ROWS) return;
      after = big(rows[rows.length - 1]!.seq_no);
    }
  }

  /** Up to `limit` event ids in insert order (tools, cache benchmarks). */
  eventIds(limit: number): Uint8Array[] {
    return (this.db.query(`SELECT id FROM events ORDER BY seq_no LIMIT ?`).all(clampLimit(limit)) as Row[]).map((r) => bytes(r.id));
  }

  /** Up to `limit` payload digests (tools, cache benchmarks). */
  payloadDigests(limit: number): Uint8Array[] {
    return (this.db.query(`SELECT digest FROM payloads LIMIT ?`).all(clampLimit(limit)) as Row[]).map((r) => bytes(r.digest));
  }

  eventCount(): number {
    return Number(big((this.db.query(`SELECT COUNT(*) AS n FROM events`).get() as Row).n));
  }

  /** Stored events after store position `afterSeqNo` (replay progress). */
  eventCountAfter(afterSeqNo: bigint): number {
    return Number(big((this.db.query(`SELECT COUNT(*) AS n FROM events WHERE seq_no > ?`).get(afterSeqNo) as Row).n));
  }

  // ---- lifecycle ----

  /**
   * Runs one write (a statement or a whole transaction). SQLite has rolled a failed
   * transaction back, and callers touch caches and in-memory state only after this
   * returns, so nothing uncommitted is ever served. A refusal (SQLITE_FULL,
   * SQLITE_IOERR_*, SQLITE_READONLY, ...) becomes one STORE_WRITE_FAILED error.
   */
  runWrite<T>(operation: string, write: () => T): T {
    try {
      return write();
    } catch (e) {
      if (!isSqliteError(e)) throw e;
      const error = new StoreError(
        "STORE_WRITE_FAILED",
        `store write failed (${operation}) in ${this.path}: ${e.message} [${e.code}]; free space or fix the disk under store_dir, then restart the node`,
        { reason: e.code, errno: e.errno, operation },
      );
      this.metrics?.writeFailures.inc({ reason: e.code });
      this.onWriteFailed?.(error);
      throw error;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError("STORE_CLOSED", "store is closed");
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of Object.values(this.st)) (s as Statement).finalize();
    this.db.close();
  }
}

/** bun:sqlite's SQLiteError: `code` is SQLite's name for the result code (e.g. SQLITE_FULL). */
function isSqliteError(e: unknown): e is Error & { code: string; errno: number } {
  return e instanceof Error && e.name === "SQLiteError" && typeof (e as { code?: unknown }).code === "string";
}

const clampLimit = (limit: number): number => (Number.isSafeInteger(limit) && limit > 0 ? Math.min(limit, LIST_ROWS_MAX) : 0);

function rowToPending(r: Row): PendingFee {
  return { anchorIndex: big(r.anchor), eventId: bytes(r.event_id).slice(), creator: Number(r.creator), feesUnits: big(r.fees) };
}

function rowToUtxo(row: Row): CreatedUtxo {
  const key = bytes(row.outpoint);
  return {
    txid: key.slice(0, HASH_BYTES),
    index: new DataView(key.buffer, key.byteOffset, key.byteLength).getUint32(HASH_BYTES, false),
    entry: { amount: big(row.amount), lockCommitment: bytes(row.lock), createdAt: big(row.created_at), coinbase: big(row.coinbase) === 1n },
  };
}

/** Opens (or creates) the database in WAL mode and migrates it; unusable files are a StoreError. */
function openDatabase(path: string, fsync: boolean, pageSizeBytes: number, walPages: number): Database {
  let db: Database | undefined;
  try {
    db = new Database(path, { create: true, readwrite: true, safeIntegers: true, strict: true });
    db.run(`PRAGMA page_size = ${pageSizeBytes | 0}`);
    // Takes effect on a new database only (before its first table): pruning then returns
    // freed pages to the file system with incremental_vacuum (src/store/pruning.ts).
    db.run(`PRAGMA auto_vacuum = INCREMENTAL`);
    db.run(`PRAGMA journal_mode = WAL`);
    db.run(`PRAGMA wal_autocheckpoint = ${walPages | 0}`);
    db.run(`PRAGMA synchronous = ${fsync ? "FULL" : "NORMAL"}`);
    db.run(`PRAGMA cache_size = -${SQLITE_CACHE_KIB}`);
    migrate(db);
    return db;
  } catch (e) {
    db?.close();
    if (e instanceof StoreError) throw e;
    throw new StoreError("STORE_OPEN_FAILED", `cannot open store ${path}: ${(e as Error).message}`);
  }
}

function prepareStatements(db: Database) {
  return {
    getOutput: db.prepare(`SELECT amount, lock, created_at, coinbase, spent_at, spent_by FROM outputs WHERE outpoint = ?`),
    hasEvidence: db.prepare(`SELECT 1 FROM evidence WHERE id = ?`),
    insertOutput: db.prepare(`INSERT INTO outputs (outpoint, amount, lock, created_at, coinbase) VALUES (?, ?, ?, ?, ?)`),
    spendOutput: db.prepare(`UPDATE outputs SET spent_at = ?, spent_by = ? WHERE outpoint = ? AND spent_at IS NULL`),
    insertMint: db.prepare(`INSERT INTO mints (height, id, anchor, reward, header) VALUES (?, ?, ?, ?, ?)`),
    insertEvidence: db.prepare(`INSERT INTO evidence (id, anchor, kind, offender, bytes) VALUES (?, ?, ?, ?, ?)`),
    insertVoided: db.prepare(`INSERT INTO voided (anchor, position, kind, id, code) VALUES (?, ?, ?, ?, ?)`),
    insertAnchor: db.prepare(`INSERT INTO anchors (anchor, commitment, fees, applied, voided, payload_error) VALUES (?, ?, ?, ?, ?, ?)`),
    upsertState: db.prepare(`INSERT OR REPLACE INTO ledger_state (id, last_anchor, commitment, accumulator, mint_tip, mint_next_height, mint_target_bits, mint_window_start, emitted_units) VALUES (0, ?, ?, ?, ?, ?, ?, ?, ?)`),
    utxosByLock: db.prepare(`SELECT outpoint, amount, lock, created_at, coinbase FROM outputs WHERE lock = ? AND spent_at IS NULL ORDER BY outpoint LIMIT ?`),
    balanceOf: db.prepare(`SELECT COALESCE(SUM(amount), 0) AS total FROM outputs WHERE lock = ? AND spent_at IS NULL`),
    getAnchor: db.prepare(`SELECT commitment FROM anchors WHERE anchor = ?`),
    isPayoutTxid: db.prepare(`SELECT 1 FROM settlements WHERE txid = ?`),
    payoutBalanceOf: db.prepare(`SELECT COALESCE(SUM(amount), 0) AS total FROM outputs WHERE lock = ? AND spent_at IS NULL AND substr(outpoint, 1, 32) IN (SELECT txid FROM settlements)`),
    settlementAt: db.prepare(`SELECT root FROM settlements WHERE settled_at = ?`),
    upsertStake: db.prepare(`INSERT OR REPLACE INTO stakes (validator, stake, da_offenses) VALUES (?, ?, ?)`),
    insertSlash: db.prepare(`INSERT INTO slashes (anchor, evidence_id, kind, offender, bps, stake_before, slashed) VALUES (?, ?, ?, ?, ?, ?, ?)`),
    insertPending: db.prepare(`INSERT INTO fees_pending (anchor, event_id, creator, fees) VALUES (?, ?, ?, ?)`),
    deletePending: db.prepare(`DELETE FROM fees_pending WHERE anchor = ?`),
    insertSettlement: db.prepare(`INSERT INTO settlements (anchor, settled_at, event_id, creator, fees, root, txid, distances) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    insertPayout: db.prepare(`INSERT INTO payouts (anchor, validator, recipient, amount) VALUES (?, ?, ?, ?)`),
    voidedAt: db.prepare(`SELECT position, kind, id, code FROM voided WHERE anchor = ? ORDER BY position`),
    insertEvent: db.prepare(`INSERT OR IGNORE INTO events (id, creator, seq, payload_digest, bytes) VALUES (?, ?, ?, ?, ?)`),
    insertPayload: db.prepare(`INSERT OR IGNORE INTO payloads (digest, bytes) VALUES (?, ?)`),
    getEvent: db.prepare(`SELECT bytes FROM events WHERE id = ?`),
    hasEvent: db.prepare(`SELECT 1 FROM events WHERE id = ?`),
    getPayload: db.prepare(`SELECT bytes FROM payloads WHERE digest = ?`),
    eventsByCreator: db.prepare(`SELECT bytes FROM events WHERE creator = ? AND seq >= ? ORDER BY seq, seq_no LIMIT ?`),
    eventsPage: db.prepare(`SELECT seq_no, bytes FROM events WHERE seq_no > ? ORDER BY seq_no LIMIT ?`),
    eventsPageMeta: db.prepare(`SELECT seq_no, creator, seq, bytes FROM events WHERE seq_no > ? ORDER BY seq_no LIMIT ?`),
    exportsOfEpoch: db.prepare(`SELECT leaf FROM shard_exports WHERE epoch = ? ORDER BY anchor, seq`),
    shardRootAt: db.prepare(`SELECT digest, root FROM shard_roots WHERE epoch = ?`),
    isImported: db.prepare(`SELECT 1 FROM shard_imports WHERE export_id = ?`),
    certifiedRoot: db.prepare(`SELECT digest FROM shard_certified WHERE shard = ? AND epoch = ?`),
    insertExport: db.prepare(`INSERT INTO shard_exports (anchor, seq, epoch, export_id, dest_shard, amount, leaf) VALUES (?, ?, ?, ?, ?, ?, ?)`),
    insertImport: db.prepare(`INSERT INTO shard_imports (export_id, anchor, seq, source_shard, epoch, amount, lock) VALUES (?, ?, ?, ?, ?, ?, ?)`),
    // A second import under the same certified root records nothing new; a conflicting one never gets here (§8 rule 2).
    insertCertified: db.prepare(`INSERT OR IGNORE INTO shard_certified (shard, epoch, digest, anchor) VALUES (?, ?, ?, ?)`),
    insertShardRoot: db.prepare(`INSERT INTO shard_roots (epoch, anchor, digest, root) VALUES (?, ?, ?, ?)`),
    firstRowAbove: db.prepare(`SELECT min(seq_no) AS first FROM events WHERE creator = ? AND seq > ?`),
  };
}
