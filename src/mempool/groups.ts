/**
 * The proposer's view of the mempool, kept up to date on every insert and removal so
 * that building a payload costs O((picked + skipped) · log n) instead of sorting the
 * whole mempool: txs grouped by LockCommitment group (lock commitment of the first
 * output), each group a heap in proposer order (smaller, then older), and a heap of
 * groups ordered by their best tx.
 */
import { compareBytes } from "../crypto/bytes.ts";
import { IndexedHeap, type HeapSlot } from "./heap.ts";

export interface ProposerCandidate {
  readonly txid: Uint8Array;
  readonly txidHex: string;
  readonly encodedBytes: number;
  /** Arrival sequence number (unique per mempool). */
  readonly seq: number;
  /** Fairness group: hex lock commitment of the first output. */
  readonly group: string;
  /** `txidHex:index` of every input. */
  readonly inputKeys: readonly string[];
}

/** Proposer order: smaller encoded size first, then older (lower seq); txid breaks ties of equal seq. */
export function proposerBefore(a: ProposerCandidate, b: ProposerCandidate): boolean {
  if (a.encodedBytes !== b.encodedBytes) return a.encodedBytes < b.encodedBytes;
  if (a.seq !== b.seq) return a.seq < b.seq;
  return compareBytes(a.txid, b.txid) < 0;
}

export interface CandidateNode<C> extends HeapSlot {
  readonly item: C;
  /** "in": selectable; "parked": held by a pending payload; "gone": removed for good. */
  state: "in" | "parked" | "gone";
}

const nodeBefore = <C extends ProposerCandidate>(a: CandidateNode<C>, b: CandidateNode<C>): boolean => proposerBefore(a.item, b.item);

export class CandidateGroup<C extends ProposerCandidate> implements HeapSlot {
  heapIndex = -1;
  readonly members = new IndexedHeap<CandidateNode<C>>(nodeBefore);
  constructor(readonly key: string) {}
  /** The group's best tx (non-empty groups only live in the index). */
  get head(): C {
    return this.members.peek()!.item;
  }
}

export const groupBefore = <C extends ProposerCandidate>(g: CandidateGroup<C>, h: CandidateGroup<C>): boolean => proposerBefore(g.head, h.head);

export class CandidateIndex<C extends ProposerCandidate> {
  readonly groups = new IndexedHeap<CandidateGroup<C>>(groupBefore);
  private readonly byKey = new Map<string, CandidateGroup<C>>();
  private count = 0;

  /** Selectable nodes (parked ones excluded). */
  get size(): number {
    return this.count;
  }
  get groupCount(): number {
    return this.byKey.size;
  }

  static of<C extends ProposerCandidate>(candidates: Iterable<C>): CandidateIndex<C> {
    const index = new CandidateIndex<C>();
    for (const c of candidates) index.add(c);
    return index;
  }

  /** Adds `item`; keep the returned node to remove it later. */
  add(item: C): CandidateNode<C> {
    const node: CandidateNode<C> = { item, heapIndex: -1, state: "in" };
    this.insert(node);
    return node;
  }

  /** Removes `node` for good (its tx left the mempool); parked nodes stay out. */
  remove(node: CandidateNode<C>): void {
    if (node.state === "in") this.extract(node);
    node.state = "gone";
  }

  /** Takes `node` out until `unpark` (its tx sits in a pending payload). */
  park(node: CandidateNode<C>): void {
    if (node.state !== "in") return;
    this.extract(node);
    node.state = "parked";
  }

  /** Puts a parked node back, unless it was removed meanwhile. */
  unpark(node: CandidateNode<C>): void {
    if (node.state !== "parked") return;
    node.state = "in";
    this.insert(node);
  }

  private insert(node: CandidateNode<C>): void {
    const item = node.item;
    let g = this.byKey.get(item.group);
    if (g === undefined) {
      g = new CandidateGroup<C>(item.group);
      this.byKey.set(item.group, g);
      g.members.push(node);
      this.groups.push(g);
    } else {
      const head = g.members.peek();
      g.members.push(node);
      if (g.members.peek() !== head) this.groups.update(g);
    }
    this.count++;
  }

  private extract(node: CandidateNode<C>): void {
    const g = this.byKey.get(node.item.group);
    if (g === undefined || node.heapIndex < 0) return;
    const head = g.members.peek();
    g.members.remove(node);
    this.count--;
    if (g.members.size === 0) {
      this.groups.remove(g);
      this.byKey.delete(g.key);
    } else if (g.members.peek() !== head) {
      this.groups.update(g);
    }
  }
}
