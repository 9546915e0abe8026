/** Typed rejection reasons for events (matched by code in tests, counted by code in metrics). */
import { PhantomError } from "../errors.ts";
import type { InvalidEventReason } from "../types/evidence.ts";

export const EVENT_ERROR_CODES = [
  "EVENT_BAD_SIGNATURE",
  "EVENT_BAD_ID",
  "EVENT_MALFORMED",
  "EVENT_UNKNOWN_CREATOR",
  "EVENT_BAD_SEQ",
  "EVENT_TOO_MANY_PARENTS",
  "EVENT_SELF_PARENT_NOT_FIRST",
  "EVENT_BAD_PARENT",
  "EVENT_MISSING_CROSS_LINK",
  "EVENT_BAD_LAMPORT",
  "EVENT_DUPLICATE_PARENT",
  "EVENT_BAD_SHARD",
  "EVENT_BAD_PAYLOAD_DIGEST",
  "EVENT_DUPLICATE",
  "EVENT_ORPHAN_EVICTED",
  "EVENT_BAD_PARENT_ROUND",
  "EVENT_ANCIENT",
] as const;
export type EventErrorCode = (typeof EVENT_ERROR_CODES)[number];

export class EventError extends PhantomError<EventErrorCode> {
  constructor(code: EventErrorCode, message: string) {
    super(code, message);
    this.name = "EventError";
  }
}

export class ConsensusConfigError extends PhantomError<"CONSENSUS_BAD_CONFIG"> {
  constructor(message: string) {
    super("CONSENSUS_BAD_CONFIG", message);
    this.name = "ConsensusConfigError";
  }
}

/**
 * Which rejection codes make a *signed* event slashable as "vote-invalid" (SPEC_SLASHING),
 * and under which evidence reason. Codes absent here (bad signature, unknown creator,
 * duplicate) are not attributable to a committee member.
 */
export const EVIDENCE_REASON: Partial<Record<EventErrorCode, InvalidEventReason>> = {
  EVENT_BAD_SEQ: "bad_seq",
  EVENT_TOO_MANY_PARENTS: "bad_parents",
  EVENT_SELF_PARENT_NOT_FIRST: "bad_parents",
  EVENT_BAD_PARENT: "bad_parents",
  EVENT_DUPLICATE_PARENT: "bad_parents",
  EVENT_MISSING_CROSS_LINK: "missing_cross_link",
  EVENT_BAD_LAMPORT: "bad_lamport",
  EVENT_BAD_SHARD: "bad_shard",
};
