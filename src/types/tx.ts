/**
 * MicroTx: spends outpoints, creates outputs `(amount, lock_commitment)`.
 * `digest_microtx()` (the txid) hashes the transaction without its witnesses, so a
 * signature over the txid cannot cover itself.
 */
import { Writer, Reader, decodeExact, CodecError } from "../codec/index.ts";
import { blake3_32 } from "../crypto/hash.ts";
import { TAG, CODEC_VERSION, HASH_BYTES, TX_INPUTS_MAX, TX_OUTPUTS_MAX, MAX_SUPPLY_UNITS } from "./constants.ts";
import { type Lock, type Witness, writeLock, readLock, writeWitness, readWitness } from "./lock.ts";

export interface Outpoint {
  txid: Uint8Array;
  index: number;
}

export interface Output {
  /** Units (1 PC = 100,000,000 units); never above the supply cap. */
  amount: bigint;
  lockCommitment: Uint8Array;
}

/** Reveals the Lock behind the spent output and the witness that satisfies it. */
export interface InputWitness {
  lock: Lock;
  witness: Witness;
}

export interface MicroTx {
  inputs: Outpoint[];
  outputs: Output[];
  /** One per input, in input order. */
  witnesses: InputWitness[];
}

function writeUnsigned(w: Writer, tx: MicroTx): void {
  w.u8(TAG.microTx).u8(CODEC_VERSION);
  w.list(tx.inputs, TX_INPUTS_MAX, (w, i) => w.fixed(i.txid, HASH_BYTES).u32(i.index));
  w.list(tx.outputs, TX_OUTPUTS_MAX, (w, o) => {
    if (o.amount > MAX_SUPPLY_UNITS) throw new CodecError("CODEC_VALUE_OUT_OF_RANGE", `output amount ${o.amount} exceeds the supply cap`);
    w.u64(o.amount).fixed(o.lockCommitment, HASH_BYTES);
  });
}

export function writeMicroTx(w: Writer, tx: MicroTx): void {
  if (tx.witnesses.length !== tx.inputs.length) {
    throw new CodecError("CODEC_INVALID", `tx has ${tx.inputs.length} inputs but ${tx.witnesses.length} witnesses`);
  }
  writeUnsigned(w, tx);
  for (const iw of tx.witnesses) {
    writeLock(w, iw.lock);
    writeWitness(w, iw.witness);
  }
}

export function readMicroTx(r: Reader): MicroTx {
  r.tag(TAG.microTx, "micro tx");
  r.version(CODEC_VERSION, "micro tx");
  const inputs = r.list(TX_INPUTS_MAX, (r) => ({ txid: r.fixed(HASH_BYTES, "input txid"), index: r.u32("input index") }), "inputs");
  const outputs = r.list(TX_OUTPUTS_MAX, (r) => {
    const amount = r.u64("amount");
    if (amount > MAX_SUPPLY_UNITS) throw new CodecError("CODEC_VALUE_OUT_OF_RANGE", `output amount ${amount} exceeds the supply cap`);
    return { amount, lockCommitment: r.fixed(HASH_BYTES, "lock commitment") };
  }, "outputs");
  const witnesses: InputWitness[] = [];
  for (let i = 0; i < inputs.length; i++) witnesses.push({ lock: readLock(r), witness: readWitness(r) });
  return { inputs, outputs, witnesses };
}

export function encodeMicroTx(tx: MicroTx): Uint8Array {
  const w = new Writer(256);
  writeMicroTx(w, tx);
  return w.finish();
}

export const decodeMicroTx = (bytes: Uint8Array): MicroTx => decodeExact(bytes, "micro tx", readMicroTx);

/** The canonical bytes the txid hashes: the transaction without witnesses. */
export function encodeMicroTxUnsigned(tx: Pick<MicroTx, "inputs" | "outputs">): Uint8Array {
  const w = new Writer(128);
  writeUnsigned(w, { ...tx, witnesses: [] });
  return w.finish();
}

/** digest_microtx(): BLAKE3 of the witness-free encoding; the txid. */
export function digestMicroTx(tx: Pick<MicroTx, "inputs" | "outputs">): Uint8Array {
  return blake3_32(encodeMicroTxUnsigned(tx));
}
