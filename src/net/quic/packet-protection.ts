/**
 * QUIC packet protection (RFC 9001 §5): AEAD payload protection (AES-128-GCM or
 * ChaCha20-Poly1305) and header protection (AES-128-ECB or ChaCha20, §5.4), all in
 * libphantom (native/quic_crypto.zig) with hardware AES where the CPU has it. One
 * native call protects a packet completely; `SealBatch` seals a whole send burst
 * in one call. libphantom is required (src/crypto/native.ts refuses to start
 * without it), so there is no JS fallback.
 */
import {
  QUIC_OPEN_DESC_WORDS, QUIC_OPEN_OK, QUIC_SEAL_DESC_WORDS, quicHeaderMask, quicOpenBatch, quicSealBatch,
} from "../../crypto/quic-aead.ts";
import { PhantomError } from "../../errors.ts";
import { ByteArena } from "./byte-arena.ts";
import { hkdfExpandLabel } from "./initial-keys.ts";

export const TLS_AES_128_GCM_SHA256 = 0x1301;
export const TLS_CHACHA20_POLY1305_SHA256 = 0x1303;
export type CipherSuite = typeof TLS_AES_128_GCM_SHA256 | typeof TLS_CHACHA20_POLY1305_SHA256;

export const AEAD_TAG_BYTES = 16;
export const HP_SAMPLE_BYTES = 16;
const EMPTY = new Uint8Array(0);
const PN_SPLIT = 0x100000000;

/** One direction's keys at one encryption level (and one key phase). */
export class PacketKeys {
  readonly key: Uint8Array;
  readonly iv: Uint8Array;
  readonly hpKey: Uint8Array;
  /** key || iv || hp key: the layout libphantom's protection calls take. */
  readonly material: Uint8Array;
  readonly secret: Uint8Array;

  constructor(readonly suite: CipherSuite, secret: Uint8Array, hpKey?: Uint8Array) {
    // Own copy: the TLS layer wipes its secrets once the handshake is done.
    this.secret = secret.slice();
    const keyBytes = suite === TLS_AES_128_GCM_SHA256 ? 16 : 32;
    this.key = hkdfExpandLabel(secret, "quic key", EMPTY, keyBytes);
    this.iv = hkdfExpandLabel(secret, "quic iv", EMPTY, 12);
    this.hpKey = hpKey ?? hkdfExpandLabel(secret, "quic hp", EMPTY, keyBytes);
    this.material = new Uint8Array(keyBytes + 12 + keyBytes);
    this.material.set(this.key);
    this.material.set(this.iv, keyBytes);
    this.material.set(this.hpKey, keyBytes + 12);
  }

  /** RFC 9001 §6.1: keys for the next key phase (the header protection key is kept). */
  next(): PacketKeys {
    const secret = hkdfExpandLabel(this.secret, "quic ku", EMPTY, this.secret.length);
    return new PacketKeys(this.suite, secret, this.hpKey);
  }

  /** The 5-byte header protection mask for a 16-byte sample. */
  headerMask(sample: Uint8Array): Uint8Array {
    return quicHeaderMask(this.suite, this.hpKey, sample);
  }
}

/** Packets per native seal call; a send burst is at most a few dozen. */
const SEAL_BATCH_MAX = 64;

/**
 * Queues packets laid out in their output buffers and seals them all with one
 * native call on `flush()` (or earlier, when the keys or the buffer change or the
 * queue is full). Until flushed, a queued packet holds plaintext: the caller must
 * flush before any of its bytes leave the process.
 */
export class SealBatch {
  private keys: PacketKeys | null = null;
  private backing: ArrayBufferLike | null = null;
  private view: Uint8Array = EMPTY;
  private readonly descs = new Uint32Array(QUIC_SEAL_DESC_WORDS * SEAL_BATCH_MAX);
  private n = 0;

  /**
   * Copies header (ending with the `pnLength`-byte packet number) and payload into
   * `out` at `offset` and queues the packet; returns the offset just past its tag.
   */
  add(keys: PacketKeys, header: Uint8Array, pnLength: number, pn: number, payload: Uint8Array, out: Uint8Array, offset: number): number {
    const end = offset + header.length + payload.length + AEAD_TAG_BYTES;
    if (pnLength < 1 || pnLength > 4 || header.length <= pnLength || payload.length + pnLength < 4 || end > out.length) {
      // The sender builds every packet: this is a bug, not peer input.
      throw new PhantomError("QUIC_SEAL_BAD_PACKET", `cannot seal: header ${header.length} B, pn length ${pnLength}, payload ${payload.length} B, room ${out.length - offset} B (payload + pn length must be >= 4)`);
    }
    if (keys !== this.keys || out.buffer !== this.backing || this.n === SEAL_BATCH_MAX) {
      this.flush();
      this.keys = keys;
      if (out.buffer !== this.backing) {
        this.backing = out.buffer;
        this.view = new Uint8Array(out.buffer);
      }
    }
    out.set(header, offset);
    out.set(payload, offset + header.length);
    const d = this.n * QUIC_SEAL_DESC_WORDS;
    const descs = this.descs;
    descs[d] = out.byteOffset + offset;
    descs[d + 1] = header.length;
    descs[d + 2] = payload.length;
    descs[d + 3] = pnLength;
    descs[d + 4] = pn >>> 0;
    descs[d + 5] = Math.floor(pn / PN_SPLIT);
    this.n++;
    return end;
  }

  /** Seals everything queued. */
  flush(): void {
    if (this.n === 0) return;
    const keys = this.keys!;
    const n = this.n;
    this.n = 0;
    quicSealBatch(keys.suite, keys.material, this.view, n, this.descs);
  }
}

/** For single packets; `SealBatch` users keep their own. */
const immediate = new SealBatch();

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
 * must be there); returns the offset just past the tag.
 */
export function sealPacketInto(keys: PacketKeys, header: Uint8Array, pnLength: number, pn: number, payload: Uint8Array, out: Uint8Array, offset: number): number {
  const end = immediate.add(keys, header, pnLength, pn, payload, out, offset);
  immediate.flush();
  return end;
}

export interface OpenedPacket {
  /** First byte with header protection removed. */
  firstByte: number;
  pn: number;
  payload: Uint8Array;
}

const openDescs = new Uint32Array(QUIC_OPEN_DESC_WORDS * SEAL_BATCH_MAX);
/**
 * Plaintext is decrypted straight into regions of shared blocks (see byte-arena.ts):
 * the payload handed out is a view of one, so there is no per-packet array, no
 * copy out of a scratch buffer, and the views frames take of it stay cheap. A
 * view kept by the application keeps its block (64 KiB) alive.
 */
const plaintextArena = new ByteArena();
/** Received datagrams are copied here so that one native call can open a whole batch. */
let batchInput = new Uint8Array(64 * 1024);

/**
 * Removes header protection and decrypts one packet (`packet` spans exactly this
 * packet; `pnOffset` is where its packet number starts). `largestPn` is the largest
 * packet number received in this space (-1 if none). Returns null if the packet
 * is too short or does not authenticate. Does not modify `packet`.
 */
export function openPacket(keys: PacketKeys, packet: Uint8Array, pnOffset: number, largestPn: number): OpenedPacket | null {
  // The one-packet case of openPackets without its arrays.
  const room = setOpenDesc(0, 0, packet.length, pnOffset, largestPn, 0);
  const out = plaintextArena.take(room);
  quicOpenBatch(keys.suite, keys.material, packet, 1, openDescs, out);
  return openedAt(0, packet.length, pnOffset, out);
}

/**
 * Opens `count` datagrams from `datagrams[from]` on, each holding exactly one packet
 * whose packet number starts at `pnOffset` (1-RTT packets: 1 + our connection ID
 * length), under one key set, with one native call per 64 packets: the receive
 * side of `SealBatch`. The datagrams are copied into one reused buffer first (the
 * native call takes one input buffer); they are not modified. `results[i]` gets
 * datagram `from + i`'s packet, or null where it did not open with these keys.
 */
export function openDatagrams(keys: PacketKeys, datagrams: readonly Uint8Array[], from: number, count: number, pnOffset: number, largestPn: number, results: (OpenedPacket | null)[]): void {
  results.length = count;
  for (let base = 0; base < count; base += SEAL_BATCH_MAX) {
    const n = Math.min(SEAL_BATCH_MAX, count - base);
    let inBytes = 0;
    for (let i = 0; i < n; i++) inBytes += datagrams[from + base + i]!.length;
    if (batchInput.length < inBytes) batchInput = new Uint8Array(Math.max(inBytes, batchInput.length * 2));
    let at = 0;
    let room = 0;
    for (let i = 0; i < n; i++) {
      const d = datagrams[from + base + i]!;
      batchInput.set(d, at);
      room = setOpenDesc(i, at, d.length, pnOffset, largestPn, room);
      at += d.length;
    }
    const out = plaintextArena.take(room);
    quicOpenBatch(keys.suite, keys.material, batchInput, n, openDescs, out);
    for (let i = 0; i < n; i++) results[base + i] = openedAt(i, datagrams[from + base + i]!.length, pnOffset, out);
  }
}

export interface PacketSpan {
  /** Where the packet starts in the buffer, and its length. */
  offset: number;
  length: number;
  /** Packet number offset, relative to the packet's start. */
  pnOffset: number;
  /** Largest packet number received in the packet's space before it (-1 if none). */
  largestPn: number;
}

/** `openPacket` for several packets of one buffer under one key set, in one native call per 64. */
export function openPackets(keys: PacketKeys, buf: Uint8Array, spans: readonly PacketSpan[]): (OpenedPacket | null)[] {
  const results: (OpenedPacket | null)[] = [];
  for (let from = 0; from < spans.length; from += SEAL_BATCH_MAX) {
    const count = Math.min(SEAL_BATCH_MAX, spans.length - from);
    let room = 0;
    for (let i = 0; i < count; i++) {
      const s = spans[from + i]!;
      room = setOpenDesc(i, s.offset, s.length, s.pnOffset, s.largestPn, room);
    }
    const out = plaintextArena.take(room);
    quicOpenBatch(keys.suite, keys.material, buf, count, openDescs, out);
    for (let i = 0; i < count; i++) {
      const s = spans[from + i]!;
      results.push(openedAt(i, s.length, s.pnOffset, out));
    }
  }
  return results;
}

/** Fills open descriptor `i`; its plaintext goes to out[room..]. Returns the room used so far. */
function setOpenDesc(i: number, offset: number, length: number, pnOffset: number, largestPn: number, room: number): number {
  const d = i * QUIC_OPEN_DESC_WORDS;
  const expected = largestPn + 1;
  openDescs[d] = offset;
  openDescs[d + 1] = length;
  openDescs[d + 2] = pnOffset;
  openDescs[d + 3] = expected >>> 0;
  openDescs[d + 4] = Math.floor(expected / PN_SPLIT);
  openDescs[d + 5] = room;
  return room + Math.max(0, length - pnOffset - 1 - AEAD_TAG_BYTES);
}

function openedAt(i: number, length: number, pnOffset: number, out: Uint8Array): OpenedPacket | null {
  const d = i * QUIC_OPEN_DESC_WORDS;
  if (openDescs[d + 6] !== QUIC_OPEN_OK) return null;
  const firstByte = openDescs[d + 7]!;
  const at = openDescs[d + 5]!;
  const len = length - pnOffset - ((firstByte & 3) + 1) - AEAD_TAG_BYTES;
  // A region no other packet shares: frames (stream data) keep views of the payload.
  return { firstByte, pn: openDescs[d + 8]! + openDescs[d + 9]! * PN_SPLIT, payload: out.subarray(at, at + len) };
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
