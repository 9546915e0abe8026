/**
 * Evidence in the ledger (docs/SPEC_SLASHING.md §3–§4). A payload's evidence is judged
 * by the full self-verifying verifier of `src/consensus/slashing.ts` (signatures, the
 * rule decided on the included parents, the server's data-availability signature)
 * against the genesis committee, and recorded once per offense: its record is keyed by
 * the offense id, so the same offense under other evidence bytes is a duplicate.
 */
import { PhantomError } from "../errors.ts";
import { blake3_32 } from "../crypto/hash.ts";
import { compareBytes, concatBytes } from "../crypto/bytes.ts";
import { type Evidence, encodeEvidence } from "../types/evidence.ts";
import { SlashingError, verifyEvidence, type SlashingErrorCode, type VerifiedEvidence } from "../consensus/slashing.ts";

export type EvidenceKind = Evidence["kind"];

export type EvidenceVoidCode = SlashingErrorCode | "EVIDENCE_DUPLICATE";

export class EvidenceRejected extends PhantomError<EvidenceVoidCode> {
  constructor(code: EvidenceVoidCode, message: string) {
    super(code, message);
    this.name = "EvidenceRejected";
  }
}

/** Genesis facts the structural rules are decided against (besides the committee's keys). */
export interface EvidenceRules {
  shardCount: number;
  parentsMax: number;
}

/** Equivocation evidence is order-free: its canonical form lists the smaller event id first. */
export function canonicalEvidence(e: Evidence): Evidence {
  if (e.kind === "equivocation" && compareBytes(e.a.id, e.b.id) > 0) return { kind: "equivocation", a: e.b, b: e.a };
  return e;
}

/** Evidence id: blake3_32 of the canonical evidence bytes (names the payload transaction). */
export const evidenceId = (e: Evidence): Uint8Array => blake3_32(encodeEvidence(canonicalEvidence(e)));

const OFFENSE_DOMAIN = new TextEncoder().encode("phantom/v0/offense");

/** Offense id: blake3_32("phantom/v0/offense" || UTF-8 offense key); the key of an evidence record. */
export const offenseId = (offenseKey: string): Uint8Array => blake3_32(concatBytes(OFFENSE_DOMAIN, new TextEncoder().encode(offenseKey)));

export interface CheckedEvidence extends VerifiedEvidence {
  /** The evidence in canonical form, as recorded. */
  canonical: Evidence;
  offenseId: Uint8Array;
}

/**
 * Verifies `e` (in canonical form) against the committee; throws EvidenceRejected with
 * the verifier's code when it proves nothing. Says nothing about duplicates: the caller
 * checks `offenseId` against what is recorded.
 */
export function checkEvidence(e: Evidence, committee: readonly Uint8Array[], rules: EvidenceRules): CheckedEvidence {
  const canonical = canonicalEvidence(e);
  try {
    const verified = verifyEvidence(canonical, { publicKeys: committee, shardCount: rules.shardCount, parentsMax: rules.parentsMax });
    return { ...verified, canonical, offenseId: offenseId(verified.offenseKey) };
  } catch (err) {
    if (err instanceof SlashingError) throw new EvidenceRejected(err.code, err.message);
    throw err;
  }
}
