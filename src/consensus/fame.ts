/**
 * Virtual voting on the fame of witnesses (SPEC_CONSENSUS "Fame"). A vote is a function
 * of the voter's ancestry, so it is cached on the voter once computed; a decision, once
 * made by any witness, is the same at every honest node (supermajority intersection).
 */
import { type Dag, type DagNode, NONE } from "./dag.ts";
import { sees, type WeightsOf } from "./rounds.ts";

/** Byte of the voter's signature whose low bit is the coin (low byte of S). */
export const COIN_SIGNATURE_BYTE = 32;

/**
 * Rounds at distance d >= 3 with d % c == 0 are coin rounds. Distance 2 is never a coin
 * round, so a round-(r+2) witness can always decide a late round-r witness (the
 * late-witness argument in SPEC_CONSENSUS relies on it).
 */
export function isCoinRound(distance: number, coinRoundInterval: number): boolean {
  return distance >= 3 && distance % coinRoundInterval === 0;
}

export function coinBit(voter: DagNode): number {
  return voter.event.signature[COIN_SIGNATURE_BYTE]! & 1;
}

/** Sorted witness list of a round: by creator, then id, so decisions never depend on arrival. */
export function sortedWitnesses(dag: Dag, round: number): DagNode[] {
  const serials = dag.witnesses(round);
  const cached = sortedCache.get(dag);
  const hit = cached?.get(round);
  if (hit !== undefined && hit.count === serials.length && hit.prunedBelow === dag.prunedBelowRound) return hit.nodes;
  const out: DagNode[] = [];
  for (const s of serials) {
    const n = dag.get(s);
    if (n !== undefined) out.push(n);
  }
  out.sort((a, b) => a.creator - b.creator || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  let perDag = cached;
  if (perDag === undefined) {
    perDag = new Map();
    sortedCache.set(dag, perDag);
  }
  // Witness lists only grow (until pruned), so the length identifies the version.
  perDag.set(round, { count: serials.length, prunedBelow: dag.prunedBelowRound, nodes: out });
  for (const r of perDag.keys()) if (r < dag.prunedBelowRound) perDag.delete(r);
  return out;
}

const sortedCache = new WeakMap<Dag, Map<number, { count: number; prunedBelow: number; nodes: DagNode[] }>>();

/**
 * The strongly seen witnesses that vote, one per creator: a creator's stake counts once.
 * Two of one creator only arise when a Byzantine creator links past a recent own event
 * (SPEC_CONSENSUS §12); the lowest id then votes, the same at every node.
 */
function oneVoterPerCreator(dag: Dag, serials: readonly number[]): DagNode[] {
  const chosen: DagNode[] = [];
  for (const s of serials) {
    const u = dag.get(s);
    if (u === undefined) continue;
    const i = chosen.findIndex((c) => c.creator === u.creator);
    if (i < 0) chosen.push(u);
    else if (u.key < chosen[i]!.key) chosen[i] = u;
  }
  return chosen;
}

/**
 * Vote of witness w (round r + d) on witness y (round r); returns the decision if w makes one.
 * The tally is over S(w), witnesses of round(w) − 1, so it uses that round's weights: the
 * same ones that made them strongly seen (SPEC_CONSENSUS §1a).
 */
function vote(dag: Dag, weightsOf: WeightsOf, w: DagNode, y: DagNode, distance: number, coinRoundInterval: number): number {
  const cached = w.votes!.get(y.serial);
  if (cached !== undefined) return cached;
  let v: number;
  let decided = NONE;
  if (distance === 1) {
    v = sees(dag, w, y) ? 1 : 0;
  } else {
    const stakes = weightsOf(w.round - 1);
    let yes = 0;
    let no = 0;
    for (const u of oneVoterPerCreator(dag, w.stronglySeen!)) {
      const uv = u.votes!.get(y.serial);
      if (uv === undefined) continue; // u was pruned-in-the-past voter; cannot happen for live rounds
      if (uv === 1) yes += stakes.stake[u.creator]!;
      else no += stakes.stake[u.creator]!;
    }
    const majority = yes >= no ? 1 : 0;
    if (isCoinRound(distance, coinRoundInterval)) {
      v = yes >= stakes.quorum ? 1 : no >= stakes.quorum ? 0 : coinBit(w);
    } else {
      v = majority;
      if (yes >= stakes.quorum) decided = 1;
      else if (no >= stakes.quorum) decided = 0;
    }
  }
  w.votes!.set(y.serial, v);
  // Encode a decision in the cache too (2 = decided no, 3 = decided yes) so reruns see it.
  if (decided !== NONE) w.votes!.set(-1 - y.serial, decided);
  return v;
}

/**
 * Runs voting on every undecided witness of `round` with all witnesses known above it.
 * Returns true when every known witness of the round has its fame decided.
 */
export function decideFame(dag: Dag, weightsOf: WeightsOf, round: number, coinRoundInterval: number): boolean {
  let undecided = sortedWitnesses(dag, round).filter((y) => y.fame === NONE);
  if (undecided.length === 0) return true;
  for (let r = round + 1; r <= dag.maxRound && undecided.length > 0; r++) {
    const voters = sortedWitnesses(dag, r);
    const d = r - round;
    for (const w of voters) {
      for (const y of undecided) {
        vote(dag, weightsOf, w, y, d, coinRoundInterval);
        const decision = w.votes!.get(-1 - y.serial);
        if (decision !== undefined && y.fame === NONE) y.fame = decision;
      }
    }
    undecided = undecided.filter((y) => y.fame === NONE);
  }
  return undecided.length === 0;
}
