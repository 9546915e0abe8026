/**
 * The tx proposer's payload policy (docs/SPEC_TX.md "Proposer policy", the seed's
 * "Mempool & proposer policy"):
 *  - at most `txsMax` txs and `budgetBytes` encoded payload bytes;
 *  - within a group, smaller txs first, then older (arrival sequence number);
 *  - no two selected txs share an input, and none spends an input of a tx queued in
 *    a pending payload; txs queued in pending payloads are skipped;
 *  - round-robin across LockCommitment groups (lock commitment of the first output):
 *    in each round every group with an eligible tx that fits gives exactly one tx,
 *    groups taken in order of that tx (smaller, then older), before any group gives a
 *    second;
 *  - the final list is sorted by digest_microtx() (the txid).
 * `buildPayload` is pure; `Proposer` holds the pending payloads between builds.
 */
import { Registry } from "prom-client";
import { PhantomError, invariant } from "../errors.ts";
import { compareBytes, toHex } from "../crypto/bytes.ts";
import { blake3_32 } from "../crypto/hash.ts";
import { Writer } from "../codec/index.ts";
import { TAG, CODEC_VERSION, PAYLOAD_TXS_MAX, PAYLOAD_BYTES_MAX } from "../types/constants.ts";
import type { AnchorPayload } from "../types/payload.ts";
import type { MicroTx } from "../types/tx.ts";
import { BinaryHeap, HeapWalker } from "./heap.ts";
import { CandidateIndex, proposerBefore, groupBefore, type CandidateGroup, type CandidateNode, type ProposerCandidate } from "./groups.ts";

export { CandidateIndex, proposerBefore, type ProposerCandidate } from "./groups.ts";
import { createProposerMetrics, type ProposerMetrics } from "./metrics.ts";

/** Payloads built and not yet finalized or dropped; building stops at this many. */
export const PROPOSER_PENDING_PAYLOADS_MAX = 64;

export interface SelectOptions {
  txsMax: number;
  /** Bound on the whole encoded AnchorPayload (tag, version, count and txs), in bytes. */
  budgetBytes: number;
  /** Txids (hex) queued in pending payloads: never selected again. */
  pendingTxids?: ReadonlySet<string>;
  /** Outpoint keys spent by txs of pending payloads: a tx spending one is skipped. */
  pendingInputs?: ReadonlySet<string>;
}

export interface BuildPayloadOptions<C extends ProposerCandidate> extends SelectOptions {
  candidates: readonly C[];
}

export interface PayloadSelection<C> {
  /** Selected txs sorted by txid: the payload's order. */
  txs: C[];
  /** The same txs in the order the policy picked them (round by round). */
  pickOrder: C[];
  /** The index nodes of `pickOrder` (same order), for parking them while pending. */
  pickedNodes: CandidateNode<C>[];
  /** Exact encoded size of the AnchorPayload holding `txs`. */
  payloadBytes: number;
}

const EMPTY_SET: ReadonlySet<string> = new Set();

/** Bytes of the minimal LEB128 varint of n (codec lengths are at most 32 bits). */
export function varintBytes(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/** Encoded size of an AnchorPayload of `count` txs totalling `txBytes`. */
export const payloadBytesFor = (count: number, txBytes: number): number => 2 + varintBytes(count) + txBytes;

/** A group during one build: walks its members in proposer order without touching the index. */
interface GroupCursor<C extends ProposerCandidate> {
  walker: HeapWalker<CandidateNode<C>>;
  /** The tx this group is queued under in the current round (its round-order key). */
  head: C;
}

const cursorBefore = <C extends ProposerCandidate>(a: GroupCursor<C>, b: GroupCursor<C>): boolean => proposerBefore(a.head, b.head);

/**
 * Round 1 visits every group in order of its best tx. Groups come lazily from a walk
 * over the index's group heap, merged with groups requeued under a later head (their
 * best tx turned out ineligible); keys only grow, so the merge stays in order.
 */
class FirstRound<C extends ProposerCandidate> {
  private readonly fresh: HeapWalker<CandidateGroup<C>>;
  private readonly requeued = new BinaryHeap<GroupCursor<C>>(cursorBefore);
  constructor(index: CandidateIndex<C>) {
    this.fresh = new HeapWalker(index.groups, groupBefore);
  }
  pop(): GroupCursor<C> | undefined {
    const g = this.fresh.peek();
    const r = this.requeued.peek();
    if (g !== undefined && (r === undefined || proposerBefore(g.head, r.head))) {
      this.fresh.advance();
      const walker = new HeapWalker(g.members, (a: CandidateNode<C>, b: CandidateNode<C>) => proposerBefore(a.item, b.item));
      return { walker, head: g.head };
    }
    return this.requeued.pop();
  }
  push(cursor: GroupCursor<C>): void {
    this.requeued.push(cursor);
  }
}

function eligibleHead<C extends ProposerCandidate>(cursor: GroupCursor<C>, used: Set<string>, pendingTxids: ReadonlySet<string>, pendingInputs: ReadonlySet<string>): CandidateNode<C> | undefined {
  for (let n = cursor.walker.peek(); n !== undefined; n = cursor.walker.peek()) {
    const c = n.item;
    let ok = pendingTxids.size === 0 || !pendingTxids.has(c.txidHex);
    for (let i = 0; ok && i < c.inputKeys.length; i++) ok = !used.has(c.inputKeys[i]!) && (pendingInputs.size === 0 || !pendingInputs.has(c.inputKeys[i]!));
    if (ok) return n;
    cursor.walker.advance();
  }
  return undefined;
}

/**
 * Selects a payload's txs from `index` by the proposer policy. Reads the index,
 * never changes it. The result depends only on the index's contents.
 */
export function selectPayload<C extends ProposerCandidate>(index: CandidateIndex<C>, opts: SelectOptions): PayloadSelection<C> {
  const { txsMax, budgetBytes } = opts;
  if (!Number.isSafeInteger(txsMax) || txsMax < 0 || !Number.isSafeInteger(budgetBytes) || budgetBytes < 0) {
    throw new PhantomError("PROPOSER_BAD_CONFIG", `txsMax and budgetBytes must be non-negative integers, got ${txsMax} and ${budgetBytes}`);
  }
  const pendingTxids = opts.pendingTxids ?? EMPTY_SET;
  const pendingInputs = opts.pendingInputs ?? EMPTY_SET;
  let round: { pop(): GroupCursor<C> | undefined; push(c: GroupCursor<C>): void } = new FirstRound(index);
  let nextRound: GroupCursor<C>[] = [];
  const used = new Set<string>();
  const pickOrder: C[] = [];
  const pickedNodes: CandidateNode<C>[] = [];
  let txBytes = 0;
  while (pickOrder.length < txsMax) {
    let cursor = round.pop();
    if (cursor === undefined) {
      if (nextRound.length === 0) break;
      round = new BinaryHeap(cursorBefore, nextRound);
      nextRound = [];
      cursor = round.pop()!;
    }
    const node = eligibleHead(cursor, used, pendingTxids, pendingInputs);
    if (node === undefined) continue;
    const head = node.item;
    if (head !== cursor.head) {
      // Its queued head became ineligible: requeue under the real one (keys only grow).
      cursor.head = head;
      round.push(cursor);
      continue;
    }
    // Sizes grow along the group's order: if its smallest eligible tx does not fit, none does.
    if (payloadBytesFor(pickOrder.length + 1, txBytes + head.encodedBytes) > budgetBytes) continue;
    cursor.walker.advance();
    pickOrder.push(head);
    pickedNodes.push(node);
    txBytes += head.encodedBytes;
    for (const k of head.inputKeys) used.add(k);
    const following = cursor.walker.peek();
    if (following !== undefined) {
      cursor.head = following.item;
      nextRound.push(cursor);
    }
  }
  const txs = [...pickOrder].sort((a, b) => compareBytes(a.txid, b.txid));
  return { txs, pickOrder, pickedNodes, payloadBytes: payloadBytesFor(txs.length, txBytes) };
}

/** `selectPayload` over a plain candidate list (indexes it first: O(n log n)). */
export function buildPayload<C extends ProposerCandidate>(opts: BuildPayloadOptions<C>): PayloadSelection<C> {
  return selectPayload(CandidateIndex.of(opts.candidates), opts);
}

export interface PayloadCandidate extends ProposerCandidate {
  readonly tx: MicroTx;
  /** Canonical encoding of `tx`, copied into the payload as is. */
  readonly encoded: Uint8Array;
}

export interface ProposedPayload {
  payload: AnchorPayload;
  /** Canonical AnchorPayload encoding; `digest = blake3_32(bytes)`. */
  bytes: Uint8Array;
  digest: Uint8Array;
  txids: Uint8Array[];
}

export type ProposerErrorCode = "PROPOSER_BAD_CONFIG" | "PROPOSER_PENDING_FULL";

export class ProposerError extends PhantomError<ProposerErrorCode> {
  constructor(code: ProposerErrorCode, message: string) {
    super(code, message);
    this.name = "ProposerError";
  }
}

export interface ProposerOptions {
  /** --txs_per_payload */
  txsPerPayload: number;
  /** --payload_budget_bytes */
  payloadBudgetBytes: number;
  pendingPayloadsMax?: number;
  registry?: Registry;
}

interface PendingPayload {
  txids: string[];
  inputs: string[];
  /** Puts the txs parked in the mempool's index back (those still in the mempool). */
  unpark: () => void;
}

/** Builds payloads and remembers them until they are finalized or dropped. The interval timer is the node's. */
export class Proposer {
  readonly metrics: ProposerMetrics;
  private readonly pending = new Map<string, PendingPayload>();
  /** Txs in payloads that other validators' accepted events carry, or txs another validator proposes (see `hold`). */
  private readonly held = new Map<string, { txids: string[]; inputs: string[] }>();
  private readonly pendingTxids = new Set<string>();
  private readonly pendingInputs = new Set<string>();
  /** How many records (own payloads and holds) name each txid / input; the sets hold the keys with a count. */
  private readonly txidCounts = new Map<string, number>();
  private readonly inputCounts = new Map<string, number>();
  private readonly pendingPayloadsMax: number;

  constructor(private readonly opts: ProposerOptions) {
    const { txsPerPayload, payloadBudgetBytes } = opts;
    if (!Number.isSafeInteger(txsPerPayload) || txsPerPayload < 1 || txsPerPayload > PAYLOAD_TXS_MAX) {
      throw new ProposerError("PROPOSER_BAD_CONFIG", `txs_per_payload must be 1..${PAYLOAD_TXS_MAX}, got ${txsPerPayload}`);
    }
    if (!Number.isSafeInteger(payloadBudgetBytes) || payloadBudgetBytes < payloadBytesFor(0, 0) || payloadBudgetBytes > PAYLOAD_BYTES_MAX) {
      throw new ProposerError("PROPOSER_BAD_CONFIG", `payload_budget_bytes must be ${payloadBytesFor(0, 0)}..${PAYLOAD_BYTES_MAX}, got ${payloadBudgetBytes}`);
    }
    this.pendingPayloadsMax = opts.pendingPayloadsMax ?? PROPOSER_PENDING_PAYLOADS_MAX;
    this.metrics = createProposerMetrics(opts.registry ?? new Registry());
  }

  get pendingPayloads(): number {
    return this.pending.size;
  }

  isPending(txid: Uint8Array): boolean {
    return this.pendingTxids.has(toHex(txid));
  }

  /**
   * Builds the next payload from `candidates` (`mempool.candidates`, kept up to date by
   * the mempool, or any list of candidates), records it as
   * pending, and returns it; undefined when nothing is eligible. Throws
   * PROPOSER_PENDING_FULL (counted) when too many payloads await finalization.
   */
  build<C extends PayloadCandidate>(candidates: CandidateIndex<C> | readonly C[]): ProposedPayload | undefined {
    if (this.pending.size >= this.pendingPayloadsMax) {
      this.metrics.errors.inc({ code: "PROPOSER_PENDING_FULL" });
      throw new ProposerError("PROPOSER_PENDING_FULL", `${this.pending.size} payloads await finalization (limit ${this.pendingPayloadsMax})`);
    }
    const shared = candidates instanceof CandidateIndex ? candidates : undefined;
    const index = shared ?? CandidateIndex.of(candidates as readonly C[]);
    const sel = selectPayload(index, {
      txsMax: this.opts.txsPerPayload, budgetBytes: this.opts.payloadBudgetBytes, pendingTxids: this.pendingTxids, pendingInputs: this.pendingInputs,
    });
    if (sel.txs.length === 0) return undefined;
    const w = new Writer(sel.payloadBytes);
    w.u8(TAG.anchorPayload).u8(CODEC_VERSION).varint(sel.txs.length);
    for (const c of sel.txs) w.raw(c.encoded);
    const bytes = w.finish();
    invariant(bytes.length === sel.payloadBytes, "payload size accounting matches the encoding");
    const digest = blake3_32(bytes);
    const nodes = sel.pickedNodes;
    const record: PendingPayload = {
      txids: sel.txs.map((c) => c.txidHex), inputs: sel.txs.flatMap((c) => c.inputKeys), unpark: () => shared && nodes.forEach((n) => shared.unpark(n)),
    };
    // Parked txs are out of the shared index, so later builds never walk past them.
    if (shared) for (const n of nodes) shared.park(n);
    this.pending.set(toHex(digest), record);
    this.count(record, 1);
    this.metrics.built.inc();
    this.metrics.lastSize.set(sel.txs.length);
    this.metrics.lastBytes.set(bytes.length);
    this.updatePendingGauges();
    return { payload: { txs: sel.txs.map((c) => ({ kind: "micro", tx: c.tx })) }, bytes, digest, txids: sel.txs.map((c) => c.txid) };
  }

  /** The payload with `digest` was finalized or dropped: its txs may be proposed again (if still in the mempool). */
  release(digest: Uint8Array): boolean {
    const key = toHex(digest);
    const record = this.pending.get(key);
    if (record === undefined) return false;
    this.pending.delete(key);
    this.count(record, -1);
    record.unpark();
    this.updatePendingGauges();
    return true;
  }

  /**
   * Treats txs as pending without building a payload: the txs another validator's
   * accepted event carries (they are in flight, proposing them again could only give a
   * void duplicate), or txs relayed to us that the validator they were submitted to
   * proposes first. `key` is the caller's (e.g. an event id); `unhold(key)` ends it.
   */
  hold(key: string, txidsHex: readonly string[], inputKeys: readonly string[]): void {
    if (this.held.has(key) || txidsHex.length === 0) return;
    const record = { txids: [...txidsHex], inputs: [...inputKeys] };
    this.held.set(key, record);
    this.count(record, 1);
    this.updatePendingGauges();
  }

  unhold(key: string): boolean {
    const record = this.held.get(key);
    if (record === undefined) return false;
    this.held.delete(key);
    this.count(record, -1);
    this.updatePendingGauges();
    return true;
  }

  private count(record: { txids: readonly string[]; inputs: readonly string[] }, delta: 1 | -1): void {
    bump(this.txidCounts, this.pendingTxids, record.txids, delta);
    bump(this.inputCounts, this.pendingInputs, record.inputs, delta);
  }

  private updatePendingGauges(): void {
    this.metrics.pending.set(this.pending.size);
    this.metrics.pendingTxs.set(this.pendingTxids.size);
  }
}

function bump(counts: Map<string, number>, set: Set<string>, keys: readonly string[], delta: 1 | -1): void {
  for (const k of keys) {
    const n = (counts.get(k) ?? 0) + delta;
    if (n > 0) {
      counts.set(k, n);
      set.add(k);
    } else {
      counts.delete(k);
      set.delete(k);
    }
  }
}
