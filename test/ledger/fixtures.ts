/** Shared helpers of the ledger and store tests: keys, params, real PoW, signed transfers. */
import { sign, verify, blake3_32, leadingZeroBits, type Ed25519KeyPair } from "../../src/crypto/index.ts";
import type { EmissionParams } from "../../src/genesis/genesis.ts";
import { encodeMintTx, MINT_NONCE_OFFSET, type MintTx } from "../../src/types/mint.ts";
import { type Lock, type Witness, lockCommitment } from "../../src/types/lock.ts";
import { type MicroTx, type Outpoint, type Output, digestMicroTx } from "../../src/types/tx.ts";
import type { LedgerParams } from "../../src/ledger/apply.ts";
import { outpointString, type MintTip } from "../../src/ledger/state.ts";
import { checkMicroTxStateless, checkMicroTxStateful, TxRejected, type UtxoEntry } from "../../src/ledger/validate.ts";
import { MAX_SUPPLY_UNITS } from "../../src/types/constants.ts";
import { key } from "./validate-fixtures.ts";

/** Low-difficulty emission for tests: small windows, fast maturity. */
export const testEmission: EmissionParams = {
  initialRewardUnits: 5_000_000_000n,
  halvingIntervalMints: 1_000n,
  initialTargetBits: 4,
  retargetWindowMints: 4,
  targetAnchorsPerMint: 4n,
  retargetStepBitsMax: 2,
  minTargetBits: 2,
  maxTargetBits: 10,
  maturityAnchors: 3n,
};

export { key };

export const committee: Ed25519KeyPair[] = [0, 1, 2, 3].map((i) => key(1000 + i));

export function testParams(emission: EmissionParams = testEmission): LedgerParams {
  return { emission, committee: committee.map((k) => k.publicKey), evidenceRules: { shardCount: 1, parentsMax: 4 } };
}

export const sigLock = (k: Ed25519KeyPair): Lock => ({ kind: "sig", publicKey: k.publicKey });

/** Finds a nonce by a plain JS loop (real PoW at a low target). */
export function mineMint(tip: MintTip, recipient: Uint8Array, startNonce = 0n): MintTx {
  const mint: MintTx = { prevMint: tip.tipId, height: tip.nextHeight, targetBits: tip.targetBits, recipient, nonce: startNonce };
  const header = encodeMintTx(mint);
  const view = new DataView(header.buffer);
  for (let nonce = startNonce; nonce < startNonce + 1_000_000n; nonce++) {
    view.setBigUint64(MINT_NONCE_OFFSET, nonce, true);
    if (leadingZeroBits(blake3_32(header)) >= tip.targetBits) return { ...mint, nonce };
  }
  throw new Error("no nonce found in 1,000,000 tries");
}

/** A mint with too little work (for rejection tests). */
export function weakMint(tip: MintTip, recipient: Uint8Array): MintTx {
  const mint: MintTx = { prevMint: tip.tipId, height: tip.nextHeight, targetBits: tip.targetBits, recipient, nonce: 0n };
  const header = encodeMintTx(mint);
  const view = new DataView(header.buffer);
  for (let nonce = 0n; ; nonce++) {
    view.setBigUint64(MINT_NONCE_OFFSET, nonce, true);
    if (leadingZeroBits(blake3_32(header)) < tip.targetBits) return { ...mint, nonce };
  }
}

export interface Spend {
  outpoint: Outpoint;
  lock: Lock;
  /** Builds the witness once the txid (the signed message) is known. */
  witness: (txid: Uint8Array) => Witness;
}

export function buildTx(spends: Spend[], outputs: Output[]): MicroTx {
  const inputs = spends.map((s) => s.outpoint);
  const txid = digestMicroTx({ inputs, outputs });
  return { inputs, outputs, witnesses: spends.map((s) => ({ lock: s.lock, witness: s.witness(txid) })) };
}

export const sigSpend = (outpoint: Outpoint, k: Ed25519KeyPair): Spend => ({
  outpoint, lock: sigLock(k), witness: (txid) => ({ kind: "sig", signature: sign(k.secretKey, txid) }),
});

export const out = (amount: bigint, lock: Lock): Output => ({ amount, lockCommitment: lockCommitment(lock) });

/** Deterministic PRNG (splitmix32) for generated streams. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
}

export { MAX_SUPPLY_UNITS };

/** The naive reference model's UTXO set, keyed by outpointString. */
export type ModelUtxos = Map<string, { txid: Uint8Array; index: number; entry: UtxoEntry }>;

/**
 * Reference model for the batched ledger: validates one MicroTx against `utxos` on its
 * own (single verify calls) and, if valid, spends its inputs and adds its outputs.
 */
export function applyMicroTxNaively(utxos: ModelUtxos, anchor: bigint, maturityAnchors: bigint, tx: MicroTx): boolean {
  const view = { getUtxo: (txid: Uint8Array, index: number) => utxos.get(outpointString(txid, index))?.entry };
  try {
    checkMicroTxStateless(tx);
    const { sigChecks } = checkMicroTxStateful(view, tx, { anchorIndex: anchor, maturityAnchors });
    if (!sigChecks.every((c) => verify(c.signature, c.message, c.publicKey))) return false;
  } catch (e) {
    if (e instanceof TxRejected) return false;
    throw e;
  }
  const txid = digestMicroTx(tx);
  for (const i of tx.inputs) utxos.delete(outpointString(i.txid, i.index));
  tx.outputs.forEach((o, index) => utxos.set(outpointString(txid, index), { txid, index, entry: { amount: o.amount, lockCommitment: o.lockCommitment, createdAt: anchor, coinbase: false } }));
  return true;
}
