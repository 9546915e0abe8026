/**
 * LtHash16 over the UTXO set (docs/SPEC_POW.md "State commitment"): a homomorphic
 * multiset hash. Each UTXO maps to 1024 u16 lanes (BLAKE3 XOF, 2048 bytes); the set's
 * accumulator is the lane-wise sum mod 2^16. Creating an output adds its lanes,
 * spending subtracts them, so the accumulator depends only on the set, never on the
 * history that produced it, and updating it costs O(changed outputs).
 * The commitment is blake3_32 of the 2048 accumulator bytes (lanes little-endian).
 */
import { blake3, blake3_32 } from "../crypto/hash.ts";
import { invariant } from "../errors.ts";
import { HASH_BYTES } from "../types/constants.ts";
import type { UtxoEntry } from "./validate.ts";

export const LTHASH_LANES = 1024;
export const LTHASH_BYTES = LTHASH_LANES * 2;
/** Domain separation prefix of a UTXO's lane derivation. */
export const LTHASH_DOMAIN = new TextEncoder().encode("phantom/utxo-lthash/v0");
/** Encoded UTXO element: txid, index u32, amount u64, lock commitment, created_at u64, coinbase u8. */
export const UTXO_ELEMENT_BYTES = HASH_BYTES + 4 + 8 + HASH_BYTES + 8 + 1;

// Lanes are read through Uint16Array views of little-endian bytes; every supported
// target (x86-64, arm64) is little-endian, and this check makes any other one fail loudly.
invariant(new Uint16Array(new Uint8Array([1, 0]).buffer)[0] === 1, "LtHash requires a little-endian host");

/** The canonical bytes a UTXO contributes to the multiset hash (after the domain prefix). */
export function encodeUtxoElement(txid: Uint8Array, index: number, e: UtxoEntry): Uint8Array {
  invariant(txid.length === HASH_BYTES && e.lockCommitment.length === HASH_BYTES, "utxo element field sizes");
  const out = new Uint8Array(LTHASH_DOMAIN.length + UTXO_ELEMENT_BYTES);
  const view = new DataView(out.buffer);
  let o = LTHASH_DOMAIN.length;
  out.set(LTHASH_DOMAIN, 0);
  out.set(txid, o);
  o += HASH_BYTES;
  view.setUint32(o, index, true);
  o += 4;
  view.setBigUint64(o, e.amount, true);
  o += 8;
  out.set(e.lockCommitment, o);
  o += HASH_BYTES;
  view.setBigUint64(o, e.createdAt, true);
  o += 8;
  out[o] = e.coinbase ? 1 : 0;
  return out;
}

/** The 1024 lanes of one UTXO. */
export function utxoLanes(txid: Uint8Array, index: number, e: UtxoEntry): Uint16Array {
  const bytes = blake3(encodeUtxoElement(txid, index, e), LTHASH_BYTES);
  return new Uint16Array(bytes.buffer, bytes.byteOffset, LTHASH_LANES);
}

/** A mutable LtHash accumulator. */
export class LtHash {
  readonly lanes: Uint16Array;

  constructor(lanes?: Uint16Array) {
    invariant(lanes === undefined || lanes.length === LTHASH_LANES, "LtHash lane count");
    this.lanes = lanes ? new Uint16Array(lanes) : new Uint16Array(LTHASH_LANES);
  }

  static fromBytes(bytes: Uint8Array): LtHash {
    invariant(bytes.length === LTHASH_BYTES, "LtHash state is 2048 bytes");
    const copy = bytes.slice();
    return new LtHash(new Uint16Array(copy.buffer, 0, LTHASH_LANES));
  }

  add(element: Uint16Array): void {
    const l = this.lanes;
    for (let i = 0; i < LTHASH_LANES; i++) l[i] = l[i]! + element[i]!; // Uint16Array wraps mod 2^16
  }

  subtract(element: Uint16Array): void {
    const l = this.lanes;
    for (let i = 0; i < LTHASH_LANES; i++) l[i] = l[i]! - element[i]!;
  }

  addUtxo(txid: Uint8Array, index: number, e: UtxoEntry): void {
    this.add(utxoLanes(txid, index, e));
  }

  removeUtxo(txid: Uint8Array, index: number, e: UtxoEntry): void {
    this.subtract(utxoLanes(txid, index, e));
  }

  clone(): LtHash {
    return new LtHash(this.lanes);
  }

  /** The 2048 accumulator bytes (little-endian lanes); a copy. */
  toBytes(): Uint8Array {
    return new Uint8Array(this.lanes.buffer.slice(this.lanes.byteOffset, this.lanes.byteOffset + LTHASH_BYTES));
  }

  /** The state commitment: blake3_32 of the accumulator bytes. */
  commitment(): Uint8Array {
    return blake3_32(new Uint8Array(this.lanes.buffer, this.lanes.byteOffset, LTHASH_BYTES));
  }
}

/** Recomputes the accumulator of a whole UTXO set from scratch (audits and tests). */
export function ltHashOfSet(utxos: Iterable<{ txid: Uint8Array; index: number; entry: UtxoEntry }>): LtHash {
  const h = new LtHash();
  for (const u of utxos) h.addUtxo(u.txid, u.index, u.entry);
  return h;
}
