/**
 * LtHash16 over the UTXO set (docs/SPEC_POW.md "State commitment"): a homomorphic
 * multiset hash. Each UTXO maps to 1024 u16 lanes (BLAKE3 XOF, 2048 bytes); the set's
 * accumulator is the lane-wise sum mod 2^16. Creating an output adds its lanes,
 * spending subtracts them, so the accumulator depends only on the set, never on the
 * history that produced it, and updating it costs O(changed outputs).
 * The commitment is blake3_32 of the 2048 accumulator bytes (lanes little-endian).
 */
import { blake3_32, blake3Into } from "../crypto/hash.ts";
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

// Scratch buffers for the hot path (JS is single-threaded; each call finishes before the next).
// They are built from ArrayBuffers so no `.buffer` getter runs per call (slow on JSC typed arrays).
const ELEMENT_LENGTH = LTHASH_DOMAIN.length + UTXO_ELEMENT_BYTES;
const elementBuffer = new ArrayBuffer(ELEMENT_LENGTH);
const elementBytes = new Uint8Array(elementBuffer);
const elementView = new DataView(elementBuffer);
elementBytes.set(LTHASH_DOMAIN, 0);
const lanesBuffer = new ArrayBuffer(LTHASH_BYTES);
const lanesBytes = new Uint8Array(lanesBuffer);
const lanesScratch = new Uint16Array(lanesBuffer);
const lanesWords = new Uint32Array(lanesBuffer);

function fillElement(txid: Uint8Array, index: number, e: UtxoEntry): void {
  invariant(txid.length === HASH_BYTES && e.lockCommitment.length === HASH_BYTES, "utxo element field sizes");
  let o = LTHASH_DOMAIN.length;
  elementBytes.set(txid, o);
  o += HASH_BYTES;
  elementView.setUint32(o, index, true);
  o += 4;
  elementView.setBigUint64(o, e.amount, true);
  o += 8;
  elementBytes.set(e.lockCommitment, o);
  o += HASH_BYTES;
  elementView.setBigUint64(o, e.createdAt, true);
  o += 8;
  elementBytes[o] = e.coinbase ? 1 : 0;
}

/** The canonical bytes a UTXO contributes to the multiset hash: domain prefix, then the element. */
export function encodeUtxoElement(txid: Uint8Array, index: number, e: UtxoEntry): Uint8Array {
  fillElement(txid, index, e);
  return elementBytes.slice();
}

/** The 1024 lanes of one UTXO in a shared scratch array: valid until the next call. */
function scratchLanes(txid: Uint8Array, index: number, e: UtxoEntry): Uint16Array {
  fillElement(txid, index, e);
  blake3Into(elementBytes, lanesBytes);
  return lanesScratch;
}

/** The 1024 lanes of one UTXO (a copy). */
export function utxoLanes(txid: Uint8Array, index: number, e: UtxoEntry): Uint16Array {
  return scratchLanes(txid, index, e).slice();
}

const LOW_BITS = 0x7fff7fff;
const HIGH_BITS = 0x80008000;

/** A mutable LtHash accumulator. */
export class LtHash {
  readonly lanes: Uint16Array;
  private readonly words: Uint32Array;

  constructor(lanes?: Uint16Array) {
    invariant(lanes === undefined || lanes.length === LTHASH_LANES, "LtHash lane count");
    const buffer = new ArrayBuffer(LTHASH_BYTES);
    this.lanes = new Uint16Array(buffer);
    if (lanes) this.lanes.set(lanes);
    this.words = new Uint32Array(buffer);
  }

  static fromBytes(bytes: Uint8Array): LtHash {
    invariant(bytes.length === LTHASH_BYTES, "LtHash state is 2048 bytes");
    const copy = bytes.slice();
    return new LtHash(new Uint16Array(copy.buffer, 0, LTHASH_LANES));
  }

  /** Lane-wise a += e mod 2^16, two lanes per 32-bit word (SWAR: the top bit of each lane is added without carry-out). */
  add(element: Uint16Array): void {
    this.addWords(new Uint32Array(element.buffer, element.byteOffset, LTHASH_LANES / 2));
  }

  private addWords(e: Uint32Array): void {
    const a = this.words;
    for (let i = 0; i < LTHASH_LANES / 2; i++) {
      const x = a[i]!;
      const y = e[i]!;
      a[i] = ((x & LOW_BITS) + (y & LOW_BITS)) ^ ((x ^ y) & HIGH_BITS);
    }
  }

  /** Lane-wise a -= e mod 2^16 (SWAR: borrow stops at each lane's top bit). */
  subtract(element: Uint16Array): void {
    this.subtractWords(new Uint32Array(element.buffer, element.byteOffset, LTHASH_LANES / 2));
  }

  private subtractWords(e: Uint32Array): void {
    const a = this.words;
    for (let i = 0; i < LTHASH_LANES / 2; i++) {
      const x = a[i]!;
      const y = e[i]!;
      a[i] = ((x | HIGH_BITS) - (y & LOW_BITS)) ^ ((x ^ ~y) & HIGH_BITS);
    }
  }

  addUtxo(txid: Uint8Array, index: number, e: UtxoEntry): void {
    scratchLanes(txid, index, e);
    this.addWords(lanesWords);
  }

  removeUtxo(txid: Uint8Array, index: number, e: UtxoEntry): void {
    scratchLanes(txid, index, e);
    this.subtractWords(lanesWords);
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
