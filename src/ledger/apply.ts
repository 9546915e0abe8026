/**
 * The pure ledger: applies one finalized anchor (anchor index, AnchorPayload) to a
 * LedgerStore and returns the complete diff, including the new state commitment.
 * Transactions take effect in payload order; the first spend of an outpoint in the
 * total order wins and every later one is void with a typed reason. All MicroTx
 * signatures of a payload are checked in one verifyBatch call (validatePreparedBatch,
 * the txid-precomputed form of validateMicroTxBatch).
 */
import { PhantomError, invariant } from "../errors.ts";
import type { EmissionParams, Genesis } from "../genesis/genesis.ts";
import { rewardAtHeight } from "../genesis/emission-schedule.ts";
import type { AnchorPayload } from "../types/payload.ts";
import { decodePayloadIndexed, type IndexedPayload, type PayloadHints } from "./payload-index.ts";
import { CodecError } from "../codec/errors.ts";
import { type MicroTx, digestMicroTx } from "../types/tx.ts";
import type { MintTx } from "../types/mint.ts";
import type { Evidence } from "../types/evidence.ts";
import { encodeEvidence } from "../types/evidence.ts";
import { powHashOf } from "../crypto/pow.ts";
import { encodeMintTx } from "../types/mint.ts";
import { type SigCheck, type UtxoEntry, type UtxoReader, type ValidationContext, validatePreparedBatch } from "./validate.ts";
import { type AnchorDiff, type LedgerStore, type TxOutcome, type MintTip, outpointString, outpointMapKey, ZERO_ID } from "./state.ts";
import { checkMint, advanceMintTip, MintRejected } from "./emission.ts";
import { checkEvidence, evidenceId, EvidenceRejected, type CheckedEvidence, type EvidenceRules } from "./evidence.ts";
import { LtHash } from "./lthash.ts";
import { equalBytes, toHex } from "../crypto/bytes.ts";
import { HASH_BYTES } from "../types/constants.ts";
import { lockCommitment } from "../types/lock.ts";
import type { SignedEvent } from "../types/event.ts";
import { type StakeEntry, applySlash, genesisStakeTable } from "./stake.ts";
import { type EconomicsParams, type PendingFee, settleAnchor, settlementDelay } from "./settlement.ts";
import { NO_PAYOUT_ROOT, commitmentOf } from "./commitment.ts";

export interface LedgerParams {
  emission: EmissionParams;
  /** Committee public keys by validator index (to check evidence). */
  committee: Uint8Array[];
  /** Genesis shard count and parents_max (to decide invalid-event evidence). */
  evidenceRules: EvidenceRules;
  /** Batch signature check with exactly `verifyBatch`'s answers (default); see ValidationContext.verify. */
  verify?: (items: readonly SigCheck[]) => boolean[];
  /**
   * Stake, slashing and fee settlement (genesis). Without it (ledger-only tests and
   * benches) there is no stake table and fees stay pending for ever.
   */
  economics?: EconomicsParams;
}

export function ledgerParamsFromGenesis(g: Genesis): LedgerParams {
  return {
    emission: g.emission,
    committee: g.validators.map((v) => v.publicKey),
    evidenceRules: { shardCount: g.shardCount, parentsMax: g.parentsMax },
    economics: {
      genesisStakes: g.validators.map((v) => v.stake),
      fees: g.fees,
      // Default payout address (SPEC_FEES §7): a Sig lock on the validator's genesis key.
      payoutLocks: g.validators.map((v) => lockCommitment({ kind: "sig", publicKey: v.publicKey })),
    },
  };
}

/**
 * The finalized event an anchor carries and the finalized headers before it: `window`
 * holds the events of anchor indices max(0, i − k·D_max)..i in order (the last is
 * `event`). Needed when `economics` is set; the node passes it from src/node/chain.ts.
 */
export interface AnchorContext {
  event: SignedEvent;
  window: readonly SignedEvent[];
}

/** Ledger-level reasons a MicroTx is void (the validator's TxRejected codes pass through as they are). */
export type LedgerVoidCode = "TX_DOUBLE_SPEND" | "TX_MISSING_INPUT";

export class LedgerError extends PhantomError<"LEDGER_ANCHOR_OUT_OF_ORDER"> {
  constructor(message: string) {
    super("LEDGER_ANCHOR_OUT_OF_ORDER", message);
    this.name = "LedgerError";
  }
}

/** Per-anchor working state of the sequential pass. */
interface Working {
  anchorIndex: bigint;
  params: LedgerParams;
  tip: MintTip;
  acc: LtHash;
  diff: AnchorDiff;
  /** Outputs created so far in this anchor, by outpoint string. */
  createdHere: Map<string, UtxoEntry>;
  /** Outpoints spent so far in this anchor -> spending txid. */
  spentHere: Map<string, Uint8Array>;
  /** UTXO entries read from the store for this anchor's inputs (undefined = absent). */
  fromStore: Map<string, UtxoEntry | undefined>;
  evidenceHere: Set<string>;
  stakes: StakeEntry[];
}

export function expectedAnchorIndex(store: LedgerStore): bigint {
  const last = store.lastApplied();
  return last ? last.anchorIndex + 1n : 0n;
}

/** Applies one finalized anchor. Does not write: the caller commits the returned diff atomically. */
export function applyAnchor(store: LedgerStore, params: LedgerParams, anchorIndex: bigint, payload: AnchorPayload, hints?: PayloadHints, ctx?: AnchorContext): AnchorDiff {
  const expected = expectedAnchorIndex(store);
  if (anchorIndex !== expected) throw new LedgerError(`anchor ${anchorIndex} applied out of order: expected ${expected}`);
  const stored = store.stakeTable();
  const stakes = stored.length > 0 ? stored.map((e) => ({ ...e })) : genesisStakeTable(params.economics?.genesisStakes ?? []);
  const w: Working = {
    anchorIndex, params, tip: store.mintTip(), acc: LtHash.fromBytes(store.accumulator()),
    diff: {
      anchorIndex, created: [], spent: [], mints: [], evidence: [], mintTip: store.mintTip(), accumulator: new Uint8Array(0), utxoRoot: new Uint8Array(0), commitment: new Uint8Array(0), feesUnits: 0n, outcomes: [],
      stakes: [], slashes: [], payoutRoot: NO_PAYOUT_ROOT, pendingFeesUnits: 0n,
    },
    createdHere: new Map(), spentHere: new Map(), fromStore: new Map(), evidenceHere: new Set(), stakes,
  };
  const { micro, malformed } = withTxids(payload, hints);
  const mints = payload.txs.flatMap((t) => (t.kind === "mint" ? [t.tx] : []));
  const verdicts = validateMicro(store, w, micro, mints);
  for (const [position, v] of malformed) verdicts.set(position, v);
  payload.txs.forEach((t, position) => {
    if (t.kind === "micro") applyMicro(w, position, t.tx, verdicts.get(position)!);
    else if (t.kind === "mint") applyMint(w, position, t.tx);
    else applyEvidence(store, w, position, t.tx);
  });
  const pending = settleAndQueue(store, w, ctx);
  w.diff.mintTip = w.tip;
  w.diff.stakes = w.stakes;
  w.diff.pendingFeesUnits = pending.reduce((s, p) => s + p.feesUnits, 0n);
  w.diff.accumulator = w.acc.toBytes();
  w.diff.utxoRoot = w.acc.commitment();
  w.diff.commitment = commitmentOf(w.diff.utxoRoot, w.stakes, pending, w.diff.payoutRoot);
  return w.diff;
}

/**
 * After the anchor's transactions: queues its fees, and settles the anchor k·D_max
 * back (payout outputs created now, at this anchor index). Returns the pending list after.
 */
function settleAndQueue(store: LedgerStore, w: Working, ctx: AnchorContext | undefined): PendingFee[] {
  const eco = w.params.economics;
  let pending = [...store.pendingFees()];
  if (eco) {
    invariant(ctx !== undefined && equalBytes(ctx.window[ctx.window.length - 1]?.id ?? ZERO_ID, ctx.event.id), `anchor ${w.anchorIndex}: the ledger needs the finalized event and its window`);
    const delay = settlementDelay(eco);
    const expectedWindow = (w.anchorIndex < delay ? w.anchorIndex : delay) + 1n;
    invariant(BigInt(ctx.window.length) === expectedWindow, `anchor ${w.anchorIndex}: window of ${ctx.window.length} events, expected ${expectedWindow}`);
    if (w.anchorIndex >= delay) {
      const a = w.anchorIndex - delay;
      const head = pending[0];
      const due = head !== undefined && head.anchorIndex === a ? head : { anchorIndex: a, eventId: ctx.window[0]!.id, creator: ctx.window[0]!.header.creator, feesUnits: 0n };
      if (due === head) pending = pending.slice(1);
      invariant(pending.every((p) => p.anchorIndex > a), `fees of anchor ${pending[0]?.anchorIndex} were never settled`);
      const s = settleAnchor(eco, due, w.anchorIndex, ctx.window, w.stakes);
      s.entries.forEach((e) => {
        if (e.amount > 0n) createOutput(w, s.txid, e.index, { amount: e.amount, lockCommitment: e.recipient, createdAt: w.anchorIndex, coinbase: false });
      });
      w.diff.settlement = s;
      w.diff.payoutRoot = s.root;
    }
  }
  if (w.diff.feesUnits > 0n) {
    w.diff.pendingAdded = { anchorIndex: w.anchorIndex, eventId: ctx?.event.id ?? ZERO_ID, creator: ctx?.event.header.creator ?? 0, feesUnits: w.diff.feesUnits };
    pending.push(w.diff.pendingAdded);
  }
  return pending;
}

/**
 * Applies a finalized event's payload bytes (as fetched by digest). Bytes that do not
 * decode as an AnchorPayload apply as an empty payload, so every node still consumes
 * the anchor index identically; `payloadError` carries the codec error code.
 */
export function applyAnchorBytes(store: LedgerStore, params: LedgerParams, anchorIndex: bigint, payloadBytes: Uint8Array, ctx?: AnchorContext): AnchorDiff {
  let indexed: IndexedPayload;
  try {
    indexed = decodePayloadIndexed(payloadBytes);
  } catch (e) {
    if (!(e instanceof CodecError)) throw e;
    return { ...applyAnchor(store, params, anchorIndex, { txs: [] }, undefined, ctx), payloadError: e.code };
  }
  return applyAnchor(store, params, anchorIndex, indexed.payload, indexed.hints, ctx);
}

type Verdict = { txid: Uint8Array; ok: true; fee: bigint } | { txid: Uint8Array; ok: false; code: string; message: string };
type PreparedMicro = { position: number; tx: MicroTx; txid: Uint8Array; encodedBytes?: number };

/**
 * Txids of the payload's MicroTxs (from `hints` when the payload came from bytes). A tx
 * object with no canonical encoding (never one decoded from bytes) is TX_MALFORMED.
 */
function withTxids(payload: AnchorPayload, hints: PayloadHints | undefined): { micro: PreparedMicro[]; malformed: Map<number, Verdict> } {
  const micro: PreparedMicro[] = [];
  const malformed = new Map<number, Verdict>();
  payload.txs.forEach((t, position) => {
    if (t.kind !== "micro") return;
    const txid = hints?.txids[position];
    const encodedBytes = hints?.encodedBytes[position];
    if (txid && encodedBytes !== undefined) return void micro.push({ position, tx: t.tx, txid, encodedBytes });
    try {
      micro.push({ position, tx: t.tx, txid: digestMicroTx(t.tx) });
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
      malformed.set(position, { txid: ZERO_ID, ok: false, code: "TX_MALFORMED", message: `tx has no canonical encoding: ${e.message}` });
    }
  });
  return { micro, malformed };
}

/**
 * Validates the payload's MicroTxs in one batch against a speculative view where every
 * output created in this payload exists; the sequential pass then drops any spend whose
 * input was in fact spent earlier, or created by a transaction that turned out void.
 */
function validateMicro(store: LedgerStore, w: Working, micro: PreparedMicro[], mints: MintTx[]): Map<number, Verdict> {
  const speculative = new Map<string, UtxoEntry>();
  for (const m of micro) {
    m.tx.outputs.forEach((o, i) => speculative.set(outpointMapKey(m.txid, i), { amount: o.amount, lockCommitment: o.lockCommitment, createdAt: w.anchorIndex, coinbase: false }));
  }
  addSpeculativeMints(w, mints, speculative);
  const verdicts = new Map<number, Verdict>();
  const batch: typeof micro = [];
  for (const m of micro) {
    const spent = firstSpentInput(store, w, m.tx, speculative);
    if (spent) verdicts.set(m.position, { txid: m.txid, ok: false, code: "TX_DOUBLE_SPEND", message: spent });
    else batch.push(m);
  }
  const view: UtxoReader = {
    getUtxo: (txid, index) => {
      // The store's entry wins: a payload may repeat a transaction applied earlier, whose
      // (void) repetition must not shadow the real output and its created_at.
      const k = outpointMapKey(txid, index);
      return w.fromStore.get(k) ?? speculative.get(k) ?? (w.fromStore.has(k) ? undefined : store.getUtxo(txid, index));
    },
  };
  const ctx: ValidationContext = { anchorIndex: w.anchorIndex, maturityAnchors: w.params.emission.maturityAnchors, verify: w.params.verify };
  const results = validatePreparedBatch(view, batch, ctx);
  invariant(results.length === batch.length, "validatePreparedBatch returns one result per transaction");
  batch.forEach((m, i) => {
    const r = results[i]!;
    verdicts.set(m.position, r.ok ? { txid: m.txid, ok: true, fee: r.fee } : { txid: m.txid, ok: false, code: r.error.code, message: r.error.message });
  });
  return verdicts;
}

/** A mint's output as it would be if the mint is accepted (maturity usually forbids spending it at once anyway). */
function addSpeculativeMints(w: Working, mints: MintTx[], speculative: Map<string, UtxoEntry>): void {
  for (const mint of mints) {
    const id = powHashOf(encodeMintTx(mint));
    const amount = rewardAtHeight(mint.height, w.params.emission.initialRewardUnits, w.params.emission.halvingIntervalMints);
    speculative.set(outpointMapKey(id, 0), { amount, lockCommitment: mint.recipient, createdAt: w.anchorIndex, coinbase: true });
  }
}

/**
 * Reads every input from the store once (cached for the batch view and the sequential
 * pass); names the first input that is neither unspent nor created in this payload but
 * was spent in an earlier anchor.
 */
function firstSpentInput(store: LedgerStore, w: Working, tx: MicroTx, speculative: Map<string, UtxoEntry>): string | undefined {
  for (const input of tx.inputs) {
    if (input.txid.length !== HASH_BYTES) return undefined; // malformed: the validator rejects it
    const k = outpointMapKey(input.txid, input.index);
    if (!w.fromStore.has(k)) w.fromStore.set(k, store.getUtxo(input.txid, input.index));
    if (w.fromStore.get(k) || speculative.has(k)) continue;
    const spent = store.getSpent(input.txid, input.index);
    if (spent) return `input ${outpointString(input.txid, input.index)} was spent at anchor ${spent.anchorIndex} by ${toHex(spent.spentBy)}`;
  }
  return undefined;
}

function voidTx(w: Working, position: number, kind: "micro" | "mint" | "evidence", id: Uint8Array, code: string, message: string): void {
  w.diff.outcomes.push({ position, kind, id, applied: false, code, message });
}

function applyMicro(w: Working, position: number, tx: MicroTx, v: Verdict): void {
  if (!v.ok) return voidTx(w, position, "micro", v.txid, v.code, v.message);
  // Inputs of one tx are distinct (the validator rejects TX_DUPLICATE_INPUT), so only
  // spends by earlier txs of this anchor can conflict here.
  const entries: { k: string; entry: UtxoEntry }[] = [];
  for (const input of tx.inputs) {
    const k = outpointMapKey(input.txid, input.index);
    const spentBy = w.spentHere.get(k);
    if (spentBy) {
      return voidTx(w, position, "micro", v.txid, "TX_DOUBLE_SPEND", `input ${outpointString(input.txid, input.index)} was spent earlier in anchor ${w.anchorIndex} by ${toHex(spentBy)}`);
    }
    const entry = w.createdHere.get(k) ?? w.fromStore.get(k);
    if (!entry) return voidTx(w, position, "micro", v.txid, "TX_MISSING_INPUT", `input ${outpointString(input.txid, input.index)} does not exist (its creating transaction was void)`);
    entries.push({ k, entry });
  }
  tx.inputs.forEach((input, i) => {
    const { k, entry } = entries[i]!;
    w.spentHere.set(k, v.txid);
    w.diff.spent.push({ txid: input.txid, index: input.index, entry, spentBy: v.txid });
    w.acc.removeUtxo(input.txid, input.index, entry);
  });
  tx.outputs.forEach((o, index) => createOutput(w, v.txid, index, { amount: o.amount, lockCommitment: o.lockCommitment, createdAt: w.anchorIndex, coinbase: false }));
  w.diff.feesUnits += v.fee;
  w.diff.outcomes.push({ position, kind: "micro", id: v.txid, applied: true, feeUnits: v.fee });
}

function createOutput(w: Working, txid: Uint8Array, index: number, entry: UtxoEntry): void {
  const k = outpointMapKey(txid, index);
  invariant(!w.createdHere.has(k), `output ${outpointString(txid, index)} created twice in one anchor`);
  w.createdHere.set(k, entry);
  w.diff.created.push({ txid, index, entry });
  w.acc.addUtxo(txid, index, entry);
}

function applyMint(w: Working, position: number, mint: MintTx): void {
  try {
    const accepted = checkMint(w.tip, w.params.emission, mint);
    w.tip = advanceMintTip(w.tip, w.params.emission, accepted, mint.height, w.anchorIndex);
    createOutput(w, accepted.id, 0, { amount: accepted.rewardUnits, lockCommitment: mint.recipient, createdAt: w.anchorIndex, coinbase: true });
    w.diff.mints.push({ id: accepted.id, mint, anchorIndex: w.anchorIndex, rewardUnits: accepted.rewardUnits });
    w.diff.outcomes.push({ position, kind: "mint", id: accepted.id, applied: true, rewardUnits: accepted.rewardUnits });
  } catch (e) {
    if (!(e instanceof MintRejected)) throw e;
    voidTx(w, position, "mint", powHashOf(encodeMintTx(mint)), e.code, e.message);
  }
}

function applyEvidence(store: LedgerStore, w: Working, position: number, evidence: Evidence): void {
  const id = evidenceId(evidence);
  let checked: CheckedEvidence;
  try {
    checked = checkEvidence(evidence, w.params.committee, w.params.evidenceRules);
    // Once per offense (SPEC_SLASHING §4): records are keyed by offense id, not evidence id.
    if (w.evidenceHere.has(checked.offenseKey) || store.hasEvidence(checked.offenseId)) throw new EvidenceRejected("EVIDENCE_DUPLICATE", `offense ${checked.offenseKey} is already recorded`);
  } catch (e) {
    if (!(e instanceof EvidenceRejected)) throw e;
    return voidTx(w, position, "evidence", id, e.code, e.message);
  }
  w.evidenceHere.add(checked.offenseKey);
  w.diff.evidence.push({ id: checked.offenseId, kind: checked.kind, offender: checked.offender, anchorIndex: w.anchorIndex, bytes: encodeEvidence(checked.canonical) });
  w.diff.outcomes.push({ position, kind: "evidence", id, applied: true });
  // Finalized evidence takes effect here, identically on every node (SPEC_SLASHING §6).
  const slash = applySlash(w.stakes, checked, id, w.anchorIndex);
  if (slash) w.diff.slashes.push(slash);
}

export type { TxOutcome };
