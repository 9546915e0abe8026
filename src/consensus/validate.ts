/**
 * Event validation rules (SPEC_CONSENSUS "Validation"). Pure: given the header, the
 * committee size and the parents (when known), returns the first failing rule.
 */
import type { EventHeader } from "../types/event.ts";
import { EventError } from "./errors.ts";
import { idKey } from "./dag.ts";

export interface ValidationContext {
  k: number;
  shard: number;
  parentsMax: number;
}

/** Parent facts validation needs (a DagNode satisfies it). */
export interface ParentInfo {
  creator: number;
  seq: number;
  lamport: number;
  round: number;
}

/** Rules checkable from the header alone, in this order. */
export function checkHeader(h: EventHeader, ctx: ValidationContext): EventError | null {
  if (!Number.isInteger(h.creator) || h.creator < 0 || h.creator >= ctx.k) {
    return new EventError("EVENT_UNKNOWN_CREATOR", `creator ${h.creator} is not in the committee of ${ctx.k}`);
  }
  if (h.shard !== ctx.shard) return new EventError("EVENT_BAD_SHARD", `shard ${h.shard}, expected ${ctx.shard}`);
  if (!Number.isSafeInteger(h.seq) || h.seq < 0) return new EventError("EVENT_BAD_SEQ", `seq ${h.seq} is not a valid integer`);
  if (h.parents.length > ctx.parentsMax) {
    return new EventError("EVENT_TOO_MANY_PARENTS", `${h.parents.length} parents, at most ${ctx.parentsMax}`);
  }
  if (h.parentRounds.length !== h.parents.length) return new EventError("EVENT_MALFORMED", "one claimed round per parent");
  for (const r of h.parentRounds) {
    if (!Number.isSafeInteger(r) || r < 0) return new EventError("EVENT_MALFORMED", `claimed parent round ${r} is not a valid integer`);
  }
  const keys = new Set<string>();
  for (const p of h.parents) {
    if (p.length !== 32) return new EventError("EVENT_BAD_PARENT", `parent id of ${p.length} bytes`);
    const key = idKey(p);
    if (keys.has(key)) return new EventError("EVENT_DUPLICATE_PARENT", "a parent is listed twice");
    keys.add(key);
  }
  if (h.payloadDigest.length !== 32) return new EventError("EVENT_BAD_PAYLOAD_DIGEST", "payload digest must be 32 bytes");
  if (h.seq > 0 && h.parents.length === 0) return new EventError("EVENT_BAD_SEQ", `seq ${h.seq} without a self-parent`);
  return null;
}

/**
 * Rules that need the parents, checked after checkHeader. `parents` is aligned with
 * h.parents; an ancient reference (SPEC_CONSENSUS §12) is null: it is out of play, so the
 * rules about it (self-parent seq, Lamport) are not applied and nobody needs it.
 */
export function checkParents(h: EventHeader, parents: readonly (ParentInfo | null)[], ctx: ValidationContext): EventError | null {
  let cross = 0;
  let maxLamport = -1;
  for (let i = 0; i < parents.length; i++) {
    const p = parents[i];
    if (p === null || p === undefined) continue;
    if (p.lamport > maxLamport) maxLamport = p.lamport;
    if (i === 0 && h.seq > 0) {
      if (p.creator !== h.creator) return new EventError("EVENT_SELF_PARENT_NOT_FIRST", "the first parent is not by the event's creator");
      if (p.seq + 1 !== h.seq) return new EventError("EVENT_BAD_SEQ", `seq ${h.seq} but self-parent seq ${p.seq}`);
      continue;
    }
    if (p.creator === h.creator) {
      return h.seq === 0
        ? new EventError("EVENT_BAD_SEQ", "seq 0 with a parent by its own creator")
        : new EventError("EVENT_BAD_PARENT", "a parent other than the self-parent is by the event's creator");
    }
    cross++;
  }
  if (ctx.k >= 2 && h.seq > 0 && cross === 0) return new EventError("EVENT_MISSING_CROSS_LINK", "no parent by another creator");
  const expected = h.parents.length === 0 ? 0 : maxLamport + 1;
  if (h.lamport !== expected) return new EventError("EVENT_BAD_LAMPORT", `lamport ${h.lamport}, expected ${expected}`);
  for (let i = 0; i < parents.length; i++) {
    const p = parents[i];
    if (p !== null && p !== undefined && p.round !== h.parentRounds[i]) {
      return new EventError("EVENT_BAD_PARENT_ROUND", `parent ${i} is of round ${p.round}, the event claims ${h.parentRounds[i]}`);
    }
  }
  return null;
}
