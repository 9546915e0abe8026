/** Pure helpers to build event headers (used by the engine, tests and the simulator). */
import type { EventHeader } from "../types/event.ts";
import { effectiveParents } from "./ancient.ts";

export interface HeaderParent {
  id: Uint8Array;
  lamport: number;
  /** The parent's round (claimed in the header; checked unless the reference is ancient). */
  round: number;
}

/**
 * Builds an unsigned EventHeader. `parents` must list the self-parent first (omit it for
 * seq 0); lamport is 1 + the maximum over the parents in play (ancient references are
 * out of play), or 0 without parents, unless `lamport` is given (tests and the simulator
 * use that to craft invalid events).
 */
export function buildEventHeader(args: {
  shard: number;
  creator: number;
  seq: number;
  parents: readonly HeaderParent[];
  payloadDigest: Uint8Array;
  lamport?: number;
}): EventHeader {
  const parentRounds = args.parents.map((p) => p.round);
  const inPlay = effectiveParents({ parentRounds });
  let lamport = 0;
  if (args.parents.length > 0) {
    let max = 0;
    args.parents.forEach((p, i) => {
      if (inPlay[i] && p.lamport > max) max = p.lamport;
    });
    lamport = max + 1;
  }
  return {
    shard: args.shard,
    creator: args.creator,
    seq: args.seq,
    parents: args.parents.map((p) => p.id),
    parentRounds,
    lamport: args.lamport ?? lamport,
    payloadDigest: args.payloadDigest,
  };
}
