/**
 * Ack distance (docs/SPEC_FEES.md, "Ack distance"): how many Lamport steps after an
 * anchor event A each validator first built on it.
 *
 *   d_v = min{ lamport(x) : x created by v, A is x or an ancestor of x } − lamport(A)
 *
 * capped at D_max; a validator with no such event (or only ones at distance ≥ D_max)
 * has d_v = D_max and is "not acknowledged". The creator of A has d = 0 (A itself).
 * Computed by a forward traversal from A with an explicit stack, pruned at
 * distance D_max: Lamport strictly grows along every edge, so nothing beyond can
 * lower a distance.
 */
import { PhantomError } from "../errors.ts";
import { compareBytes, toHex } from "../crypto/bytes.ts";
import type { SignedEvent } from "../types/event.ts";

export type AckDistanceErrorCode = "ACK_UNKNOWN_EVENT" | "ACK_BAD_LAMPORT" | "ACK_BAD_CREATOR" | "ACK_BAD_PARAMS";

export class AckDistanceError extends PhantomError<AckDistanceErrorCode> {
  constructor(code: AckDistanceErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.name = "AckDistanceError";
  }
}

/** Events indexed for forward traversal. Children lists are in file (topological) order. */
export interface HeaderDag {
  events: readonly SignedEvent[];
  indexById: ReadonlyMap<string, number>;
  children: readonly (readonly number[])[];
}

/** Builds the child index of events given in topological order (parents first). */
export function buildHeaderDag(events: readonly SignedEvent[]): HeaderDag {
  const indexById = new Map<string, number>();
  const children: number[][] = events.map(() => []);
  events.forEach((e, i) => {
    for (const p of e.header.parents) {
      const parent = indexById.get(toHex(p));
      // Parents outside the set cannot lie on a path from an anchor inside it.
      if (parent !== undefined) children[parent]!.push(i);
    }
    indexById.set(toHex(e.id), i);
  });
  return { events, indexById, children };
}

export interface AckDistance {
  /** Validator index. */
  index: number;
  /** min(raw distance, D_max). */
  distance: number;
  /** raw distance < D_max. */
  acknowledged: boolean;
  /** The validator's earliest event descending from A (smallest id on a Lamport tie), when acknowledged. */
  eventId: Uint8Array | null;
}

export interface AckDistances {
  anchorId: Uint8Array;
  creator: number;
  lamport: number;
  dMax: number;
  distances: AckDistance[];
}

/**
 * Last anchor index whose event counts towards the ack distances of the anchor at
 * `anchorIndex` (docs/SPEC_FEES.md §2, settlement window): anchorIndex + k·D_max.
 * Events ordered later are late acknowledgements and do not count, so every node
 * computes the split over the same events; the split is settled at this index.
 */
export function ackWindowEndIndex(anchorIndex: bigint, k: number, dMax: number): bigint {
  checkParams(k, dMax);
  if (anchorIndex < 0n) throw new AckDistanceError("ACK_BAD_PARAMS", "anchor index must be non-negative");
  return anchorIndex + BigInt(k) * BigInt(dMax);
}

function checkParams(k: number, dMax: number): void {
  if (!Number.isSafeInteger(k) || k < 1 || k > 64) throw new AckDistanceError("ACK_BAD_PARAMS", `committee size must be 1..64, got ${k}`);
  if (!Number.isSafeInteger(dMax) || dMax < 1) throw new AckDistanceError("ACK_BAD_PARAMS", `d_max must be a positive integer, got ${dMax}`);
}

/** Ack distances of every validator 0..k−1 for anchor `anchorId`. */
export function ackDistances(dag: HeaderDag, anchorId: Uint8Array, k: number, dMax: number): AckDistances {
  checkParams(k, dMax);
  const start = dag.indexById.get(toHex(anchorId));
  if (start === undefined) throw new AckDistanceError("ACK_UNKNOWN_EVENT", `event ${toHex(anchorId)} is not in the headers`);
  const anchor = dag.events[start]!;
  const base = anchor.header.lamport;
  const best: (SignedEvent | null)[] = new Array(k).fill(null);
  const visited = new Uint8Array(dag.events.length);
  // Bounded: every event is pushed at most once (visited), so the stack never exceeds the DAG.
  const stack: number[] = [start];
  visited[start] = 1;
  while (stack.length > 0) {
    const i = stack.pop()!;
    const e = dag.events[i]!;
    const distance = e.header.lamport - base;
    if (distance >= dMax) continue;
    const c = e.header.creator;
    if (c >= k) throw new AckDistanceError("ACK_BAD_CREATOR", `event ${toHex(e.id)} has creator ${c}, committee size is ${k}`);
    const current = best[c];
    if (current === null || current === undefined || e.header.lamport < current.header.lamport || (e.header.lamport === current.header.lamport && compareBytes(e.id, current.id) < 0)) {
      best[c] = e;
    }
    for (const child of dag.children[i]!) {
      if (dag.events[child]!.header.lamport <= e.header.lamport) {
        throw new AckDistanceError("ACK_BAD_LAMPORT", `event ${toHex(dag.events[child]!.id)} does not have a larger Lamport than its parent ${toHex(e.id)}`);
      }
      if (visited[child] === 0) {
        visited[child] = 1;
        stack.push(child);
      }
    }
  }
  const distances = best.map((e, index): AckDistance =>
    e === null ? { index, distance: dMax, acknowledged: false, eventId: null } : { index, distance: e.header.lamport - base, acknowledged: true, eventId: e.id },
  );
  return { anchorId: anchor.id, creator: anchor.header.creator, lamport: base, dMax, distances };
}
