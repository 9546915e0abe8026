/**
 * Strongly-see, rounds and witnesses (SPEC_CONSENSUS "Rounds"). All are functions of an
 * event's ancestry and are computed once, when the event is inserted.
 */
import { type Dag, type DagNode, hasForkBit, NONE } from "./dag.ts";

export interface StakeTable {
  /** Stake per creator as exact doubles (total stake is checked to be < 2^53). */
  stake: Float64Array;
  /** Quorum q = floor(2·total/3) + 1. */
  quorum: number;
}

/** x sees w: w is an ancestor of x and x's ancestry holds no fork by w's creator. */
export function sees(dag: Dag, x: DagNode, w: DagNode): boolean {
  return !hasForkBit(x, w.creator) && dag.isAncestor(w, x);
}

/**
 * x strongly sees w: x sees w, and the creators c without a fork in x's ancestry whose
 * highest event in x's ancestry descends from w hold stake >= q. The Lachesis comparison
 * la[w][c] <= hbSeq[x][c] is exact while neither c nor w's creator has a known fork;
 * otherwise the highest c-event is checked directly.
 */
export function stronglySees(dag: Dag, stakes: StakeTable, x: DagNode, w: DagNode): boolean {
  const cw = w.creator;
  if (!sees(dag, x, w)) return false;
  const hb = x.hbSeq;
  const la = w.la!;
  const stake = stakes.stake;
  const wForked = dag.forked[cw] === 1;
  const lo = x.forkLo;
  const hi = x.forkHi;
  let sum = 0;
  for (let c = 0; c < dag.k; c++) {
    if ((c < 32 ? lo & (1 << c) : hi & (1 << (c - 32))) !== 0) continue;
    const h = hb[c]!;
    if (h < 0) continue;
    if (!wForked && dag.forked[c] === 0) {
      const l = la[c]!;
      if (l !== NONE && l <= h) sum += stake[c]!;
    } else {
      const z = dag.get(x.hbRef[c]!);
      if (z !== undefined && dag.isAncestor(w, z)) sum += stake[c]!;
    }
  }
  return sum >= stakes.quorum;
}

/**
 * Witnesses of `round` that x strongly sees, and their creators' total stake, each creator
 * counted once. Two strongly seen witnesses of one creator cannot come from a fork (that
 * would be a fork in x's ancestry), but a Byzantine creator can make them by linking past
 * a recent own event through an ancient self-parent reference (SPEC_CONSENSUS §12).
 */
function stronglySeenWitnesses(dag: Dag, stakes: StakeTable, x: DagNode, round: number): { serials: number[]; stake: number } {
  const serials: number[] = [];
  const creators = new Set<number>();
  let stake = 0;
  for (const s of dag.witnesses(round)) {
    const w = dag.get(s);
    if (w === undefined || !stronglySees(dag, stakes, x, w)) continue;
    serials.push(s);
    if (creators.has(w.creator)) continue;
    creators.add(w.creator);
    stake += stakes.stake[w.creator]!;
  }
  return { serials, stake };
}

/** The weights of a round (SPEC_CONSENSUS §1a); the engine only asks for rounds it knows. */
export type WeightsOf = (round: number) => StakeTable;

/** Highest round among the parents in play (0 without parents). */
export function maxParentRoundOf(dag: Dag, x: { parents: readonly number[] }): number {
  let r = 0;
  for (const p of x.parents) {
    const n = dag.get(p);
    if (n !== undefined && n.round > r) r = n.round;
  }
  return r;
}

/**
 * round(x) = max parent round r, +1 when x strongly sees witnesses of r with stake >= q;
 * 0 without parents. Everything about round-r witnesses is weighed with the weights of
 * round r. x is a witness when it is its creator's first event of its round (no
 * self-parent, or the self-parent's round is lower).
 */
export function assignRound(dag: Dag, weightsOf: WeightsOf, x: DagNode): void {
  let r = maxParentRoundOf(dag, x);
  let seenPrev: number[] | null = null;
  if (x.parents.length > 0) {
    const stakes = weightsOf(r);
    const seen = stronglySeenWitnesses(dag, stakes, x, r);
    if (seen.stake >= stakes.quorum) {
      r += 1;
      seenPrev = seen.serials;
    }
  }
  x.round = r;
  const sp = x.selfParent === NONE ? undefined : dag.get(x.selfParent);
  x.witness = x.selfParent === NONE || sp === undefined || sp.round < r;
  if (x.witness) x.stronglySeen = seenPrev ?? (r > 0 ? stronglySeenWitnesses(dag, weightsOf(r - 1), x, r - 1).serials : []);
}
