/**
 * QUIC v1 packet headers (RFC 9000 §17): long and short header parsing up to the
 * (protected) packet number, header serialization, coalesced packets (§12.2),
 * Version Negotiation (§17.2.1) and Retry with its integrity tag (RFC 9001 §5.8).
 */
import { aes128gcmSeal } from "../../crypto/quic-aead.ts";
import { PhantomError } from "../../errors.ts";
import { QUIC_VERSION_1 } from "./initial-keys.ts";

export const CONNECTION_ID_BYTES_MAX = 20;
export const PACKET_TYPE_INITIAL = 0;
export const PACKET_TYPE_ZERO_RTT = 1;
export const PACKET_TYPE_HANDSHAKE = 2;
export const PACKET_TYPE_RETRY = 3;
export type LongPacketType = 0 | 1 | 2 | 3;

export class QuicHeaderError extends PhantomError<"QUIC_BAD_HEADER"> {
  constructor(message: string) {
    super("QUIC_BAD_HEADER", message);
  }
}

/** Reads a QUIC variable-length integer (RFC 9000 §16) at `o`; returns [value, bytes]. */
export function readVarintAt(b: Uint8Array, o: number): [number, number] {
  if (o >= b.length) throw new QuicHeaderError("truncated varint");
  const first = b[o]!;
  const len = 1 << (first >> 6);
  if (o + len > b.length) throw new QuicHeaderError("truncated varint");
  let v = first & 0x3f;
  for (let i = 1; i < len; i++) v = v * 256 + b[o + i]!;
  return [v, len];
}

export function varintLength(v: number): number {
  return v < 0x40 ? 1 : v < 0x4000 ? 2 : v < 0x40000000 ? 4 : 8;
}

/** Writes `v` as a varint of exactly `len` bytes at `o`; returns the next offset. */
export function writeVarintAt(b: Uint8Array, o: number, v: number, len = varintLength(v)): number {
  const tag = len === 1 ? 0 : len === 2 ? 0x40 : len === 4 ? 0x80 : 0xc0;
  let x = v;
  for (let i = len - 1; i >= 0; i--) {
    b[o + i] = x % 256;
    x = Math.floor(x / 256);
  }
  b[o] = b[o]! | tag;
  return o + len;
}

export interface LongHeader {
  form: "long";
  type: LongPacketType;
  version: number;
  dcid: Uint8Array;
  scid: Uint8Array;
  /** Initial: address validation token; Retry: retry token. */
  token: Uint8Array;
  /** Offset (in the datagram) of the protected packet number. */
  pnOffset: number;
  /** Offset where this packet starts and where the next coalesced packet starts. */
  start: number;
  end: number;
}

export interface ShortHeader {
  form: "short";
  dcid: Uint8Array;
  pnOffset: number;
  start: number;
  end: number;
}

export interface VersionNegotiationPacket {
  form: "vn";
  dcid: Uint8Array;
  scid: Uint8Array;
  versions: number[];
  start: number;
  end: number;
}

export type PacketHeader = LongHeader | ShortHeader | VersionNegotiationPacket;

function readU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function readCid(b: Uint8Array, o: number): [Uint8Array, number] {
  if (o >= b.length) throw new QuicHeaderError("truncated connection id length");
  const len = b[o]!;
  if (len > CONNECTION_ID_BYTES_MAX) throw new QuicHeaderError(`connection id of ${len} bytes`);
  if (o + 1 + len > b.length) throw new QuicHeaderError("truncated connection id");
  return [b.subarray(o + 1, o + 1 + len), o + 1 + len];
}

/**
 * Parses the header of the packet starting at `start` in `datagram`. Short
 * headers need the length of our connection IDs. Version-independent fields
 * are read for any version; other versions yield a long header for the caller
 * to answer with Version Negotiation.
 */
export function parsePacketHeader(datagram: Uint8Array, start: number, shortDcidBytes: number): PacketHeader {
  const b = datagram;
  const first = b[start]!;
  if ((first & 0x80) === 0) {
    const end = b.length;
    const pnOffset = start + 1 + shortDcidBytes;
    if (pnOffset > end) throw new QuicHeaderError("truncated short header");
    return { form: "short", dcid: b.subarray(start + 1, pnOffset), pnOffset, start, end };
  }
  if (start + 5 > b.length) throw new QuicHeaderError("truncated long header");
  const version = readU32(b, start + 1);
  const [dcid, o1] = readCid(b, start + 5);
  const [scid, o2] = readCid(b, o1);
  if (version === 0) {
    const versions: number[] = [];
    for (let o = o2; o + 4 <= b.length; o += 4) versions.push(readU32(b, o));
    return { form: "vn", dcid, scid, versions, start, end: b.length };
  }
  const type = ((first >> 4) & 0x03) as LongPacketType;
  const header: LongHeader = { form: "long", type, version, dcid, scid, token: b.subarray(0, 0), pnOffset: o2, start, end: b.length };
  if (version !== QUIC_VERSION_1) return header;
  if ((first & 0x40) === 0) throw new QuicHeaderError("fixed bit is zero");
  let o = o2;
  if (type === PACKET_TYPE_RETRY) {
    if (b.length - o < RETRY_TAG_BYTES) throw new QuicHeaderError("truncated retry");
    header.token = b.subarray(o, b.length - RETRY_TAG_BYTES);
    return header;
  }
  if (type === PACKET_TYPE_INITIAL) {
    const [tokenLen, n] = readVarintAt(b, o);
    o += n;
    if (o + tokenLen > b.length) throw new QuicHeaderError("truncated token");
    header.token = b.subarray(o, o + tokenLen);
    o += tokenLen;
  }
  const [length, n] = readVarintAt(b, o);
  o += n;
  if (o + length > b.length) throw new QuicHeaderError("packet length beyond datagram");
  header.pnOffset = o;
  header.end = o + length;
  return header;
}

export interface LongHeaderFields {
  type: LongPacketType;
  dcid: Uint8Array;
  scid: Uint8Array;
  token?: Uint8Array;
  pnLength: number;
  pn: number;
  /** Bytes after the packet number: the payload plus the AEAD tag. */
  protectedPayloadBytes: number;
}

/** Builds a v1 long header including the Length field and the truncated packet number. */
export function writeLongHeader(f: LongHeaderFields): Uint8Array {
  const token = f.token ?? new Uint8Array(0);
  const length = f.pnLength + f.protectedPayloadBytes;
  const tokenBytes = f.type === PACKET_TYPE_INITIAL ? varintLength(token.length) + token.length : 0;
  // Length always takes 2 bytes (packets fit in 16383 bytes), so sizes are stable.
  const total = 1 + 4 + 1 + f.dcid.length + 1 + f.scid.length + tokenBytes + 2 + f.pnLength;
  const h = new Uint8Array(total);
  h[0] = 0xc0 | (f.type << 4) | (f.pnLength - 1);
  h[4] = QUIC_VERSION_1;
  let o = writeConnectionIds(h, f.dcid, f.scid);
  if (f.type === PACKET_TYPE_INITIAL) {
    o = writeVarintAt(h, o, token.length);
    h.set(token, o);
    o += token.length;
  }
  o = writeVarintAt(h, o, length, 2);
  writePacketNumber(h, o, f.pn, f.pnLength);
  return h;
}

/** Long header bytes before the packet number, for size planning. */
export function longHeaderOverhead(type: LongPacketType, dcidBytes: number, scidBytes: number, tokenBytes: number, pnLength: number): number {
  const tok = type === PACKET_TYPE_INITIAL ? varintLength(tokenBytes) + tokenBytes : 0;
  return 7 + dcidBytes + scidBytes + tok + 2 + pnLength;
}

/** Builds a 1-RTT short header (fixed bit set, spin bit 0). */
export function writeShortHeader(dcid: Uint8Array, keyPhase: number, pnLength: number, pn: number): Uint8Array {
  const h = new Uint8Array(1 + dcid.length + pnLength);
  h[0] = 0x40 | (keyPhase << 2) | (pnLength - 1);
  h.set(dcid, 1);
  writePacketNumber(h, 1 + dcid.length, pn, pnLength);
  return h;
}

/** Long headers (RFC 9000 §17.2): length-prefixed DCID then SCID after the version; returns the offset past them. */
function writeConnectionIds(out: Uint8Array, dcid: Uint8Array, scid: Uint8Array): number {
  let o = 5;
  out[o++] = dcid.length;
  out.set(dcid, o);
  o += dcid.length;
  out[o++] = scid.length;
  out.set(scid, o);
  return o + scid.length;
}

function writePacketNumber(h: Uint8Array, o: number, pn: number, pnLength: number): void {
  let x = pn;
  for (let i = pnLength - 1; i >= 0; i--) {
    h[o + i] = x & 0xff;
    x = Math.floor(x / 256);
  }
}

/** RFC 9000 §17.2.1: a Version Negotiation packet answering a client's packet. */
export function writeVersionNegotiation(clientDcid: Uint8Array, clientScid: Uint8Array, versions: readonly number[], random: number): Uint8Array {
  const out = new Uint8Array(7 + clientDcid.length + clientScid.length + 4 * versions.length);
  out[0] = 0x80 | (random & 0x7f);
  // Echo the client's connection IDs swapped.
  let o = writeConnectionIds(out, clientScid, clientDcid);
  for (const v of versions) {
    out[o] = v >>> 24;
    out[o + 1] = (v >>> 16) & 0xff;
    out[o + 2] = (v >>> 8) & 0xff;
    out[o + 3] = v & 0xff;
    o += 4;
  }
  return out;
}

export const RETRY_TAG_BYTES = 16;
/** RFC 9001 §5.8: fixed Retry integrity key and nonce for QUIC v1. */
const RETRY_KEY_V1 = new Uint8Array(Buffer.from("be0c690b9f66575a1d766b54e368c84e", "hex"));
const RETRY_NONCE_V1 = new Uint8Array(Buffer.from("461599d35d632bf2239825bb", "hex"));
const NO_PLAINTEXT = new Uint8Array(0);

function retryTag(originalDcid: Uint8Array, retryWithoutTag: Uint8Array): Uint8Array {
  const pseudo = new Uint8Array(1 + originalDcid.length + retryWithoutTag.length);
  pseudo[0] = originalDcid.length;
  pseudo.set(originalDcid, 1);
  pseudo.set(retryWithoutTag, 1 + originalDcid.length);
  // The tag of AES-128-GCM over an empty plaintext with the pseudo-packet as AAD.
  return aes128gcmSeal(RETRY_KEY_V1, RETRY_NONCE_V1, NO_PLAINTEXT, pseudo);
}

/** Builds a Retry packet (RFC 9000 §17.2.5) with its integrity tag. */
export function writeRetry(originalDcid: Uint8Array, dcid: Uint8Array, scid: Uint8Array, token: Uint8Array, unused = 0): Uint8Array {
  const body = new Uint8Array(7 + dcid.length + scid.length + token.length);
  body[0] = 0xc0 | (PACKET_TYPE_RETRY << 4) | (unused & 0x0f);
  body[4] = QUIC_VERSION_1;
  body.set(token, writeConnectionIds(body, dcid, scid));
  const out = new Uint8Array(body.length + RETRY_TAG_BYTES);
  out.set(body);
  out.set(retryTag(originalDcid, body), body.length);
  return out;
}

/** Checks a received Retry packet's integrity tag against the original DCID. */
export function verifyRetry(originalDcid: Uint8Array, retry: Uint8Array): boolean {
  if (retry.length < RETRY_TAG_BYTES + 7) return false;
  const body = retry.subarray(0, retry.length - RETRY_TAG_BYTES);
  const tag = retryTag(originalDcid, body);
  const got = retry.subarray(retry.length - RETRY_TAG_BYTES);
  let diff = 0;
  for (let i = 0; i < RETRY_TAG_BYTES; i++) diff |= tag[i]! ^ got[i]!;
  return diff === 0;
}
