/**
 * ConsensusEngine: composes the DAG store, validation, rounds, fame and order. Synchronous
 * and pure with respect to the world: no clock, no I/O; the node and the simulator feed it.
 */
import { type SignedEvent, encodeEventHeader, signEvent } from "../types/event.ts";
import type { Evidence } from "../types/evidence.ts";
import { blake3Batch } from "../crypto/hash.ts";
import { verifyBatch, type VerifyItem } from "../crypto/ed25519.ts";
import { equalBytes } from "../crypto/bytes.ts";
import { PhantomError, invariant } from "../errors.ts";
import { Dag, type DagNode, idKey, NONE } from "./dag.ts";
import { EventError, EVIDENCE_REASON, ConsensusConfigError } from "./errors.ts";
import { checkHeader, checkParents, type ValidationContext } from "./validate.ts";
import { assignRound, maxParentRoundOf, type StakeTable } from "./rounds.ts";
import { WeightSchedule } from "./weights.ts";
import { decideFame } from "./fame.ts";
import { receiveRound } from "./order.ts";
import { OrphanBuffer, ORPHAN_EVENTS_MAX_DEFAULT, type MissingParent } from "./orphans.ts";
import { buildEventHeader, type HeaderParent } from "./header.ts";
import { effectiveParents, isAncientRound, maxParentRound } from "./ancient.ts";
import { recentDagEvents, type DagView } from "./dag-view.ts";
import { ANCIENT_ROUNDS, COMMITTEE_MAX, PARENTS_MAX } from "../types/constants.ts";
import { configFingerprint, decodeEngineState, encodeEngineState, EngineStateError } from "./engine-state.ts";

export { buildEventHeader } from "./header.ts";

export const HORIZON_ROUNDS_DEFAULT = 64;

export interface Committee {
  publicKeys: Uint8Array[];
  stakes: bigint[];
}

export interface EngineConfig {
  committee: Committee;
  coinRoundInterval: number;
  parentsMax: number;
  shard: number;
  /** Rounds kept in memory below the last decided round (also the stale-event horizon). */
  horizonRounds?: number;
  orphanEventsMax?: number;
  /**
   * Stake lag L (SPEC_CONSENSUS §1a): round r is weighed with the stake table after the
   * anchors received in rounds <= r − L, reported through recordStake. Unset: the genesis
   * stakes weigh every round (an engine fed from headers alone, with no ledger).
   */
  stakeLagRounds?: number;
  /** Signature verifier (default: the native verifyBatch); the simulator injects a memoizing one. */
  verifyBatch?: (items: readonly VerifyItem[]) => boolean[];
}

export interface FinalizedEvent {
  event: SignedEvent;
  anchorIndex: bigint;
  roundReceived: number;
  consensusTime: { round: number; medianLamport: number; lamport: number };
}

export interface Rejection {
  id: Uint8Array;
  code: string;
  message: string;
}

/** What describe() reports about one event (fame: -1 undecided, 0 not famous, 1 famous; non-witnesses -1). */
export interface EventFacts {
  round: number;
  witness: boolean;
  fame: number;
  forkLo: number;
  forkHi: number;
  roundReceived: number;
  medianLamport: number;
}

export interface AddResult {
  accepted: SignedEvent[];
  rejected: Rejection[];
  finalized: FinalizedEvent[];
  evidence: Evidence[];
  /** Events buffered in this call because a parent is missing. */
  orphaned: number;
  /**
   * Events found stale in this call (never to be ordered; reported when they leave memory):
   * whatever they carry can be proposed again.
   */
  stale: SignedEvent[];
}

export interface AddOptions {
  /** Skip id recomputation and signature checks: the events came from this node's own store. */
  trusted?: boolean;
}

export interface EngineStats {
  events: number;
  orphans: number;
  lastDecidedRound: number;
  finalizedCount: bigint;
  /** Highest round of any event in memory (-1 when empty). */
  maxRound: number;
  /** Events whose parents are all in memory, waiting for the weights of their parents' round (SPEC_CONSENSUS §1a). */
  weightWaiting: number;
  /** Highest round whose weights are known (Infinity without a stake lag). */
  weightsKnownRoundMax: number;
}

function checkStakes(committee: Committee): void {
  let total = 0n;
  for (const s of committee.stakes) {
    if (s < 0n) throw new ConsensusConfigError("stakes must be non-negative");
    total += s;
  }
  if (total === 0n) throw new ConsensusConfigError("total stake must be positive");
  if (total > BigInt(Number.MAX_SAFE_INTEGER)) throw new ConsensusConfigError("total stake must be below 2^53 units");
}

function validateConfig(cfg: EngineConfig): void {
  const k = cfg.committee.publicKeys.length;
  if (k < 1 || k > COMMITTEE_MAX) throw new ConsensusConfigError(`committee size ${k} not in 1..${COMMITTEE_MAX}`);
  if (cfg.committee.stakes.length !== k) throw new ConsensusConfigError("one stake per public key");
  if (!Number.isInteger(cfg.coinRoundInterval) || cfg.coinRoundInterval < 2) throw new ConsensusConfigError("coinRoundInterval must be >= 2");
  if (!Number.isInteger(cfg.parentsMax) || cfg.parentsMax < (k >= 2 ? 2 : 1) || cfg.parentsMax > PARENTS_MAX) {
    throw new ConsensusConfigError(`parentsMax must be in 2..${PARENTS_MAX}`);
  }
  if ((cfg.horizonRounds ?? HORIZON_ROUNDS_DEFAULT) < 4) throw new ConsensusConfigError("horizonRounds must be >= 4");
  if ((cfg.orphanEventsMax ?? ORPHAN_EVENTS_MAX_DEFAULT) < 1) throw new ConsensusConfigError("orphanEventsMax must be >= 1");
}

export class ConsensusEngine {
  private readonly cfg: EngineConfig;
  private readonly dag: Dag;
  private readonly weights: WeightSchedule;
  /** Weights of a round the engine already checked to be known. */
  private readonly weightsOf = (round: number): StakeTable => {
    const t = this.weights.forRound(round);
    invariant(t !== undefined, `weights of round ${round} used before they are known`);
    return t;
  };
  /** Events waiting for the weights of their parents' round, in arrival order (bounded by orphanEventsMax). */
  private weightWait: SignedEvent[] = [];
  private readonly weightWaitKeys = new Set<string>();
  private readonly orphans: OrphanBuffer;
  private readonly ctx: ValidationContext;
  private readonly horizonRounds: number;
  private readonly evidencePairs = new Set<string>();
  private pendingEvidence: Evidence[] = [];
  private lastDecidedRound = NONE;
  private finalizedCount = 0n;
  /** Per creator: the highest-seq validly signed event seen (inserted, buffered or dropped). */
  private readonly newestSignedByCreator: (SignedEvent | undefined)[];

  constructor(cfg: EngineConfig) {
    validateConfig(cfg);
    this.cfg = cfg;
    const k = cfg.committee.publicKeys.length;
    this.dag = new Dag(k);
    checkStakes(cfg.committee);
    this.weights = new WeightSchedule(cfg.committee.stakes, cfg.stakeLagRounds);
    this.orphans = new OrphanBuffer(cfg.orphanEventsMax ?? ORPHAN_EVENTS_MAX_DEFAULT);
    this.ctx = { k, shard: cfg.shard, parentsMax: cfg.parentsMax };
    this.horizonRounds = cfg.horizonRounds ?? HORIZON_ROUNDS_DEFAULT;
    this.newestSignedByCreator = new Array<SignedEvent | undefined>(k).fill(undefined);
  }

  /**
   * The full state as deterministic bytes (engine-state.ts): an engine restored with
   * fromState and fed the events that follow produces exactly what this one produces.
   */
  exportState(): Uint8Array {
    const internals = {
      dag: this.dag, orphans: this.orphans, evidencePairs: this.evidencePairs, pendingEvidence: this.pendingEvidence,
      lastDecidedRound: this.lastDecidedRound, finalizedCount: this.finalizedCount, newestSigned: this.newestSignedByCreator,
      weights: this.weights.exportState(), weightWait: this.weightWait,
    };
    return encodeEngineState(internals, configFingerprint(this.cfg, this.horizonRounds));
  }

  /** An engine restored from exportState bytes; EngineStateError when they do not fit `cfg`. */
  static fromState(cfg: EngineConfig, bytes: Uint8Array): ConsensusEngine {
    const engine = new ConsensusEngine(cfg);
    const s = decodeEngineState(bytes, configFingerprint(cfg, engine.horizonRounds), engine.dag, engine.orphans, engine.evidencePairs);
    engine.pendingEvidence = s.pendingEvidence;
    engine.lastDecidedRound = s.lastDecidedRound;
    engine.finalizedCount = s.finalizedCount;
    s.newestSigned.forEach((e, c) => { engine.newestSignedByCreator[c] = e; });
    try {
      engine.weights.loadState(s.weights);
    } catch (e) {
      if (e instanceof ConsensusConfigError) throw new EngineStateError("ENGINE_STATE_INVALID", `engine state weights: ${e.message}`);
      throw e;
    }
    for (const e of s.weightWait) {
      const key = idKey(e.id);
      if (engine.weightWaitKeys.has(key)) throw new EngineStateError("ENGINE_STATE_INVALID", "engine state lists an event waiting for weights twice");
      engine.weightWait.push(e);
      engine.weightWaitKeys.add(key);
    }
    return engine;
  }

  addEvents(events: SignedEvent[], opts: AddOptions = {}): AddResult {
    const result: AddResult = { accepted: [], rejected: [], finalized: [], evidence: this.pendingEvidence, orphaned: 0, stale: [] };
    this.pendingEvidence = [];
    const ready = opts.trusted === true ? events : this.admit(events, result);
    for (const e of ready) {
      this.noteSigned(e);
      this.tryInsert(e, result);
    }
    this.releaseWeightWaiting(result);
    this.runConsensus(result);
    return result;
  }

  /**
   * The ledger's stake table after every anchor received in rounds <= `round` (SPEC_CONSENSUS
   * §1a): it weighs round `round + L`. Report in round order, every round at which the table
   * changed and then the last decided round; call addEvents([]) after, so that events
   * waiting for these weights are placed. Throws CONSENSUS_NO_STAKE for a zero total.
   */
  recordStake(round: number, stakes: readonly bigint[]): void {
    invariant(round <= this.lastDecidedRound, `stake reported for round ${round}, above the decided round ${this.lastDecidedRound}`);
    this.weights.record(round, stakes);
  }

  /** The stake table of the latest recordStake (the genesis stakes before any). */
  reportedStakes(): readonly bigint[] {
    return this.weights.current();
  }

  /** The weights of round r, or undefined while not yet known. */
  weightsForRound(round: number): StakeTable | undefined {
    return this.weights.forRound(round);
  }

  /** Retries, once each and in arrival order, the events that waited for weights now known. */
  private releaseWeightWaiting(result: AddResult): void {
    if (this.weightWait.length === 0) return;
    const known = this.weights.knownRoundMax();
    const waiting = this.weightWait;
    this.weightWait = [];
    this.weightWaitKeys.clear();
    for (const e of waiting) {
      if (this.waitsForWeights(e, known)) this.holdForWeights(idKey(e.id), e, result);
      else this.tryInsert(e, result);
    }
  }

  /** Whether e's parents in play (all in memory) lie in a round above the known weights. */
  private waitsForWeights(e: SignedEvent, known: number): boolean {
    const { slots } = this.parentsInPlay(e.header);
    return maxParentRoundOf(this.dag, { parents: slots.filter((n): n is DagNode => n !== null).map((n) => n.serial) }) > known;
  }

  private holdForWeights(key: string, e: SignedEvent, result: AddResult): void {
    if (this.weightWait.length >= (this.cfg.orphanEventsMax ?? ORPHAN_EVENTS_MAX_DEFAULT)) {
      const x = this.weightWait.shift()!;
      this.weightWaitKeys.delete(idKey(x.id));
      result.rejected.push({ id: x.id, code: "EVENT_ORPHAN_EVICTED", message: "buffer of events waiting for stake weights full; evicted the oldest" });
    }
    this.weightWait.push(e);
    this.weightWaitKeys.add(key);
  }

  /** Cheap checks, id recomputation and one batched signature verification. */
  private admit(events: SignedEvent[], result: AddResult): SignedEvent[] {
    const encoded = events.map((e) => encodeOrNull(e));
    const hashed = blake3Batch(encoded.filter((x): x is Uint8Array => x !== null));
    let next = 0;
    const ids = encoded.map((x) => (x === null ? null : hashed[next++]!));
    const batchKeys = new Set<string>();
    const candidates: SignedEvent[] = [];
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const id = ids[i];
      if (id === null || id === undefined) {
        result.rejected.push({ id: e.id instanceof Uint8Array ? e.id : new Uint8Array(32), code: "EVENT_MALFORMED", message: "header cannot be encoded canonically" });
        continue;
      }
      const reject = (err: EventError): void => {
        result.rejected.push({ id, code: err.code, message: err.message });
      };
      if (!equalBytes(id, e.id)) { reject(new EventError("EVENT_BAD_ID", "event id does not match its header")); continue; }
      const c = e.header.creator;
      if (!Number.isInteger(c) || c < 0 || c >= this.ctx.k) { reject(new EventError("EVENT_UNKNOWN_CREATOR", `creator ${c} is not in the committee`)); continue; }
      const key = idKey(e.id);
      if (batchKeys.has(key) || this.dag.byKey.has(key) || this.orphans.has(key) || this.weightWaitKeys.has(key)) { reject(new EventError("EVENT_DUPLICATE", "event already known")); continue; }
      batchKeys.add(key);
      candidates.push(e);
    }
    const verify = this.cfg.verifyBatch ?? ((items: readonly VerifyItem[]) => verifyBatch(items));
    const valid = verify(candidates.map((e) => ({ signature: e.signature, message: e.id, publicKey: this.cfg.committee.publicKeys[e.header.creator]! })));
    const out: SignedEvent[] = [];
    candidates.forEach((e, i) => {
      if (valid[i] === true) out.push(e);
      else result.rejected.push({ id: e.id, code: "EVENT_BAD_SIGNATURE", message: "signature does not verify under the creator's key" });
    });
    return out;
  }

  private noteSigned(e: SignedEvent): void {
    const known = this.newestSignedByCreator[e.header.creator];
    if (known === undefined || e.header.seq > known.header.seq) this.newestSignedByCreator[e.header.creator] = e;
  }

  /** Inserts e (or buffers it), then every orphan it releases, breadth-first. */
  private tryInsert(first: SignedEvent, result: AddResult): void {
    const queue: SignedEvent[] = [first];
    for (let qi = 0; qi < queue.length; qi++) {
      const e = queue[qi]!;
      const key = idKey(e.id);
      if (this.dag.byKey.has(key)) continue;
      const node = this.insertOne(e, key, result);
      if (node === undefined) continue;
      result.accepted.push(e);
      for (const child of this.orphans.release(key)) queue.push(child);
    }
  }

  private insertOne(e: SignedEvent, key: string, result: AddResult): DagNode | undefined {
    const h = e.header;
    const headerError = checkHeader(h, this.ctx);
    const { slots, missing } = this.parentsInPlay(h);
    if (headerError === null && missing.length > 0) return this.waitOrDrop(e, key, missing, result);
    const err = headerError ?? checkParents(h, slots, this.ctx);
    const parents = slots.filter((n): n is DagNode => n !== null);
    if (err !== null) {
      result.rejected.push({ id: e.id, code: err.code, message: err.message });
      const reason = EVIDENCE_REASON[err.code];
      // Evidence carries the parents in play, so any verifier can re-run the rule.
      if (reason !== undefined && missing.length === 0) result.evidence.push({ kind: "invalid_event", event: e, reason, parents: uniqueEvents(parents) });
      return undefined;
    }
    // The weights of the parents' round are not known yet: wait, never guess (SPEC_CONSENSUS §1a).
    if (maxParentRoundOf(this.dag, { parents: parents.map((p) => p.serial) }) > this.weights.knownRoundMax()) {
      this.holdForWeights(key, e, result);
      return undefined;
    }
    for (const other of this.dag.sameSeq(h.creator, h.seq)) this.recordEquivocation(other.event, e, result);
    const node = this.dag.insert(e, key, parents, h.seq > 0 && slots[0] !== null);
    node.tainted = parents.some((p) => p.tainted || p.round < this.linkRoundMin());
    // lowest-after first: x's own creator counts through x itself when x strongly sees.
    this.dag.updateLowestAfter(node);
    assignRound(this.dag, this.weightsOf, node);
    this.dag.registerRound(node);
    // A witness of an already decided round: voting would decide it not famous (SPEC_CONSENSUS
    // §8, late-witness rule), so record that now. Whether it came in the batch that decided its
    // round (voted 0) or after (never voted on), describe() then reports the same fame.
    if (node.witness && node.round <= this.lastDecidedRound) node.fame = 0;
    return node;
  }

  /**
   * The header's parent slots: the node of each parent in play, null for an ancient
   * reference (out of play: nobody needs it, whatever it pruned) or one not in memory.
   */
  private parentsInPlay(h: SignedEvent["header"]): { slots: (DagNode | null)[]; missing: MissingParent[] } {
    const rounds = h.parentRounds.length === h.parents.length ? h.parentRounds : h.parents.map(() => 0);
    const inPlay = effectiveParents({ parentRounds: rounds });
    const slots: (DagNode | null)[] = [];
    const missing: MissingParent[] = [];
    for (let i = 0; i < h.parents.length; i++) {
      const p = h.parents[i]!;
      const n = inPlay[i] && p.length === 32 ? this.dag.getByKey(idKey(p)) : undefined;
      if (inPlay[i] && n === undefined) missing.push({ key: idKey(p), round: rounds[i]! });
      slots.push(n ?? null);
    }
    return { slots, missing };
  }

  /**
   * A parent in play is not in memory. Claimed below the pruned rounds, it can never be
   * inserted here and the event is stale at every node (SPEC_CONSENSUS §12): dropped.
   * Otherwise the event waits in the orphan buffer while the node fetches the parent.
   */
  private waitOrDrop(e: SignedEvent, key: string, missing: MissingParent[], result: AddResult): undefined {
    if (missing.some((m) => m.round < this.dag.prunedBelowRound)) {
      result.rejected.push({ id: e.id, code: "EVENT_ANCIENT", message: `a parent lies below round ${this.dag.prunedBelowRound}, which this node has pruned; the event can never be ordered` });
      return undefined;
    }
    const evicted = this.orphans.add(key, e, missing);
    result.orphaned++;
    for (const x of evicted) result.rejected.push({ id: x.id, code: "EVENT_ORPHAN_EVICTED", message: "orphan buffer full; evicted the oldest" });
    return undefined;
  }

  private recordEquivocation(a: SignedEvent, b: SignedEvent, result: AddResult): void {
    this.dag.markForked(a.header.creator);
    const [x, y] = idKey(a.id) < idKey(b.id) ? [a, b] : [b, a];
    const pair = idKey(x.id) + idKey(y.id);
    if (this.evidencePairs.has(pair)) return;
    this.evidencePairs.add(pair);
    result.evidence.push({ kind: "equivocation", a: x, b: y });
  }

  /** Decides rounds in order while possible, ordering each decided round's received events. */
  private runConsensus(result: AddResult): void {
    for (;;) {
      const r = this.lastDecidedRound + 1;
      if (r > this.dag.maxRound || this.dag.witnesses(r).length === 0) break;
      if (!decideFame(this.dag, this.weightsOf, r, this.cfg.coinRoundInterval)) break;
      for (const o of receiveRound(this.dag, r, this.horizonRounds)) {
        result.finalized.push({
          event: o.node.event,
          anchorIndex: this.finalizedCount++,
          roundReceived: o.roundReceived,
          consensusTime: { round: o.roundReceived, medianLamport: o.medianLamport, lamport: o.node.lamport },
        });
      }
      this.lastDecidedRound = r;
      // Kept: the stale horizon plus the ancient span, so every parent in play of an event
      // that can still be ordered is in memory (SPEC_CONSENSUS §12).
      this.dag.pruneBelow(r - this.horizonRounds - ANCIENT_ROUNDS, (n) => result.stale.push(n.event));
      for (const x of this.orphans.dropWaitingBelow(this.dag.prunedBelowRound)) {
        result.rejected.push({ id: x.id, code: "EVENT_ANCIENT", message: `waited for a parent below round ${this.dag.prunedBelowRound}, which this node has pruned` });
      }
    }
  }

  /**
   * Creates, signs and inserts this node's next event: self-parent = its newest event, other
   * parents = the heads of other creators it has not seen yet, highest round first, then
   * most unseen events (ties: Lamport, creator index). Evidence found while inserting is returned by the next addEvents;
   * consensus runs there too (call addEvents([]) to flush).
   *
   * Rejoin (SPEC_CONSENSUS §12): with `reroot`, or when this creator's newest signed event
   * is not in the DAG (a wiped or old store learned it from peers), the self-parent
   * reference must be ancient next to the chosen cross-links, so that no node needs it or
   * what it descends from; until it is, this throws CONSENSUS_REJOIN_WAIT. Such an event's
   * seq skips `rejoinSeqGap` seqs, which the creator may have signed without anyone having
   * reported them (an ancient self-parent's seq is not checked, SPEC_CONSENSUS §3).
   */
  createEvent(creator: number, secretKey: Uint8Array, payloadDigest: Uint8Array, opts: { reroot?: boolean; rejoinSeqGap?: number } = {}): SignedEvent {
    if (!Number.isInteger(creator) || creator < 0 || creator >= this.ctx.k) throw new PhantomError("CONSENSUS_BAD_CREATOR", `creator ${creator} out of range`);
    const selfSerial = this.dag.topSerial[creator]!;
    const self = selfSerial === NONE ? undefined : this.dag.get(selfSerial);
    if (selfSerial !== NONE && self === undefined) throw new PhantomError("CONSENSUS_SELF_PARENT_PRUNED", "own newest event is no longer in memory");
    const newest = this.newestSignedByCreator[creator];
    const ghost = newest !== undefined && newest.header.seq > (self?.seq ?? NONE) ? newest : undefined;
    const others = this.chooseOtherParents(creator, self).map((p): HeaderParent => ({ id: p.event.id, lamport: p.lamport, round: p.round }));
    if ((self !== undefined || ghost !== undefined) && others.length === 0 && this.ctx.k >= 2) {
      throw new PhantomError("CONSENSUS_NO_CROSS_LINK", "no event by another creator is known yet");
    }
    let selfRef: HeaderParent | undefined;
    let seq = 0;
    if (ghost !== undefined) {
      // Not in the DAG: its round is at most one above its highest parent claim.
      selfRef = { id: ghost.id, lamport: ghost.header.lamport, round: maxParentRound(ghost.header) + 1 };
      seq = ghost.header.seq + 1;
    } else if (self !== undefined) {
      selfRef = { id: self.event.id, lamport: self.lamport, round: self.round };
      seq = self.seq + 1;
    }
    if (selfRef !== undefined && (ghost !== undefined || opts.reroot === true)) {
      const top = maxParentRound({ parentRounds: others.map((p) => p.round) });
      if (!isAncientRound(selfRef.round, top)) {
        throw new PhantomError("CONSENSUS_REJOIN_WAIT", `own newest event (seq ${seq - 1}, round ${selfRef.round}) must be ancient next to round ${top} before this creator rejoins`);
      }
      seq += opts.rejoinSeqGap ?? 0;
    }
    const parentRefs = selfRef === undefined ? others : [selfRef, ...others];
    const parentsRound = maxParentRound({ parentRounds: parentRefs.map((p) => p.round) });
    if (parentsRound > this.weights.knownRoundMax()) {
      // Signing it now would leave it outside the DAG and invite a second event with its seq.
      throw new PhantomError("CONSENSUS_STAKE_WAIT", `the weights of round ${parentsRound} are not known yet (decided round ${this.lastDecidedRound}); wait for the ledger to apply the anchors of round ${parentsRound - (this.weights.lag ?? 0)}`);
    }
    const header = buildEventHeader({ shard: this.ctx.shard, creator, seq, parents: parentRefs, payloadDigest });
    const event = signEvent(header, secretKey);
    this.noteSigned(event);
    const result: AddResult = { accepted: [], rejected: [], finalized: [], evidence: [], orphaned: 0, stale: [] };
    this.tryInsert(event, result);
    invariant(result.rejected.length === 0 && result.accepted.length > 0, `own event rejected: ${result.rejected[0]?.message ?? "buffered"}`);
    this.pendingEvidence.push(...result.evidence);
    return event;
  }

  /**
   * Whether this creator's chain looks excluded: its newest event is tainted, or its oldest
   * event that no other creator's newest event has seen is more than ANCIENT_ROUNDS rounds
   * below the other creators' highest head. Peers then most likely dropped or cannot place it (it was created while
   * this node was paused, partitioned or behind), and every later event chains on it: the
   * creator should re-root (createEvent with `reroot`).
   */
  chainStalled(creator: number): boolean {
    const own = this.dag.topSeq[creator]!;
    if (own === NONE || this.ctx.k < 2) return false;
    // Nobody honest links to a tainted event (chooseOtherParents): re-root now.
    if (this.dag.get(this.dag.topSerial[creator]!)?.tainted === true) return true;
    let acked = NONE;
    let headsRound = NONE;
    for (let c = 0; c < this.ctx.k; c++) {
      if (c === creator) continue;
      const head = this.dag.get(this.dag.topSerial[c]!);
      if (head === undefined) continue;
      if (head.hbSeq[creator]! > acked) acked = head.hbSeq[creator]!;
      if (head.round > headsRound) headsRound = head.round;
    }
    if (acked >= own) return false;
    // The oldest unseen event of the current chain: walk self-parents down to the seen part
    // (a re-rooted chain starts at its rejoin event; seqs skipped by a rejoin do not exist).
    let first = this.dag.get(this.dag.topSerial[creator]!);
    while (first !== undefined && first.selfParent !== NONE) {
      const parent = this.dag.get(first.selfParent);
      if (parent === undefined || parent.seq <= acked) break;
      first = parent;
    }
    return isAncientRound(first?.round ?? this.dag.prunedBelowRound - 1, headsRound);
  }

  /**
   * Events in memory that carry a payload (digest other than `emptyDigest`, the digest of the
   * empty anchor payload) and can still be ordered: not ordered yet, and not certain to be
   * stale (round + horizonRounds > last decided round, SPEC_CONSENSUS §10). While any exist,
   * validators keep creating events (SPEC_CONSENSUS §15, quiet when idle). A DAG fact: two
   * engines holding the same events give the same count.
   */
  pendingPayloadEvents(emptyDigest: Uint8Array): number {
    let n = 0;
    const roundMin = this.lastDecidedRound - this.horizonRounds;
    for (const x of this.dag.nodes.values()) {
      if (x.done || x.round <= roundMin) continue;
      if (!equalBytes(x.event.header.payloadDigest, emptyDigest)) n++;
    }
    return n;
  }

  /** This creator's highest-seq validly signed event seen (in the DAG, buffered or dropped). */
  newestSigned(creator: number): SignedEvent | undefined {
    return this.newestSignedByCreator[creator];
  }

  /**
   * Rounds below this are "far below the decided round": a node up to horizon/2 + 8 rounds
   * ahead may have pruned them (it prunes below its decided round - horizon - 8).
   */
  private linkRoundMin(): number {
    return this.lastDecidedRound - (this.horizonRounds >> 1);
  }

  private chooseOtherParents(creator: number, self: DagNode | undefined): DagNode[] {
    const ranked: { node: DagNode; gain: number }[] = [];
    // Heads far below the decided round are skipped: peers may have pruned their ancestry.
    // So are tainted heads, which reach such a link (a late event, a Byzantine staircase):
    // a node ahead may have dropped that link and could not place our event (SPEC_CONSENSUS §12).
    const roundMin = this.linkRoundMin();
    for (let c = 0; c < this.ctx.k; c++) {
      if (c === creator) continue;
      const head = this.dag.get(this.dag.topSerial[c]!);
      if (head === undefined || head.round < roundMin || head.tainted) continue;
      const seen = self === undefined ? NONE : self.hbSeq[c]!;
      ranked.push({ node: head, gain: head.seq - seen });
    }
    ranked.sort((a, b) => b.node.round - a.node.round || b.gain - a.gain || b.node.lamport - a.node.lamport || a.node.creator - b.node.creator);
    // A head more than ANCIENT_ROUNDS below the highest parent would be out of play (no cross-link).
    const top = Math.max(self?.round ?? NONE, ranked[0]?.node.round ?? NONE);
    while (ranked.length > 0 && isAncientRound(ranked[ranked.length - 1]!.node.round, top)) ranked.pop();
    const slots = this.cfg.parentsMax - (self === undefined ? 0 : 1);
    const fresh = ranked.filter((r) => r.gain > 0).slice(0, slots).map((r) => r.node);
    return fresh.length > 0 || self === undefined ? fresh : ranked.slice(0, 1).map((r) => r.node);
  }

  highestSeq(): number[] {
    return Array.from(this.dag.topSeq);
  }

  /** Events in memory the peer lacks (seq above its highest per creator), in insertion (topological) order. */
  eventsAfter(highestSeq: number[], limit: number): SignedEvent[] {
    const out: SignedEvent[] = [];
    if (limit <= 0) return out;
    for (const n of this.dag.nodes.values()) {
      if (n.seq > (highestSeq[n.creator] ?? NONE)) {
        out.push(n.event);
        if (out.length >= limit) break;
      }
    }
    return out;
  }

  /** Ids of missing parents that buffered (orphan) events wait for: fetch these by id. */
  missingParents(limit: number): Uint8Array[] {
    // A parent waiting for weights is here already: fetching it again would only be a duplicate.
    return this.orphans.missingKeys(limit).filter((key) => !this.weightWaitKeys.has(key)).map((key) => new Uint8Array(Buffer.from(key, "latin1")));
  }

  getEvent(id: Uint8Array): SignedEvent | undefined {
    return this.dag.getByKey(idKey(id))?.event;
  }

  stats(): EngineStats {
    return {
      events: this.dag.nodes.size, orphans: this.orphans.size, lastDecidedRound: this.lastDecidedRound, finalizedCount: this.finalizedCount, maxRound: this.dag.maxRound,
      weightWaiting: this.weightWait.length, weightsKnownRoundMax: this.weights.knownRoundMax(),
    };
  }

  /** The newest `limit` events in memory with their round, witness and fame facts (explorer; O(limit)). */
  recentEvents(limit: number): DagView & { lastDecidedRound: number } {
    return { ...recentDagEvents(this.dag, Math.max(0, Math.floor(limit))), lastDecidedRound: this.lastDecidedRound };
  }

  /**
   * Round, witness and fame facts of an event in memory (tests, metrics, debugging); once it is
   * ordered, its round received and consensus time's median-Lamport part (-1 before, and for
   * stale events).
   */
  describe(id: Uint8Array): EventFacts | undefined {
    const n = this.dag.getByKey(idKey(id));
    return n === undefined
      ? undefined
      : { round: n.round, witness: n.witness, fame: n.fame, forkLo: n.forkLo, forkHi: n.forkHi, roundReceived: n.roundReceived, medianLamport: n.medianLamport };
  }
}

function encodeOrNull(e: SignedEvent): Uint8Array | null {
  try {
    return encodeEventHeader(e.header);
  } catch {
    return null;
  }
}

function uniqueEvents(nodes: readonly DagNode[]): SignedEvent[] {
  const seen = new Set<number>();
  const out: SignedEvent[] = [];
  for (const n of nodes) {
    if (seen.has(n.serial)) continue;
    seen.add(n.serial);
    out.push(n.event);
  }
  return out;
}
