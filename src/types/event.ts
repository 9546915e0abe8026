/**
 * Event (AnchorHeader): the DAG vertex. `event_id = blake3_32(canonical header)`;
 * the creator's Ed25519 signature covers the 32-byte event_id.
 */
import { Writer, Reader, decodeExact, CodecError } from "../codec/index.ts";
import { blake3_32 } from "../crypto/hash.ts";
import { sign, verify } from "../crypto/ed25519.ts";
import { TAG, CODEC_VERSION, HASH_BYTES, PARENTS_MAX, SIGNATURE_BYTES, COMMITTEE_MAX } from "./constants.ts";

export interface EventHeader {
  /** Shard this event belongs to (0 in the single-shard v0 network). */
  shard: number;
  /** Creator's committee index (bit `creator` of a vote_mask). */
  creator: number;
  /** 0 for a creator's first event, self-parent's seq + 1 after. */
  seq: number;
  /** Self-parent first (absent when seq = 0), then other parents; at most PARENTS_MAX. */
  parents: Uint8Array[];
  /**
   * The round of each parent, as the creator computed it (same order as `parents`). A parent
   * whose claimed round is more than ANCIENT_ROUNDS below the highest claim is ancient and
   * ignored by every node (SPEC_CONSENSUS §12); the other claims are checked.
   */
  parentRounds: number[];
  /** 1 + max(parents' lamport), 0 with no parents. */
  lamport: number;
  /** BLAKE3 of the AnchorPayload this event carries. */
  payloadDigest: Uint8Array;
}

export interface SignedEvent {
  header: EventHeader;
  signature: Uint8Array;
  /** event_id, computed from the header (never trusted from the wire). */
  id: Uint8Array;
}

export function writeEventHeader(w: Writer, h: EventHeader): void {
  if (h.creator >= COMMITTEE_MAX) throw new CodecError("CODEC_VALUE_OUT_OF_RANGE", `creator ${h.creator} >= ${COMMITTEE_MAX}`);
  w.u8(TAG.eventHeader).u8(CODEC_VERSION).u16(h.shard).u8(h.creator).u64n(h.seq).u64n(h.lamport);
  if (h.parentRounds.length !== h.parents.length) {
    throw new CodecError("CODEC_VALUE_OUT_OF_RANGE", `${h.parents.length} parents but ${h.parentRounds.length} parent rounds`);
  }
  // Each parent reference: the 32-byte id, then the parent's round (u32).
  w.list(h.parents, PARENTS_MAX, (w, p, i) => w.fixed(p, HASH_BYTES).u32(h.parentRounds[i]!));
  w.fixed(h.payloadDigest, HASH_BYTES);
}

export function readEventHeader(r: Reader): EventHeader {
  r.tag(TAG.eventHeader, "event header");
  r.version(CODEC_VERSION, "event header");
  const shard = r.u16("shard");
  const creator = r.u8("creator");
  if (creator >= COMMITTEE_MAX) throw new CodecError("CODEC_VALUE_OUT_OF_RANGE", `creator ${creator} >= ${COMMITTEE_MAX}`);
  const seq = r.u64n("seq");
  const lamport = r.u64n("lamport");
  const refs = r.list(PARENTS_MAX, (r) => ({ id: r.fixed(HASH_BYTES, "parent"), round: r.u32("parent round") }), "parents");
  const payloadDigest = r.fixed(HASH_BYTES, "payload digest");
  return { shard, creator, seq, parents: refs.map((p) => p.id), parentRounds: refs.map((p) => p.round), lamport, payloadDigest };
}

export function encodeEventHeader(h: EventHeader): Uint8Array {
  const w = new Writer(160);
  writeEventHeader(w, h);
  return w.finish();
}

export function eventId(h: EventHeader): Uint8Array {
  return blake3_32(encodeEventHeader(h));
}

export function signEvent(header: EventHeader, secretKey: Uint8Array): SignedEvent {
  const id = eventId(header);
  return { header, signature: sign(secretKey, id), id };
}

export function verifyEventSignature(e: SignedEvent, publicKey: Uint8Array): boolean {
  return verify(e.signature, e.id, publicKey);
}

export function writeSignedEvent(w: Writer, e: SignedEvent): void {
  w.u8(TAG.signedEvent).u8(CODEC_VERSION);
  writeEventHeader(w, e.header);
  w.fixed(e.signature, SIGNATURE_BYTES);
}

export function readSignedEvent(r: Reader): SignedEvent {
  r.tag(TAG.signedEvent, "signed event");
  r.version(CODEC_VERSION, "signed event");
  const start = r.offset;
  const header = readEventHeader(r);
  const id = blake3_32(r.sliceFrom(start));
  const signature = r.fixed(SIGNATURE_BYTES, "signature");
  return { header, signature, id };
}

export function encodeSignedEvent(e: SignedEvent): Uint8Array {
  const w = new Writer(224);
  writeSignedEvent(w, e);
  return w.finish();
}

export function decodeSignedEvent(bytes: Uint8Array): SignedEvent {
  return decodeExact(bytes, "signed event", readSignedEvent);
}
