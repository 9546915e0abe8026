/**
 * QUIC frames (RFC 9000 §12.4 and §19, DATAGRAM from RFC 9221 §4): typed frame
 * values, `parseFrames` for a decrypted packet payload, and exact-size writers.
 *
 * Parsing is zero-copy: STREAM/CRYPTO/DATAGRAM data, tokens, connection IDs and
 * reason phrases are subarrays of the payload (copy them if the payload buffer is
 * reused). Every malformed input raises QuicError with the RFC's error code and the
 * offending frame type; nothing else is ever thrown for peer bytes.
 *
 * Integer fields are `number` (see varint.ts: values above 2^53−1 saturate; limits
 * that large mean "unbounded", offsets that large fail flow control). ACK Delay is
 * kept in raw wire units: the connection scales it by 2^ack_delay_exponent µs.
 */
import { invariant } from "../../errors.ts";
import { QuicError } from "./errors.ts";
import { QuicReader, decodeVarintBig, varintLength, varintMaxBig, varintSafeMax, writeVarint } from "./varint.ts";

/** Frame type values (RFC 9000 Table 3, RFC 9221 §4). */
export const FrameType = {
  PADDING: 0x00,
  PING: 0x01,
  ACK: 0x02,
  ACK_ECN: 0x03,
  RESET_STREAM: 0x04,
  STOP_SENDING: 0x05,
  CRYPTO: 0x06,
  NEW_TOKEN: 0x07,
  /** STREAM is 0x08–0x0f: 0x08 | OFF(0x04) | LEN(0x02) | FIN(0x01). */
  STREAM: 0x08,
  MAX_DATA: 0x10,
  MAX_STREAM_DATA: 0x11,
  MAX_STREAMS_BIDI: 0x12,
  MAX_STREAMS_UNI: 0x13,
  DATA_BLOCKED: 0x14,
  STREAM_DATA_BLOCKED: 0x15,
  STREAMS_BLOCKED_BIDI: 0x16,
  STREAMS_BLOCKED_UNI: 0x17,
  NEW_CONNECTION_ID: 0x18,
  RETIRE_CONNECTION_ID: 0x19,
  PATH_CHALLENGE: 0x1a,
  PATH_RESPONSE: 0x1b,
  CONNECTION_CLOSE: 0x1c,
  CONNECTION_CLOSE_APP: 0x1d,
  HANDSHAKE_DONE: 0x1e,
  DATAGRAM: 0x30,
  DATAGRAM_LEN: 0x31,
} as const;

const streamBitOff = 0x04;
const streamBitLen = 0x02;
const streamBitFin = 0x01;

/** Largest MAX_STREAMS / STREAMS_BLOCKED value (RFC 9000 §19.11): 2^60. */
export const streamsCountMax = 2 ** 60;
/** Connection ID length bounds in NEW_CONNECTION_ID (RFC 9000 §19.15). */
export const connectionIdBytesMax = 20;
export const statelessResetTokenBytes = 16;
export const pathDataBytes = 8;
/**
 * ACK ranges kept per parsed ACK frame. Extra (lower) ranges are parsed and
 * validated but dropped: acknowledging fewer packets is always safe, and it bounds
 * the memory a hostile ACK can make us allocate.
 */
export const ackRangesParsedMax = 256;

export type PacketType = "initial" | "0rtt" | "handshake" | "1rtt";

/** An inclusive range of acknowledged packet numbers. */
export interface AckRange {
  smallest: number;
  largest: number;
}
export interface EcnCounts {
  ect0: number;
  ect1: number;
  ce: number;
}

export interface PaddingFrame { kind: "padding"; length: number }
export interface PingFrame { kind: "ping" }
/** `ranges` are descending and disjoint; ranges[0].largest is Largest Acknowledged. */
export interface AckFrame { kind: "ack"; ackDelay: number; ranges: AckRange[]; ecn?: EcnCounts }
export interface ResetStreamFrame { kind: "reset_stream"; streamId: number; errorCode: number; finalSize: number }
export interface StopSendingFrame { kind: "stop_sending"; streamId: number; errorCode: number }
export interface CryptoFrame { kind: "crypto"; offset: number; data: Uint8Array }
export interface NewTokenFrame { kind: "new_token"; token: Uint8Array }
export interface StreamFrame { kind: "stream"; streamId: number; offset: number; data: Uint8Array; fin: boolean }
export interface MaxDataFrame { kind: "max_data"; maximum: number }
export interface MaxStreamDataFrame { kind: "max_stream_data"; streamId: number; maximum: number }
export interface MaxStreamsFrame { kind: "max_streams"; bidi: boolean; maximum: number }
export interface DataBlockedFrame { kind: "data_blocked"; limit: number }
export interface StreamDataBlockedFrame { kind: "stream_data_blocked"; streamId: number; limit: number }
export interface StreamsBlockedFrame { kind: "streams_blocked"; bidi: boolean; limit: number }
export interface NewConnectionIdFrame {
  kind: "new_connection_id";
  sequence: number;
  retirePriorTo: number;
  connectionId: Uint8Array;
  resetToken: Uint8Array;
}
export interface RetireConnectionIdFrame { kind: "retire_connection_id"; sequence: number }
export interface PathChallengeFrame { kind: "path_challenge"; data: Uint8Array }
export interface PathResponseFrame { kind: "path_response"; data: Uint8Array }
/** `application` selects type 0x1d (no Frame Type field; `frameType` is then 0). */
export interface ConnectionCloseFrame {
  kind: "connection_close";
  application: boolean;
  errorCode: number;
  frameType: number;
  reason: Uint8Array;
}
export interface HandshakeDoneFrame { kind: "handshake_done" }
export interface DatagramFrame { kind: "datagram"; data: Uint8Array }

export type Frame =
  | PaddingFrame | PingFrame | AckFrame | ResetStreamFrame | StopSendingFrame | CryptoFrame
  | NewTokenFrame | StreamFrame | MaxDataFrame | MaxStreamDataFrame | MaxStreamsFrame
  | DataBlockedFrame | StreamDataBlockedFrame | StreamsBlockedFrame | NewConnectionIdFrame
  | RetireConnectionIdFrame | PathChallengeFrame | PathResponseFrame | ConnectionCloseFrame
  | HandshakeDoneFrame | DatagramFrame;

export type FrameKind = Frame["kind"];

// Packet-type permissions (RFC 9000 Table 3 "Pkts" column; RFC 9221 §4 for DATAGRAM).
const inInitial = 1;
const inHandshake = 2;
const in0Rtt = 4;
const in1Rtt = 8;
const all = inInitial | inHandshake | in0Rtt | in1Rtt;
const app = in0Rtt | in1Rtt;

const packetTypeBit: Record<PacketType, number> = { initial: inInitial, handshake: inHandshake, "0rtt": in0Rtt, "1rtt": in1Rtt };

/** Allowed packet types per frame type, indexed by type value (0x00–0x1e). */
const allowedByType: readonly number[] = [
  all, all, inInitial | inHandshake | in1Rtt, inInitial | inHandshake | in1Rtt, // PADDING PING ACK ACK_ECN
  app, app, inInitial | inHandshake | in1Rtt, in1Rtt, // RESET_STREAM STOP_SENDING CRYPTO NEW_TOKEN
  app, app, app, app, app, app, app, app, // STREAM 0x08–0x0f
  app, app, app, app, app, app, app, app, // MAX_DATA .. STREAMS_BLOCKED_UNI
  app, in1Rtt, app, in1Rtt, // NEW_CONNECTION_ID RETIRE_CONNECTION_ID PATH_CHALLENGE PATH_RESPONSE
  all, app, in1Rtt, // CONNECTION_CLOSE (0x1c ih01), CONNECTION_CLOSE_APP (0x1d 01), HANDSHAKE_DONE
];
const datagramAllowed = app;

/** Whether a frame of this type may appear in this packet type (RFC 9000 §12.4). */
export function frameAllowedIn(frameType: number, packetType: PacketType): boolean {
  const mask = frameType === FrameType.DATAGRAM || frameType === FrameType.DATAGRAM_LEN ? datagramAllowed : allowedByType[frameType];
  return mask !== undefined && (mask & packetTypeBit[packetType]) !== 0;
}

/** Ack-eliciting: every frame except ACK, PADDING and CONNECTION_CLOSE (RFC 9002 §2). */
export function isAckEliciting(frame: Frame): boolean {
  return frame.kind !== "ack" && frame.kind !== "padding" && frame.kind !== "connection_close";
}

export function framesAckEliciting(frames: readonly Frame[]): boolean {
  for (const f of frames) if (isAckEliciting(f)) return true;
  return false;
}

/**
 * Parses a decrypted packet payload into frames, enforcing RFC 9000 §12.4: unknown
 * or malformed frames are FRAME_ENCODING_ERROR; a frame not allowed in this packet
 * type, a non-minimal frame type encoding, or an empty payload is PROTOCOL_VIOLATION.
 * Consecutive PADDING bytes become one PaddingFrame.
 */
export function parseFrames(payload: Uint8Array, packetType: PacketType): Frame[] {
  const r = new QuicReader(payload, "FRAME_ENCODING_ERROR");
  const frames: Frame[] = [];
  const bit = packetTypeBit[packetType];
  while (r.remaining > 0) {
    const start = r.pos;
    const { value: type, length } = r.varintWithLength("frame type");
    const mask = type === FrameType.DATAGRAM || type === FrameType.DATAGRAM_LEN ? datagramAllowed : allowedByType[type];
    if (mask === undefined) throw new QuicError("FRAME_ENCODING_ERROR", `unknown frame type 0x${type.toString(16)}`, { frameType: type, details: { offset: start } });
    if (length !== 1) throw new QuicError("PROTOCOL_VIOLATION", `frame type 0x${type.toString(16)} not minimally encoded`, { frameType: type });
    if ((mask & bit) === 0) throw new QuicError("PROTOCOL_VIOLATION", `frame type 0x${type.toString(16)} not allowed in ${packetType} packet`, { frameType: type });
    r.frameType = type;
    frames.push(parseFrameBody(r, type));
  }
  if (frames.length === 0) throw new QuicError("PROTOCOL_VIOLATION", "packet payload holds no frames");
  return frames;
}

/** Parses the body of one frame whose (validated) type byte has just been read. */
function parseFrameBody(r: QuicReader, type: number): Frame {
  if (type >= FrameType.STREAM && type <= 0x0f) return parseStream(r, type);
  switch (type) {
    case FrameType.PADDING: {
      let length = 1;
      while (r.pos < r.end && r.buf[r.pos] === 0) { r.pos++; length++; }
      return { kind: "padding", length };
    }
    case FrameType.PING: return { kind: "ping" };
    case FrameType.ACK:
    case FrameType.ACK_ECN: return parseAck(r, type === FrameType.ACK_ECN);
    case FrameType.RESET_STREAM:
      return { kind: "reset_stream", streamId: r.varint("stream id"), errorCode: r.varint("error code"), finalSize: r.varint("final size") };
    case FrameType.STOP_SENDING: return { kind: "stop_sending", streamId: r.varint("stream id"), errorCode: r.varint("error code") };
    case FrameType.CRYPTO: {
      const offsetPos = r.pos;
      const offset = r.varint("crypto offset");
      const data = r.bytes(r.varint("crypto length"), "crypto data");
      checkOffsetEnd(r, offsetPos, offset, data.length);
      return { kind: "crypto", offset, data };
    }
    case FrameType.NEW_TOKEN: {
      const token = r.bytes(r.varint("token length"), "token");
      if (token.length === 0) r.fail("NEW_TOKEN with empty token");
      return { kind: "new_token", token };
    }
    case FrameType.MAX_DATA: return { kind: "max_data", maximum: r.varint("maximum data") };
    case FrameType.MAX_STREAM_DATA: return { kind: "max_stream_data", streamId: r.varint("stream id"), maximum: r.varint("maximum stream data") };
    case FrameType.MAX_STREAMS_BIDI:
    case FrameType.MAX_STREAMS_UNI: return { kind: "max_streams", bidi: type === FrameType.MAX_STREAMS_BIDI, maximum: readStreamCount(r) };
    case FrameType.DATA_BLOCKED: return { kind: "data_blocked", limit: r.varint("maximum data") };
    case FrameType.STREAM_DATA_BLOCKED: return { kind: "stream_data_blocked", streamId: r.varint("stream id"), limit: r.varint("maximum stream data") };
    case FrameType.STREAMS_BLOCKED_BIDI:
    case FrameType.STREAMS_BLOCKED_UNI: return { kind: "streams_blocked", bidi: type === FrameType.STREAMS_BLOCKED_BIDI, limit: readStreamCount(r) };
    case FrameType.NEW_CONNECTION_ID: return parseNewConnectionId(r);
    case FrameType.RETIRE_CONNECTION_ID: return { kind: "retire_connection_id", sequence: r.varint("sequence number") };
    case FrameType.PATH_CHALLENGE: return { kind: "path_challenge", data: r.bytes(pathDataBytes, "path challenge data") };
    case FrameType.PATH_RESPONSE: return { kind: "path_response", data: r.bytes(pathDataBytes, "path response data") };
    case FrameType.CONNECTION_CLOSE:
    case FrameType.CONNECTION_CLOSE_APP: {
      const application = type === FrameType.CONNECTION_CLOSE_APP;
      const errorCode = r.varint("error code");
      const frameType = application ? 0 : r.varint("frame type");
      const reason = r.bytes(r.varint("reason phrase length"), "reason phrase");
      return { kind: "connection_close", application, errorCode, frameType, reason };
    }
    case FrameType.HANDSHAKE_DONE: return { kind: "handshake_done" };
    case FrameType.DATAGRAM: return { kind: "datagram", data: r.rest() };
    case FrameType.DATAGRAM_LEN: return { kind: "datagram", data: r.bytes(r.varint("datagram length"), "datagram data") };
    default: return r.fail(`unknown frame type 0x${type.toString(16)}`);
  }
}

function parseStream(r: QuicReader, type: number): StreamFrame {
  const streamId = r.varint("stream id");
  const offsetPos = r.pos;
  const offset = type & streamBitOff ? r.varint("stream offset") : 0;
  const data = type & streamBitLen ? r.bytes(r.varint("stream length"), "stream data") : r.rest();
  if (type & streamBitOff) checkOffsetEnd(r, offsetPos, offset, data.length);
  return { kind: "stream", streamId, offset, data, fin: (type & streamBitFin) !== 0 };
}

/** Offset + length must not exceed 2^62−1 (RFC 9000 §19.6, §19.8). */
function checkOffsetEnd(r: QuicReader, offsetPos: number, offset: number, length: number): void {
  // Below 2^53−1 the sum cannot reach 2^62; at the saturation point check exactly.
  if (offset < varintSafeMax) return;
  const exact = decodeVarintBig(r.buf, offsetPos).value;
  if (exact + BigInt(length) > varintMaxBig) r.fail("offset + length exceeds 2^62-1");
}

/** MAX_STREAMS / STREAMS_BLOCKED counts above 2^60 are FRAME_ENCODING_ERROR (§19.11, §19.14). */
function readStreamCount(r: QuicReader): number {
  const start = r.pos;
  const value = r.varint("stream count");
  if (value >= varintSafeMax && decodeVarintBig(r.buf, start).value > BigInt(streamsCountMax)) r.fail("stream count exceeds 2^60");
  return value;
}

function parseAck(r: QuicReader, withEcn: boolean): AckFrame {
  const largest = r.varint("largest acknowledged");
  const ackDelay = r.varint("ack delay");
  const rangeCount = r.varint("ack range count");
  const firstRange = r.varint("first ack range");
  let smallest = largest - firstRange;
  if (smallest < 0) r.fail("first ACK range below packet number 0");
  const ranges: AckRange[] = [{ smallest, largest }];
  // Each additional range takes at least 2 bytes, so the loop is bounded by the payload.
  for (let i = 0; i < rangeCount; i++) {
    const gap = r.varint("ack gap");
    const length = r.varint("ack range length");
    const high = smallest - gap - 2;
    const low = high - length;
    if (low < 0) r.fail("ACK range below packet number 0");
    if (ranges.length < ackRangesParsedMax) ranges.push({ smallest: low, largest: high });
    smallest = low;
  }
  const frame: AckFrame = { kind: "ack", ackDelay, ranges };
  if (withEcn) frame.ecn = { ect0: r.varint("ect0 count"), ect1: r.varint("ect1 count"), ce: r.varint("ecn-ce count") };
  return frame;
}

function parseNewConnectionId(r: QuicReader): NewConnectionIdFrame {
  const sequence = r.varint("sequence number");
  const retirePriorTo = r.varint("retire prior to");
  const cidLength = r.u8("connection id length");
  if (cidLength < 1 || cidLength > connectionIdBytesMax) r.fail(`connection id length ${cidLength} outside 1..${connectionIdBytesMax}`);
  const connectionId = r.bytes(cidLength, "connection id");
  const resetToken = r.bytes(statelessResetTokenBytes, "stateless reset token");
  if (retirePriorTo > sequence) r.fail("retire prior to exceeds sequence number");
  return { kind: "new_connection_id", sequence, retirePriorTo, connectionId, resetToken };
}

// ---------------------------------------------------------------------------
// Serialization

/** Bytes of a STREAM frame before its data (type, id, offset if > 0, length if `withLength`). */
export function streamFrameHeaderLength(streamId: number, offset: number, dataLength: number, withLength = true): number {
  return 1 + varintLength(streamId) + (offset > 0 ? varintLength(offset) : 0) + (withLength ? varintLength(dataLength) : 0);
}

/** Bytes of a CRYPTO frame before its data. */
export function cryptoFrameHeaderLength(offset: number, dataLength: number): number {
  return 1 + varintLength(offset) + varintLength(dataLength);
}

/**
 * The most STREAM data bytes that fit in `available` bytes together with the frame
 * header (Length field included). Returns 0 when not even one byte fits.
 */
export function streamDataFitting(streamId: number, offset: number, available: number): number {
  return fitWithLengthField(available - streamFrameHeaderLength(streamId, offset, 0, false));
}

/** The most CRYPTO data bytes that fit in `available` bytes with the frame header. */
export function cryptoDataFitting(offset: number, available: number): number {
  return fitWithLengthField(available - 1 - varintLength(offset));
}

/** Largest n with varintLength(n) + n <= room. */
function fitWithLengthField(room: number): number {
  if (room <= 1) return 0;
  let n = room - 1;
  while (n > 0 && varintLength(n) + n > room) n--;
  return n;
}

/** Exact encoded size of a frame as `writeFrame` writes it. */
export function frameSize(f: Frame): number {
  switch (f.kind) {
    case "padding": return f.length;
    case "ping": case "handshake_done": return 1;
    case "ack": return ackFrameSize(f);
    case "reset_stream": return 1 + varintLength(f.streamId) + varintLength(f.errorCode) + varintLength(f.finalSize);
    case "stop_sending": return 1 + varintLength(f.streamId) + varintLength(f.errorCode);
    case "crypto": return cryptoFrameHeaderLength(f.offset, f.data.length) + f.data.length;
    case "new_token": return 1 + varintLength(f.token.length) + f.token.length;
    case "stream": return streamFrameHeaderLength(f.streamId, f.offset, f.data.length) + f.data.length;
    case "max_data": return 1 + varintLength(f.maximum);
    case "max_stream_data": return 1 + varintLength(f.streamId) + varintLength(f.maximum);
    case "max_streams": return 1 + varintLength(f.maximum);
    case "data_blocked": return 1 + varintLength(f.limit);
    case "stream_data_blocked": return 1 + varintLength(f.streamId) + varintLength(f.limit);
    case "streams_blocked": return 1 + varintLength(f.limit);
    case "new_connection_id":
      return 1 + varintLength(f.sequence) + varintLength(f.retirePriorTo) + 1 + f.connectionId.length + statelessResetTokenBytes;
    case "retire_connection_id": return 1 + varintLength(f.sequence);
    case "path_challenge": case "path_response": return 1 + pathDataBytes;
    case "connection_close":
      return 1 + varintLength(f.errorCode) + (f.application ? 0 : varintLength(f.frameType)) + varintLength(f.reason.length) + f.reason.length;
    case "datagram": return 1 + varintLength(f.data.length) + f.data.length;
  }
}

function ackFrameSize(f: AckFrame): number {
  const ranges = f.ranges;
  invariant(ranges.length > 0, "ACK frame needs at least one range");
  const first = ranges[0]!;
  let size = 1 + varintLength(first.largest) + varintLength(f.ackDelay) + varintLength(ranges.length - 1) + varintLength(first.largest - first.smallest);
  for (let i = 1; i < ranges.length; i++) {
    const prev = ranges[i - 1]!;
    const cur = ranges[i]!;
    size += varintLength(prev.smallest - cur.largest - 2) + varintLength(cur.largest - cur.smallest);
  }
  if (f.ecn) size += varintLength(f.ecn.ect0) + varintLength(f.ecn.ect1) + varintLength(f.ecn.ce);
  return size;
}

/**
 * Writes one frame at `offset` and returns the offset after it. STREAM frames always
 * carry a Length field and the OFF bit only when offset > 0; DATAGRAM frames use
 * type 0x31 (with Length). Throws (a local bug) on invalid field values or overflow.
 */
export function writeFrame(buf: Uint8Array, offset: number, f: Frame): number {
  let p = offset;
  const v = (value: number): void => { p = writeVarint(buf, p, value); };
  const bytes = (data: Uint8Array): void => {
    invariant(p + data.length <= buf.length, "frame write past end of buffer");
    buf.set(data, p);
    p += data.length;
  };
  const byte = (b: number): void => {
    invariant(p < buf.length, "frame write past end of buffer");
    buf[p++] = b;
  };
  switch (f.kind) {
    case "padding":
      invariant(f.length >= 1 && p + f.length <= buf.length, "bad padding length");
      buf.fill(0, p, p + f.length);
      p += f.length;
      break;
    case "ping": byte(FrameType.PING); break;
    case "handshake_done": byte(FrameType.HANDSHAKE_DONE); break;
    case "ack": p = writeAck(buf, p, f); break;
    case "reset_stream": byte(FrameType.RESET_STREAM); v(f.streamId); v(f.errorCode); v(f.finalSize); break;
    case "stop_sending": byte(FrameType.STOP_SENDING); v(f.streamId); v(f.errorCode); break;
    case "crypto": byte(FrameType.CRYPTO); v(f.offset); v(f.data.length); bytes(f.data); break;
    case "new_token": invariant(f.token.length > 0, "NEW_TOKEN needs a token"); byte(FrameType.NEW_TOKEN); v(f.token.length); bytes(f.token); break;
    case "stream":
      byte(FrameType.STREAM | (f.offset > 0 ? streamBitOff : 0) | streamBitLen | (f.fin ? streamBitFin : 0));
      v(f.streamId);
      if (f.offset > 0) v(f.offset);
      v(f.data.length);
      bytes(f.data);
      break;
    case "max_data": byte(FrameType.MAX_DATA); v(f.maximum); break;
    case "max_stream_data": byte(FrameType.MAX_STREAM_DATA); v(f.streamId); v(f.maximum); break;
    case "max_streams": byte(f.bidi ? FrameType.MAX_STREAMS_BIDI : FrameType.MAX_STREAMS_UNI); v(f.maximum); break;
    case "data_blocked": byte(FrameType.DATA_BLOCKED); v(f.limit); break;
    case "stream_data_blocked": byte(FrameType.STREAM_DATA_BLOCKED); v(f.streamId); v(f.limit); break;
    case "streams_blocked": byte(f.bidi ? FrameType.STREAMS_BLOCKED_BIDI : FrameType.STREAMS_BLOCKED_UNI); v(f.limit); break;
    case "new_connection_id":
      invariant(f.connectionId.length >= 1 && f.connectionId.length <= connectionIdBytesMax, "bad connection id length");
      invariant(f.resetToken.length === statelessResetTokenBytes && f.retirePriorTo <= f.sequence, "bad NEW_CONNECTION_ID");
      byte(FrameType.NEW_CONNECTION_ID); v(f.sequence); v(f.retirePriorTo); byte(f.connectionId.length); bytes(f.connectionId); bytes(f.resetToken);
      break;
    case "retire_connection_id": byte(FrameType.RETIRE_CONNECTION_ID); v(f.sequence); break;
    case "path_challenge":
    case "path_response":
      invariant(f.data.length === pathDataBytes, "path data must be 8 bytes");
      byte(f.kind === "path_challenge" ? FrameType.PATH_CHALLENGE : FrameType.PATH_RESPONSE); bytes(f.data);
      break;
    case "connection_close":
      byte(f.application ? FrameType.CONNECTION_CLOSE_APP : FrameType.CONNECTION_CLOSE); v(f.errorCode);
      if (!f.application) v(f.frameType);
      v(f.reason.length); bytes(f.reason);
      break;
    case "datagram": byte(FrameType.DATAGRAM_LEN); v(f.data.length); bytes(f.data); break;
  }
  return p;
}

function writeAck(buf: Uint8Array, offset: number, f: AckFrame): number {
  const ranges = f.ranges;
  invariant(ranges.length > 0, "ACK frame needs at least one range");
  const first = ranges[0]!;
  invariant(first.smallest >= 0 && first.smallest <= first.largest, "bad first ACK range");
  let p = offset;
  buf[p++] = f.ecn ? FrameType.ACK_ECN : FrameType.ACK;
  p = writeVarint(buf, p, first.largest);
  p = writeVarint(buf, p, f.ackDelay);
  p = writeVarint(buf, p, ranges.length - 1);
  p = writeVarint(buf, p, first.largest - first.smallest);
  for (let i = 1; i < ranges.length; i++) {
    const prev = ranges[i - 1]!;
    const cur = ranges[i]!;
    invariant(cur.smallest >= 0 && cur.smallest <= cur.largest && cur.largest <= prev.smallest - 2, "ACK ranges must be descending and disjoint");
    p = writeVarint(buf, p, prev.smallest - cur.largest - 2);
    p = writeVarint(buf, p, cur.largest - cur.smallest);
  }
  if (f.ecn) {
    p = writeVarint(buf, p, f.ecn.ect0);
    p = writeVarint(buf, p, f.ecn.ect1);
    p = writeVarint(buf, p, f.ecn.ce);
  }
  return p;
}

/** One frame as a new array. */
export function encodeFrame(f: Frame): Uint8Array {
  const out = new Uint8Array(frameSize(f));
  const end = writeFrame(out, 0, f);
  invariant(end === out.length, "frameSize disagrees with writeFrame");
  return out;
}

/** Frames concatenated into one payload. */
export function serializeFrames(frames: readonly Frame[]): Uint8Array {
  let size = 0;
  for (const f of frames) size += frameSize(f);
  const out = new Uint8Array(size);
  let p = 0;
  for (const f of frames) p = writeFrame(out, p, f);
  invariant(p === size, "frameSize disagrees with writeFrame");
  return out;
}
