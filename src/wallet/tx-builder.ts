/**
 * Building and signing MicroTxs for every Lock v0 predicate. A spend names the
 * outpoint, the Lock behind it and a `Solution` that mirrors the Lock's shape and
 * says how to satisfy it (which keys sign, which preimage, which Or branch). The
 * txid (digest_microtx) covers inputs and outputs only, so it is computed first and
 * every signature signs it.
 */
import { sign, type Ed25519KeyPair } from "../crypto/ed25519.ts";
import { blake3_32 } from "../crypto/hash.ts";
import { PhantomError } from "../errors.ts";
import { lockCommitment, type Lock, type Witness } from "../types/lock.ts";
import { digestMicroTx, type MicroTx, type Outpoint, type Output } from "../types/tx.ts";

/** How to satisfy a Lock; same tree shape as the Lock. */
export type Solution =
  | { kind: "sig"; keyPair: Ed25519KeyPair }
  | { kind: "multisig"; signers: { index: number; keyPair: Ed25519KeyPair }[] }
  | { kind: "hashlock"; preimage: Uint8Array }
  | { kind: "after" }
  | { kind: "and"; left: Solution; right: Solution }
  | { kind: "or"; branch: 0 | 1; solution: Solution };

export interface SpendInput {
  outpoint: Outpoint;
  lock: Lock;
  solution: Solution;
}

export interface TxPlan {
  inputs: SpendInput[];
  outputs: Output[];
}

// Lock constructors -------------------------------------------------------------

export const sigLock = (publicKey: Uint8Array): Lock => ({ kind: "sig", publicKey });
export const multisigLock = (m: number, publicKeys: Uint8Array[]): Lock => ({ kind: "multisig", m, publicKeys });
export const hashLock = (preimage: Uint8Array): Lock => ({ kind: "hashlock", digest: blake3_32(preimage) });
export const afterLock = (anchorIndex: bigint): Lock => ({ kind: "after", anchorIndex });
export const andLock = (left: Lock, right: Lock): Lock => ({ kind: "and", left, right });
export const orLock = (left: Lock, right: Lock): Lock => ({ kind: "or", left, right });

/** An output paying `amount` units to `lock`. */
export const payTo = (lock: Lock, amount: bigint): Output => ({ amount, lockCommitment: lockCommitment(lock) });

// Solution constructors ---------------------------------------------------------

export const sigSolution = (keyPair: Ed25519KeyPair): Solution => ({ kind: "sig", keyPair });
export const multisigSolution = (signers: { index: number; keyPair: Ed25519KeyPair }[]): Solution => ({ kind: "multisig", signers });
export const hashSolution = (preimage: Uint8Array): Solution => ({ kind: "hashlock", preimage });
export const afterSolution = (): Solution => ({ kind: "after" });
export const andSolution = (left: Solution, right: Solution): Solution => ({ kind: "and", left, right });
export const orSolution = (branch: 0 | 1, solution: Solution): Solution => ({ kind: "or", branch, solution });

/** Produces the witness for one input by signing `txid` where the solution asks. */
export function solve(solution: Solution, txid: Uint8Array): Witness {
  switch (solution.kind) {
    case "sig":
      return { kind: "sig", signature: sign(solution.keyPair.secretKey, txid) };
    case "multisig": {
      const signers = [...solution.signers].sort((a, b) => a.index - b.index);
      return { kind: "multisig", signatures: signers.map((s) => ({ index: s.index, signature: sign(s.keyPair.secretKey, txid) })) };
    }
    case "hashlock":
      return { kind: "hashlock", preimage: solution.preimage };
    case "after":
      return { kind: "after" };
    case "and":
      return { kind: "and", left: solve(solution.left, txid), right: solve(solution.right, txid) };
    case "or":
      return { kind: "or", branch: solution.branch, witness: solve(solution.solution, txid) };
  }
}

/** Builds and signs a MicroTx. Validity is the ledger's call (validate.ts), not the builder's. */
export function buildMicroTx(plan: TxPlan): MicroTx {
  if (plan.inputs.length === 0 || plan.outputs.length === 0) throw new PhantomError("WALLET_EMPTY_TX", "a tx needs at least one input and one output");
  const inputs = plan.inputs.map((i) => ({ txid: i.outpoint.txid, index: i.outpoint.index }));
  const outputs = plan.outputs.map((o) => ({ amount: o.amount, lockCommitment: o.lockCommitment }));
  const txid = digestMicroTx({ inputs, outputs });
  const witnesses = plan.inputs.map((i) => ({ lock: i.lock, witness: solve(i.solution, txid) }));
  return { inputs, outputs, witnesses };
}

/**
 * The common case: spend Sig(pk) outputs of one key, pay `to`, return the rest
 * minus `fee` to `changeLock` (no change output when the rest is zero).
 */
export function buildTransfer(args: {
  keyPair: Ed25519KeyPair;
  spend: { outpoint: Outpoint; amount: bigint }[];
  to: Output[];
  fee: bigint;
  changeLock?: Lock;
}): MicroTx {
  const lock = sigLock(args.keyPair.publicKey);
  let inTotal = 0n;
  for (const s of args.spend) inTotal += s.amount;
  let outTotal = args.fee;
  for (const o of args.to) outTotal += o.amount;
  if (outTotal > inTotal) throw new PhantomError("WALLET_INSUFFICIENT_FUNDS", `spending ${inTotal} units cannot pay ${outTotal} (outputs + fee)`);
  const outputs = [...args.to];
  if (inTotal > outTotal) outputs.push(payTo(args.changeLock ?? lock, inTotal - outTotal));
  return buildMicroTx({ inputs: args.spend.map((s) => ({ outpoint: s.outpoint, lock, solution: sigSolution(args.keyPair) })), outputs });
}

/** What a wallet can bring to satisfy locks. */
export interface Keyring {
  keyPairs: readonly Ed25519KeyPair[];
  /** Hash-lock preimages the wallet knows. */
  preimages?: readonly Uint8Array[];
  /** Anchor index the spend will be evaluated at (for After). */
  anchorIndex: bigint;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Finds a Solution for `lock` with what `keyring` holds, or undefined. For Or it
 * prefers the left branch; for Multisig it signs with the first m held keys in key
 * order.
 */
export function autoSolve(lock: Lock, keyring: Keyring): Solution | undefined {
  const keyFor = (pk: Uint8Array) => keyring.keyPairs.find((k) => equal(k.publicKey, pk));
  switch (lock.kind) {
    case "sig": {
      const keyPair = keyFor(lock.publicKey);
      return keyPair && sigSolution(keyPair);
    }
    case "multisig": {
      const signers: { index: number; keyPair: Ed25519KeyPair }[] = [];
      lock.publicKeys.forEach((pk, index) => {
        const keyPair = keyFor(pk);
        if (keyPair && signers.length < lock.m) signers.push({ index, keyPair });
      });
      return signers.length === lock.m ? multisigSolution(signers) : undefined;
    }
    case "hashlock": {
      const preimage = keyring.preimages?.find((p) => equal(blake3_32(p), lock.digest));
      return preimage && hashSolution(preimage);
    }
    case "after":
      return keyring.anchorIndex >= lock.anchorIndex ? afterSolution() : undefined;
    case "and": {
      const left = autoSolve(lock.left, keyring);
      const right = left && autoSolve(lock.right, keyring);
      return left && right && andSolution(left, right);
    }
    case "or": {
      const left = autoSolve(lock.left, keyring);
      if (left) return orSolution(0, left);
      const right = autoSolve(lock.right, keyring);
      return right && orSolution(1, right);
    }
  }
}
