/**
 * The mempool (docs/SPEC_TX.md "Mempool policy"): valid, mutually conflict-free
 * MicroTxs waiting for a payload. Admission runs the ledger's stateless and stateful
 * checks against the node's UTXO view (finalized state: a tx spending an output of
 * another mempool tx is refused as TX_MISSING_INPUT) with one `verifyBatch` call per
 * batch. Bounded in count and bytes; when full, the lowest fee rate (fee per encoded
 * byte) goes first. A conflicting tx replaces the txs it conflicts with only under
 * the replace-by-fee rule. No clock, no randomness: the same offers in the same order
 * give the same mempool.
 */
import { Registry } from "prom-client";
import { PhantomError, isPhantomError } from "../errors.ts";
import { type MicroTx, type Outpoint, encodeMicroTx, decodeMicroTx } from "../types/tx.ts";
import { blake3_32 } from "../crypto/hash.ts";
import { toHex } from "../crypto/bytes.ts";
import { HASH_BYTES } from "../types/constants.ts";
import { varintBytes } from "./proposer.ts";
import { TxRejected, validatePreparedBatch, type SigCheck, type UtxoReader, type ValidationContext } from "../ledger/validate.ts";
import { checkPredicateShape, collectPredicate } from "../ledger/predicates.ts";
import { IndexedHeap, type HeapSlot } from "./heap.ts";
import { CandidateIndex, type CandidateNode } from "./groups.ts";
import { createMempoolMetrics, type MempoolMetrics } from "./metrics.ts";
import type { MempoolChange, MempoolJournal, TxTerminal } from "./journal.ts";

/** Default bound on transactions held. */
export const MEMPOOL_TXS_MAX = 100_000;
/** Default bound on the sum of encoded tx sizes held, in bytes. */
export const MEMPOOL_BYTES_MAX = 64 * 1024 * 1024;
/** A replacement may evict at most this many conflicting txs (bounds the work one offer causes). */
export const RBF_CONFLICTS_MAX = 32;
/**
 * A replacement pays at least this share more than what it replaces, in basis points
 * (10 %): n replacements of one output cost the first fee times 1.1^n, so churning a
 * conflict through every peer's mempool gets expensive quickly.
 */
export const RBF_BUMP_BPS = 1_000n;
/** Offers validated per verifyBatch call; longer admit() calls are split into chunks of this size. */
export const ADMIT_BATCH_MAX = 4_096;
/**
 * A tx still in the mempool this many anchors after it was admitted (anchors applied by
 * this node, never a clock) expires: it is dropped and recorded as `expired`. Local policy,
 * not consensus: another validator that still holds it may carry it later.
 */
export const MEMPOOL_EXPIRY_ANCHORS = 2_000n;

export type MempoolRejectCode = "MEMPOOL_DUPLICATE" | "MEMPOOL_FULL" | "MEMPOOL_FEE_TOO_LOW" | "MEMPOOL_RBF_FEE_RATE" | "MEMPOOL_RBF_FEE" | "MEMPOOL_RBF_TOO_MANY";

export class MempoolRejected extends PhantomError<MempoolRejectCode> {
  constructor(code: MempoolRejectCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.name = "MempoolRejected";
  }
}

export interface MempoolEntry {
  readonly tx: MicroTx;
  readonly txid: Uint8Array;
  readonly txidHex: string;
  /** Canonical encoding (witnesses included): what a payload carries. */
  readonly encoded: Uint8Array;
  /** `encoded.length`. */
  readonly encodedBytes: number;
  readonly fee: bigint;
  /** Arrival sequence number: strictly increasing in admission order (never a clock). */
  readonly seq: number;
  /** Hex lock commitment of the first output: the proposer's fairness group. */
  readonly group: string;
  /** `txidHex:index` of every input. */
  readonly inputKeys: readonly string[];
  /** The anchor index the node was about to apply when the tx was admitted (expiry counts from it). */
  readonly admittedAt: bigint;
}

export type AdmitResult =
  | { ok: true; txid: Uint8Array; fee: bigint; replaced: Uint8Array[]; evicted: Uint8Array[] }
  | { ok: false; txid?: Uint8Array; error: TxRejected | MempoolRejected };

export interface MempoolLimits {
  txsMax: number;
  bytesMax: number;
}

export interface MempoolOptions {
  view: UtxoReader;
  /** Least fee per encoded byte admitted, and the least a replacement adds per byte (genesis `min_relay_fee_per_byte`). */
  minRelayFeePerByte: bigint;
  limits?: Partial<MempoolLimits>;
  registry?: Registry;
  /** Told of every admission and removal (with its terminal state), once per operation: persistence and tx status. */
  journal?: MempoolJournal;
}

interface Slot extends MempoolEntry, HeapSlot {
  readonly bytesBig: bigint;
  /** This entry's place in `candidates`. */
  candidateNode?: CandidateNode<MempoolEntry>;
}

interface Offer {
  tx: MicroTx;
  txid: Uint8Array;
  txidHex: string;
  encoded: Uint8Array;
  encodedBytes: number;
  /** Set when restoring a persisted tx: the anchor it was first admitted at. */
  admittedAt?: bigint;
}

/** A persisted tx offered again at start-up (see `Mempool.restore`). */
export interface RestoreOffer {
  encoded: Uint8Array;
  admittedAt: bigint;
}

export const outpointKey = (op: Outpoint): string => `${toHex(op.txid)}:${op.index}`;

/** a's fee rate < b's, exactly: a.fee / a.bytes < b.fee / b.bytes. */
export function feeRateLess(a: { fee: bigint; encodedBytes: number }, b: { fee: bigint; encodedBytes: number }): boolean {
  return a.fee * BigInt(b.encodedBytes) < b.fee * BigInt(a.encodedBytes);
}

/** Eviction order: lowest fee rate first; among equal rates the newest goes first. */
function evictFirst(a: Slot, b: Slot): boolean {
  const l = a.fee * b.bytesBig;
  const r = b.fee * a.bytesBig;
  return l < r || (l === r && a.seq > b.seq);
}

export class Mempool {
  readonly limits: MempoolLimits;
  readonly metrics: MempoolMetrics;
  private readonly view: UtxoReader;
  private readonly byTxid = new Map<string, Slot>();
  private readonly spentBy = new Map<string, Slot>();
  private readonly evictionHeap = new IndexedHeap<Slot>(evictFirst);
  /** The proposer's grouped, ordered view of the entries (`Proposer.build(mempool.candidates)`). */
  readonly candidates = new CandidateIndex<MempoolEntry>();
  private totalBytes = 0;
  private nextSeq = 0;
  private readonly journal: MempoolJournal | undefined;
  /** Admissions and removals of the current operation, handed to the journal at its end. */
  private changes: MempoolChange[] = [];
  readonly minRelayFeePerByte: bigint;

  constructor(opts: MempoolOptions) {
    this.view = opts.view;
    this.journal = opts.journal;
    if (opts.minRelayFeePerByte < 0n) throw new PhantomError("MEMPOOL_BAD_LIMITS", "minRelayFeePerByte must be >= 0");
    this.minRelayFeePerByte = opts.minRelayFeePerByte;
    this.limits = { txsMax: opts.limits?.txsMax ?? MEMPOOL_TXS_MAX, bytesMax: opts.limits?.bytesMax ?? MEMPOOL_BYTES_MAX };
    if (!(this.limits.txsMax >= 1 && this.limits.bytesMax >= 1)) throw new PhantomError("MEMPOOL_BAD_LIMITS", "mempool limits must be at least 1");
    this.metrics = createMempoolMetrics(opts.registry ?? new Registry());
  }

  get size(): number {
    return this.byTxid.size;
  }
  get bytes(): number {
    return this.totalBytes;
  }
  has(txid: Uint8Array): boolean {
    return this.byTxid.has(toHex(txid));
  }
  hasHex(txidHex: string): boolean {
    return this.byTxid.has(txidHex);
  }
  get(txid: Uint8Array): MempoolEntry | undefined {
    return this.byTxid.get(toHex(txid));
  }
  /** The mempool tx spending `op`, if any. */
  spender(op: Outpoint): MempoolEntry | undefined {
    return this.spentBy.get(outpointKey(op));
  }
  /** Every entry, in no meaningful order (the proposer orders them itself). */
  entries(): MempoolEntry[] {
    return Array.from(this.byTxid.values());
  }

  /** Offers txs; one result per tx, in order. Earlier txs of the batch win conflicts unless a later one qualifies for RBF. */
  admit(txs: readonly MicroTx[], ctx: ValidationContext): AdmitResult[] {
    return this.admitOffers(txs.map((tx) => prepare(tx)), ctx);
  }

  /** Offers wire-encoded txs; undecodable bytes are rejected as TX_MALFORMED. */
  admitEncoded(encoded: readonly Uint8Array[], ctx: ValidationContext): AdmitResult[] {
    return this.admitOffers(prepareEncodedOffers(encoded).offers, ctx);
  }

  /** `admitEncoded` of txs decoded beforehand (prepareEncodedOffers), e.g. while their signatures were verified. */
  admitPrepared(prepared: PreparedOffers, ctx: ValidationContext): AdmitResult[] {
    return this.admitOffers(prepared.offers, ctx);
  }

  /**
   * Offers persisted txs again at start-up, validated against the current ledger like
   * any offer, each keeping the anchor it was first admitted at (so expiry does not
   * restart). The caller records what the refused ones became (tx-lifecycle.ts).
   */
  restore(offers: readonly RestoreOffer[], ctx: ValidationContext): AdmitResult[] {
    return this.admitOffers(offers.map((o) => {
      const p = prepareEncoded(o.encoded);
      if (!(p instanceof TxRejected)) p.admittedAt = o.admittedAt;
      return p;
    }), ctx);
  }

  private admitOffers(offers: readonly (Offer | TxRejected)[], ctx: ValidationContext): AdmitResult[] {
    const results: AdmitResult[] = [];
    try {
      for (let at = 0; at < offers.length; at += ADMIT_BATCH_MAX) results.push(...this.admitChunk(offers.slice(at, at + ADMIT_BATCH_MAX), ctx));
    } finally {
      this.endOperation();
    }
    return results;
  }

  /** Hands the operation's changes to the journal (one write) and updates the gauges. */
  private endOperation(): void {
    this.metrics.size.set(this.byTxid.size);
    this.metrics.bytes.set(this.totalBytes);
    if (this.changes.length === 0) return;
    const changes = this.changes;
    this.changes = [];
    this.journal?.record(changes);
  }

  /**
   * Same outcome as offering the txs one at a time, in order; but each distinct txid
   * not already held is validated once, all signatures in one verifyBatch call.
   */
  private admitChunk(offers: (Offer | TxRejected)[], ctx: ValidationContext): AdmitResult[] {
    const unique = new Map<string, number>();
    const toValidate: Offer[] = [];
    const verdictIndex: number[] = offers.map((o) => {
      if (o instanceof TxRejected || this.byTxid.has(o.txidHex)) return -1;
      let k = unique.get(o.txidHex);
      if (k === undefined) {
        k = toValidate.push(o) - 1;
        unique.set(o.txidHex, k);
      }
      return k;
    });
    this.metrics.admitBatchSize.observe(toValidate.length);
    const verdicts = validatePreparedBatch(this.view, toValidate, ctx);
    return offers.map((o, i) => {
      if (o instanceof TxRejected) return this.refuse(o);
      if (this.byTxid.has(o.txidHex)) {
        this.metrics.duplicate.inc();
        return { ok: false, txid: o.txid, error: new MempoolRejected("MEMPOOL_DUPLICATE", `tx ${o.txidHex} is already in the mempool`) };
      }
      // Held when the chunk started but replaced or evicted since: not validated above.
      const k = verdictIndex[i]!;
      const v = k >= 0 ? verdicts[k]! : validatePreparedBatch(this.view, [o], ctx)[0]!;
      return v.ok ? this.insert(o, v.fee, ctx) : this.refuse(v.error, o.txid);
    });
  }

  private refuse(error: TxRejected | MempoolRejected, txid?: Uint8Array): AdmitResult {
    this.metrics.rejected.inc({ reason: error.code });
    return txid === undefined ? { ok: false, error } : { ok: false, txid, error };
  }

  /** Inserts a valid tx: replace-by-fee against conflicts, then eviction to stay within limits. */
  private insert(offer: Offer, fee: bigint, ctx: ValidationContext): AdmitResult {
    const inputKeys = offer.tx.inputs.map(outpointKey);
    const entry: Slot = {
      ...offer, fee, inputKeys, seq: this.nextSeq, group: toHex(offer.tx.outputs[0]!.lockCommitment), heapIndex: -1, bytesBig: BigInt(offer.encodedBytes),
      admittedAt: offer.admittedAt ?? ctx.anchorIndex,
    };
    const conflicts = this.conflictsOf(inputKeys);
    const relayFee = this.minRelayFeePerByte * entry.bytesBig;
    if (fee < relayFee) return this.refuse(new MempoolRejected("MEMPOOL_FEE_TOO_LOW", `fee ${fee} is below the minimum relay fee of ${relayFee} (${this.minRelayFeePerByte} units per byte x ${entry.encodedBytes} bytes)`), offer.txid);
    const rbfError = checkReplacement(entry, conflicts, this.minRelayFeePerByte);
    if (rbfError !== undefined) return this.refuse(rbfError, offer.txid);
    const victims = this.makeRoom(entry, conflicts);
    if (victims === undefined) {
      return this.refuse(new MempoolRejected("MEMPOOL_FULL", `mempool full (${this.limits.txsMax} txs / ${this.limits.bytesMax} bytes) and the tx's fee rate does not beat the lowest`), offer.txid);
    }
    const replacedBy: TxTerminal = { state: "replaced", reason: "MEMPOOL_RBF", message: `replaced by ${entry.txidHex}, which pays a higher fee rate for a common input`, by: entry.txid };
    const evicted: TxTerminal = { state: "evicted", reason: "MEMPOOL_FULL", message: `evicted to make room for ${entry.txidHex}: the mempool was full and this tx had the lowest fee rate` };
    for (const c of conflicts) this.removeEntry(c, replacedBy);
    for (const v of victims) this.removeEntry(v, evicted);
    this.nextSeq++;
    this.byTxid.set(entry.txidHex, entry);
    for (const k of inputKeys) this.spentBy.set(k, entry);
    this.evictionHeap.push(entry);
    entry.candidateNode = this.candidates.add(entry);
    this.totalBytes += entry.encodedBytes;
    this.changes.push({ kind: "added", entry });
    this.metrics.accepted.inc();
    this.metrics.replaced.inc(conflicts.length);
    this.metrics.evictions.inc(victims.length);
    return { ok: true, txid: entry.txid, fee, replaced: conflicts.map((c) => c.txid), evicted: victims.map((v) => v.txid) };
  }

  /** Distinct mempool txs spending any of `inputKeys`, oldest first. */
  private conflictsOf(inputKeys: readonly string[]): Slot[] {
    const found: Slot[] = [];
    for (const k of inputKeys) {
      const s = this.spentBy.get(k);
      if (s !== undefined && !found.includes(s)) found.push(s);
    }
    return found.sort((a, b) => a.seq - b.seq);
  }

  /**
   * The txs to evict (lowest fee rate first) so that `entry` fits once `replacing`
   * is gone, or undefined when that would evict a tx whose fee rate is not strictly
   * below the entry's (then the entry is refused and nothing changes).
   */
  private makeRoom(entry: Slot, replacing: readonly Slot[]): Slot[] | undefined {
    if (entry.encodedBytes > this.limits.bytesMax) return undefined;
    let count = this.byTxid.size + 1 - replacing.length;
    let bytes = this.totalBytes + entry.encodedBytes;
    for (const r of replacing) bytes -= r.encodedBytes;
    const popped: Slot[] = [];
    const victims: Slot[] = [];
    let fits = true;
    while (count > this.limits.txsMax || bytes > this.limits.bytesMax) {
      const e = this.evictionHeap.pop();
      if (e === undefined) {
        fits = false;
        break;
      }
      popped.push(e);
      if (replacing.includes(e)) continue;
      if (!feeRateLess(e, entry)) {
        fits = false;
        break;
      }
      victims.push(e);
      count--;
      bytes -= e.encodedBytes;
    }
    for (const e of popped) this.evictionHeap.push(e);
    return fits ? victims : undefined;
  }

  private removeEntry(e: Slot, outcome: TxTerminal): void {
    if (this.byTxid.get(e.txidHex) !== e) return;
    this.changes.push({ kind: "removed", entry: e, outcome });
    this.byTxid.delete(e.txidHex);
    for (const k of e.inputKeys) if (this.spentBy.get(k) === e) this.spentBy.delete(k);
    this.evictionHeap.remove(e);
    if (e.candidateNode !== undefined) this.candidates.remove(e.candidateNode);
    this.totalBytes -= e.encodedBytes;
  }

  /**
   * A finalized anchor (`anchorIndex`, when known) included `txids` and spent
   * `spentOutpoints` (all of its inputs, whichever txs spent them; `spentBy` names the
   * tx that did). Included txs leave as final; any other tx spending one of those
   * outpoints can never be valid again and leaves as void, naming the winner.
   */
  onFinalized(spentOutpoints: readonly (Outpoint & { spentBy?: Uint8Array })[], txids: readonly Uint8Array[], anchorIndex?: bigint): { included: Uint8Array[]; invalidated: Uint8Array[] } {
    const included: Uint8Array[] = [];
    const invalidated: Uint8Array[] = [];
    const at = anchorIndex === undefined ? "a finalized anchor" : `anchor ${anchorIndex}`;
    const final: TxTerminal = { state: "final", reason: "INCLUDED", message: `applied by ${at}`, anchorIndex };
    for (const txid of txids) {
      const e = this.byTxid.get(toHex(txid));
      if (e === undefined) continue;
      this.removeEntry(e, final);
      included.push(e.txid);
    }
    for (const op of spentOutpoints) {
      const key = outpointKey(op);
      const e = this.spentBy.get(key);
      if (e === undefined) continue;
      const by = op.spentBy === undefined ? "" : ` by ${toHex(op.spentBy)}`;
      this.removeEntry(e, { state: "void", reason: "TX_DOUBLE_SPEND", message: `input ${key} was spent at ${at}${by}`, anchorIndex, by: op.spentBy });
      invalidated.push(e.txid);
    }
    this.metrics.included.inc(included.length);
    this.metrics.invalidated.inc(invalidated.length);
    this.endOperation();
    return { included, invalidated };
  }

  /**
   * Drops the txs admitted at least `boundAnchors` anchors before `anchorIndex` (the
   * anchor just applied), oldest first, except those `isHeld` (carried by an event that
   * is not final yet: they may still be applied). Returns the expired txids.
   */
  expire(anchorIndex: bigint, boundAnchors: bigint = MEMPOOL_EXPIRY_ANCHORS, isHeld: (e: MempoolEntry) => boolean = () => false): Uint8Array[] {
    const expired: Slot[] = [];
    // byTxid iterates in admission order, and admission anchors never decrease along it.
    for (const e of this.byTxid.values()) {
      if (anchorIndex - e.admittedAt < boundAnchors) break;
      if (!isHeld(e)) expired.push(e);
    }
    for (const e of expired) {
      this.removeEntry(e, {
        state: "expired", reason: "MEMPOOL_EXPIRED",
        message: `not final ${anchorIndex - e.admittedAt} anchors after admission at anchor ${e.admittedAt} (bound ${boundAnchors} anchors)`,
      });
    }
    this.metrics.expired.inc(expired.length);
    this.endOperation();
    return expired.map((e) => e.txid);
  }
}

/** Wire-encoded txs decoded (or refused as TX_MALFORMED) and their txids computed, in order; opaque outside this module. */
export interface PreparedOffers {
  readonly offers: readonly (Offer | TxRejected)[];
}

export function prepareEncodedOffers(encoded: readonly Uint8Array[]): PreparedOffers {
  return { offers: encoded.map((bytes) => prepareEncoded(bytes)) };
}

/** Txids (hex) of the decodable offers, in order. */
export function preparedTxids(prepared: PreparedOffers): string[] {
  return prepared.offers.flatMap((o) => (o instanceof TxRejected ? [] : [o.txidHex]));
}

/**
 * The signature checks admission would ask for, collected ahead of it so they can be
 * verified first (on the native pool, filling the signature cache): per input, the
 * witness against the lock it reveals, signed over the txid, timelocks evaluated at
 * `anchorIndex`. Offers whose txid `skip` names or an earlier offer has, and inputs whose witness does not fit
 * its lock are left out (admission decides those). The checks hold the offers' own
 * signature, key and txid arrays, the very objects validation collects again.
 */
export function offerSignatureChecks(prepared: PreparedOffers, anchorIndex: bigint, skip: (txidHex: string) => boolean): SigCheck[] {
  const checks: SigCheck[] = [];
  const seen = new Set<string>();
  for (const o of prepared.offers) {
    if (o instanceof TxRejected || seen.has(o.txidHex) || skip(o.txidHex)) continue;
    seen.add(o.txidHex);
    const env = { message: o.txid, anchorIndex };
    o.tx.witnesses.forEach(({ lock, witness }, i) => {
      const before = checks.length;
      try {
        checkPredicateShape(lock, witness, i);
        collectPredicate(lock, witness, env, checks, i);
      } catch (e) {
        if (!(e instanceof TxRejected)) throw e;
        checks.length = before;
      }
    });
  }
  return checks;
}

function prepareEncoded(bytes: Uint8Array): Offer | TxRejected {
  try {
    return prepare(decodeMicroTx(bytes), bytes);
  } catch (e) {
    if (!isPhantomError(e)) throw e;
    return e instanceof TxRejected ? e : new TxRejected("TX_MALFORMED", `undecodable tx: ${e.message}`, { codec: e.code });
  }
}

/** `encoded`, when given, is the canonical encoding `tx` was decoded from (decodeMicroTx accepts nothing else). */
/**
 * Bytes of the witness-free encoding that digest_microtx hashes. It is a prefix of the
 * full canonical encoding (tag, version, inputs, outputs; docs/SPEC_CODEC.md), so the
 * txid is hashed from the bytes already at hand instead of encoding the tx again.
 */
function unsignedPrefixBytes(tx: MicroTx): number {
  const n = tx.inputs.length;
  const m = tx.outputs.length;
  return 2 + varintBytes(n) + n * (HASH_BYTES + 4) + varintBytes(m) + m * (8 + HASH_BYTES);
}

function prepare(tx: MicroTx, encoded?: Uint8Array): Offer | TxRejected {
  try {
    const bytes = encoded ?? encodeMicroTx(tx);
    const txid = blake3_32(bytes.subarray(0, unsignedPrefixBytes(tx)));
    return { tx, txid, txidHex: toHex(txid), encoded: bytes, encodedBytes: bytes.length };
  } catch (e) {
    if (!isPhantomError(e)) throw e;
    return new TxRejected("TX_MALFORMED", `tx has no canonical encoding: ${e.message}`);
  }
}

/**
 * Replace-by-fee. A tx N conflicting with mempool txs C (sharing at least one input)
 * replaces all of C only if: |C| <= RBF_CONFLICTS_MAX; its fee rate is strictly
 * higher than the fee rate of EVERY tx in C; and its fee is at least
 * sum(fee C) + max(minRelayFeePerByte * bytes(N), ceil(sum(fee C) * RBF_BUMP_BPS / 10,000)):
 * it never lowers the fees the mempool holds, pays its own relay again, and adds at
 * least 10 % (docs/SPEC_TX.md §5).
 */
export function checkReplacement(
  entry: { fee: bigint; encodedBytes: number; txid: Uint8Array },
  conflicts: readonly { fee: bigint; encodedBytes: number; txidHex: string }[],
  minRelayFeePerByte: bigint,
): MempoolRejected | undefined {
  if (conflicts.length === 0) return undefined;
  if (conflicts.length > RBF_CONFLICTS_MAX) return new MempoolRejected("MEMPOOL_RBF_TOO_MANY", `conflicts with ${conflicts.length} txs; a replacement may replace at most ${RBF_CONFLICTS_MAX}`);
  let feeSum = 0n;
  for (const c of conflicts) {
    if (!feeRateLess(c, entry)) return new MempoolRejected("MEMPOOL_RBF_FEE_RATE", `conflicts with ${c.txidHex} whose fee rate is not lower`, { conflict: c.txidHex });
    feeSum += c.fee;
  }
  const required = feeSum + rbfMinimumBump(feeSum, entry.encodedBytes, minRelayFeePerByte);
  if (entry.fee < required) return new MempoolRejected("MEMPOOL_RBF_FEE", `fee ${entry.fee} is below the ${required} a replacement must pay (the ${feeSum} it replaces plus the minimum bump)`, { required: required.toString() });
  return undefined;
}

/** What a replacement must add to the fees it replaces: max(relay fee of its bytes, 10 % of them, rounded up). */
export function rbfMinimumBump(replacedFees: bigint, encodedBytes: number, minRelayFeePerByte: bigint): bigint {
  const relay = minRelayFeePerByte * BigInt(encodedBytes);
  const share = (replacedFees * RBF_BUMP_BPS + 9_999n) / 10_000n;
  return relay > share ? relay : share;
}
