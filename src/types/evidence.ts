/**
 * Slashing evidence (docs/SPEC_SLASHING.md). Every kind is self-verifying from its
 * own bytes plus the committee's public keys.
 */
import { Writer, Reader, decodeExact, CodecError } from "../codec/index.ts";
import { TAG, CODEC_VERSION, HASH_BYTES, SIGNATURE_BYTES } from "./constants.ts";
import { type SignedEvent, writeSignedEvent, readSignedEvent } from "./event.ts";

/** Why a signed event is invalid ("vote-invalid"). */
export const INVALID_EVENT_REASONS = ["bad_seq", "bad_parents", "bad_lamport", "missing_cross_link", "bad_shard"] as const;
export type InvalidEventReason = (typeof INVALID_EVENT_REASONS)[number];

export type Evidence =
  /** Two distinct signed events by one creator with the same seq. */
  | { kind: "equivocation"; a: SignedEvent; b: SignedEvent }
  /** A signed event that breaks a structural rule; `parents` are the signed parents needed to check it. */
  | { kind: "invalid_event"; event: SignedEvent; reason: InvalidEventReason; parents: SignedEvent[] }
  /** Payload bytes served for a signed event whose digest they do not match. */
  | { kind: "conflicting_da"; event: SignedEvent; servedDigest: Uint8Array; servedBy: number; servedSignature: Uint8Array };

const KIND = { equivocation: 0, invalid_event: 1, conflicting_da: 2 } as const;

export function writeEvidence(w: Writer, e: Evidence): void {
  w.u8(TAG.evidence).u8(CODEC_VERSION).u8(KIND[e.kind]);
  switch (e.kind) {
    case "equivocation":
      writeSignedEvent(w, e.a);
      writeSignedEvent(w, e.b);
      return;
    case "invalid_event":
      writeSignedEvent(w, e.event);
      w.u8(INVALID_EVENT_REASONS.indexOf(e.reason));
      w.list(e.parents, 4, writeSignedEvent);
      return;
    case "conflicting_da":
      writeSignedEvent(w, e.event);
      w.fixed(e.servedDigest, HASH_BYTES).u8(e.servedBy).fixed(e.servedSignature, SIGNATURE_BYTES);
      return;
  }
}

export function readEvidence(r: Reader): Evidence {
  r.tag(TAG.evidence, "evidence");
  r.version(CODEC_VERSION, "evidence");
  const kind = r.u8("evidence kind");
  switch (kind) {
    case KIND.equivocation:
      return { kind: "equivocation", a: readSignedEvent(r), b: readSignedEvent(r) };
    case KIND.invalid_event: {
      const event = readSignedEvent(r);
      const code = r.u8("invalid reason");
      const reason = INVALID_EVENT_REASONS[code];
      if (reason === undefined) throw new CodecError("CODEC_UNKNOWN_TAG", `unknown invalid-event reason ${code}`);
      return { kind: "invalid_event", event, reason, parents: r.list(4, readSignedEvent, "evidence parents") };
    }
    case KIND.conflicting_da:
      return {
        kind: "conflicting_da",
        event: readSignedEvent(r),
        servedDigest: r.fixed(HASH_BYTES, "served digest"),
        servedBy: r.u8("served by"),
        servedSignature: r.fixed(SIGNATURE_BYTES, "served signature"),
      };
    default:
      throw new CodecError("CODEC_UNKNOWN_TAG", `unknown evidence kind ${kind}`);
  }
}

export function encodeEvidence(e: Evidence): Uint8Array {
  const w = new Writer(512);
  writeEvidence(w, e);
  return w.finish();
}

export const decodeEvidence = (bytes: Uint8Array): Evidence => decodeExact(bytes, "evidence", readEvidence);
