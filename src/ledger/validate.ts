/**
 * MicroTx validity (docs/SPEC_TX.md). Three layers:
 *  - `checkMicroTxStateless`: everything decidable from the tx alone;
 *  - `checkMicroTxStateful`: inputs against a UTXO view and a context (anchor index),
 *    returning the fee and the signature checks still to run;
 *  - `validateMicroTxBatch`: both, for many txs, with ONE `verifyBatch` call.
 * Signatures sign the txid (digest_microtx), which excludes witnesses.
 */
import { verifyBatch } from "../crypto/ed25519.ts";
import { equalBytes, toHex } from "../crypto/bytes.ts";
import { isPhantomError } from "../errors.ts";
import { lockCommitment } from "../types/lock.ts";
import { type MicroTx, encodeMicroTx, digestMicroTx } from "../types/tx.ts";
import { MAX_SUPPLY_UNITS, TX_INPUTS_MAX, TX_OUTPUTS_MAX, HASH_BYTES } from "../types/constants.ts";
import { TxRejected, checkPredicateShape, collectPredicate, type SigCheck, type TxRejectCode } from "./predicates.ts";

export { TxRejected, TX_REJECT_CODES, type SigCheck, type TxRejectCode } from "./predicates.ts";

/** Smallest output amount in units: smaller outputs cost more to track than they are worth. */
export const DUST_LIMIT_UNITS = 1_000n;
/** Largest canonical encoding of one MicroTx (witnesses included), in bytes. */
export const TX_BYTES_MAX = 65_536;

export interface UtxoEntry {
  amount: bigint;
  lockCommitment: Uint8Array;
  /** Anchor index of the finalized event that created the output. */
  createdAt: bigint;
  /** Created by a MintTx: spendable only after `maturityAnchors` anchors. */
  coinbase: boolean;
}

export interface UtxoReader {
  getUtxo(txid: Uint8Array, index: number): UtxoEntry | undefined;
}

export interface ValidationContext {
  /** Anchor index the tx is evaluated at (the including anchor; for admission, the next one). */
  anchorIndex: bigint;
  /** Anchors a coinbase output waits: spendable when anchorIndex >= createdAt + maturityAnchors. */
  maturityAnchors: bigint;
  /** Batch signature check with exactly `verifyBatch`'s answers (default); the node passes its SignatureCache. */
  verify?: (items: readonly SigCheck[]) => boolean[];
}

export type BatchResult = { ok: true; fee: bigint } | { ok: false; error: TxRejected };

function fail(code: TxRejectCode, message: string, details?: Record<string, unknown>): never {
  throw new TxRejected(code, message, details);
}

function checkCounts(tx: MicroTx): void {
  if (tx.inputs.length === 0) fail("TX_NO_INPUTS", "a tx spends at least one input");
  if (tx.outputs.length === 0) fail("TX_NO_OUTPUTS", "a tx creates at least one output");
  if (tx.inputs.length > TX_INPUTS_MAX) fail("TX_TOO_MANY_INPUTS", `more than ${TX_INPUTS_MAX} inputs`);
  if (tx.outputs.length > TX_OUTPUTS_MAX) fail("TX_TOO_MANY_OUTPUTS", `more than ${TX_OUTPUTS_MAX} outputs`);
  if (tx.witnesses.length !== tx.inputs.length) fail("TX_WITNESS_COUNT", `${tx.inputs.length} inputs but ${tx.witnesses.length} witnesses`);
}

/** Inputs compared pairwise up to this count, through a Set above it. */
const PAIRWISE_INPUTS_MAX = 8;

function checkInputsDistinct(tx: MicroTx): void {
  const inputs = tx.inputs;
  inputs.forEach((input, i) => {
    if (input.txid.length !== HASH_BYTES || !Number.isInteger(input.index) || input.index < 0 || input.index > 0xffffffff) {
      fail("TX_MALFORMED", `input ${i}: outpoint is not (32-byte txid, u32 index)`, { input: i });
    }
  });
  const duplicate = (i: number): never => fail("TX_DUPLICATE_INPUT", `input ${i} spends ${toHex(inputs[i]!.txid)}:${inputs[i]!.index} twice`, { input: i });
  if (inputs.length <= PAIRWISE_INPUTS_MAX) {
    for (let i = 1; i < inputs.length; i++) {
      for (let j = 0; j < i; j++) if (inputs[i]!.index === inputs[j]!.index && equalBytes(inputs[i]!.txid, inputs[j]!.txid)) duplicate(i);
    }
    return;
  }
  const seen = new Set<string>();
  inputs.forEach((input, i) => {
    const key = `${toHex(input.txid)}:${input.index}`;
    if (seen.has(key)) duplicate(i);
    seen.add(key);
  });
}

function checkOutputs(tx: MicroTx): void {
  let total = 0n;
  tx.outputs.forEach((o, i) => {
    if (typeof o.amount !== "bigint" || o.lockCommitment.length !== HASH_BYTES) fail("TX_MALFORMED", `output ${i}: not (u64 amount, 32-byte lock commitment)`, { output: i });
    if (o.amount < 0n || o.amount > MAX_SUPPLY_UNITS) fail("TX_AMOUNT_RANGE", `output ${i}: amount ${o.amount} outside 0..supply cap`, { output: i });
    if (o.amount < DUST_LIMIT_UNITS) fail("TX_DUST", `output ${i}: amount ${o.amount} below the dust limit ${DUST_LIMIT_UNITS}`, { output: i });
    total += o.amount;
  });
  if (total > MAX_SUPPLY_UNITS) fail("TX_AMOUNT_RANGE", `outputs sum to ${total}, above the supply cap`);
}

/** Canonical encoded size; an unencodable tx is malformed. */
export function microTxEncodedBytes(tx: MicroTx): number {
  try {
    return encodeMicroTx(tx).length;
  } catch (e) {
    if (isPhantomError(e)) fail("TX_MALFORMED", `tx has no canonical encoding: ${e.message}`);
    throw e;
  }
}

/**
 * Rules that need only the tx. `encodedBytes` may be passed when the caller already
 * holds the canonical encoding (e.g. decoded from the wire) to skip re-encoding.
 */
export function checkMicroTxStateless(tx: MicroTx, encodedBytes?: number): void {
  checkCounts(tx);
  checkInputsDistinct(tx);
  checkOutputs(tx);
  for (let i = 0; i < tx.witnesses.length; i++) checkPredicateShape(tx.witnesses[i]!.lock, tx.witnesses[i]!.witness, i);
  const size = encodedBytes ?? microTxEncodedBytes(tx);
  if (size > TX_BYTES_MAX) fail("TX_TOO_LARGE", `tx encodes to ${size} bytes, limit ${TX_BYTES_MAX}`);
}

/**
 * Rules against the UTXO view and context. Assumes `checkMicroTxStateless` passed.
 * Returns the fee and the signature checks (NOT verified here). `txid` may be passed
 * when already computed.
 */
export function checkMicroTxStateful(view: UtxoReader, tx: MicroTx, ctx: ValidationContext, txid?: Uint8Array): { fee: bigint; sigChecks: SigCheck[] } {
  const message = txid ?? digestMicroTx(tx);
  const sigChecks: SigCheck[] = [];
  let inputTotal = 0n;
  for (let i = 0; i < tx.inputs.length; i++) {
    const { txid: prev, index } = tx.inputs[i]!;
    const entry = view.getUtxo(prev, index);
    if (entry === undefined) fail("TX_MISSING_INPUT", `input ${i}: ${toHex(prev)}:${index} is not an unspent output`, { input: i });
    const { lock, witness } = tx.witnesses[i]!;
    if (!equalBytes(lockCommitment(lock), entry.lockCommitment)) fail("TX_LOCK_MISMATCH", `input ${i}: revealed lock does not hash to the output's lock commitment`, { input: i });
    if (entry.coinbase && ctx.anchorIndex < entry.createdAt + ctx.maturityAnchors) {
      fail("TX_IMMATURE", `input ${i}: mint output created at anchor ${entry.createdAt} matures at ${entry.createdAt + ctx.maturityAnchors}, now ${ctx.anchorIndex}`, { input: i });
    }
    collectPredicate(lock, witness, { message, anchorIndex: ctx.anchorIndex }, sigChecks, i);
    inputTotal += entry.amount;
  }
  if (inputTotal > MAX_SUPPLY_UNITS) fail("TX_AMOUNT_RANGE", `inputs sum to ${inputTotal}, above the supply cap`);
  let outputTotal = 0n;
  for (const o of tx.outputs) outputTotal += o.amount;
  if (outputTotal > inputTotal) fail("TX_OUTPUTS_EXCEED_INPUTS", `outputs ${outputTotal} exceed inputs ${inputTotal}`);
  return { fee: inputTotal - outputTotal, sigChecks };
}

export interface PreparedTx {
  tx: MicroTx;
  txid: Uint8Array;
  /** Canonical encoded size, when known. */
  encodedBytes?: number;
}

/**
 * Validates `prepared` txs (txid and size precomputed) with one `verifyBatch` call
 * over every signature of every tx that passed the other rules. Conflicts between
 * txs of the batch are NOT detected (each is checked against `view` alone).
 */
export function validatePreparedBatch(view: UtxoReader, prepared: readonly PreparedTx[], ctx: ValidationContext): BatchResult[] {
  const results: BatchResult[] = new Array(prepared.length);
  const checks: SigCheck[] = [];
  const owner: number[] = [];
  const fees: bigint[] = new Array(prepared.length);
  for (let t = 0; t < prepared.length; t++) {
    const p = prepared[t]!;
    try {
      checkMicroTxStateless(p.tx, p.encodedBytes);
      const { fee, sigChecks } = checkMicroTxStateful(view, p.tx, ctx, p.txid);
      fees[t] = fee;
      for (const c of sigChecks) {
        checks.push(c);
        owner.push(t);
      }
    } catch (e) {
      if (!(e instanceof TxRejected)) throw e;
      results[t] = { ok: false, error: e };
    }
  }
  const valid = (ctx.verify ?? verifyBatch)(checks);
  for (let i = 0; i < valid.length; i++) {
    const t = owner[i]!;
    if (!valid[i] && results[t] === undefined) {
      const input = checks[i]!.input;
      results[t] = { ok: false, error: new TxRejected("TX_BAD_SIGNATURE", `input ${input}: invalid signature over the txid`, { input }) };
    }
  }
  for (let t = 0; t < prepared.length; t++) if (results[t] === undefined) results[t] = { ok: true, fee: fees[t]! };
  return results;
}

/** `validatePreparedBatch` for plain txs (computes each txid). */
export function validateMicroTxBatch(view: UtxoReader, txs: MicroTx[], ctx: ValidationContext): BatchResult[] {
  const results: BatchResult[] = new Array(txs.length);
  const prepared: PreparedTx[] = [];
  const slot: number[] = [];
  txs.forEach((tx, i) => {
    try {
      prepared.push({ tx, txid: digestMicroTx(tx) });
      slot.push(i);
    } catch (e) {
      // The unsigned part has no canonical encoding, so there is no txid to sign.
      if (!isPhantomError(e)) throw e;
      results[i] = { ok: false, error: new TxRejected("TX_MALFORMED", `tx has no canonical encoding: ${e.message}`) };
    }
  });
  validatePreparedBatch(view, prepared, ctx).forEach((r, k) => (results[slot[k]!] = r));
  return results;
}
