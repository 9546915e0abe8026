/**
 * Round received, consensus_time and the total order (SPEC_CONSENSUS "Order").
 * Runs once per decided round, in round order.
 */
import { type Dag, type DagNode, NONE } from "./dag.ts";
import { sortedWitnesses } from "./fame.ts";

export interface OrderedEvent {
  node: DagNode;
  roundReceived: number;
  medianLamport: number;
}

/** Judges of a decided round: the famous witnesses of creators with exactly one famous witness. */
export function judgesOf(dag: Dag, round: number): DagNode[] {
  const famous = sortedWitnesses(dag, round).filter((w) => w.fame === 1);
  return famous.filter((w) => famous.filter((o) => o.creator === w.creator).length === 1);
}

/** Not-yet-ordered ancestors of `from` (itself included), by explicit-stack search. */
function openAncestors(dag: Dag, from: DagNode): DagNode[] {
  const out: DagNode[] = [];
  const seen = new Set<number>([from.serial]);
  const stack: DagNode[] = [from];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n.done) continue;
    out.push(n);
    for (const p of n.parents) {
      if (seen.has(p)) continue;
      seen.add(p);
      const pn = dag.get(p);
      if (pn !== undefined) stack.push(pn);
    }
  }
  return out;
}

/** Lamport of the earliest self-ancestor of judge j that descends from x. */
function earliestDescendantLamport(dag: Dag, x: DagNode, j: DagNode): number {
  let s = j;
  for (;;) {
    if (s.selfParent === NONE) return s.lamport;
    const p = dag.get(s.selfParent);
    if (p === undefined || !dag.isAncestor(x, p)) return s.lamport;
    s = p;
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * The events received in decided round `round`, in total order: ancestors of every judge
 * not ordered before, sorted by (medianLamport, lamport, event_id). Events whose round is
 * more than `horizonRounds` below the round that would receive them are stale: marked done,
 * never ordered (identical at every node, since both rounds are DAG facts).
 */
export function receiveRound(dag: Dag, round: number, horizonRounds: number): OrderedEvent[] {
  const judges = judgesOf(dag, round);
  if (judges.length === 0) return [];
  const received: OrderedEvent[] = [];
  for (const x of openAncestors(dag, judges[0]!)) {
    let all = true;
    for (let i = 1; i < judges.length && all; i++) all = dag.isAncestor(x, judges[i]!);
    if (!all) continue;
    if (x.round + horizonRounds < round) {
      x.done = true;
      x.stale = true;
      continue;
    }
    const lamports = judges.map((j) => earliestDescendantLamport(dag, x, j)).sort((a, b) => a - b);
    received.push({ node: x, roundReceived: round, medianLamport: lamports[(lamports.length - 1) >> 1]! });
  }
  received.sort(
    (a, b) =>
      a.medianLamport - b.medianLamport || a.node.lamport - b.node.lamport || compareBytes(a.node.event.id, b.node.event.id),
  );
  for (const o of received) {
    o.node.done = true;
    o.node.roundReceived = o.roundReceived;
    o.node.medianLamport = o.medianLamport;
  }
  return received;
}
