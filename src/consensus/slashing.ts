/**
 * Slashing (docs/SPEC_SLASHING.md): structural event rules, self-verifying
 * evidence and penalties. Evidence is checked from its own bytes plus the
 * committee's public keys; nothing here depends on what a node happened to see.
 */
import { PhantomError } from "../errors.ts";
import { CodecError } from "../codec/index.ts";
import { blake3_32 } from "../crypto/hash.ts";
import { sign, verify } from "../crypto/ed25519.ts";
import { compareBytes, concatBytes, equalBytes, toHex } from "../crypto/bytes.ts";
import { type SignedEvent, eventId, verifyEventSignature } from "../types/event.ts";
import { type Evidence, type InvalidEventReason, INVALID_EVENT_REASONS, decodeEvidence } from "../types/evidence.ts";
import { BPS_DENOMINATOR } from "./fees.ts";
import { effectiveParents } from "./ancient.ts";

/** Committee facts evidence is judged against (all from genesis). */
export interface SlashingCommittee {
  /** Ed25519 public key of validator i at index i (k = length). */
  publicKeys: readonly Uint8Array[];
  shardCount: number;
  parentsMax: number;
}

export type SlashingErrorCode =
  | "EVIDENCE_MALFORMED"
  | "EVIDENCE_UNKNOWN_VALIDATOR"
  | "EVIDENCE_BAD_SIGNATURE"
  | "EVIDENCE_CREATOR_MISMATCH"
  | "EVIDENCE_SEQ_MISMATCH"
  | "EVIDENCE_SHARD_MISMATCH"
  | "EVIDENCE_SAME_EVENT"
  | "EVIDENCE_NOT_CANONICAL"
  | "EVIDENCE_PARENT_NOT_REFERENCED"
  | "EVIDENCE_DUPLICATE_PARENT"
  | "EVIDENCE_INCOMPLETE"
  | "EVIDENCE_RULE_NOT_BROKEN"
  | "EVIDENCE_DIGEST_MATCHES";

export class SlashingError extends PhantomError<SlashingErrorCode> {
  constructor(code: SlashingErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.name = "SlashingError";
  }
}

// ---------------------------------------------------------------------------
// Structural rules of a signed event, given (some of) its parents.

/** `parents[i]` is the signed event named by `event.header.parents[i]`, or undefined when not at hand. */
export type ParentsAtHand = readonly (SignedEvent | undefined)[];
/** true: rule broken; false: rule holds; "incomplete": a needed parent is not at hand. */
export type RuleOutcome = boolean | "incomplete";

export interface RuleContext {
  k: number;
  shardCount: number;
  parentsMax: number;
}

/**
 * The parents a rule looks at: those in play (SPEC_CONSENSUS §12). An ancient reference is
 * out of play, so it is neither needed nor checked; a missing one in play makes a rule
 * that needs it "incomplete".
 */
function inPlay(e: SignedEvent, ps: ParentsAtHand): { slot: number; parent: SignedEvent | undefined }[] {
  const rounds = e.header.parentRounds.length === e.header.parents.length ? e.header.parentRounds : e.header.parents.map(() => 0);
  const effective = effectiveParents({ parentRounds: rounds });
  const out: { slot: number; parent: SignedEvent | undefined }[] = [];
  for (let i = 0; i < e.header.parents.length; i++) if (effective[i]) out.push({ slot: i, parent: ps[i] });
  return out;
}

const anyMissing = (ps: readonly { parent: SignedEvent | undefined }[]): boolean => ps.some((p) => p.parent === undefined);

function badShard(e: SignedEvent, ps: ParentsAtHand, ctx: RuleContext): RuleOutcome {
  if (e.header.shard >= ctx.shardCount) return true;
  const live = inPlay(e, ps);
  if (live.some(({ parent }) => parent !== undefined && parent.header.shard !== e.header.shard)) return true;
  return anyMissing(live) ? "incomplete" : false;
}

function badParents(e: SignedEvent, ps: ParentsAtHand, ctx: RuleContext): RuleOutcome {
  const h = e.header;
  if (h.parents.length > ctx.parentsMax) return true;
  for (let i = 0; i < h.parents.length; i++) for (let j = i + 1; j < h.parents.length; j++) if (equalBytes(h.parents[i]!, h.parents[j]!)) return true;
  if (h.seq === 0) return false; // own-creator parents of a first event are bad_seq
  // After a first event: the first parent is the creator's own, and only the first.
  const live = inPlay(e, ps);
  if (live.some(({ slot, parent }) => slot === 0 && parent !== undefined && parent.header.creator !== h.creator)) return true;
  if (live.some(({ slot, parent }) => slot >= 1 && parent !== undefined && parent.header.creator === h.creator)) return true;
  return anyMissing(live) ? "incomplete" : false;
}

function badSeq(e: SignedEvent, ps: ParentsAtHand): RuleOutcome {
  const h = e.header;
  const live = inPlay(e, ps);
  if (h.seq === 0) {
    // A first event has no self-parent: no parent may be by its own creator.
    if (live.some(({ parent }) => parent !== undefined && parent.header.creator === h.creator)) return true;
    return anyMissing(live) ? "incomplete" : false;
  }
  if (h.parents.length === 0) return true;
  const self = live[0]?.slot === 0 ? live[0] : undefined;
  if (self === undefined) return false; // an ancient self-parent's seq is not checked
  if (self.parent === undefined) return "incomplete";
  // A first parent by someone else is bad_parents; by the creator it must be seq − 1.
  return self.parent.header.creator === h.creator && self.parent.header.seq !== h.seq - 1;
}

function badLamport(e: SignedEvent, ps: ParentsAtHand): RuleOutcome {
  const live = inPlay(e, ps);
  if (anyMissing(live)) return "incomplete";
  let expected = 0;
  for (const { parent } of live) expected = Math.max(expected, parent!.header.lamport + 1);
  return e.header.lamport !== expected;
}

function missingCrossLink(e: SignedEvent, ps: ParentsAtHand, ctx: RuleContext): RuleOutcome {
  if (ctx.k < 2 || e.header.seq === 0) return false;
  const live = inPlay(e, ps);
  if (live.some(({ parent }) => parent !== undefined && parent.header.creator !== e.header.creator)) return false;
  return anyMissing(live) ? "incomplete" : true;
}

/** Decides one rule for `event` given the parents at hand. */
export function checkRule(reason: InvalidEventReason, event: SignedEvent, parents: ParentsAtHand, ctx: RuleContext): RuleOutcome {
  switch (reason) {
    case "bad_shard":
      return badShard(event, parents, ctx);
    case "bad_parents":
      return badParents(event, parents, ctx);
    case "bad_seq":
      return badSeq(event, parents);
    case "bad_lamport":
      return badLamport(event, parents);
    case "missing_cross_link":
      return missingCrossLink(event, parents, ctx);
  }
}

/** The first rule (in INVALID_EVENT_REASONS order) that `event` breaks given all its parents, or null. */
export function findRuleViolation(event: SignedEvent, parents: readonly SignedEvent[], ctx: RuleContext): InvalidEventReason | null {
  for (const reason of INVALID_EVENT_REASONS) if (checkRule(reason, event, parents, ctx) === true) return reason;
  return null;
}

// ---------------------------------------------------------------------------
// Conflicting data availability: what a payload server signs.

/** Domain tag of a payload-serving attestation (docs/SPEC_SLASHING.md). */
const DA_SERVE_DOMAIN = new TextEncoder().encode("phantom/v0/da-serve");

/** The 32 bytes a validator signs when it serves payload bytes for an event: blake3_32(domain || event_id || blake3_32(bytes)). */
export function daServeMessage(eventId: Uint8Array, servedDigest: Uint8Array): Uint8Array {
  return blake3_32(concatBytes(DA_SERVE_DOMAIN, eventId, servedDigest));
}

export function signDaServe(secretKey: Uint8Array, eventId: Uint8Array, servedDigest: Uint8Array): Uint8Array {
  return sign(secretKey, daServeMessage(eventId, servedDigest));
}

// ---------------------------------------------------------------------------
// Evidence verification.

export interface VerifiedEvidence {
  kind: Evidence["kind"];
  /** Committee index of the validator to slash. */
  offender: number;
  reason?: InvalidEventReason;
  /** Identity of the offense: evidence with the same key is slashed once. */
  offenseKey: string;
}

function publicKeyOf(c: SlashingCommittee, index: number, what: string): Uint8Array {
  const pk = c.publicKeys[index];
  if (pk === undefined) throw new SlashingError("EVIDENCE_UNKNOWN_VALIDATOR", `${what}: validator ${index} is not in the committee of ${c.publicKeys.length}`);
  return pk;
}

function requireSigned(e: SignedEvent, c: SlashingCommittee, what: string): void {
  // The id is re-derived: an in-memory event whose id does not match its header proves nothing.
  if (!equalBytes(eventId(e.header), e.id) || !verifyEventSignature(e, publicKeyOf(c, e.header.creator, what))) {
    throw new SlashingError("EVIDENCE_BAD_SIGNATURE", `${what}: event ${toHex(e.id)} is not signed by validator ${e.header.creator}`);
  }
}

function verifyEquivocation(a: SignedEvent, b: SignedEvent, c: SlashingCommittee): VerifiedEvidence {
  requireSigned(a, c, "equivocation");
  requireSigned(b, c, "equivocation");
  if (a.header.creator !== b.header.creator) throw new SlashingError("EVIDENCE_CREATOR_MISMATCH", `equivocation: creators ${a.header.creator} and ${b.header.creator} differ`);
  if (a.header.seq !== b.header.seq) throw new SlashingError("EVIDENCE_SEQ_MISMATCH", `equivocation: seqs ${a.header.seq} and ${b.header.seq} differ`);
  if (a.header.shard !== b.header.shard) throw new SlashingError("EVIDENCE_SHARD_MISMATCH", `equivocation: shards ${a.header.shard} and ${b.header.shard} differ`);
  const order = compareBytes(a.id, b.id);
  if (order === 0) throw new SlashingError("EVIDENCE_SAME_EVENT", "equivocation: both events are the same event");
  if (order > 0) throw new SlashingError("EVIDENCE_NOT_CANONICAL", "equivocation: event a must have the smaller id");
  const h = a.header;
  return { kind: "equivocation", offender: h.creator, offenseKey: `equivocation/${h.shard}/${h.creator}/${h.seq}` };
}

/** Lines the included parents up with the header's parent ids (in header order, no extras, no repeats). */
function alignParents(event: SignedEvent, included: readonly SignedEvent[]): ParentsAtHand {
  const ids = event.header.parents;
  const aligned: (SignedEvent | undefined)[] = ids.map(() => undefined);
  let lastPosition = -1;
  for (const p of included) {
    const position = ids.findIndex((id) => equalBytes(id, p.id));
    if (position === -1) throw new SlashingError("EVIDENCE_PARENT_NOT_REFERENCED", `invalid_event: included event ${toHex(p.id)} is not a parent of ${toHex(event.id)}`);
    if (aligned[position] !== undefined) throw new SlashingError("EVIDENCE_DUPLICATE_PARENT", `invalid_event: parent ${toHex(p.id)} is included twice`);
    if (position < lastPosition) throw new SlashingError("EVIDENCE_NOT_CANONICAL", "invalid_event: included parents must follow the header's parent order");
    aligned[position] = p;
    lastPosition = position;
  }
  return aligned;
}

function verifyInvalidEvent(ev: Extract<Evidence, { kind: "invalid_event" }>, c: SlashingCommittee): VerifiedEvidence {
  requireSigned(ev.event, c, "invalid_event");
  for (const p of ev.parents) requireSigned(p, c, "invalid_event parent");
  const aligned = alignParents(ev.event, ev.parents);
  const ctx: RuleContext = { k: c.publicKeys.length, shardCount: c.shardCount, parentsMax: c.parentsMax };
  const outcome = checkRule(ev.reason, ev.event, aligned, ctx);
  if (outcome === "incomplete") throw new SlashingError("EVIDENCE_INCOMPLETE", `invalid_event: ${ev.reason} cannot be decided without more of the event's parents`);
  if (!outcome) throw new SlashingError("EVIDENCE_RULE_NOT_BROKEN", `invalid_event: event ${toHex(ev.event.id)} does not break ${ev.reason}`);
  return { kind: "invalid_event", offender: ev.event.header.creator, reason: ev.reason, offenseKey: `invalid_event/${toHex(ev.event.id)}` };
}

function verifyConflictingDa(ev: Extract<Evidence, { kind: "conflicting_da" }>, c: SlashingCommittee): VerifiedEvidence {
  requireSigned(ev.event, c, "conflicting_da");
  const serverKey = publicKeyOf(c, ev.servedBy, "conflicting_da");
  if (!verify(ev.servedSignature, daServeMessage(ev.event.id, ev.servedDigest), serverKey)) {
    throw new SlashingError("EVIDENCE_BAD_SIGNATURE", `conflicting_da: the serve attestation is not signed by validator ${ev.servedBy}`);
  }
  if (equalBytes(ev.servedDigest, ev.event.header.payloadDigest)) {
    throw new SlashingError("EVIDENCE_DIGEST_MATCHES", "conflicting_da: the served bytes match the signed payload digest");
  }
  return { kind: "conflicting_da", offender: ev.servedBy, offenseKey: `conflicting_da/${ev.servedBy}/${toHex(ev.event.id)}` };
}

/** Verifies decoded evidence; throws SlashingError with a typed code when it proves nothing. */
export function verifyEvidence(e: Evidence, c: SlashingCommittee): VerifiedEvidence {
  switch (e.kind) {
    case "equivocation":
      return verifyEquivocation(e.a, e.b, c);
    case "invalid_event":
      return verifyInvalidEvent(e, c);
    case "conflicting_da":
      return verifyConflictingDa(e, c);
  }
}

/** Decodes and verifies evidence bytes (a CodecError becomes EVIDENCE_MALFORMED). */
export function verifyEvidenceBytes(bytes: Uint8Array, c: SlashingCommittee): VerifiedEvidence {
  let e: Evidence;
  try {
    e = decodeEvidence(bytes);
  } catch (err) {
    if (err instanceof CodecError) throw new SlashingError("EVIDENCE_MALFORMED", `evidence: ${err.message}`, { cause: err.code });
    throw err;
  }
  return verifyEvidence(e, c);
}

/** Canonical equivocation evidence from two conflicting events (smaller id first). */
export function equivocationEvidence(x: SignedEvent, y: SignedEvent): Evidence {
  return compareBytes(x.id, y.id) <= 0 ? { kind: "equivocation", a: x, b: y } : { kind: "equivocation", a: y, b: x };
}

// ---------------------------------------------------------------------------
// Penalties.

export const EQUIVOCATION_PENALTY_BPS = 10_000;
/** Vote-invalid penalties by reason: rules that bend order or fork history take everything. */
export const INVALID_EVENT_PENALTY_BPS: Readonly<Record<InvalidEventReason, number>> = {
  bad_seq: 10_000,
  bad_lamport: 10_000,
  bad_parents: 7_500,
  bad_shard: 7_500,
  missing_cross_link: 5_000,
};
/** Conflicting-DA penalty by offense number (first, second, third and later). */
export const CONFLICTING_DA_PENALTY_BPS: readonly number[] = [2_500, 5_000, 10_000];

/** Penalty in basis points of stake; `priorDaOffenses` counts earlier distinct conflicting-DA offenses by the same offender. */
export function penaltyBps(v: VerifiedEvidence, priorDaOffenses: number): number {
  switch (v.kind) {
    case "equivocation":
      return EQUIVOCATION_PENALTY_BPS;
    case "invalid_event":
      return INVALID_EVENT_PENALTY_BPS[v.reason!];
    case "conflicting_da": {
      if (!Number.isSafeInteger(priorDaOffenses) || priorDaOffenses < 0) throw new RangeError(`priorDaOffenses must be a non-negative integer, got ${priorDaOffenses}`);
      return CONFLICTING_DA_PENALTY_BPS[Math.min(priorDaOffenses, CONFLICTING_DA_PENALTY_BPS.length - 1)]!;
    }
  }
}

/** Units slashed from `stakeUnits` (the offender's stake still bonded): floor(stake · bps / 10000); 100% is the whole stake. */
export function slashAmountUnits(stakeUnits: bigint, bps: number): bigint {
  if (stakeUnits < 0n) throw new RangeError("stake must be non-negative");
  if (!Number.isInteger(bps) || bps < 0 || bps > BPS_DENOMINATOR) throw new RangeError(`bps must be 0..${BPS_DENOMINATOR}`);
  return (stakeUnits * BigInt(bps)) / BigInt(BPS_DENOMINATOR);
}
