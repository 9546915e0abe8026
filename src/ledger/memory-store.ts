/**
 * In-memory LedgerStore: the reference implementation the SQLite store is tested
 * against, and the clean replay of tests and crash checks. Holds everything in maps;
 * no I/O.
 */
import { invariant } from "../errors.ts";
import { toHex, compareBytes } from "../crypto/bytes.ts";
import type { EmissionParams } from "../genesis/genesis.ts";
import type { UtxoEntry } from "./validate.ts";
import { type AnchorDiff, type AppliedAnchor, type CreatedUtxo, type MintRecord, type MintTip, type SpentRecord, type WritableLedgerStore, type EvidenceRecord, outpointMapKey, outpointString, outpointKey } from "./state.ts";
import { genesisMintTip } from "./emission.ts";
import { LTHASH_BYTES } from "./lthash.ts";
import type { SlashRecord, StakeEntry } from "./stake.ts";
import type { PendingFee, SettlementRecord } from "./settlement.ts";
import type { ExportLeaf } from "./export-tree.ts";
import type { ShardRoot } from "./shard-root.ts";
import type { AcceptedImport, SupplyCounters } from "./cross-shard.ts";

export class MemoryLedgerStore implements WritableLedgerStore {
  private readonly utxos = new Map<string, CreatedUtxo>();
  private readonly spent = new Map<string, SpentRecord>();
  private readonly evidence = new Map<string, EvidenceRecord>();
  private tip: MintTip;
  private acc: Uint8Array = new Uint8Array(LTHASH_BYTES);
  private last: AppliedAnchor | undefined;
  /** Commitment recorded per anchor index. */
  readonly commitments: Uint8Array[] = [];
  readonly mints: MintRecord[] = [];
  private stakes: StakeEntry[] = [];
  private pending: PendingFee[] = [];
  /** Every settlement and every penalty, in anchor order. */
  readonly settlements: SettlementRecord[] = [];
  readonly slashes: SlashRecord[] = [];
  /** Sharding: exports by epoch (finalized order), this shard's roots by epoch, imports. */
  private readonly exportsByEpoch = new Map<bigint, ExportLeaf[]>();
  private readonly roots: ShardRoot[] = [];
  private readonly imported = new Map<string, AcceptedImport>();
  private readonly certified = new Map<string, Uint8Array>();
  private exportedUnits = 0n;
  private importedUnits = 0n;

  constructor(emission: EmissionParams) {
    this.tip = genesisMintTip(emission);
  }

  getUtxo(txid: Uint8Array, index: number): UtxoEntry | undefined {
    return this.utxos.get(outpointMapKey(txid, index))?.entry;
  }

  getSpent(txid: Uint8Array, index: number): SpentRecord | undefined {
    return this.spent.get(outpointMapKey(txid, index));
  }

  mintTip(): MintTip {
    return this.tip;
  }

  accumulator(): Uint8Array {
    return this.acc;
  }

  lastApplied(): AppliedAnchor | undefined {
    return this.last;
  }

  hasEvidence(id: Uint8Array): boolean {
    return this.evidence.has(toHex(id));
  }

  stakeTable(): readonly StakeEntry[] {
    return this.stakes;
  }

  pendingFees(): readonly PendingFee[] {
    return this.pending;
  }

  exportsOfEpoch(epoch: bigint): ExportLeaf[] {
    return [...(this.exportsByEpoch.get(epoch) ?? [])];
  }

  shardRoot(epoch: bigint): ShardRoot | undefined {
    return epoch < BigInt(this.roots.length) ? this.roots[Number(epoch)] : undefined;
  }

  lastShardRoot(): ShardRoot | undefined {
    return this.roots[this.roots.length - 1];
  }

  isImported(exportId: Uint8Array): boolean {
    return this.imported.has(toHex(exportId));
  }

  certifiedRoot(shard: number, epoch: bigint): Uint8Array | undefined {
    return this.certified.get(`${shard}:${epoch}`);
  }

  shardSupply(): SupplyCounters {
    return { minted: this.tip.emittedUnits, exported: this.exportedUnits, imported: this.importedUnits };
  }

  commitAnchor(diff: AnchorDiff): void {
    const expected = this.last ? this.last.anchorIndex + 1n : 0n;
    invariant(diff.anchorIndex === expected, `memory store: anchor ${diff.anchorIndex} committed out of order (expected ${expected})`);
    for (const c of diff.created) {
      const k = outpointMapKey(c.txid, c.index);
      invariant(!this.utxos.has(k), `memory store: output ${outpointString(c.txid, c.index)} already exists`);
      this.utxos.set(k, c);
    }
    for (const s of diff.spent) {
      const k = outpointMapKey(s.txid, s.index);
      invariant(this.utxos.delete(k), `memory store: spent output ${outpointString(s.txid, s.index)} does not exist`);
      this.spent.set(k, { anchorIndex: diff.anchorIndex, spentBy: s.spentBy });
    }
    for (const e of diff.evidence) this.evidence.set(toHex(e.id), e);
    this.mints.push(...diff.mints);
    this.stakes = diff.stakes;
    if (diff.settlement) {
      const settled = diff.settlement.anchorIndex;
      this.pending = this.pending.filter((p) => p.anchorIndex !== settled);
      this.settlements.push(diff.settlement);
    }
    if (diff.pendingAdded) this.pending = [...this.pending, diff.pendingAdded];
    this.slashes.push(...diff.slashes);
    this.commitShard(diff);
    this.tip = diff.mintTip;
    this.acc = diff.accumulator;
    this.last = { anchorIndex: diff.anchorIndex, commitment: diff.commitment };
    this.commitments.push(diff.commitment);
  }

  private commitShard(diff: AnchorDiff): void {
    if (diff.exports.length > 0) {
      const epoch = diff.shardEpoch;
      invariant(epoch !== undefined, "memory store: a diff with exports names its epoch");
      this.exportsByEpoch.set(epoch, [...(this.exportsByEpoch.get(epoch) ?? []), ...diff.exports]);
      for (const e of diff.exports) this.exportedUnits += e.amount;
    }
    for (const a of diff.imports) {
      this.imported.set(toHex(a.exportId), a);
      this.certified.set(`${a.sourceShard}:${a.epoch}`, a.rootDigest);
      this.importedUnits += a.output.amount;
    }
    if (diff.shardRoot) {
      invariant(diff.shardRoot.epoch === BigInt(this.roots.length), `memory store: shard root of epoch ${diff.shardRoot.epoch} out of order`);
      this.roots.push(diff.shardRoot);
    }
  }

  /** The UTXO set in outpoint-key order (txid bytes, then index), as the SQLite store lists it. */
  allUtxos(): CreatedUtxo[] {
    return [...this.utxos.values()].sort((a, b) => compareBytes(outpointKey(a.txid, a.index), outpointKey(b.txid, b.index)));
  }

  /** Σ of every unspent output, in units (supply audits). */
  unspentUnits(): bigint {
    let total = 0n;
    for (const u of this.utxos.values()) total += u.entry.amount;
    return total;
  }

  utxoCount(): number {
    return this.utxos.size;
  }
}
