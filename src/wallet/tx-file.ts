/**
 * The transaction file that carries a tx between machines for offline signing
 * (docs/OPERATIONS.md §11, "phantom-tx" version 1, JSON):
 *
 *   { "format": "phantom-tx", "version": 1, "txid": hex, "feeUnits": "…",
 *     "inputs":  [{ "txid": hex, "index": n, "amountUnits": "…", "lock": "<lock text>",
 *                   "signatures": { "<public key hex>": "<signature hex>" }, "preimages": [hex] }],
 *     "outputs": [{ "address": "pc1…", "amountUnits": "…" }] }
 *
 * The txid covers inputs and outputs only, so each signer adds signatures over it
 * independently (a 2-of-3 multisig passes the file to two signers) and the witnesses
 * are assembled at broadcast. Reading checks everything it can without the chain:
 * the txid, the fee, every signature. Input amounts and locks are the builder's
 * claim: the chain holds only lock commitments and a signer cannot see them.
 */
import { PhantomError } from "../errors.ts";
import { fromHex, toHex, equalBytes } from "../crypto/bytes.ts";
import { blake3_32 } from "../crypto/hash.ts";
import { sign, verify, type Ed25519KeyPair } from "../crypto/ed25519.ts";
import { digestMicroTx, type MicroTx, type Outpoint, type Output } from "../types/tx.ts";
import type { Lock, Witness } from "../types/lock.ts";
import { MAX_SUPPLY_UNITS, TX_INPUTS_MAX, TX_OUTPUTS_MAX } from "../types/constants.ts";
import { decodeAddress, encodeAddress } from "./address.ts";
import { formatLockSpec, parseLockSpec } from "./lock-spec.ts";

export type TxFileErrorCode = "WALLET_TX_FILE_INVALID" | "WALLET_TX_INCOMPLETE";
export class TxFileError extends PhantomError<TxFileErrorCode> {}

export const TX_FILE_FORMAT = "phantom-tx";
export const TX_FILE_VERSION = 1;
/** A full tx file (256 inputs with 16 signatures each) stays far below this. */
export const txFileBytesMax = 4 * 1024 * 1024;

export interface TxFileInput {
  outpoint: Outpoint;
  amount: bigint;
  lock: Lock;
  /** Signatures over the txid, by public key hex. */
  signatures: Map<string, Uint8Array>;
  preimages: Uint8Array[];
}

export interface TxFile {
  txid: Uint8Array;
  inputs: TxFileInput[];
  outputs: Output[];
  fee: bigint;
}

function invalid(message: string): never {
  throw new TxFileError("WALLET_TX_FILE_INVALID", `tx file: ${message}`);
}

/** A new unsigned tx file; the fee is what the inputs hold beyond the outputs. */
export function newTxFile(inputs: { outpoint: Outpoint; amount: bigint; lock: Lock }[], outputs: Output[]): TxFile {
  const fee = inputs.reduce((s, i) => s + i.amount, 0n) - outputs.reduce((s, o) => s + o.amount, 0n);
  if (fee < 0n) invalid("outputs exceed inputs");
  const txid = digestMicroTx({ inputs: inputs.map((i) => i.outpoint), outputs });
  return { txid, fee, outputs, inputs: inputs.map((i) => ({ ...i, signatures: new Map(), preimages: [] })) };
}

export function txFileToJson(f: TxFile): string {
  return JSON.stringify({
    format: TX_FILE_FORMAT, version: TX_FILE_VERSION, txid: toHex(f.txid), feeUnits: f.fee.toString(),
    inputs: f.inputs.map((i) => ({
      txid: toHex(i.outpoint.txid), index: i.outpoint.index, amountUnits: i.amount.toString(), lock: formatLockSpec(i.lock),
      signatures: Object.fromEntries([...i.signatures].sort(([a], [b]) => (a < b ? -1 : 1)).map(([pk, s]) => [pk, toHex(s)])),
      preimages: i.preimages.map(toHex),
    })),
    outputs: f.outputs.map((o) => ({ address: encodeAddress(o.lockCommitment), amountUnits: o.amount.toString() })),
  }, null, 2) + "\n";
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
function units(v: unknown, what: string): bigint {
  if (typeof v !== "string" || !/^\d{1,20}$/.test(v)) invalid(`${what} must be a decimal string of units`);
  const n = BigInt(v);
  if (n > MAX_SUPPLY_UNITS) invalid(`${what} exceeds the supply cap`);
  return n;
}
function hex(v: unknown, bytes: number | undefined, what: string): Uint8Array {
  if (typeof v !== "string" || !/^([0-9a-f]{2})*$/.test(v) || (bytes !== undefined && v.length !== bytes * 2)) invalid(`${what} must be ${bytes ?? "some"} bytes of lowercase hex`);
  return fromHex(v, bytes);
}

function parseInput(v: unknown, n: number): TxFileInput {
  if (!isObject(v)) invalid(`inputs[${n}] is not an object`);
  if (!Number.isSafeInteger(v.index) || (v.index as number) < 0 || (v.index as number) > 0xffff_ffff) invalid(`inputs[${n}].index must be 0..2^32-1`);
  if (typeof v.lock !== "string") invalid(`inputs[${n}].lock must be lock text`);
  if (!isObject(v.signatures) || !Array.isArray(v.preimages)) invalid(`inputs[${n}] needs signatures {} and preimages []`);
  const signatures = new Map<string, Uint8Array>();
  for (const [pk, sig] of Object.entries(v.signatures)) signatures.set(toHex(hex(pk, 32, `inputs[${n}] signer key`)), hex(sig, 64, `inputs[${n}] signature`));
  return {
    outpoint: { txid: hex(v.txid, 32, `inputs[${n}].txid`), index: v.index as number }, amount: units(v.amountUnits, `inputs[${n}].amountUnits`),
    lock: parseLockSpec(v.lock), signatures, preimages: v.preimages.map((p, j) => hex(p, undefined, `inputs[${n}].preimages[${j}]`)),
  };
}

/** Parses and checks a tx file: shape, txid, fee and every signature. */
export function parseTxFile(text: string): TxFile {
  if (text.length > txFileBytesMax) invalid(`larger than ${txFileBytesMax} bytes`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    invalid(`not JSON (${(e as Error).message})`);
  }
  if (!isObject(v) || v.format !== TX_FILE_FORMAT) invalid(`not a "${TX_FILE_FORMAT}" file`);
  if (v.version !== TX_FILE_VERSION) invalid(`version ${String(v.version)} is not supported (this phantom reads ${TX_FILE_VERSION})`);
  if (!Array.isArray(v.inputs) || !Array.isArray(v.outputs) || v.inputs.length < 1 || v.inputs.length > TX_INPUTS_MAX || v.outputs.length < 1 || v.outputs.length > TX_OUTPUTS_MAX) {
    invalid(`needs 1..${TX_INPUTS_MAX} inputs and 1..${TX_OUTPUTS_MAX} outputs`);
  }
  const inputs = v.inputs.map(parseInput);
  const outputs = v.outputs.map((o: unknown, n: number): Output => {
    if (!isObject(o) || typeof o.address !== "string") invalid(`outputs[${n}] needs an address`);
    let lockCommitment: Uint8Array;
    try {
      lockCommitment = decodeAddress(o.address);
    } catch (e) {
      invalid(`outputs[${n}].address: ${(e as Error).message}`);
    }
    return { amount: units(o.amountUnits, `outputs[${n}].amountUnits`), lockCommitment };
  });
  const f = newTxFile(inputs, outputs);
  if (toHex(f.txid) !== v.txid) invalid(`txid ${String(v.txid)} does not match its inputs and outputs (${toHex(f.txid)})`);
  if (f.fee !== units(v.feeUnits, "feeUnits")) invalid(`feeUnits ${String(v.feeUnits)} is not inputs minus outputs (${f.fee})`);
  inputs.forEach((input, n) => {
    for (const [pk, sig] of input.signatures) if (!verify(sig, f.txid, fromHex(pk, 32))) invalid(`inputs[${n}] carries a signature by ${pk.slice(0, 16)}… that does not verify`);
  });
  return { ...f, inputs };
}

/** Public keys anywhere in a lock. */
function lockKeys(lock: Lock, out: Uint8Array[] = []): Uint8Array[] {
  if (lock.kind === "sig") out.push(lock.publicKey);
  else if (lock.kind === "multisig") out.push(...lock.publicKeys);
  else if (lock.kind === "and" || lock.kind === "or") {
    lockKeys(lock.left, out);
    lockKeys(lock.right, out);
  }
  return out;
}

function lockDigests(lock: Lock, out: Uint8Array[] = []): Uint8Array[] {
  if (lock.kind === "hashlock") out.push(lock.digest);
  else if (lock.kind === "and" || lock.kind === "or") {
    lockDigests(lock.left, out);
    lockDigests(lock.right, out);
  }
  return out;
}

/**
 * Adds what `keyPairs` and `preimages` contribute: a signature over the txid for every
 * lock key held, a preimage for every hash lock it opens. Needs no network. Returns
 * how many signatures and preimages were added.
 */
export function signTxFile(f: TxFile, keyPairs: readonly Ed25519KeyPair[], preimages: readonly Uint8Array[]): { signatures: number; preimages: number } {
  const added = { signatures: 0, preimages: 0 };
  for (const input of f.inputs) {
    for (const pk of lockKeys(input.lock)) {
      const keyPair = keyPairs.find((k) => equalBytes(k.publicKey, pk));
      const id = toHex(pk);
      if (!keyPair || input.signatures.has(id)) continue;
      input.signatures.set(id, sign(keyPair.secretKey, f.txid));
      added.signatures++;
    }
    for (const digest of lockDigests(input.lock)) {
      const p = preimages.find((x) => equalBytes(blake3_32(x), digest));
      if (!p || input.preimages.some((x) => equalBytes(x, p))) continue;
      input.preimages.push(p);
      added.preimages++;
    }
  }
  return added;
}

/**
 * The witness for `lock` from what the input carries, or undefined. `anchorIndex`:
 * the index the spend will be judged at, or undefined to treat every timelock as
 * open (the node then judges). An Or takes the left branch when it can.
 */
export function assembleWitness(lock: Lock, input: Pick<TxFileInput, "signatures" | "preimages">, anchorIndex: bigint | undefined): Witness | undefined {
  switch (lock.kind) {
    case "sig": {
      const signature = input.signatures.get(toHex(lock.publicKey));
      return signature && { kind: "sig", signature };
    }
    case "multisig": {
      const signatures: { index: number; signature: Uint8Array }[] = [];
      lock.publicKeys.forEach((pk, index) => {
        const signature = input.signatures.get(toHex(pk));
        if (signature && signatures.length < lock.m) signatures.push({ index, signature });
      });
      return signatures.length === lock.m ? { kind: "multisig", signatures } : undefined;
    }
    case "hashlock": {
      const preimage = input.preimages.find((p) => equalBytes(blake3_32(p), lock.digest));
      return preimage && { kind: "hashlock", preimage };
    }
    case "after":
      return anchorIndex === undefined || anchorIndex >= lock.anchorIndex ? { kind: "after" } : undefined;
    case "and": {
      const left = assembleWitness(lock.left, input, anchorIndex);
      const right = left && assembleWitness(lock.right, input, anchorIndex);
      return left && right && { kind: "and", left, right };
    }
    case "or": {
      const left = assembleWitness(lock.left, input, anchorIndex);
      if (left) return { kind: "or", branch: 0, witness: left };
      const right = assembleWitness(lock.right, input, anchorIndex);
      return right && { kind: "or", branch: 1, witness: right };
    }
  }
}

/** Inputs whose witness cannot be assembled yet (missing signatures or preimages). */
export function incompleteInputs(f: TxFile): number[] {
  return f.inputs.flatMap((input, n) => (assembleWitness(input.lock, input, undefined) ? [] : [n]));
}

/**
 * The signed MicroTx. Timelocks open at `anchorIndex` are preferred; when only a
 * closed one would do, the tx is still built and the node refuses it (TX_TIMELOCK).
 */
export function finishTx(f: TxFile, anchorIndex: bigint | undefined): MicroTx {
  const witnesses = f.inputs.map((input, n) => {
    const witness = assembleWitness(input.lock, input, anchorIndex) ?? assembleWitness(input.lock, input, undefined);
    if (!witness) throw new TxFileError("WALLET_TX_INCOMPLETE", `input ${n} (lock ${formatLockSpec(input.lock).slice(0, 60)}…) lacks signatures or a preimage; sign the file with the missing keys (phantom wallet sign)`);
    return { lock: input.lock, witness };
  });
  return { inputs: f.inputs.map((i) => i.outpoint), outputs: f.outputs, witnesses };
}
