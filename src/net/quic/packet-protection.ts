/**
 * QUIC packet protection (RFC 9001 §5): AEAD payload protection with
 * AES-128-GCM (node:crypto) or ChaCha20-Poly1305 (libphantom), and header
 * protection with AES-128-ECB or raw ChaCha20 (§5.4).
 */
import { createCipheriv, createDecipheriv, type Cipheriv } from "node:crypto";
import { chacha20poly1305Open, chacha20poly1305Seal, chacha20Xor } from "../../crypto/chacha.ts";
import { hkdfExpandLabel } from "./initial-keys.ts";

export const TLS_AES_128_GCM_SHA256 = 0x1301;
export const TLS_CHACHA20_POLY1305_SHA256 = 0x1303;
export type CipherSuite = typeof TLS_AES_128_GCM_SHA256 | typeof TLS_CHACHA20_POLY1305_SHA256;

export const AEAD_TAG_BYTES = 16;
export const HP_SAMPLE_BYTES = 16;
const EMPTY = new Uint8Array(0);

/** Header protection: returns the 5-byte mask for a 16-byte sample. */
interface HeaderProtector {
  mask(sample: Uint8Array): Uint8Array;
}

class AesHeaderProtector implements HeaderProtector {
  private readonly ecb: Cipheriv;
  constructor(key: Uint8Array) {
    // ECB is stateless per block, so one cipher object serves every packet.
    this.ecb = createCipheriv("aes-128-ecb", key, null);
    this.ecb.setAutoPadding(false);
  }
  mask(sample: Uint8Array): Uint8Array {
    return this.ecb.update(sample);
  }
}

class ChachaHeaderProtector implements HeaderProtector {
  private static readonly ZEROS = new Uint8Array(5);
  constructor(private readonly key: Uint8Array) {}
  mask(sample: Uint8Array): Uint8Array {
    const counter = sample[0]! | (sample[1]! << 8) | (sample[2]! << 16) | (sample[3]! << 24);
    return chacha20Xor(this.key, sample.subarray(4, 16), counter >>> 0, ChachaHeaderProtector.ZEROS);
  }
}

/** One direction's keys at one encryption level (and one key phase). */
export class PacketKeys {
  readonly key: Uint8Array;
  readonly iv: Uint8Array;
  private readonly hp: HeaderProtector;
  private readonly nonce = new Uint8Array(12);

  readonly secret: Uint8Array;

  constructor(readonly suite: CipherSuite, secret: Uint8Array, hp?: HeaderProtector) {
    // Own copy: the TLS layer wipes its secrets once the handshake is done.
    this.secret = secret.slice();
    const keyBytes = suite === TLS_AES_128_GCM_SHA256 ? 16 : 32;
    this.key = hkdfExpandLabel(secret, "quic key", EMPTY, keyBytes);
    this.iv = hkdfExpandLabel(secret, "quic iv", EMPTY, 12);
    if (hp) this.hp = hp;
    else {
      const hpKey = hkdfExpandLabel(secret, "quic hp", EMPTY, keyBytes);
      this.hp = suite === TLS_AES_128_GCM_SHA256 ? new AesHeaderProtector(hpKey) : new ChachaHeaderProtector(hpKey);
    }
  }

  /** RFC 9001 §6.1: keys for the next key phase (the header protection key is kept). */
  next(): PacketKeys {
    const secret = hkdfExpandLabel(this.secret, "quic ku", EMPTY, this.secret.length);
    return new PacketKeys(this.suite, secret, this.hp);
  }

  private makeNonce(pn: number): Uint8Array {
    const n = this.nonce;
    n.set(this.iv);
    const hi = Math.floor(pn / 0x100000000);
    const lo = pn >>> 0;
    for (let i = 0; i < 4; i++) {
      const shift = 24 - 8 * i;
      n[4 + i] = n[4 + i]! ^ ((hi >>> shift) & 0xff);
      n[8 + i] = n[8 + i]! ^ ((lo >>> shift) & 0xff);
    }
    return n;
  }

  /** Encrypts `payload` into `out` at `offset` (ciphertext then tag); aad is the header. */
  sealInto(pn: number, aad: Uint8Array, payload: Uint8Array, out: Uint8Array, offset: number): void {
    const nonce = this.makeNonce(pn);
    if (this.suite === TLS_AES_128_GCM_SHA256) {
      const c = createCipheriv("aes-128-gcm", this.key, nonce);
      c.setAAD(aad);
      const ct = c.update(payload);
      out.set(ct, offset);
      const fin = c.final();
      if (fin.length) out.set(fin, offset + ct.length);
      out.set(c.getAuthTag(), offset + payload.length);
    } else {
      out.set(chacha20poly1305Seal(this.key, nonce, payload, aad), offset);
    }
  }

  /** Returns the plaintext, or null when authentication fails. `sealed` starts at `from` (default 0) in `packet`. */
  open(pn: number, aad: Uint8Array, packet: Uint8Array, from = 0): Uint8Array | null {
    if (packet.length - from < AEAD_TAG_BYTES) return null;
    const nonce = this.makeNonce(pn);
    if (this.suite === TLS_AES_128_GCM_SHA256) {
      const n = packet.length - AEAD_TAG_BYTES;
      try {
        const d = createDecipheriv("aes-128-gcm", this.key, nonce);
        d.setAAD(aad);
        d.setAuthTag(packet.subarray(n));
        const pt = d.update(packet.subarray(from, n));
        d.final();
        // pt is a fresh Buffer owned by us: make it a plain Uint8Array (Buffer#slice would
        // alias where callers expect a copy) without copying it.
        return Object.setPrototypeOf(pt, Uint8Array.prototype) as Uint8Array;
      } catch {
        return null;
      }
    }
    return chacha20poly1305Open(this.key, nonce, from === 0 ? packet : packet.subarray(from), aad);
  }

  headerMask(sample: Uint8Array): Uint8Array {
    return this.hp.mask(sample);
  }
}

const sampleScratch = new Uint8Array(HP_SAMPLE_BYTES);
/** Largest unprotected header `openPacket` copies into its scratch array (bigger ones get their own). */
const HEADER_SCRATCH_BYTES = 256;
const headerScratch = new Uint8Array(HEADER_SCRATCH_BYTES);

/**
 * The header-protection sample, copied into a reused array: a subarray would make
 * the engine materialize an ArrayBuffer for every fresh packet (measurably slower).
 */
function copySample(packet: Uint8Array, at: number): Uint8Array {
  for (let i = 0; i < HP_SAMPLE_BYTES; i++) sampleScratch[i] = packet[at + i]!;
  return sampleScratch;
}

/**
 * Seals a packet: `header` ends with the `pnLength`-byte packet number. Returns
 * header || ciphertext || tag with header protection applied (RFC 9001 §5.4.1).
 */
export function sealPacket(keys: PacketKeys, header: Uint8Array, pnLength: number, pn: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(header.length + payload.length + AEAD_TAG_BYTES);
  sealPacketInto(keys, header, pnLength, pn, payload, out, 0);
  return out;
}

/**
 * `sealPacket` writing into `out` at `offset` (room for header, payload and tag
 * must be there); returns the offset just past the tag. Lets a caller seal many
 * packets into one buffer instead of allocating one array per packet.
 */
export function sealPacketInto(keys: PacketKeys, header: Uint8Array, pnLength: number, pn: number, payload: Uint8Array, out: Uint8Array, offset: number): number {
  out.set(header, offset);
  keys.sealInto(pn, header, payload, out, offset + header.length);
  const pnOffset = offset + header.length - pnLength;
  const mask = keys.headerMask(copySample(out, pnOffset + 4));
  out[offset] = out[offset]! ^ (mask[0]! & ((out[offset]! & 0x80) !== 0 ? 0x0f : 0x1f));
  for (let i = 0; i < pnLength; i++) out[pnOffset + i] = out[pnOffset + i]! ^ mask[1 + i]!;
  return offset + header.length + payload.length + AEAD_TAG_BYTES;
}

export interface OpenedPacket {
  /** First byte with header protection removed. */
  firstByte: number;
  pn: number;
  payload: Uint8Array;
}

/**
 * Removes header protection and decrypts one packet (`packet` spans exactly this
 * packet; `pnOffset` is where its packet number starts). `largestPn` is the largest
 * packet number received in this space (-1 if none). Returns null if the packet
 * is too short or does not authenticate. Does not modify `packet`.
 */
export function openPacket(keys: PacketKeys, packet: Uint8Array, pnOffset: number, largestPn: number): OpenedPacket | null {
  if (packet.length < pnOffset + 4 + HP_SAMPLE_BYTES) return null;
  const mask = keys.headerMask(copySample(packet, pnOffset + 4));
  const long = (packet[0]! & 0x80) !== 0;
  const firstByte = packet[0]! ^ (mask[0]! & (long ? 0x0f : 0x1f));
  const pnLength = (firstByte & 0x03) + 1;
  // Unprotect a copy: a failed trial must leave the datagram intact. Headers of our
  // own size fit a reused scratch array (a fresh one per packet showed in profiles).
  const headerBytes = pnOffset + pnLength;
  const header = headerBytes <= HEADER_SCRATCH_BYTES ? headerScratch.subarray(0, headerBytes) : new Uint8Array(headerBytes);
  for (let i = 0; i < headerBytes; i++) header[i] = packet[i]!;
  header[0] = firstByte;
  let truncated = 0;
  for (let i = 0; i < pnLength; i++) {
    header[pnOffset + i] = header[pnOffset + i]! ^ mask[1 + i]!;
    truncated = truncated * 256 + header[pnOffset + i]!;
  }
  const pn = decodePacketNumber(largestPn, truncated, pnLength * 8);
  const payload = keys.open(pn, header, packet, pnOffset + pnLength);
  if (payload === null) return null;
  return { firstByte, pn, payload };
}

/** RFC 9000 Appendix A.3. */
export function decodePacketNumber(largestPn: number, truncatedPn: number, pnNbits: number): number {
  const expected = largestPn + 1;
  const win = 2 ** pnNbits;
  const hwin = win / 2;
  // (expected & ~mask) | truncated, with arithmetic that stays exact above 2^32.
  const candidate = expected - (expected % win) + truncatedPn;
  if (candidate <= expected - hwin && candidate < 2 ** 62 - win) return candidate + win;
  if (candidate > expected + hwin && candidate >= win) return candidate - win;
  return candidate;
}

/** RFC 9000 Appendix A.2: bytes needed to encode `pn` given the largest acknowledged. */
export function packetNumberLength(pn: number, largestAcked: number): number {
  const numUnacked = largestAcked < 0 ? pn + 1 : pn - largestAcked;
  const minBits = Math.log2(numUnacked) + 1;
  return Math.min(4, Math.max(1, Math.ceil(minBits / 8)));
}
