/**
 * Cross-shard transfers as a pure state machine per shard (docs/SPEC_SHARDING.md §5, §8,
 * §10). The source side turns outputs for other shards into exports, collects each
 * epoch's exports into a tree and closes the epoch with a shard root; the destination
 * side checks import claims (certificate, proof, exactly once) and keeps the imported
 * export set. Amounts are bigint; the supply counters satisfy U + P = M − X + I per shard.
 * Nothing here reads a clock or iterates an unordered collection.
 */
import { Writer, Reader, decodeExact, CodecError } from "../codec/index.ts";
import { PhantomError, invariant } from "../errors.ts";
import { equalBytes, fromHex, toHex } from "../crypto/bytes.ts";
import { CODEC_VERSION, MAX_SUPPLY_UNITS } from "../types/constants.ts";
import type { Output } from "../types/tx.ts";
import {
  SHARD_TAG, type ExportLeaf, type ExportProof, exportId, exportLeafHash, exportRootOfHashes, exportProof, verifyExportProof,
  writeExportLeaf, readExportLeaf, writeExportProof, readExportProof, ZERO_ROOT,
} from "./export-tree.ts";
import {
  type ShardCertificate, type ShardRoot, type CertVerifyContext, SHARD_CERT_BYTES_MAX, writeShardCertificate, readShardCertificate,
  verifyShardCertificate, shardRootDigest,
} from "./shard-root.ts";
import { type ShardLayout, shardOfLock } from "./shard.ts";
import type { VerifyItem } from "../crypto/ed25519.ts";

/** An import claim: a certified source root, the export leaf and its proof (SPEC_SHARDING §8). */
export interface ImportClaim {
  cert: ShardCertificate;
  leaf: ExportLeaf;
  proof: ExportProof;
}

/** Certificate, 90-byte leaf, u32 index and at most 32 siblings. */
export const IMPORT_CLAIM_BYTES_MAX = 2 + SHARD_CERT_BYTES_MAX + 90 + 4 + 1 + 32 * 32;

export function writeImportClaim(w: Writer, c: ImportClaim): void {
  w.u8(SHARD_TAG.importClaim).u8(CODEC_VERSION);
  writeShardCertificate(w, c.cert);
  writeExportLeaf(w, c.leaf);
  writeExportProof(w, c.proof);
}

export function readImportClaim(r: Reader): ImportClaim {
  r.tag(SHARD_TAG.importClaim, "import claim");
  r.version(CODEC_VERSION, "import claim");
  const cert = readShardCertificate(r);
  const leaf = readExportLeaf(r);
  const proof = readExportProof(r);
  return { cert, leaf, proof };
}

export function encodeImportClaim(c: ImportClaim): Uint8Array {
  const w = new Writer(1024);
  writeImportClaim(w, c);
  return w.finish();
}

export function decodeImportClaim(b: Uint8Array): ImportClaim {
  if (b.length > IMPORT_CLAIM_BYTES_MAX) throw new CodecError("CODEC_LENGTH_TOO_LARGE", `import claim of ${b.length} bytes exceeds ${IMPORT_CLAIM_BYTES_MAX}`);
  return decodeExact(b, "import claim", readImportClaim);
}

export type ImportErrorCode = "IMPORT_WRONG_SOURCE" | "IMPORT_ROOT_CONFLICT" | "IMPORT_WRONG_DESTINATION" | "IMPORT_NOT_PROVEN" | "IMPORT_DUPLICATE";

export class ImportError extends PhantomError<ImportErrorCode> {
  constructor(code: ImportErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.name = "ImportError";
  }
}

export class CrossShardError extends PhantomError<"CROSS_SHARD_ANCHOR_OUT_OF_ORDER" | "CROSS_SHARD_UNKNOWN_EPOCH"> {
  constructor(code: "CROSS_SHARD_ANCHOR_OUT_OF_ORDER" | "CROSS_SHARD_UNKNOWN_EPOCH", message: string) {
    super(code, message);
    this.name = "CrossShardError";
  }
}

export interface CrossShardParams {
  /** Genesis commitment. */
  chain: Uint8Array;
  layout: ShardLayout;
  /** This shard. */
  shard: number;
  /** Anchors per shard root (`[chain] shard_root_interval`). */
  rootInterval: bigint;
  verify?: (items: readonly VerifyItem[]) => boolean[];
}

/** What an accepted import creates: the UTXO (export_id, 0) → (amount, lock). */
export interface AcceptedImport {
  exportId: Uint8Array;
  output: Output;
  sourceShard: number;
  epoch: bigint;
  rootDigest: Uint8Array;
}

export interface SupplyCounters {
  /** M: units minted on this shard. */
  minted: bigint;
  /** X: units exported (cumulative). */
  exported: bigint;
  /** I: units imported (cumulative). */
  imported: bigint;
}

interface ClosedEpoch {
  root: ShardRoot;
  digest: Uint8Array;
  leaves: ExportLeaf[];
  leafHashes: Uint8Array[];
}

/**
 * The export an output of shard `shard` becomes, or undefined when its lock is on `shard`
 * itself (SPEC_SHARDING §5.1). Shared by CrossShardLedger and applyAnchor.
 */
export function exportLeafOf(shard: number, shardCount: number, anchorIndex: bigint, txid: Uint8Array, outputIndex: number, output: Output): ExportLeaf | undefined {
  const dest = shardOfLock(output.lockCommitment, shardCount);
  if (dest === shard) return undefined;
  invariant(output.amount >= 0n && output.amount <= MAX_SUPPLY_UNITS, "output amounts were validated");
  return { sourceShard: shard, destShard: dest, anchorIndex, txid, outputIndex, amount: output.amount, lockCommitment: output.lockCommitment };
}

/**
 * Each leaf of an epoch (all of them, in finalized order, e.g. a store's exportsOfEpoch)
 * with its proof against that epoch's root: what a relay puts in import claims.
 */
export function exportsWithProofsOf(leaves: readonly ExportLeaf[], leafHashes: readonly Uint8Array[] = leaves.map(exportLeafHash)): { leaf: ExportLeaf; proof: ExportProof }[] {
  invariant(leafHashes.length === leaves.length, "one hash per leaf");
  return leaves.map((leaf, i) => ({ leaf, proof: exportProof(leafHashes, i) }));
}

/** Whether anchor `anchorIndex` is the last of its epoch of `rootInterval` anchors (SPEC_SHARDING §6). */
export function isEpochEnd(anchorIndex: bigint, rootInterval: bigint): boolean {
  return (anchorIndex + 1n) % rootInterval === 0n;
}

/** The shard root of an epoch from its leaf hashes in finalized order (SPEC_SHARDING §6). */
export function epochShardRoot(p: Pick<CrossShardParams, "chain" | "shard">, epoch: bigint, stateCommitment: Uint8Array, leafHashes: readonly Uint8Array[], prevRoot: Uint8Array): ShardRoot {
  return {
    chain: p.chain, shard: p.shard, epoch, stateCommitment,
    exportRoot: exportRootOfHashes(leafHashes), exportCount: leafHashes.length, prevRoot,
  };
}

/** What the §8 check reads of the destination's state (a store, or CrossShardLedger's maps). */
export interface ImportLookups {
  /** Root digest of (source shard, epoch) recorded by an earlier import, if any. */
  certifiedRoot(shard: number, epoch: bigint): Uint8Array | undefined;
  /** Whether the export was imported already (earlier anchors, or earlier in the same payload). */
  isImported(exportId: Uint8Array): boolean;
}

/**
 * SPEC_SHARDING §8: checks an import claim into shard `p.shard`, first failure wins, and
 * returns what it creates. Changes nothing. Throws ShardCertError (rule 1's certificate
 * checks), ImportError, or CodecError for a certificate object with signers out of order.
 */
export function checkImportClaim(claim: ImportClaim, p: CrossShardParams, look: ImportLookups): AcceptedImport {
  const ctx: CertVerifyContext = { chain: p.chain, layout: p.layout, ...(p.verify ? { verify: p.verify } : {}) };
  const { root } = claim.cert;
  const { rootDigest } = verifyShardCertificate(claim.cert, ctx);
  if (root.shard === p.shard) throw new ImportError("IMPORT_WRONG_SOURCE", `an import into shard ${p.shard} must come from another shard, the root is from shard ${root.shard}`);
  const known = look.certifiedRoot(root.shard, root.epoch);
  if (known !== undefined && !equalBytes(known, rootDigest)) {
    throw new ImportError("IMPORT_ROOT_CONFLICT", `shard ${root.shard} epoch ${root.epoch}: this certified root ${toHex(rootDigest).slice(0, 16)}… conflicts with the one already recorded ${toHex(known).slice(0, 16)}… (more than a third of that shard's stake signed twice)`);
  }
  const leaf = claim.leaf;
  if (leaf.sourceShard !== root.shard) throw new ImportError("IMPORT_WRONG_SOURCE", `export leaf names source shard ${leaf.sourceShard}, the certified root is shard ${root.shard}'s`);
  const lockShard = shardOfLock(leaf.lockCommitment, p.layout.shardCount);
  if (leaf.destShard !== p.shard || lockShard !== p.shard) {
    throw new ImportError("IMPORT_WRONG_DESTINATION", `export is for shard ${leaf.destShard} (its lock is on shard ${lockShard}), this is shard ${p.shard}`);
  }
  const from = root.epoch * p.rootInterval;
  const inEpoch = leaf.anchorIndex >= from && leaf.anchorIndex < from + p.rootInterval;
  if (!inEpoch || !verifyExportProof(exportLeafHash(leaf), claim.proof, root.exportRoot, root.exportCount)) {
    throw new ImportError("IMPORT_NOT_PROVEN", `the export is not in shard ${root.shard}'s certified root of epoch ${root.epoch} (unknown, voided or forged export)`);
  }
  const id = exportId(leaf);
  if (look.isImported(id)) {
    const idHex = toHex(id);
    throw new ImportError("IMPORT_DUPLICATE", `export ${idHex.slice(0, 16)}… was imported already: an export is imported exactly once`, { exportId: idHex });
  }
  return { exportId: id, output: { amount: leaf.amount, lockCommitment: leaf.lockCommitment }, sourceShard: root.shard, epoch: root.epoch, rootDigest };
}

export class CrossShardLedger {
  readonly p: CrossShardParams;
  private nextAnchor = 0n;
  private current: ExportLeaf[] = [];
  private readonly closed: ClosedEpoch[] = [];
  private prevDigest: Uint8Array = ZERO_ROOT.slice();
  /** export_id hex of every imported export (for ever: exactly once). */
  private readonly imported = new Set<string>();
  /** "shard:epoch" -> root digest hex of every certified root an import relied on. */
  private readonly certified = new Map<string, string>();
  private readonly counters: SupplyCounters = { minted: 0n, exported: 0n, imported: 0n };

  constructor(p: CrossShardParams) {
    invariant(p.shard >= 0 && p.shard < p.layout.shardCount, "this shard is one of the layout's");
    invariant(p.rootInterval >= 1n, "shard_root_interval >= 1");
    this.p = p;
  }

  private checkAnchor(anchorIndex: bigint): void {
    if (anchorIndex !== this.nextAnchor) throw new CrossShardError("CROSS_SHARD_ANCHOR_OUT_OF_ORDER", `anchor ${anchorIndex} out of order: the cross-shard state expects anchor ${this.nextAnchor}`);
  }

  /**
   * The outputs of a valid transaction of anchor `anchorIndex`: those for this shard stay
   * (returned with their output index), the others become exports (SPEC_SHARDING §5.1).
   */
  splitOutputs(anchorIndex: bigint, txid: Uint8Array, outputs: readonly Output[]): { local: { index: number; output: Output }[]; exports: ExportLeaf[] } {
    this.checkAnchor(anchorIndex);
    const local: { index: number; output: Output }[] = [];
    const exports: ExportLeaf[] = [];
    outputs.forEach((output, index) => {
      const leaf = exportLeafOf(this.p.shard, this.p.layout.shardCount, anchorIndex, txid, index, output);
      if (leaf === undefined) {
        local.push({ index, output });
        return;
      }
      exports.push(leaf);
      this.current.push(leaf);
      this.counters.exported += output.amount;
    });
    return { local, exports };
  }

  /** Units minted on this shard (the mint chain lives on shard 0, SPEC_SHARDING §9). */
  recordMint(amount: bigint): void {
    this.counters.minted += amount;
  }

  /**
   * Ends anchor `anchorIndex` with the ledger's state commitment after it; when the
   * anchor is the last of its epoch, closes the epoch and returns its shard root.
   */
  endAnchor(anchorIndex: bigint, stateCommitment: Uint8Array): ShardRoot | undefined {
    this.checkAnchor(anchorIndex);
    this.nextAnchor++;
    if (this.nextAnchor % this.p.rootInterval !== 0n) return undefined;
    const epoch = anchorIndex / this.p.rootInterval;
    const leafHashes = this.current.map(exportLeafHash);
    const root = epochShardRoot(this.p, epoch, stateCommitment, leafHashes, this.prevDigest);
    const digest = shardRootDigest(root);
    this.closed.push({ root, digest, leaves: this.current, leafHashes });
    this.current = [];
    this.prevDigest = digest;
    return root;
  }

  /** The root of a closed epoch of this shard. */
  rootOf(epoch: bigint): ShardRoot | undefined {
    return epoch < BigInt(this.closed.length) ? this.closed[Number(epoch)]!.root : undefined;
  }

  closedEpochs(): number {
    return this.closed.length;
  }

  /** The exports of a closed epoch, with their proofs (for the recipient's wallet or a relayer). */
  exportsWithProofs(epoch: bigint): { leaf: ExportLeaf; proof: ExportProof }[] {
    if (epoch >= BigInt(this.closed.length)) throw new CrossShardError("CROSS_SHARD_UNKNOWN_EPOCH", `epoch ${epoch} of shard ${this.p.shard} is not closed yet`);
    const c = this.closed[Number(epoch)]!;
    return exportsWithProofsOf(c.leaves, c.leafHashes);
  }

  /**
   * Checks an import claim against this shard's state without changing it (SPEC_SHARDING
   * §8, first failure wins). `pending` holds export ids (hex) accepted earlier in the same
   * payload. Throws ShardCertError, ImportError.
   */
  checkImport(claim: ImportClaim, pending?: ReadonlySet<string>): AcceptedImport {
    return checkImportClaim(claim, this.p, {
      certifiedRoot: (shard, epoch) => {
        const known = this.certified.get(`${shard}:${epoch}`);
        return known === undefined ? undefined : fromHex(known);
      },
      isImported: (id) => {
        const idHex = toHex(id);
        return this.imported.has(idHex) || pending?.has(idHex) === true;
      },
    });
  }

  /** Checks and applies an import claim (in this shard's finalized order). */
  applyImport(claim: ImportClaim): AcceptedImport {
    const a = this.checkImport(claim);
    this.imported.add(toHex(a.exportId));
    this.certified.set(`${a.sourceShard}:${a.epoch}`, toHex(a.rootDigest));
    this.counters.imported += a.output.amount;
    return a;
  }

  hasImported(id: Uint8Array): boolean {
    return this.imported.has(toHex(id));
  }

  importedCount(): number {
    return this.imported.size;
  }

  supply(): SupplyCounters {
    return { ...this.counters };
  }
}

export interface ShardSupply extends SupplyCounters {
  shard: number;
  /** U: unspent outputs on the shard. */
  unspent: bigint;
  /** P: fees awaiting settlement. */
  pending: bigint;
}

/**
 * SPEC_SHARDING §10: per shard U + P = M − X + I; across shards Σ(U+P) + F = ΣM with
 * in-flight F = ΣX − ΣI ≥ 0 and ΣM within the cap. Returns the broken equations (empty: conserved).
 */
export function globalSupplyCheck(shards: readonly ShardSupply[]): string[] {
  const out: string[] = [];
  let held = 0n;
  let minted = 0n;
  let exported = 0n;
  let imported = 0n;
  for (const s of shards) {
    if (s.unspent + s.pending !== s.minted - s.exported + s.imported) {
      out.push(`shard ${s.shard}: U + P = ${s.unspent + s.pending} but M − X + I = ${s.minted - s.exported + s.imported}`);
    }
    held += s.unspent + s.pending;
    minted += s.minted;
    exported += s.exported;
    imported += s.imported;
  }
  const inFlight = exported - imported;
  if (inFlight < 0n) out.push(`more imported (${imported}) than exported (${exported}): value was created`);
  if (held + inFlight !== minted) out.push(`Σ(U+P) + in-flight = ${held + inFlight} but minted = ${minted}`);
  if (minted > MAX_SUPPLY_UNITS) out.push(`minted ${minted} exceeds the supply cap`);
  return out;
}
