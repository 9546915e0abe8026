/**
 * The ancient-parent rule (SPEC_CONSENSUS §12): which parent references of an event are in
 * play. Decided from the header alone, so every node treats an event the same way whatever
 * it has pruned: a reference whose claimed round lies more than ANCIENT_ROUNDS below the
 * highest claimed parent round is ignored (not needed, not fetched, not checked).
 */
import type { EventHeader } from "../types/event.ts";
import { ANCIENT_ROUNDS } from "../types/constants.ts";

/** Highest claimed parent round, -1 for an event without parents. */
export function maxParentRound(h: Pick<EventHeader, "parentRounds">): number {
  let max = -1;
  for (const r of h.parentRounds) if (r > max) max = r;
  return max;
}

/** A parent claimed at `round` is ancient for an event whose highest parent claim is `maxRound`. */
export function isAncientRound(round: number, maxRound: number): boolean {
  return round + ANCIENT_ROUNDS < maxRound;
}

/** effective[i]: parent i is in play (not ancient). The highest-claimed parent always is. */
export function effectiveParents(h: Pick<EventHeader, "parentRounds">): boolean[] {
  const max = maxParentRound(h);
  return h.parentRounds.map((r) => !isAncientRound(r, max));
}
