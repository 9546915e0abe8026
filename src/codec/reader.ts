/** Strict canonical decoder: every deviation from the encoding is a CodecError. */
import { CodecError } from "./errors.ts";

export class Reader {
  private readonly view: DataView;
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) {
      throw new CodecError("CODEC_TRUNCATED", `truncated input: ${what} needs ${n} bytes at offset ${this.pos}, ${this.buf.length - this.pos} left`);
    }
  }

  u8(what = "u8"): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u16(what = "u16"): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32(what = "u32"): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u64(what = "u64"): bigint {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A u64 that must fit a safe JS integer (seq, lamport, indices). */
  u64n(what = "u64"): number {
    const v = this.u64(what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new CodecError("CODEC_VALUE_OUT_OF_RANGE", `${what} ${v} exceeds 2^53-1`);
    return Number(v);
  }

  varint(what = "varint"): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 5; i++) {
      const byte = this.u8(what);
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        if (i > 0 && byte === 0) throw new CodecError("CODEC_NON_MINIMAL_VARINT", `non-minimal varint for ${what}`);
        if (value > 0xffffffff) throw new CodecError("CODEC_VARINT_OVERFLOW", `varint for ${what} exceeds 32 bits`);
        return value;
      }
      scale *= 128;
    }
    throw new CodecError("CODEC_VARINT_OVERFLOW", `varint for ${what} longer than 5 bytes`);
  }

  fixed(length: number, what = "bytes"): Uint8Array {
    this.need(length, what);
    const out = this.buf.slice(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  bytes(maxLength: number, what = "bytes"): Uint8Array {
    const len = this.varint(`${what} length`);
    if (len > maxLength) throw new CodecError("CODEC_LENGTH_TOO_LARGE", `${what} length ${len} exceeds ${maxLength}`);
    return this.fixed(len, what);
  }

  list<T>(maxCount: number, each: (r: Reader, index: number) => T, what = "list"): T[] {
    const count = this.varint(`${what} count`);
    if (count > maxCount) throw new CodecError("CODEC_LENGTH_TOO_LARGE", `${what} count ${count} exceeds ${maxCount}`);
    const out: T[] = [];
    for (let i = 0; i < count; i++) out.push(each(this, i));
    return out;
  }

  /** Expects a tag byte identifying the object kind. */
  tag(expected: number, what: string): void {
    const t = this.u8(`${what} tag`);
    if (t !== expected) throw new CodecError("CODEC_UNKNOWN_TAG", `expected ${what} tag ${expected}, got ${t}`);
  }

  version(supported: number, what: string): number {
    const v = this.u8(`${what} version`);
    if (v !== supported) throw new CodecError("CODEC_UNKNOWN_VERSION", `unsupported ${what} version ${v} (this node speaks ${supported})`);
    return v;
  }

  /** Moves back to an earlier offset (to peek a nested object's tag). */
  rewindTo(offset: number): void {
    if (offset < 0 || offset > this.pos) throw new CodecError("CODEC_INVALID", "rewind past the read position");
    this.pos = offset;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  /** The bytes consumed since `from` (to re-hash a canonical sub-encoding). */
  sliceFrom(from: number): Uint8Array {
    return this.buf.slice(from, this.pos);
  }

  end(what: string): void {
    if (this.pos !== this.buf.length) {
      throw new CodecError("CODEC_TRAILING_BYTES", `${this.buf.length - this.pos} trailing bytes after ${what}`);
    }
  }
}

/** Decodes exactly one value from `bytes`, rejecting trailing bytes. */
export function decodeExact<T>(bytes: Uint8Array, what: string, read: (r: Reader) => T): T {
  const r = new Reader(bytes);
  const v = read(r);
  r.end(what);
  return v;
}
