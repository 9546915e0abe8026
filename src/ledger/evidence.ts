/**
 * Evidence recording. The ledger records slashing evidence that is self-consistent
 * (signatures by the accused committee member, the offense visible in the bytes) and
 * not yet recorded; judging `invalid_event` reasons against the DAG and executing the
 * slash belong to consensus (docs/SPEC_SLASHING.md).
 */
import { PhantomError } from "../errors.ts";
import { blake3_32 } from "../crypto/hash.ts";
import { compareBytes, equalBytes } from "../crypto/bytes.ts";
import { verify } from "../crypto/ed25519.ts";
import { type Evidence, encodeEvidence } from "../types/evidence.ts";
import type { SignedEvent } from "../types/event.ts";

export type EvidenceKind = Evidence["kind"];

export type EvidenceVoidCode =
  | "EVIDENCE_DUPLICATE"
  | "EVIDENCE_UNKNOWN_CREATOR"
  | "EVIDENCE_BAD_SIGNATURE"
  | "EVIDENCE_NOT_EQUIVOCATION"
  | "EVIDENCE_DIGEST_MATCHES";

export class EvidenceRejected extends PhantomError<EvidenceVoidCode> {
  constructor(code: EvidenceVoidCode, message: string) {
    super(code, message);
    this.name = "EvidenceRejected";
  }
}

/** Equivocation evidence is order-free: its canonical form lists the smaller event id first. */
export function canonicalEvidence(e: Evidence): Evidence {
  if (e.kind === "equivocation" && compareBytes(e.a.id, e.b.id) > 0) return { kind: "equivocation", a: e.b, b: e.a };
  return e;
}

/** Evidence id: blake3_32 of the canonical evidence bytes. */
export const evidenceId = (e: Evidence): Uint8Array => blake3_32(encodeEvidence(canonicalEvidence(e)));

export function offenderOf(e: Evidence): number {
  return e.kind === "equivocation" ? e.a.header.creator : e.event.header.creator;
}

function checkSigned(ev: SignedEvent, committee: readonly Uint8Array[]): void {
  const pk = committee[ev.header.creator];
  if (!pk) throw new EvidenceRejected("EVIDENCE_UNKNOWN_CREATOR", `creator ${ev.header.creator} is not in the committee of ${committee.length}`);
  if (!verify(ev.signature, ev.id, pk)) throw new EvidenceRejected("EVIDENCE_BAD_SIGNATURE", `event signature of creator ${ev.header.creator} does not verify`);
}

/** Throws EvidenceRejected unless `e` is self-consistent evidence against a committee member. */
export function checkEvidence(e: Evidence, committee: readonly Uint8Array[]): void {
  switch (e.kind) {
    case "equivocation":
      if (e.a.header.creator !== e.b.header.creator || e.a.header.seq !== e.b.header.seq || equalBytes(e.a.id, e.b.id)) {
        throw new EvidenceRejected("EVIDENCE_NOT_EQUIVOCATION", "equivocation needs two distinct events by one creator with one seq");
      }
      checkSigned(e.a, committee);
      checkSigned(e.b, committee);
      return;
    case "invalid_event":
      checkSigned(e.event, committee);
      for (const p of e.parents) checkSigned(p, committee);
      return;
    case "conflicting_da":
      checkSigned(e.event, committee);
      if (equalBytes(e.servedDigest, e.event.header.payloadDigest)) {
        throw new EvidenceRejected("EVIDENCE_DIGEST_MATCHES", "served digest equals the signed payload digest");
      }
      if (e.servedBy >= committee.length) throw new EvidenceRejected("EVIDENCE_UNKNOWN_CREATOR", `server ${e.servedBy} is not in the committee`);
      return;
  }
}
