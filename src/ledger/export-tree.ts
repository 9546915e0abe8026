/**
 * Exports and their Merkle tree (docs/SPEC_SHARDING.md §5). An export is an output
 * created on one shard for a lock of another; each epoch's exports form a binary
 * BLAKE3 tree (derive_key contexts for leaves and nodes, odd last entry carried up).
 */
import { Writer, Reader, decodeExact, CodecError } from "../codec/index.ts";
import { blake3DeriveKey } from "../crypto/hash.ts";
import { equalBytes } from "../crypto/bytes.ts";
import { HASH_BYTES, MAX_SUPPLY_UNITS, CODEC_VERSION } from "../types/constants.ts";

/** Tags of the sharding objects (SPEC_SHARDING; the single-shard tags 0x01..0x07 are in types/constants.ts). */
export const SHARD_TAG = { exportLeaf: 0x08, shardRoot: 0x09, shardCert: 0x0a, importClaim: 0x0b } as const;
export const EXPORT_LEAF_BYTES = 90;
/** Depth bound of a proof: 2^32 leaves at most (export_count is a u32). */
export const EXPORT_PROOF_SIBLINGS_MAX = 32;
export const ZERO_ROOT = new Uint8Array(HASH_BYTES);

const CTX_ID = "phantom shard export id v0";
const CTX_LEAF = "phantom shard export leaf v0";
const CTX_NODE = "phantom shard export node v0";

export interface ExportLeaf {
  sourceShard: number;
  destShard: number;
  anchorIndex: bigint;
  txid: Uint8Array;
  outputIndex: number;
  amount: bigint;
  lockCommitment: Uint8Array;
}

export function writeExportLeaf(w: Writer, e: ExportLeaf): void {
  if (e.amount > MAX_SUPPLY_UNITS) throw new CodecError("CODEC_VALUE_OUT_OF_RANGE", `export amount ${e.amount} exceeds the supply cap`);
  w.u8(SHARD_TAG.exportLeaf).u8(CODEC_VERSION).u16(e.sourceShard).u16(e.destShard).u64(e.anchorIndex)
    .fixed(e.txid, HASH_BYTES).u32(e.outputIndex).u64(e.amount).fixed(e.lockCommitment, HASH_BYTES);
}

export function readExportLeaf(r: Reader): ExportLeaf {
  r.tag(SHARD_TAG.exportLeaf, "export leaf");
  r.version(CODEC_VERSION, "export leaf");
  const sourceShard = r.u16("source shard");
  const destShard = r.u16("dest shard");
  const anchorIndex = r.u64("anchor index");
  const txid = r.fixed(HASH_BYTES, "txid");
  const outputIndex = r.u32("output index");
  const amount = r.u64("amount");
  if (amount > MAX_SUPPLY_UNITS) throw new CodecError("CODEC_VALUE_OUT_OF_RANGE", `export amount ${amount} exceeds the supply cap`);
  const lockCommitment = r.fixed(HASH_BYTES, "lock commitment");
  return { sourceShard, destShard, anchorIndex, txid, outputIndex, amount, lockCommitment };
}

export function encodeExportLeaf(e: ExportLeaf): Uint8Array {
  const w = new Writer(EXPORT_LEAF_BYTES);
  writeExportLeaf(w, e);
  return w.finish();
}

export const decodeExportLeaf = (b: Uint8Array): ExportLeaf => decodeExact(b, "export leaf", readExportLeaf);

/** export_id = derive("phantom shard export id v0", u16 source || txid || u32 output_index): unique network-wide. */
export function exportId(e: Pick<ExportLeaf, "sourceShard" | "txid" | "outputIndex">): Uint8Array {
  const w = new Writer(38);
  w.u16(e.sourceShard).fixed(e.txid, HASH_BYTES).u32(e.outputIndex);
  return blake3DeriveKey(CTX_ID, w.finish());
}

export function exportLeafHash(e: ExportLeaf): Uint8Array {
  return blake3DeriveKey(CTX_LEAF, encodeExportLeaf(e));
}

function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const b = new Uint8Array(2 * HASH_BYTES);
  b.set(left);
  b.set(right, HASH_BYTES);
  return blake3DeriveKey(CTX_NODE, b);
}

/** All levels of the tree over `leafHashes` (level 0 first); the last level holds the root. */
function levels(leafHashes: readonly Uint8Array[]): Uint8Array[][] {
  const out: Uint8Array[][] = [leafHashes.slice()];
  while (out[out.length - 1]!.length > 1) {
    const cur = out[out.length - 1]!;
    const next: Uint8Array[] = [];
    for (let i = 0; i < cur.length; i += 2) next.push(i + 1 < cur.length ? nodeHash(cur[i]!, cur[i + 1]!) : cur[i]!);
    out.push(next);
  }
  return out;
}

/** The export root of leaf hashes in order; 32 zero bytes for none. */
export function exportRootOfHashes(leafHashes: readonly Uint8Array[]): Uint8Array {
  if (leafHashes.length === 0) return ZERO_ROOT.slice();
  const ls = levels(leafHashes);
  return ls[ls.length - 1]![0]!;
}

export function exportRoot(leaves: readonly ExportLeaf[]): Uint8Array {
  return exportRootOfHashes(leaves.map(exportLeafHash));
}

export interface ExportProof {
  leafIndex: number;
  siblings: Uint8Array[];
}

/** The proof of leaf `index` among `leafHashes`. */
export function exportProof(leafHashes: readonly Uint8Array[], index: number): ExportProof {
  if (!Number.isInteger(index) || index < 0 || index >= leafHashes.length) throw new RangeError(`leaf index ${index} outside 0..${leafHashes.length - 1}`);
  const siblings: Uint8Array[] = [];
  let i = index;
  for (const level of levels(leafHashes)) {
    if (level.length === 1) break;
    const carried = i % 2 === 0 && i === level.length - 1;
    if (!carried) siblings.push(level[i % 2 === 0 ? i + 1 : i - 1]!);
    i >>= 1;
  }
  return { leafIndex: index, siblings };
}

/** Whether `proof` places `leafHash` at its index in a tree of `count` leaves with root `root` (SPEC_SHARDING §5.4). */
export function verifyExportProof(leafHash: Uint8Array, proof: ExportProof, root: Uint8Array, count: number): boolean {
  if (!Number.isInteger(proof.leafIndex) || proof.leafIndex < 0 || proof.leafIndex >= count) return false;
  let h = leafHash;
  let i = proof.leafIndex;
  let c = count;
  let used = 0;
  while (c > 1) {
    if (!(i % 2 === 0 && i === c - 1)) {
      const x = proof.siblings[used++];
      if (x === undefined || x.length !== HASH_BYTES) return false;
      h = i % 2 === 1 ? nodeHash(x, h) : nodeHash(h, x);
    }
    i = Math.floor(i / 2);
    c = Math.ceil(c / 2);
  }
  return used === proof.siblings.length && equalBytes(h, root);
}

export function writeExportProof(w: Writer, p: ExportProof): void {
  w.u32(p.leafIndex).list(p.siblings, EXPORT_PROOF_SIBLINGS_MAX, (w, s) => w.fixed(s, HASH_BYTES));
}

export function readExportProof(r: Reader): ExportProof {
  const leafIndex = r.u32("leaf index");
  const siblings = r.list(EXPORT_PROOF_SIBLINGS_MAX, (r) => r.fixed(HASH_BYTES, "sibling"), "siblings");
  return { leafIndex, siblings };
}
