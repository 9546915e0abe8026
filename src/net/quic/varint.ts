/**
 * QUIC variable-length integers (RFC 9000 §16) and a bounds-checked reader.
 *
 * API choice: the hot path uses `number`. Every value a QUIC stack meets in
 * practice (offsets, packet numbers, limits) stays far below 2^53, so decoding
 * returns a `number`; an 8-byte encoding of a value above Number.MAX_SAFE_INTEGER
 * (2^53−1) saturates to Number.MAX_SAFE_INTEGER. For limits that means
 * "unbounded"; offsets and packet numbers that large are already rejected by flow
 * control and packet-number rules. Callers that need exact values up to 2^62−1
 * use the bigint functions (`encodeVarintBig`, `decodeVarintBig`).
 *
 * Encoding a value outside [0, 2^62−1] (or a non-integer) is a local bug and throws
 * RangeError; decoding bad or truncated bytes throws QuicError with the code the
 * caller chose (FRAME_ENCODING_ERROR for frames, TRANSPORT_PARAMETER_ERROR for
 * transport parameters, ...).
 */
import { QuicError, type TransportErrorName } from "./errors.ts";

/** Largest value a varint can carry (2^62 − 1). */
export const varintMaxBig = (1n << 62n) - 1n;
/** Largest value the number API encodes exactly. */
export const varintSafeMax = Number.MAX_SAFE_INTEGER;

const twoPow32 = 0x1_0000_0000;
/** Values of the top 32 bits above this make the 62-bit value exceed 2^53 − 1. */
const safeHighMax = 0x1f_ffff;

/** Encoded length (1, 2, 4 or 8) of the shortest encoding of `value`. */
export function varintLength(value: number): 1 | 2 | 4 | 8 {
  if (!(value >= 0 && value <= varintSafeMax && Number.isInteger(value))) throw new RangeError(`varint out of range: ${value}`);
  return value < 0x40 ? 1 : value < 0x4000 ? 2 : value < 0x4000_0000 ? 4 : 8;
}

/** Writes the shortest encoding of `value` at `offset`; returns the offset after it. */
export function writeVarint(buf: Uint8Array, offset: number, value: number): number {
  return writeVarintWithLength(buf, offset, value, varintLength(value));
}

/**
 * Writes `value` with a fixed encoded length (e.g. a 2-byte Length field reserved
 * before the payload size is known). Throws RangeError if it does not fit.
 */
export function writeVarintWithLength(buf: Uint8Array, offset: number, value: number, length: 1 | 2 | 4 | 8): number {
  if (offset + length > buf.length) throw new RangeError(`varint write past end: ${offset}+${length} > ${buf.length}`);
  if (varintLength(value) > length) throw new RangeError(`varint ${value} does not fit in ${length} bytes`);
  switch (length) {
    case 1:
      buf[offset] = value;
      break;
    case 2:
      buf[offset] = 0x40 | (value >>> 8);
      buf[offset + 1] = value & 0xff;
      break;
    case 4:
      buf[offset] = 0x80 | (value >>> 24);
      buf[offset + 1] = (value >>> 16) & 0xff;
      buf[offset + 2] = (value >>> 8) & 0xff;
      buf[offset + 3] = value & 0xff;
      break;
    case 8: {
      const hi = Math.floor(value / twoPow32);
      const lo = value >>> 0;
      buf[offset] = 0xc0 | (hi >>> 24);
      buf[offset + 1] = (hi >>> 16) & 0xff;
      buf[offset + 2] = (hi >>> 8) & 0xff;
      buf[offset + 3] = hi & 0xff;
      buf[offset + 4] = lo >>> 24;
      buf[offset + 5] = (lo >>> 16) & 0xff;
      buf[offset + 6] = (lo >>> 8) & 0xff;
      buf[offset + 7] = lo & 0xff;
      break;
    }
  }
  return offset + length;
}

/** The shortest encoding of `value` as a new array. */
export function encodeVarint(value: number): Uint8Array {
  const out = new Uint8Array(varintLength(value));
  writeVarint(out, 0, value);
  return out;
}

/**
 * Decodes the varint at `offset`. Returns its value (saturated at 2^53−1, see the
 * module comment) and encoded length, or throws QuicError(`errorName`) if truncated.
 */
export function decodeVarint(buf: Uint8Array, offset: number, errorName: TransportErrorName = "FRAME_ENCODING_ERROR"): { value: number; length: number } {
  const r = new QuicReader(buf, errorName, offset);
  const value = r.varint("varint");
  return { value, length: r.pos - offset };
}

/** Shortest encoding of a bigint in [0, 2^62−1]. */
export function encodeVarintBig(value: bigint): Uint8Array {
  if (value < 0n || value > varintMaxBig) throw new RangeError(`varint out of range: ${value}`);
  const length = value < 0x40n ? 1 : value < 0x4000n ? 2 : value < 0x4000_0000n ? 4 : 8;
  const out = new Uint8Array(length);
  let v = value;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  out[0]! |= lengthPrefix[length]!;
  return out;
}

const lengthPrefix: Record<number, number> = { 1: 0x00, 2: 0x40, 4: 0x80, 8: 0xc0 };

/** Exact bigint decoding of the varint at `offset`. */
export function decodeVarintBig(buf: Uint8Array, offset: number, errorName: TransportErrorName = "FRAME_ENCODING_ERROR"): { value: bigint; length: number } {
  if (offset >= buf.length) throw new QuicError(errorName, `truncated varint at offset ${offset}`);
  const length = 1 << (buf[offset]! >>> 6);
  if (offset + length > buf.length) throw new QuicError(errorName, `truncated ${length}-byte varint at offset ${offset}`);
  let v = BigInt(buf[offset]! & 0x3f);
  for (let i = 1; i < length; i++) v = (v << 8n) | BigInt(buf[offset + i]!);
  return { value: v, length };
}

/**
 * Cursor over a byte array for QUIC wire formats. Every read is bounds-checked;
 * running past the end throws QuicError with the error name given at construction.
 * `bytes()` returns subarrays (zero-copy views of the input).
 */
export class QuicReader {
  pos: number;
  readonly end: number;
  /** Frame type being parsed, reported in errors (CONNECTION_CLOSE's Frame Type field). */
  frameType = 0;

  constructor(readonly buf: Uint8Array, readonly errorName: TransportErrorName = "FRAME_ENCODING_ERROR", start = 0, end = buf.length) {
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  fail(message: string): never {
    throw new QuicError(this.errorName, message, { frameType: this.frameType, details: { offset: this.pos } });
  }

  private need(n: number, what: string): void {
    if (n > this.end - this.pos) this.fail(`truncated ${what}: needs ${n} bytes at offset ${this.pos}, ${this.end - this.pos} left`);
  }

  u8(what = "u8"): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  /** Reads a varint (saturating above 2^53−1, see the module comment). */
  varint(what = "varint"): number {
    this.need(1, what);
    const b0 = this.buf[this.pos]!;
    const length = 1 << (b0 >>> 6);
    this.need(length, what);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + length;
    switch (length) {
      case 1:
        return b0;
      case 2:
        return ((b0 & 0x3f) << 8) | b[p + 1]!;
      case 4:
        return ((b0 & 0x3f) * 0x100_0000) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
      default: {
        const hi = ((b0 & 0x3f) * 0x100_0000) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
        const lo = ((b[p + 4]! * 0x100_0000) + ((b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!));
        return hi > safeHighMax ? varintSafeMax : hi * twoPow32 + lo;
      }
    }
  }

  /** Reads a varint and also reports its encoded length (for minimal-encoding checks). */
  varintWithLength(what = "varint"): { value: number; length: number } {
    const start = this.pos;
    const value = this.varint(what);
    return { value, length: this.pos - start };
  }

  /** A zero-copy view of the next `n` bytes. */
  bytes(n: number, what = "bytes"): Uint8Array {
    this.need(n, what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Everything left, zero-copy. */
  rest(): Uint8Array {
    const out = this.buf.subarray(this.pos, this.end);
    this.pos = this.end;
    return out;
  }
}
