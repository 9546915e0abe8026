/**
 * The in-memory DAG: events by id, per-event "highest before" vectors (Lachesis), the
 * forks each event's ancestry contains, and per-witness "lowest after" vectors.
 *
 * Everything stored on a node is a function of that node's ancestry, computed once at
 * insertion (all ancestors are known by then) and never changed, except `la`, `votes`,
 * `fame`, `received`/`stale`, which follow SPEC_CONSENSUS's caching rules.
 */
import type { SignedEvent } from "../types/event.ts";

export const NONE = -1;

export interface DagNode {
  readonly serial: number;
  readonly event: SignedEvent;
  readonly key: string;
  readonly creator: number;
  readonly seq: number;
  readonly lamport: number;
  /** Serials of the parents in play (ancient references left out), self-parent first. */
  readonly parents: readonly number[];
  /** Serial of the self-parent, NONE without one or when it is an ancient reference. */
  readonly selfParent: number;
  /** hbSeq[c]: highest seq of creator c in this event's ancestry (itself included), -1 if none. */
  readonly hbSeq: Int32Array;
  /** hbRef[c]: serial of that event. */
  readonly hbRef: Int32Array;
  /** Creators with a fork (two events, one seq) in this event's ancestry: bits 0..31 and 32..63. */
  forkLo: number;
  forkHi: number;
  /**
   * For each creator c with c's fork bit set: the tips (maximal c-events) of this event's
   * ancestry; the c-events in the ancestry are exactly the self-ancestors of these tips.
   */
  forkTips: Map<number, number[]> | null;
  round: number;
  witness: boolean;
  /** Witnesses only: la[c] = lowest seq of creator c that descends from this witness, -1 if none yet. */
  la: Int32Array | null;
  /** Witnesses only: serials of the previous round's witnesses this witness strongly sees. */
  stronglySeen: number[] | null;
  /** Witnesses only: this witness's vote on each earlier-round witness (by serial), 1 yes 0 no. */
  votes: Map<number, number> | null;
  /** Witnesses only: -1 undecided, 0 not famous, 1 famous. */
  fame: number;
  /** Set once the event has its place in the total order, or was found stale (never ordered). */
  done: boolean;
  /** Found stale: received too late to be ordered (SPEC_CONSENSUS §10); `done` is set too. */
  stale: boolean;
  /**
   * Local, not consensus: this event reaches, through parents in play, a link to a parent far
   * below what this node had decided when it inserted the event (SPEC_CONSENSUS §12), so a
   * node further ahead may have pruned that parent and dropped the event. This node never
   * links to it (engine.chooseOtherParents); nothing else depends on it.
   */
  tainted: boolean;
  /** Once ordered: its round received and the median-Lamport part of its consensus time; -1 before. */
  roundReceived: number;
  medianLamport: number;
}

export function hasForkBit(n: DagNode, c: number): boolean {
  return c < 32 ? (n.forkLo & (1 << c)) !== 0 : (n.forkHi & (1 << (c - 32))) !== 0;
}

function setForkBit(n: DagNode, c: number): void {
  if (c < 32) n.forkLo = (n.forkLo | (1 << c)) >>> 0;
  else n.forkHi = (n.forkHi | (1 << (c - 32))) >>> 0;
}

/** Event ids as compact map keys (32 latin1 characters). */
export function idKey(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString("latin1");
}

export class Dag {
  readonly k: number;
  readonly nodes = new Map<number, DagNode>();
  readonly byKey = new Map<string, number>();
  /** Per creator: seq -> serials of that creator's events with that seq (more than one = fork). Read by engine-state.ts. */
  readonly bySeq: Map<number, number[]>[];
  /** forked[c] = 1 once any two events of c with one seq are known (a fact about the known set). */
  readonly forked: Uint8Array;
  readonly forkedList: number[] = [];
  /** Highest seq ever inserted per creator (not lowered by pruning), and the first event inserted with it. */
  readonly topSeq: Int32Array;
  readonly topSerial: Int32Array;
  readonly witnessesByRound = new Map<number, number[]>();
  readonly eventsByRound = new Map<number, number[]>();
  /** Per creator: witnesses whose la[creator] is still unset. Read by engine-state.ts. */
  readonly pendingLa: number[][];
  maxRound = NONE;
  /** Rounds below this were pruned. */
  prunedBelowRound = 0;
  /** Serial of the next inserted event (engine-state.ts restores it). */
  nextSerial = 0;

  constructor(k: number) {
    this.k = k;
    this.bySeq = Array.from({ length: k }, () => new Map<number, number[]>());
    this.forked = new Uint8Array(k);
    this.topSeq = new Int32Array(k).fill(NONE);
    this.topSerial = new Int32Array(k).fill(NONE);
    this.pendingLa = Array.from({ length: k }, () => []);
  }

  get(serial: number): DagNode | undefined {
    return this.nodes.get(serial);
  }

  getByKey(key: string): DagNode | undefined {
    const s = this.byKey.get(key);
    return s === undefined ? undefined : this.nodes.get(s);
  }

  /** Other events of `creator` with `seq` already known (equivocation partners). */
  sameSeq(creator: number, seq: number): DagNode[] {
    const list = this.bySeq[creator]!.get(seq);
    if (list === undefined) return [];
    const out: DagNode[] = [];
    for (const s of list) {
      const n = this.nodes.get(s);
      if (n !== undefined) out.push(n);
    }
    return out;
  }

  markForked(creator: number): void {
    if (this.forked[creator] === 1) return;
    this.forked[creator] = 1;
    this.forkedList.push(creator);
    this.forkedList.sort((a, b) => a - b);
  }

  /**
   * Inserts a validated event whose parents in play are all in memory and computes its
   * ancestry vectors. `hasSelfParent`: parents[0] is the self-parent (false when the event
   * has none or its self-parent reference is ancient). The caller marks a fresh
   * equivocation (markForked) before calling.
   */
  insert(event: SignedEvent, key: string, parents: readonly DagNode[], hasSelfParent: boolean): DagNode {
    const h = event.header;
    const k = this.k;
    const hbSeq = new Int32Array(k).fill(NONE);
    const hbRef = new Int32Array(k).fill(NONE);
    const node: DagNode = {
      serial: this.nextSerial++, event, key, creator: h.creator, seq: h.seq, lamport: h.lamport,
      parents: parents.map((p) => p.serial), selfParent: hasSelfParent ? parents[0]!.serial : NONE,
      hbSeq, hbRef, forkLo: 0, forkHi: 0, forkTips: null, round: 0, witness: false, la: null, stronglySeen: null,
      votes: null, fame: NONE, done: false, stale: false, tainted: false, roundReceived: NONE, medianLamport: NONE,
    };
    for (const p of parents) {
      node.forkLo = (node.forkLo | p.forkLo) >>> 0;
      node.forkHi = (node.forkHi | p.forkHi) >>> 0;
      const ps = p.hbSeq;
      const pr = p.hbRef;
      for (let c = 0; c < k; c++) {
        if (ps[c]! > hbSeq[c]!) {
          hbSeq[c] = ps[c]!;
          hbRef[c] = pr[c]!;
        }
      }
    }
    // An ancestor of the same creator at or above our own seq means a fork in our ancestry.
    if (hbSeq[h.creator]! >= h.seq) setForkBit(node, h.creator);
    hbSeq[h.creator] = h.seq;
    hbRef[h.creator] = node.serial;
    for (const c of this.forkedList) {
      if (!hasForkBit(node, c)) this.detectFork(node, parents, c);
      if (hasForkBit(node, c)) (node.forkTips ??= new Map()).set(c, this.tipsOf(node, parents, c));
    }
    this.nodes.set(node.serial, node);
    this.byKey.set(key, node.serial);
    const seqList = this.bySeq[h.creator]!.get(h.seq);
    if (seqList === undefined) this.bySeq[h.creator]!.set(h.seq, [node.serial]);
    else seqList.push(node.serial);
    if (h.seq > this.topSeq[h.creator]!) {
      this.topSeq[h.creator] = h.seq;
      this.topSerial[h.creator] = node.serial;
    }
    return node;
  }

  /**
   * For a creator c with a known fork: the union of the parents' c-chains (each linear,
   * since no parent has c's fork bit) is linear iff every chain top lies on the highest one.
   */
  private detectFork(node: DagNode, parents: readonly DagNode[], c: number): void {
    let best: DagNode | undefined = c === node.creator ? node : undefined;
    const tops: DagNode[] = best === undefined ? [] : [node];
    for (const p of parents) {
      const t = this.nodes.get(p.hbRef[c]!);
      if (t === undefined || p.hbSeq[c]! < 0) continue;
      tops.push(t);
      if (best === undefined || t.seq > best.seq) best = t;
    }
    if (best === undefined) return;
    for (const t of tops) {
      if (t !== best && !this.onChain(t, best)) {
        setForkBit(node, c);
        return;
      }
    }
  }

  /**
   * Whether `lower` is a self-ancestor of (or equal to) `upper`, same creator, lower.seq <= upper.seq.
   * Walks self-parents; a pruned link is taken as "same chain" (forks below the pruning
   * horizon were already recorded in the fork bits of the events above them).
   */
  onChain(lower: DagNode, upper: DagNode, ifPruned = true): boolean {
    if (lower.creator !== upper.creator || lower.seq > upper.seq) return false;
    let cur: DagNode | undefined = upper;
    while (cur !== undefined && cur.seq > lower.seq) cur = this.nodes.get(cur.selfParent);
    return cur === undefined ? ifPruned : cur.serial === lower.serial;
  }

  /** Maximal c-events among the parents' c-ancestries and the node itself. */
  private tipsOf(node: DagNode, parents: readonly DagNode[], c: number): number[] {
    const candidates: DagNode[] = c === node.creator ? [node] : [];
    for (const p of parents) {
      const fromParent = p.forkTips?.get(c) ?? (p.hbSeq[c]! >= 0 ? [p.hbRef[c]!] : []);
      for (const s of fromParent) {
        const t = this.nodes.get(s);
        if (t !== undefined && !candidates.includes(t)) candidates.push(t);
      }
    }
    const tips = candidates.filter((t) => !candidates.some((o) => o !== t && o.seq > t.seq && this.onChain(t, o)));
    return tips.map((t) => t.serial).sort((a, b) => a - b);
  }

  /** a is in the ancestry of b (b itself included). Exact for events in memory. */
  isAncestor(a: DagNode, b: DagNode): boolean {
    if (a.serial === b.serial) return true;
    if (b.hbSeq[a.creator]! < a.seq) return false;
    if (this.forked[a.creator] === 0) return true;
    if (!hasForkBit(b, a.creator)) {
      const top = this.nodes.get(b.hbRef[a.creator]!);
      return top !== undefined && this.onChain(a, top, false);
    }
    for (const s of b.forkTips!.get(a.creator)!) {
      const t = this.nodes.get(s);
      if (t !== undefined && this.onChain(a, t, false)) return true;
    }
    return false;
  }

  /** Registers a round and witness status (set by rounds.ts) in the indexes. */
  registerRound(node: DagNode): void {
    const r = node.round;
    if (r > this.maxRound) this.maxRound = r;
    pushTo(this.eventsByRound, r, node.serial);
    if (!node.witness) return;
    pushTo(this.witnessesByRound, r, node.serial);
    const la = new Int32Array(this.k).fill(NONE);
    la[node.creator] = node.seq;
    node.la = la;
    node.votes = new Map();
    for (let c = 0; c < this.k; c++) if (c !== node.creator) this.pendingLa[c]!.push(node.serial);
  }

  /**
   * Sets la[x.creator] on every witness x newly descends from. Creators are inserted in
   * seq order (a self-parent precedes its child), so the first descendant seen is the lowest.
   */
  updateLowestAfter(x: DagNode): void {
    const pending = this.pendingLa[x.creator]!;
    let keep = 0;
    for (let i = 0; i < pending.length; i++) {
      const w = this.nodes.get(pending[i]!);
      if (w === undefined) continue;
      if (x.hbSeq[w.creator]! >= w.seq && this.forked[w.creator] === 0) {
        w.la![x.creator] = x.seq;
        continue;
      }
      pending[keep++] = pending[i]!;
    }
    pending.length = keep;
  }

  witnesses(round: number): readonly number[] {
    return this.witnessesByRound.get(round) ?? [];
  }

  /**
   * Drops every event of a round below `round` from memory (they live on in storage).
   * `onStale` hears of each dropped event that was never ordered (stale), once.
   */
  pruneBelow(round: number, onStale: (n: DagNode) => void = () => {}): number {
    let dropped = 0;
    const pinned: number[] = [];
    for (let r = this.prunedBelowRound; r < round; r++) {
      for (const s of this.eventsByRound.get(r) ?? []) {
        const n = this.nodes.get(s);
        if (n === undefined) continue;
        // Each creator's newest event stays: a validator silent for longer than the
        // horizon can still extend its chain (its next self-parent must be known). At most k.
        if (this.topSerial[n.creator] === s) {
          pinned.push(s);
          continue;
        }
        // An event never ordered by now is stale (SPEC_CONSENSUS "Stale events").
        if (!n.done || n.stale) onStale(n);
        n.done = true;
        this.nodes.delete(s);
        this.byKey.delete(n.key);
        const bucket = this.bySeq[n.creator]!;
        const list = bucket.get(n.seq);
        if (list !== undefined) {
          const rest = list.filter((x) => x !== s);
          if (rest.length === 0) bucket.delete(n.seq);
          else bucket.set(n.seq, rest);
        }
        dropped++;
      }
      this.eventsByRound.delete(r);
      this.witnessesByRound.delete(r);
    }
    if (round > this.prunedBelowRound) this.prunedBelowRound = round;
    // Pinned events are re-examined at the next pruning, once a newer event replaced them.
    for (const s of pinned) pushTo(this.eventsByRound, this.prunedBelowRound, s);
    if (dropped > 0) {
      for (let c = 0; c < this.k; c++) {
        const pending = this.pendingLa[c]!;
        let keep = 0;
        for (const s of pending) if (this.nodes.has(s)) pending[keep++] = s;
        pending.length = keep;
      }
    }
    return dropped;
  }
}

function pushTo(map: Map<number, number[]>, key: number, value: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
