/**
 * A read-only view of the newest events in memory, for the explorer's DAG picture:
 * round, witness, fame, fork and which parent references are in play. Walks rounds from
 * the highest down and stops at `limit` events, so its cost is O(limit) (rounds in
 * memory are contiguous, each holds at least one event).
 */
import type { SignedEvent } from "../types/event.ts";
import { type Dag, NONE } from "./dag.ts";
import { effectiveParents } from "./ancient.ts";

export interface DagEventView {
  event: SignedEvent;
  round: number;
  witness: boolean;
  /** Witnesses only: 1 famous, 0 not famous, -1 undecided; -1 for other events. */
  fame: number;
  /** Ordered (final) or found stale; the anchor index, if any, is the node's to look up. */
  done: boolean;
  /** Another event of this creator with this seq is in memory (an equivocation). */
  fork: boolean;
  /** Per header parent, in header order: in play (true) or an ancient reference (false). */
  parentsInPlay: boolean[];
}

export interface DagView {
  events: DagEventView[];
  maxRound: number;
  prunedBelowRound: number;
  /** Creators with two events of one seq among the events this node has seen. */
  forkedCreators: number[];
}

/** The newest `limit` events in memory, highest round first; within a round, in insertion order. */
export function recentDagEvents(dag: Dag, limit: number): DagView {
  const events: DagEventView[] = [];
  const seen = new Set<number>();
  for (let r = dag.maxRound; r >= dag.prunedBelowRound && r > NONE && events.length < limit; r--) {
    for (const serial of dag.eventsByRound.get(r) ?? []) {
      if (events.length >= limit) break;
      const n = dag.get(serial);
      // Pinned events sit again in the lowest round's list; report each once.
      if (n === undefined || seen.has(serial)) continue;
      seen.add(serial);
      events.push({
        event: n.event, round: n.round, witness: n.witness, fame: n.witness ? n.fame : NONE, done: n.done,
        fork: dag.sameSeq(n.creator, n.seq).length > 1, parentsInPlay: effectiveParents(n.event.header),
      });
    }
  }
  return { events, maxRound: dag.maxRound, prunedBelowRound: dag.prunedBelowRound, forkedCreators: [...dag.forkedList] };
}
