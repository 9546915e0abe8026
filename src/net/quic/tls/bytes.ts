/** Byte reader/writer for TLS 1.3 wire structures (RFC 8446 §3). Bad input → CRYPTO_ERROR(decode_error). */
import { QuicError } from "../errors.ts";

export const ALERT_UNEXPECTED_MESSAGE = 10;
export const ALERT_HANDSHAKE_FAILURE = 40;
export const ALERT_BAD_CERTIFICATE = 42;
export const ALERT_UNSUPPORTED_CERTIFICATE = 43;
export const ALERT_CERTIFICATE_UNKNOWN = 46;
export const ALERT_ILLEGAL_PARAMETER = 47;
export const ALERT_DECODE_ERROR = 50;
export const ALERT_DECRYPT_ERROR = 51;
export const ALERT_PROTOCOL_VERSION = 70;
export const ALERT_INTERNAL_ERROR = 80;
export const ALERT_MISSING_EXTENSION = 109;
export const ALERT_NO_APPLICATION_PROTOCOL = 120;

export function tlsAlert(alert: number, message: string): QuicError {
  return QuicError.crypto(alert, message);
}

export class TlsReader {
  pos = 0;
  constructor(readonly buf: Uint8Array, private readonly what = "TLS message") {}
  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw tlsAlert(ALERT_DECODE_ERROR, `truncated ${this.what}`);
  }
  get remaining(): number {
    return this.buf.length - this.pos;
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  u16(): number {
    this.need(2);
    const v = (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!;
    this.pos += 2;
    return v;
  }
  u24(): number {
    this.need(3);
    const b = this.buf;
    const v = (b[this.pos]! << 16) | (b[this.pos + 1]! << 8) | b[this.pos + 2]!;
    this.pos += 3;
    return v;
  }
  bytes(n: number): Uint8Array {
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  vec8(): Uint8Array {
    return this.bytes(this.u8());
  }
  vec16(): Uint8Array {
    return this.bytes(this.u16());
  }
  vec24(): Uint8Array {
    return this.bytes(this.u24());
  }
  end(): void {
    if (this.pos !== this.buf.length) throw tlsAlert(ALERT_DECODE_ERROR, `trailing bytes in ${this.what}`);
  }
}

export class TlsWriter {
  private buf = new Uint8Array(512);
  len = 0;
  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  u8(v: number): this {
    this.ensure(1);
    this.buf[this.len++] = v;
    return this;
  }
  u16(v: number): this {
    this.ensure(2);
    this.buf[this.len++] = v >> 8;
    this.buf[this.len++] = v & 0xff;
    return this;
  }
  u24(v: number): this {
    this.ensure(3);
    this.buf[this.len++] = v >> 16;
    this.buf[this.len++] = (v >> 8) & 0xff;
    this.buf[this.len++] = v & 0xff;
    return this;
  }
  raw(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }
  /** Writes a length-prefixed block whose body `fn` writes (prefix of `lenBytes` bytes). */
  block(lenBytes: 1 | 2 | 3, fn: (w: this) => void): this {
    this.ensure(lenBytes);
    const at = this.len;
    this.len += lenBytes;
    fn(this);
    const n = this.len - at - lenBytes;
    if (lenBytes === 1) this.buf[at] = n;
    else if (lenBytes === 2) {
      this.buf[at] = n >> 8;
      this.buf[at + 1] = n & 0xff;
    } else {
      this.buf[at] = n >> 16;
      this.buf[at + 1] = (n >> 8) & 0xff;
      this.buf[at + 2] = n & 0xff;
    }
    return this;
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
