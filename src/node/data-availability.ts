/**
 * Signed data availability (SPEC_SLASHING §3, P2P.md). Every payload a validator serves
 * (an `events` item, a `payload` answer) carries its signature over
 * daServeMessage(event id, blake3_32(bytes served)). Bytes that do not match the event's
 * signed payload digest, under a valid server signature, are a provable statement: the
 * receiver turns them into conflicting-DA evidence against the server.
 */
import { blake3_32 } from "../crypto/hash.ts";
import { equalBytes, toHex } from "../crypto/bytes.ts";
import { SlashingError, signDaServe, verifyEvidence, type SlashingCommittee } from "../consensus/slashing.ts";
import type { SignedEvent } from "../types/event.ts";
import type { Evidence } from "../types/evidence.ts";

/** Serve signatures kept for re-use (a sync answer re-serves the same events to every peer). */
export const serveSignaturesCachedMax = 16_384;
/** Conflicting-DA offenses remembered as already reported, so a server repeating one fills no queue. */
export const reportedOffensesMax = 4_096;

/**
 * Signs what this validator serves. Ed25519 is deterministic, so the signature of an
 * (event id, digest) pair is always the same and is cached (oldest dropped first).
 */
export class ServeSigner {
  private readonly cache = new Map<string, Uint8Array>();

  constructor(private readonly secretKey: Uint8Array, private readonly cachedMax = serveSignaturesCachedMax) {}

  sign(eventId: Uint8Array, payloadDigest: Uint8Array): Uint8Array {
    const key = toHex(eventId) + toHex(payloadDigest);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const signature = signDaServe(this.secretKey, eventId, payloadDigest);
    if (this.cache.size >= this.cachedMax) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, signature);
    return signature;
  }
}

/**
 * What served bytes prove: "match" (nothing to say), "unproven" (they do not match, but no valid
 * server signature covers them: a peer-score matter only), "repeated" (a
 * conflicting-DA offense already reported), or the evidence to put on chain.
 */
export type ServedCheck = "match" | "unproven" | "repeated" | Evidence;

/** Checks payload bytes served by validator `servedBy` for `event`. */
export class DataAvailabilityWatch {
  private readonly reported = new Set<string>();

  constructor(private readonly committee: SlashingCommittee, private readonly reportedMax = reportedOffensesMax) {}

  check(event: SignedEvent, payload: Uint8Array, serveSignature: Uint8Array, servedBy: number): ServedCheck {
    const servedDigest = blake3_32(payload);
    // Matching bytes prove nothing either way, so their signature is not checked.
    if (equalBytes(servedDigest, event.header.payloadDigest)) return "match";
    const evidence: Evidence = { kind: "conflicting_da", event, servedDigest, servedBy, servedSignature: serveSignature };
    let offenseKey: string;
    try {
      offenseKey = verifyEvidence(evidence, this.committee).offenseKey; // the ledger runs the same verifier
    } catch (e) {
      if (e instanceof SlashingError) return "unproven";
      throw e;
    }
    if (this.reported.has(offenseKey)) return "repeated";
    if (this.reported.size >= this.reportedMax) this.reported.delete(this.reported.values().next().value!);
    this.reported.add(offenseKey);
    return evidence;
  }
}
