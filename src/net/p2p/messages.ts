/**
 * P2P messages (docs/P2P.md), carried as length-prefixed frames on a QUIC stream.
 * Every message: u8 kind, then the body. Decoding is strict (src/codec).
 */
import { Writer, Reader, decodeExact, CodecError } from "../../codec/index.ts";
import { HASH_BYTES, COMMITTEE_MAX, PAYLOAD_BYTES_MAX, SIGNATURE_BYTES } from "../../types/constants.ts";
import { readShardRoot, writeShardRoot, type ShardRoot } from "../../ledger/shard-root.ts";

/**
 * 2: served payloads carry the server's data-availability signature (events items, get_payload by event id).
 * 3: `txs_held`, a validator's receipt for relayed txs it now holds (tx_submit acknowledges only then);
 *    `sync_end` closes every sync answer (one request in flight per peer).
 * `root_signature` (kind 11) came later without a version change: only validators of a
 * network with shard_count > 1 send it, and every node of such a network has it.
 */
export const P2P_PROTOCOL_VERSION = 3;
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
  | { kind: "payload"; eventId: Uint8Array; payload: Uint8Array; serveSignature: Uint8Array }
  /** Receipt for a `txs` message: the ids of its txs this node now holds in its mempool (admitted, or held already). */
  | { kind: "txs_held"; txids: Uint8Array[] }
  /** Ends the answer to a `sync_request`; `more`: the answer stopped at its size limit (ask again). */
  | { kind: "sync_end"; more: boolean }
  /**
   * Answer to a sync_request that reaches below what this node pruned: per creator, the
   * highest seq it no longer has (-1: none). The events it still has follow.
   */
  | { kind: "history_pruned"; prunedSeqs: number[] }
  /**
   * A committee member's signature over a shard root of its own shard (SPEC_SHARDING §7):
   * Ed25519 by validator `signer` (index in the shard's committee) over
   * "PHANTOM_SHARD_ROOT_CERT_V0" || root_digest. Gossiped within the shard only.
   */
  | { kind: "root_signature"; root: ShardRoot; signer: number; signature: Uint8Array };

const KIND = { hello: 1, events: 2, sync_request: 3, txs: 4, get_payload: 5, payload: 6, get_events: 7, txs_held: 8, sync_end: 9, history_pruned: 10, root_signature: 11 } as const;

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
    case "txs_held":
      w.list(m.txids, txsPerMessageMax, (w, id) => w.fixed(id, HASH_BYTES));
      break;
    case "sync_end":
      w.u8(m.more ? 1 : 0);
      break;
    case "history_pruned":
      writeSeqs(w, m.prunedSeqs);
      break;
    case "root_signature":
      writeShardRoot(w, m.root);
      w.u8(m.signer).fixed(m.signature, SIGNATURE_BYTES);
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
    case KIND.txs_held:
      return { kind: "txs_held", txids: r.list(txsPerMessageMax, (r) => r.fixed(HASH_BYTES, "txid"), "txids") };
    case KIND.sync_end: {
      const more = r.u8("sync_end more");
      if (more > 1) throw new CodecError("CODEC_VALUE_OUT_OF_RANGE", `sync_end more must be 0 or 1, got ${more}`);
      return { kind: "sync_end", more: more === 1 };
    }
    case KIND.history_pruned:
      return { kind: "history_pruned", prunedSeqs: readSeqs(r) };
    case KIND.root_signature:
      return { kind: "root_signature", root: readShardRoot(r), signer: r.u8("signer"), signature: r.fixed(SIGNATURE_BYTES, "root signature") };
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
 * frame is buffered beyond what has been consumed. Linear: received chunks are kept
 * as they are and each byte is copied once, into its frame, when the frame is
 * complete, plus once on arrival for views into larger buffers (joining the buffer on
 * every chunk made a large frame sent in small chunks cost time quadratic in its size).
 */
export class FrameDecoder {
  private chunks: Uint8Array[] = [];
  /** Index of the first unconsumed chunk (consumed ones are dropped in batches). */
  private head = 0;
  private buffered = 0;
  /** Bytes copied so far: at most twice the bytes received (a test checks the bound). */
  bytesCopied = 0;

  push(data: Uint8Array): Uint8Array[] {
    if (data.length > 0) {
      // A view into a larger buffer (a decrypted packet) is copied, so a partial frame
      // never keeps whole packets alive.
      const own = data.byteLength === data.buffer.byteLength ? data : data.slice();
      if (own !== data) this.bytesCopied += data.length;
      this.chunks.push(own);
      this.buffered += data.length;
    }
    const frames: Uint8Array[] = [];
    while (this.buffered >= 4) {
      const len = this.peekLength();
      if (len > messageBytesMax) throw new CodecError("CODEC_LENGTH_TOO_LARGE", `frame of ${len} bytes exceeds ${messageBytesMax}`);
      if (this.buffered < 4 + len) break;
      this.consume(4, null);
      const out = new Uint8Array(len);
      this.consume(len, out);
      this.bytesCopied += len;
      frames.push(out);
    }
    if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
    return frames;
  }

  /** The little-endian u32 in the first four buffered bytes (which may span chunks). */
  private peekLength(): number {
    let value = 0;
    let got = 0;
    for (let c = this.head; got < 4; c++) {
      const chunk = this.chunks[c]!;
      for (let i = 0; i < chunk.length && got < 4; i++) value += chunk[i]! * 2 ** (8 * got++);
    }
    return value;
  }

  /** Drops `n` buffered bytes, copying them into `out` when given. */
  private consume(n: number, out: Uint8Array | null): void {
    let o = 0;
    while (o < n) {
      const chunk = this.chunks[this.head]!;
      const k = Math.min(chunk.length, n - o);
      if (out) out.set(chunk.subarray(0, k), o);
      o += k;
      if (k === chunk.length) this.head++;
      else this.chunks[this.head] = chunk.subarray(k);
    }
    this.buffered -= n;
  }
}

export function frame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + message.length);
  new DataView(out.buffer).setUint32(0, message.length, true);
  out.set(message, 4);
  return out;
}
