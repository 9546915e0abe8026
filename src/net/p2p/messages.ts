/**
 * P2P messages (docs/P2P.md), carried as length-prefixed frames on a QUIC stream.
 * Every message: u8 kind, then the body. Decoding is strict (src/codec).
 */
import { Writer, Reader, decodeExact, CodecError } from "../../codec/index.ts";
import { HASH_BYTES, COMMITTEE_MAX, PAYLOAD_BYTES_MAX, SIGNATURE_BYTES } from "../../types/constants.ts";

/** 2: served payloads carry the server's data-availability signature (events items, get_payload by event id). */
export const P2P_PROTOCOL_VERSION = 2;
/** Largest frame a peer may send; bigger ones close the connection. */
export const messageBytesMax = PAYLOAD_BYTES_MAX + 64 * 1024;
export const eventsPerMessageMax = 512;
export const txsPerMessageMax = 1024;
const eventBytesMax = 1024;
const txBytesMax = 64 * 1024;

/** Payload bytes served for a signed event, with the server's signature over (event id, blake3_32(payload)) (SPEC_SLASHING §3). */
export interface ServedEvent {
  event: Uint8Array;
  payload: Uint8Array;
  serveSignature: Uint8Array;
}

export type P2pMessage =
  /** First message on a connection: who I am and what I have. */
  | { kind: "hello"; version: number; commitment: Uint8Array; validator: number; highestSeq: number[] }
  /** Signed events with their payloads, in topological (Lamport) order. */
  | { kind: "events"; items: ServedEvent[] }
  /** "Send me every event of creator c with seq > highestSeq[c]" (-1 = none known). */
  | { kind: "sync_request"; highestSeq: number[] }
  /** Transactions (encoded PayloadTx: micro or mint) for the mempool. */
  | { kind: "txs"; txs: Uint8Array[] }
  /** "Send me the payload of this event". */
  | { kind: "get_payload"; eventId: Uint8Array }
  /** "Send me these events by id" (parents that orphans wait for, e.g. the other side of a fork). */
  | { kind: "get_events"; ids: Uint8Array[] }
  /** The answer: the event's payload bytes and the server's signature over (event id, their digest). */
  | { kind: "payload"; eventId: Uint8Array; payload: Uint8Array; serveSignature: Uint8Array };

const KIND = { hello: 1, events: 2, sync_request: 3, txs: 4, get_payload: 5, payload: 6, get_events: 7 } as const;

function writeSeqs(w: Writer, seqs: readonly number[]): void {
  // Stored +1 so "none" (-1) encodes as 0.
  w.list(seqs, COMMITTEE_MAX, (w, s) => w.u64n(s + 1));
}

function readSeqs(r: Reader): number[] {
  return r.list(COMMITTEE_MAX, (r) => r.u64n("highest seq") - 1, "highest seqs");
}

export function encodeMessage(m: P2pMessage): Uint8Array {
  const w = new Writer(256);
  w.u8(KIND[m.kind]);
  switch (m.kind) {
    case "hello":
      w.u8(m.version).fixed(m.commitment, HASH_BYTES).u8(m.validator);
      writeSeqs(w, m.highestSeq);
      break;
    case "events":
      w.list(m.items, eventsPerMessageMax, (w, it) => w.bytes(it.event, eventBytesMax).bytes(it.payload, PAYLOAD_BYTES_MAX).fixed(it.serveSignature, SIGNATURE_BYTES));
      break;
    case "sync_request":
      writeSeqs(w, m.highestSeq);
      break;
    case "txs":
      w.list(m.txs, txsPerMessageMax, (w, t) => w.bytes(t, txBytesMax));
      break;
    case "get_payload":
      w.fixed(m.eventId, HASH_BYTES);
      break;
    case "get_events":
      w.list(m.ids, eventsPerMessageMax, (w, id) => w.fixed(id, HASH_BYTES));
      break;
    case "payload":
      w.fixed(m.eventId, HASH_BYTES).bytes(m.payload, PAYLOAD_BYTES_MAX).fixed(m.serveSignature, SIGNATURE_BYTES);
      break;
  }
  return w.finish();
}

const readServedEvent = (r: Reader): ServedEvent => ({ event: r.bytes(eventBytesMax, "event"), payload: r.bytes(PAYLOAD_BYTES_MAX, "payload"), serveSignature: r.fixed(SIGNATURE_BYTES, "serve signature") });

function readMessage(r: Reader): P2pMessage {
  const kind = r.u8("message kind");
  switch (kind) {
    case KIND.hello: {
      const version = r.u8("protocol version");
      if (version !== P2P_PROTOCOL_VERSION) throw new CodecError("CODEC_UNKNOWN_VERSION", `peer speaks P2P version ${version}, this node ${P2P_PROTOCOL_VERSION}`);
      return { kind: "hello", version, commitment: r.fixed(HASH_BYTES, "genesis commitment"), validator: r.u8("validator"), highestSeq: readSeqs(r) };
    }
    case KIND.events:
      return { kind: "events", items: r.list(eventsPerMessageMax, readServedEvent, "events") };
    case KIND.sync_request:
      return { kind: "sync_request", highestSeq: readSeqs(r) };
    case KIND.txs:
      return { kind: "txs", txs: r.list(txsPerMessageMax, (r) => r.bytes(txBytesMax, "tx"), "txs") };
    case KIND.get_payload:
      return { kind: "get_payload", eventId: r.fixed(HASH_BYTES, "event id") };
    case KIND.get_events:
      return { kind: "get_events", ids: r.list(eventsPerMessageMax, (r) => r.fixed(HASH_BYTES, "event id"), "event ids") };
    case KIND.payload:
      return { kind: "payload", eventId: r.fixed(HASH_BYTES, "event id"), payload: r.bytes(PAYLOAD_BYTES_MAX, "payload"), serveSignature: r.fixed(SIGNATURE_BYTES, "serve signature") };
    default:
      throw new CodecError("CODEC_UNKNOWN_TAG", `unknown P2P message kind ${kind}`);
  }
}

export function decodeMessage(bytes: Uint8Array): P2pMessage {
  if (bytes.length > messageBytesMax) throw new CodecError("CODEC_LENGTH_TOO_LARGE", `message of ${bytes.length} bytes exceeds ${messageBytesMax}`);
  return decodeExact(bytes, "p2p message", readMessage);
}

/**
 * Splits a byte stream into frames: u32 little-endian length, then the message.
 * Bounded: a declared length above messageBytesMax is an error, and at most one
 * frame is buffered beyond what has been consumed.
 */
export class FrameDecoder {
  private chunks: Uint8Array[] = [];
  private buffered = 0;

  push(data: Uint8Array): Uint8Array[] {
    this.chunks.push(data);
    this.buffered += data.length;
    const frames: Uint8Array[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const head = this.peek(4);
      const len = new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true);
      if (len > messageBytesMax) throw new CodecError("CODEC_LENGTH_TOO_LARGE", `frame of ${len} bytes exceeds ${messageBytesMax}`);
      if (this.buffered < 4 + len) break;
      frames.push(this.take(4 + len).subarray(4));
    }
    return frames;
  }

  private peek(n: number): Uint8Array {
    const all = this.chunks.length === 1 ? this.chunks[0]! : this.flatten();
    return all.subarray(0, n);
  }

  private flatten(): Uint8Array {
    const all = new Uint8Array(this.buffered);
    let o = 0;
    for (const c of this.chunks) {
      all.set(c, o);
      o += c.length;
    }
    this.chunks = [all];
    return all;
  }

  private take(n: number): Uint8Array {
    const all = this.chunks.length === 1 ? this.chunks[0]! : this.flatten();
    const out = all.slice(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered -= n;
    return out;
  }
}

export function frame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + message.length);
  new DataView(out.buffer).setUint32(0, message.length, true);
  out.set(message, 4);
  return out;
}
