/**
 * Canonical encoder (docs/SPEC_CODEC.md). Fixed-width integers are little-endian;
 * lengths and counts are minimal unsigned LEB128 varints of at most 32 bits.
 */
import { CodecError } from "./errors.ts";

const U64_MAX = (1n << 64n) - 1n;

export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialBytes = 256) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new CodecError("CODEC_VALUE_OUT_OF_RANGE", `u8 out of range: ${v}`);
    this.reserve(1);
    this.buf[this.pos++] = v;
    return this;
  }

  u16(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new CodecError("CODEC_VALUE_OUT_OF_RANGE", `u16 out of range: ${v}`);
    this.reserve(2);
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
    return this;
  }

  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new CodecError("CODEC_VALUE_OUT_OF_RANGE", `u32 out of range: ${v}`);
    this.reserve(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
    return this;
  }

  u64(v: bigint): this {
    if (typeof v !== "bigint" || v < 0n || v > U64_MAX) throw new CodecError("CODEC_VALUE_OUT_OF_RANGE", `u64 out of range: ${v}`);
    this.reserve(8);
    this.view.setBigUint64(this.pos, v, true);
    this.pos += 8;
    return this;
  }

  /** A u64 held in a JS number (seq, lamport, indices); must be a safe integer. */
  u64n(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new CodecError("CODEC_VALUE_OUT_OF_RANGE", `u64 (number) out of range: ${v}`);
    return this.u64(BigInt(v));
  }

  varint(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new CodecError("CODEC_VALUE_OUT_OF_RANGE", `varint out of range: ${v}`);
    this.reserve(5);
    do {
      let byte = v & 0x7f;
      v = Math.floor(v / 128);
      if (v > 0) byte |= 0x80;
      this.buf[this.pos++] = byte;
    } while (v > 0);
    return this;
  }

  /** Exactly `length` raw bytes (fixed-size fields such as hashes and keys). */
  fixed(bytes: Uint8Array, length: number): this {
    if (bytes.length !== length) throw new CodecError("CODEC_VALUE_OUT_OF_RANGE", `expected ${length} bytes, got ${bytes.length}`);
    this.reserve(length);
    this.buf.set(bytes, this.pos);
    this.pos += length;
    return this;
  }

  /** Varint length then the bytes. */
  bytes(bytes: Uint8Array, maxLength: number): this {
    if (bytes.length > maxLength) throw new CodecError("CODEC_LENGTH_TOO_LARGE", `byte string of ${bytes.length} exceeds ${maxLength}`);
    this.varint(bytes.length);
    this.reserve(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  /** Varint count then each item. */
  list<T>(items: readonly T[], maxCount: number, each: (w: Writer, item: T, index: number) => void): this {
    if (items.length > maxCount) throw new CodecError("CODEC_LENGTH_TOO_LARGE", `list of ${items.length} exceeds ${maxCount}`);
    this.varint(items.length);
    for (let i = 0; i < items.length; i++) each(this, items[i]!, i);
    return this;
  }

  /** Raw bytes appended as they are (an already-canonical nested encoding). */
  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  get length(): number {
    return this.pos;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
