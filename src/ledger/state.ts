/**
 * What the pure ledger reads and what one applied anchor changes. `LedgerStore` is
 * implemented by the in-memory store (src/ledger/memory-store.ts) and by the SQLite
 * store (src/store/sqlite-store.ts); the ledger never imports an I/O module.
 */
import type { UtxoEntry, UtxoReader } from "./validate.ts";
import type { MintTx } from "../types/mint.ts";
import type { EvidenceKind } from "./evidence.ts";
import { HASH_BYTES } from "../types/constants.ts";
import type { SlashRecord, StakeEntry } from "./stake.ts";
import type { PendingFee, SettlementRecord } from "./settlement.ts";
import type { ExportLeaf } from "./export-tree.ts";
import type { ShardRoot } from "./shard-root.ts";
import type { AcceptedImport, SupplyCounters } from "./cross-shard.ts";

export interface MintTip {
  /** Id of the last accepted mint; all zero before the first. */
  tipId: Uint8Array;
  /** Height the next mint must carry (0 before the first). */
  nextHeight: bigint;
  /** Leading zero bits the next mint needs. */
  targetBits: number;
  /** Anchor index that opened the current difficulty window (0 at genesis, else the anchor of the previous window's last mint). */
  windowStartAnchor: bigint;
  /** Sum of every accepted mint reward, in units. */
  emittedUnits: bigint;
}

/** Where an outpoint was spent (kept so a later spend can be voided as a double spend, not as "unknown"). */
export interface SpentRecord {
  anchorIndex: bigint;
  spentBy: Uint8Array;
}

export interface AppliedAnchor {
  anchorIndex: bigint;
  commitment: Uint8Array;
}

/** Everything the pure ledger needs to read. */
export interface LedgerStore extends UtxoReader {
  getUtxo(txid: Uint8Array, index: number): UtxoEntry | undefined;
  getSpent(txid: Uint8Array, index: number): SpentRecord | undefined;
  /** The mint chain tip and difficulty window. */
  mintTip(): MintTip;
  /** The LtHash accumulator bytes of the current UTXO set (2048 bytes). */
  accumulator(): Uint8Array;
  /** The last applied anchor, undefined before the first. */
  lastApplied(): AppliedAnchor | undefined;
  hasEvidence(id: Uint8Array): boolean;
  /** The stake table after the last applied anchor; empty before the first (the ledger then starts from genesis). */
  stakeTable(): readonly StakeEntry[];
  /** Fees awaiting settlement, by ascending anchor index (SPEC_FEES §7). */
  pendingFees(): readonly PendingFee[];
  // Sharding (docs/SPEC_SHARDING.md); all empty on a single-shard ledger.
  /** The exports of anchors of `epoch` committed so far, in finalized order (§5.3). Never pruned. */
  exportsOfEpoch(epoch: bigint): ExportLeaf[];
  /** This shard's root of a closed epoch. */
  shardRoot(epoch: bigint): ShardRoot | undefined;
  /** This shard's root of the last closed epoch. */
  lastShardRoot(): ShardRoot | undefined;
  /** Whether an import of `exportId` was applied (kept for ever: exactly once, §8). */
  isImported(exportId: Uint8Array): boolean;
  /** Root digest of (source shard, epoch) recorded by an accepted import. */
  certifiedRoot(shard: number, epoch: bigint): Uint8Array | undefined;
  /** Supply counters of this shard (§10): minted (the mint chain's emitted units), exported, imported. */
  shardSupply(): SupplyCounters;
}

/** A LedgerStore that can also commit one anchor's changes atomically. */
export interface WritableLedgerStore extends LedgerStore {
  /** Applies `diff` all-or-nothing: created outputs first, then spends, then the rest. */
  commitAnchor(diff: AnchorDiff): void;
}

export interface CreatedUtxo {
  txid: Uint8Array;
  index: number;
  entry: UtxoEntry;
}

export interface SpentUtxo {
  txid: Uint8Array;
  index: number;
  entry: UtxoEntry;
  spentBy: Uint8Array;
}

export interface MintRecord {
  id: Uint8Array;
  mint: MintTx;
  anchorIndex: bigint;
  rewardUnits: bigint;
}

export interface EvidenceRecord {
  id: Uint8Array;
  kind: EvidenceKind;
  /** Committee index of the validator the evidence accuses. */
  offender: number;
  anchorIndex: bigint;
  /** Canonical evidence bytes. */
  bytes: Uint8Array;
}

/** Result of one payload transaction, in payload order. */
export type TxOutcome =
  | { position: number; kind: "micro"; id: Uint8Array; applied: true; feeUnits: bigint }
  | { position: number; kind: "mint"; id: Uint8Array; applied: true; rewardUnits: bigint }
  | { position: number; kind: "evidence"; id: Uint8Array; applied: true }
  /** An accepted import claim: `id` is the export id, the txid of the created UTXO (id, 0). */
  | { position: number; kind: "import"; id: Uint8Array; applied: true; amountUnits: bigint }
  | { position: number; kind: "micro" | "mint" | "evidence" | "import"; id: Uint8Array; applied: false; code: string; message: string };

/** All state changes of one finalized anchor. */
export interface AnchorDiff {
  anchorIndex: bigint;
  created: CreatedUtxo[];
  spent: SpentUtxo[];
  mints: MintRecord[];
  evidence: EvidenceRecord[];
  mintTip: MintTip;
  /** LtHash accumulator after this anchor (2048 bytes). */
  accumulator: Uint8Array;
  /** blake3_32(accumulator): the UTXO part of the commitment. */
  utxoRoot: Uint8Array;
  /** The state commitment recorded for this anchor index (src/ledger/commitment.ts). */
  commitment: Uint8Array;
  feesUnits: bigint;
  /** Stake table after this anchor (k entries; empty without economics). */
  stakes: StakeEntry[];
  /** Penalties applied by this anchor's evidence, in payload order. */
  slashes: SlashRecord[];
  /** This anchor's fees, now awaiting settlement (absent when it carried none). */
  pendingAdded?: PendingFee;
  /** The earlier anchor settled here (payout outputs are in `created`). */
  settlement?: SettlementRecord;
  /** Payout root committed by this anchor (all zero when it settles nothing). */
  payoutRoot: Uint8Array;
  /** Σ fees awaiting settlement after this anchor. */
  pendingFeesUnits: bigint;
  outcomes: TxOutcome[];
  /** Set when the finalized payload bytes did not decode: the anchor applied as empty (codec error code). */
  payloadError?: string;
  /**
   * Sharding (S > 1, docs/SPEC_SHARDING.md): outputs of this anchor for other shards, in
   * finalized order (payload position, output index; fee payouts last). Not in `created`.
   */
  exports: ExportLeaf[];
  /** Sharded ledger: the epoch this anchor belongs to (anchorIndex / shard_root_interval). */
  shardEpoch?: bigint;
  /** Accepted import claims, in payload order (their UTXOs (export_id, 0) are in `created`). */
  imports: AcceptedImport[];
  /** Set on the last anchor of an epoch when S > 1: this shard's root of that epoch (§6). */
  shardRoot?: ShardRoot;
  /** root_digest of `shardRoot`. */
  shardRootDigest?: Uint8Array;
}

export const ZERO_ID = new Uint8Array(HASH_BYTES);

/** 36-byte outpoint key: txid then index as u32 big-endian (so keys sort by txid, then index). */
export function outpointKey(txid: Uint8Array, index: number): Uint8Array {
  const k = new Uint8Array(HASH_BYTES + 4);
  k.set(txid, 0);
  k[HASH_BYTES] = index >>> 24;
  k[HASH_BYTES + 1] = (index >>> 16) & 0xff;
  k[HASH_BYTES + 2] = (index >>> 8) & 0xff;
  k[HASH_BYTES + 3] = index & 0xff;
  return k;
}

const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Human-readable outpoint (hex txid ':' index), for messages. */
export function outpointString(txid: Uint8Array, index: number): string {
  let s = "";
  for (let i = 0; i < txid.length; i++) s += HEX_BYTE[txid[i]!]!;
  return `${s}:${index}`;
}

/**
 * Compact in-memory Map key of an outpoint: the 32-byte txid as 16 UTF-16 code units,
 * then the u32 index as 2 (injective for 32-byte txids). Several times faster than hex,
 * and this runs several times per input on the hot path. Never shown or stored.
 */
export function outpointMapKey(t: Uint8Array, index: number): string {
  return String.fromCharCode(
    t[0]! | (t[1]! << 8), t[2]! | (t[3]! << 8), t[4]! | (t[5]! << 8), t[6]! | (t[7]! << 8),
    t[8]! | (t[9]! << 8), t[10]! | (t[11]! << 8), t[12]! | (t[13]! << 8), t[14]! | (t[15]! << 8),
    t[16]! | (t[17]! << 8), t[18]! | (t[19]! << 8), t[20]! | (t[21]! << 8), t[22]! | (t[23]! << 8),
    t[24]! | (t[25]! << 8), t[26]! | (t[27]! << 8), t[28]! | (t[29]! << 8), t[30]! | (t[31]! << 8),
    index & 0xffff, index >>> 16,
  );
}
