/**
 * Payout Merkle root (docs/SPEC_FEES.md, "Payout root"): a BLAKE3 binary Merkle
 * tree over the payout list of one anchor, one leaf per committee member in index
 * order, with domain-separated leaves and nodes:
 *
 *   leaf  = index u8 || recipient (32 bytes) || amount u64 LE
 *   L     = blake3_32(0x00 || leaf)
 *   N     = blake3_32(0x01 || left || right)
 *
 * A level with an odd number of nodes promotes its last node unchanged to the next
 * level (no duplication, so no two lists share a root). The empty list's root is
 * blake3_32(0x02).
 */
import { PhantomError } from "../errors.ts";
import { blake3_32, blake3Batch } from "../crypto/hash.ts";
import { equalBytes } from "../crypto/bytes.ts";
import { COMMITTEE_MAX, HASH_BYTES } from "../types/constants.ts";

export const PAYOUT_LEAF_BYTES = 1 + HASH_BYTES + 8;
const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;
const EMPTY_PREFIX = 0x02;
const U64_MAX = (1n << 64n) - 1n;
/** A tree of COMMITTEE_MAX leaves is at most this deep. */
export const PAYOUT_PROOF_SIBLINGS_MAX = 6;

export class PayoutError extends PhantomError<"PAYOUT_BAD_ENTRY"> {
  constructor(message: string, details?: Record<string, unknown>) {
    super("PAYOUT_BAD_ENTRY", message, details);
    this.name = "PayoutError";
  }
}

export interface PayoutEntry {
  /** Validator index (leaf position). */
  index: number;
  /** 32-byte recipient (a lock commitment). */
  recipient: Uint8Array;
  amount: bigint;
}

export function encodePayoutLeaf(e: PayoutEntry): Uint8Array {
  if (!Number.isInteger(e.index) || e.index < 0 || e.index >= COMMITTEE_MAX) throw new PayoutError(`payout index ${e.index} out of range`);
  if (e.recipient.length !== HASH_BYTES) throw new PayoutError(`payout recipient must be ${HASH_BYTES} bytes, got ${e.recipient.length}`);
  if (e.amount < 0n || e.amount > U64_MAX) throw new PayoutError(`payout amount ${e.amount} is not a u64`);
  const out = new Uint8Array(PAYOUT_LEAF_BYTES);
  out[0] = e.index;
  out.set(e.recipient, 1);
  new DataView(out.buffer).setBigUint64(1 + HASH_BYTES, e.amount, true);
  return out;
}

function prefixed(prefix: number, ...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(1 + parts.reduce((s, p) => s + p.length, 0));
  out[0] = prefix;
  let at = 1;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const payoutLeafHash = (e: PayoutEntry): Uint8Array => blake3_32(prefixed(LEAF_PREFIX, encodePayoutLeaf(e)));
const nodeHash = (left: Uint8Array, right: Uint8Array): Uint8Array => blake3_32(prefixed(NODE_PREFIX, left, right));

function checkListed(entries: readonly PayoutEntry[]): void {
  if (entries.length > COMMITTEE_MAX) throw new PayoutError(`payout list of ${entries.length} exceeds ${COMMITTEE_MAX}`);
  entries.forEach((e, i) => {
    if (e.index !== i) throw new PayoutError(`payout entry ${i} has index ${e.index}; entries must be in index order 0..k-1`);
  });
}

/** Every level of the tree, leaves first; the last level holds the root. */
function levels(entries: readonly PayoutEntry[]): Uint8Array[][] {
  checkListed(entries);
  // One native call per level (blake3Batch) instead of one per hash.
  const out: Uint8Array[][] = [blake3Batch(entries.map((e) => prefixed(LEAF_PREFIX, encodePayoutLeaf(e))))];
  while (out[out.length - 1]!.length > 1) {
    const level = out[out.length - 1]!;
    const pairs: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) pairs.push(prefixed(NODE_PREFIX, level[i]!, level[i + 1]!));
    const next = blake3Batch(pairs);
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    out.push(next);
  }
  return out;
}

export function payoutRoot(entries: readonly PayoutEntry[]): Uint8Array {
  if (entries.length === 0) return blake3_32(new Uint8Array([EMPTY_PREFIX]));
  const all = levels(entries);
  return all[all.length - 1]![0]!;
}

export interface PayoutProof {
  index: number;
  leafCount: number;
  /** Sibling hashes from the leaf level up; promoted levels contribute none. */
  siblings: Uint8Array[];
}

export function payoutProof(entries: readonly PayoutEntry[], index: number): PayoutProof {
  if (!Number.isInteger(index) || index < 0 || index >= entries.length) throw new PayoutError(`no payout entry ${index} in a list of ${entries.length}`);
  const siblings: Uint8Array[] = [];
  let position = index;
  for (const level of levels(entries).slice(0, -1)) {
    const promoted = position === level.length - 1 && level.length % 2 === 1;
    if (!promoted) siblings.push(level[position ^ 1]!);
    position >>= 1;
  }
  return { index, leafCount: entries.length, siblings };
}

/** True when `entry` is leaf `proof.index` of a list of `proof.leafCount` entries with this root. */
export function verifyPayoutProof(root: Uint8Array, entry: PayoutEntry, proof: PayoutProof): boolean {
  const { index, leafCount, siblings } = proof;
  if (!Number.isInteger(leafCount) || leafCount < 1 || leafCount > COMMITTEE_MAX) return false;
  if (!Number.isInteger(index) || index < 0 || index >= leafCount || entry.index !== index) return false;
  if (siblings.length > PAYOUT_PROOF_SIBLINGS_MAX) return false;
  let hash: Uint8Array;
  try {
    hash = payoutLeafHash(entry);
  } catch {
    return false;
  }
  let position = index;
  let width = leafCount;
  let used = 0;
  while (width > 1) {
    const promoted = position === width - 1 && width % 2 === 1;
    if (!promoted) {
      const sibling = siblings[used++];
      if (sibling === undefined || sibling.length !== HASH_BYTES) return false;
      hash = position % 2 === 0 ? nodeHash(hash, sibling) : nodeHash(sibling, hash);
    }
    position >>= 1;
    width = (width + 1) >> 1;
  }
  return used === siblings.length && equalBytes(hash, root);
}
