/**
 * Byte-level mutations of corpus inputs (bit flips, boundary values, insertions,
 * deletions, duplications, splices with another corpus entry, dictionary tokens and
 * varint widening). Every mutation is a pure function of the PRNG state; the output
 * never exceeds `maxBytes`.
 */
import type { Prng } from "./prng.ts";

/** Byte values that sit on encoding boundaries (varint continuation, sign, maxima). */
const INTERESTING_BYTES = [0x00, 0x01, 0x02, 0x3f, 0x40, 0x7f, 0x80, 0x81, 0xbf, 0xc0, 0xfe, 0xff];
/** Multi-byte values written little- or big-endian over existing bytes. */
const INTERESTING_WIDE: readonly bigint[] = [
  0n, 1n, 0x7fn, 0x80n, 0xffn, 0x100n, 0x3fffn, 0x4000n, 0x7fffn, 0x8000n, 0xffffn, 0x10000n,
  0x3fffffffn, 0x40000000n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n,
  (1n << 53n) - 1n, 1n << 53n, (1n << 62n) - 1n, (1n << 63n) - 1n, 1n << 63n, (1n << 64n) - 1n,
];

export interface MutationContext {
  prng: Prng;
  /** Other inputs to splice from. */
  corpus: readonly Uint8Array[];
  /** Tokens worth inserting whole (keywords, tags, delimiters). */
  dictionary: readonly Uint8Array[];
  maxBytes: number;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function wideBytes(value: bigint, width: number, bigEndian: boolean): Uint8Array {
  const out = new Uint8Array(width);
  let v = value;
  for (let i = 0; i < width; i++) {
    out[bigEndian ? width - 1 - i : i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

type Mutator = (input: Uint8Array, ctx: MutationContext) => Uint8Array;

const MUTATORS: readonly Mutator[] = [
  // Flip one bit.
  (input, { prng }) => {
    if (input.length === 0) return prng.bytes(1);
    const out = input.slice();
    out[prng.below(out.length)]! ^= 1 << prng.below(8);
    return out;
  },
  // Replace one byte with a random or a boundary value.
  (input, { prng }) => {
    if (input.length === 0) return Uint8Array.of(prng.pick(INTERESTING_BYTES));
    const out = input.slice();
    out[prng.below(out.length)] = prng.oneIn(2) ? prng.pick(INTERESTING_BYTES) : prng.u32() & 0xff;
    return out;
  },
  // Overwrite 2, 4 or 8 bytes with a boundary integer (either byte order).
  (input, { prng }) => {
    const width = prng.pick([2, 4, 8]);
    if (input.length < width) return input;
    const out = input.slice();
    out.set(wideBytes(prng.pick(INTERESTING_WIDE), width, prng.oneIn(2)), prng.below(out.length - width + 1));
    return out;
  },
  // Insert random bytes.
  (input, { prng }) => {
    const at = prng.below(input.length + 1);
    return concat(input.subarray(0, at), prng.bytes(1 + prng.below(16)), input.subarray(at));
  },
  // Delete a range.
  (input, { prng }) => {
    if (input.length === 0) return input;
    const at = prng.below(input.length);
    return concat(input.subarray(0, at), input.subarray(at + 1 + prng.below(Math.min(32, input.length - at))));
  },
  // Truncate.
  (input, { prng }) => input.subarray(0, prng.below(input.length + 1)).slice(),
  // Duplicate a range in place.
  (input, { prng }) => {
    if (input.length === 0) return input;
    const at = prng.below(input.length);
    const len = 1 + prng.below(Math.min(64, input.length - at));
    return concat(input.subarray(0, at + len), input.subarray(at, at + len), input.subarray(at + len));
  },
  // Splice: our head, another corpus entry's tail.
  (input, { prng, corpus }) => {
    const other = prng.pick(corpus);
    return concat(input.subarray(0, prng.below(input.length + 1)), other.subarray(prng.below(other.length + 1)));
  },
  // Insert a dictionary token.
  (input, { prng, dictionary }) => {
    if (dictionary.length === 0) return input;
    const at = prng.below(input.length + 1);
    return concat(input.subarray(0, at), prng.pick(dictionary), input.subarray(at));
  },
  // Overwrite with a dictionary token.
  (input, { prng, dictionary }) => {
    if (dictionary.length === 0 || input.length === 0) return input;
    const token = prng.pick(dictionary);
    const at = prng.below(input.length);
    return concat(input.subarray(0, at), token, input.subarray(Math.min(input.length, at + token.length)));
  },
  // Widen a one-byte LEB128 varint into a non-minimal two-byte one.
  (input, { prng }) => {
    const from = prng.below(input.length + 1);
    let i = from;
    while (i < input.length && input[i]! >= 0x80) i++;
    if (i >= input.length) return input;
    return concat(input.subarray(0, i), Uint8Array.of(input[i]! | 0x80, 0x00), input.subarray(i + 1));
  },
];

/** One to eight stacked mutations of `input`, capped at `maxBytes`. */
export function mutate(input: Uint8Array, ctx: MutationContext): Uint8Array {
  let out = input;
  const rounds = 1 + ctx.prng.below(ctx.prng.oneIn(4) ? 8 : 3);
  for (let i = 0; i < rounds; i++) {
    out = ctx.prng.pick(MUTATORS)(out, ctx);
    if (out.length > ctx.maxBytes) out = out.subarray(0, ctx.maxBytes).slice();
  }
  return out;
}
