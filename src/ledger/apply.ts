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
import { type ShardLayout, ShardError, shardLayoutOf, shardOfLock } from "./shard.ts";
import { type ImportClaim, type CrossShardParams, ImportError, checkImportClaim, epochShardRoot, exportLeafOf, isEpochEnd } from "./cross-shard.ts";
import { type ExportLeaf, exportId, exportLeafHash, ZERO_ROOT } from "./export-tree.ts";
import { ShardCertError, shardRootDigest } from "./shard-root.ts";
import type { Output } from "../types/tx.ts";

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
  /**
   * This ledger's shard of a sharded network (docs/SPEC_SHARDING.md). Absent, or
   * shardCount = 1: the single-shard ledger, unchanged.
   */
  sharding?: ShardingParams;
}

export interface ShardingParams {
  /** The shard this ledger keeps. */
  shard: number;
  shardCount: number;
  /** Every shard's committee (to verify other shards' certificates). */
  layout: ShardLayout;
  /** Genesis `[consensus] commitment` (the `chain` of every shard root). */
  chain: Uint8Array;
  /** `[chain] shard_root_interval`: anchors per epoch. */
  rootInterval: bigint;
}

/**
 * Ledger parameters of shard `shard` (default 0): with shard_count > 1 the committee,
 * stakes and payout locks are that shard's committee in file order, and `sharding` is
 * set. `g` may be the whole genesis or its genesisForShard view (whose shard wins).
 */
export function ledgerParamsFromGenesis(g: Genesis, shard?: number): LedgerParams {
  const s = shard ?? g.shardView?.shard ?? 0;
  if (g.shardView !== undefined) invariant(g.shardView.shard === s, `ledger params for shard ${s} from the genesis view of shard ${g.shardView.shard}`);
  const layout = g.shardCount > 1 ? shardLayoutOf(g) : undefined;
  const committee = layout ? layout.committees[s] : undefined;
  if (layout && committee === undefined) throw new LedgerError(`shard ${s} does not exist: the genesis has shard_count = ${g.shardCount}`, "LEDGER_NO_SUCH_SHARD");
  if (!layout && s !== 0) throw new LedgerError(`shard ${s} does not exist: the genesis has one shard`, "LEDGER_NO_SUCH_SHARD");
  const publicKeys = committee ? committee.publicKeys : g.validators.map((v) => v.publicKey);
  const stakes = committee ? committee.stakes : g.validators.map((v) => v.stake);
  return {
    emission: g.emission,
    committee: publicKeys,
    evidenceRules: { shardCount: g.shardCount, parentsMax: g.parentsMax },
    economics: {
      genesisStakes: stakes,
      fees: g.fees,
      // Default payout address (SPEC_FEES §7): a Sig lock on the validator's genesis key.
      payoutLocks: publicKeys.map((publicKey) => lockCommitment({ kind: "sig", publicKey })),
    },
    ...(layout ? { sharding: { shard: s, shardCount: g.shardCount, layout, chain: g.commitment, rootInterval: g.shardRootInterval } } : {}),
  };
}

/** The sharding parameters when the ledger is one shard of several, else undefined (today's ledger). */
function activeSharding(params: LedgerParams): ShardingParams | undefined {
  const sh = params.sharding;
  return sh !== undefined && sh.shardCount > 1 ? sh : undefined;
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
export type LedgerVoidCode = "TX_DOUBLE_SPEND" | "TX_MISSING_INPUT" | "MINT_WRONG_SHARD";

export class LedgerError extends PhantomError<"LEDGER_ANCHOR_OUT_OF_ORDER" | "LEDGER_NO_SUCH_SHARD"> {
  constructor(message: string, code: "LEDGER_ANCHOR_OUT_OF_ORDER" | "LEDGER_NO_SUCH_SHARD" = "LEDGER_ANCHOR_OUT_OF_ORDER") {
    super(code, message);
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
  /** Set when this ledger is one shard of several. */
  sharding: ShardingParams | undefined;
  /** Export ids (map key form) imported earlier in this anchor. */
  importedHere: Set<string>;
  /** "shard:epoch" -> root digest recorded by imports earlier in this anchor. */
  rootsHere: Map<string, Uint8Array>;
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
      stakes: [], slashes: [], payoutRoot: NO_PAYOUT_ROOT, pendingFeesUnits: 0n, exports: [], imports: [],
    },
    createdHere: new Map(), spentHere: new Map(), fromStore: new Map(), evidenceHere: new Set(), stakes,
    sharding: activeSharding(params), importedHere: new Set(), rootsHere: new Map(),
  };
  // One shard: an import claim is a kind this ledger does not know, so the payload applies
  // as empty with the codec's code, exactly as before the kind existed (S = 1 unchanged).
  if (w.sharding === undefined && payload.txs.some((t) => t.kind === "import")) {
    return { ...applyAnchor(store, params, anchorIndex, { txs: [] }, undefined, ctx), payloadError: "CODEC_UNKNOWN_TAG" };
  }
  const { micro, malformed } = withTxids(payload, hints);
  const mints = payload.txs.flatMap((t) => (t.kind === "mint" ? [t.tx] : []));
  const claims = payload.txs.flatMap((t) => (t.kind === "import" ? [t.tx] : []));
  const verdicts = validateMicro(store, w, micro, mints, claims);
  for (const [position, v] of malformed) verdicts.set(position, v);
  payload.txs.forEach((t, position) => {
    if (t.kind === "micro") applyMicro(w, position, t.tx, verdicts.get(position)!);
    else if (t.kind === "mint") applyMint(w, position, t.tx);
    else if (t.kind === "import") applyImport(store, w, position, t.tx);
    else applyEvidence(store, w, position, t.tx);
  });
  const pending = settleAndQueue(store, w, ctx);
  w.diff.mintTip = w.tip;
  w.diff.stakes = w.stakes;
  w.diff.pendingFeesUnits = pending.reduce((s, p) => s + p.feesUnits, 0n);
  w.diff.accumulator = w.acc.toBytes();
  w.diff.utxoRoot = w.acc.commitment();
  w.diff.commitment = commitmentOf(w.diff.utxoRoot, w.stakes, pending, w.diff.payoutRoot);
  if (w.sharding) {
    w.diff.shardEpoch = anchorIndex / w.sharding.rootInterval;
    closeEpoch(store, w, w.sharding);
  }
  return w.diff;
}

/**
 * On the last anchor of an epoch: this shard's root over the epoch's exports in finalized
 * order, with the anchor's state commitment and the previous epoch's digest (SPEC_SHARDING §6).
 */
function closeEpoch(store: LedgerStore, w: Working, sh: ShardingParams): void {
  if (!isEpochEnd(w.anchorIndex, sh.rootInterval)) return;
  const epoch = w.anchorIndex / sh.rootInterval;
  const leaves = [...store.exportsOfEpoch(epoch), ...w.diff.exports];
  let prevRoot: Uint8Array = ZERO_ROOT.slice();
  if (epoch > 0n) {
    const prev = store.shardRoot(epoch - 1n);
    invariant(prev !== undefined, `shard ${sh.shard}: the root of epoch ${epoch - 1n} is missing when epoch ${epoch} closes`);
    prevRoot = shardRootDigest(prev);
  }
  const root = epochShardRoot({ chain: sh.chain, shard: sh.shard }, epoch, w.diff.commitment, leaves.map(exportLeafHash), prevRoot);
  w.diff.shardRoot = root;
  w.diff.shardRootDigest = shardRootDigest(root);
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
        if (e.amount > 0n) createOrExport(w, s.txid, e.index, { amount: e.amount, lockCommitment: e.recipient });
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
function validateMicro(store: LedgerStore, w: Working, micro: PreparedMicro[], mints: MintTx[], claims: ImportClaim[]): Map<number, Verdict> {
  const speculative = new Map<string, UtxoEntry>();
  const sh = w.sharding;
  for (const m of micro) {
    m.tx.outputs.forEach((o, i) => {
      // An output for another shard is exported, never spendable here.
      if (sh && shardOfLock(o.lockCommitment, sh.shardCount) !== sh.shard) return;
      speculative.set(outpointMapKey(m.txid, i), { amount: o.amount, lockCommitment: o.lockCommitment, createdAt: w.anchorIndex, coinbase: false });
    });
  }
  addSpeculativeMints(w, mints, speculative);
  // The UTXO an import would create, so a later transaction of the payload may spend it.
  for (const c of claims) speculative.set(outpointMapKey(claimExportId(c), 0), { amount: c.leaf.amount, lockCommitment: c.leaf.lockCommitment, createdAt: w.anchorIndex, coinbase: false });
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

function voidTx(w: Working, position: number, kind: "micro" | "mint" | "evidence" | "import", id: Uint8Array, code: string, message: string): void {
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
  tx.outputs.forEach((o, index) => createOrExport(w, v.txid, index, o));
  w.diff.feesUnits += v.fee;
  w.diff.outcomes.push({ position, kind: "micro", id: v.txid, applied: true, feeUnits: v.fee });
}

/**
 * A non-coinbase output created at this anchor: a UTXO, or on a sharded ledger an export
 * when its lock is on another shard (SPEC_SHARDING §5.1, §9).
 */
function createOrExport(w: Working, txid: Uint8Array, index: number, o: Output): void {
  const sh = w.sharding;
  const leaf: ExportLeaf | undefined = sh ? exportLeafOf(sh.shard, sh.shardCount, w.anchorIndex, txid, index, o) : undefined;
  if (leaf) w.diff.exports.push(leaf);
  else createOutput(w, txid, index, { amount: o.amount, lockCommitment: o.lockCommitment, createdAt: w.anchorIndex, coinbase: false });
}

function createOutput(w: Working, txid: Uint8Array, index: number, entry: UtxoEntry): void {
  const k = outpointMapKey(txid, index);
  invariant(!w.createdHere.has(k), `output ${outpointString(txid, index)} created twice in one anchor`);
  w.createdHere.set(k, entry);
  w.diff.created.push({ txid, index, entry });
  w.acc.addUtxo(txid, index, entry);
}

function applyMint(w: Working, position: number, mint: MintTx): void {
  const sh = w.sharding;
  if (sh) {
    // The mint chain lives on shard 0, and its rewards stay there until mature (SPEC_SHARDING §9).
    const lockShard = shardOfLock(mint.recipient, sh.shardCount);
    if (sh.shard !== 0 || lockShard !== 0) {
      const why = sh.shard !== 0 ? `mints are applied on shard 0 only, this is shard ${sh.shard}` : `the mint's reward lock is on shard ${lockShard}, a mint pays a lock of shard 0`;
      return voidTx(w, position, "mint", powHashOf(encodeMintTx(mint)), "MINT_WRONG_SHARD", why);
    }
  }
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

/**
 * An import claim (SPEC_SHARDING §8) against the store's imported set and certified roots
 * and those of earlier claims of this anchor: accepted, it creates UTXO (export_id, 0);
 * refused, it is void with its IMPORT_* / SHARD_CERT_* / CODEC_* code.
 */
function applyImport(store: LedgerStore, w: Working, position: number, claim: ImportClaim): void {
  const sh = w.sharding;
  invariant(sh !== undefined, "import claims reach only a sharded ledger");
  const p: CrossShardParams = { chain: sh.chain, layout: sh.layout, shard: sh.shard, rootInterval: sh.rootInterval, ...(w.params.verify ? { verify: w.params.verify } : {}) };
  let accepted;
  try {
    accepted = checkImportClaim(claim, p, {
      certifiedRoot: (shard, epoch) => w.rootsHere.get(`${shard}:${epoch}`) ?? store.certifiedRoot(shard, epoch),
      isImported: (id) => w.importedHere.has(outpointMapKey(id, 0)) || store.isImported(id),
    });
  } catch (e) {
    // ShardError (a lock of the wrong size) and CodecError reach here only from constructed claim objects, never decoded ones.
    if (!(e instanceof ImportError || e instanceof ShardCertError || e instanceof CodecError || e instanceof ShardError)) throw e;
    return voidTx(w, position, "import", claimExportId(claim), e.code, e.message);
  }
  w.importedHere.add(outpointMapKey(accepted.exportId, 0));
  w.rootsHere.set(`${accepted.sourceShard}:${accepted.epoch}`, accepted.rootDigest);
  createOutput(w, accepted.exportId, 0, { amount: accepted.output.amount, lockCommitment: accepted.output.lockCommitment, createdAt: w.anchorIndex, coinbase: false });
  w.diff.imports.push(accepted);
  w.diff.outcomes.push({ position, kind: "import", id: accepted.exportId, applied: true, amountUnits: accepted.output.amount });
}

/** The export id a claim names; all zero for a leaf object with no canonical encoding (never one decoded from bytes). */
function claimExportId(claim: ImportClaim): Uint8Array {
  try {
    return exportId(claim.leaf);
  } catch (e) {
    if (!(e instanceof CodecError)) throw e;
    return ZERO_ID;
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
