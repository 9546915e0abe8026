/**
 * Lock v0 predicates (docs/SPEC_TX.md "Predicates"). Evaluation is split in two:
 * `checkPredicateShape` needs nothing but the tx (structure, limits, hash locks) and
 * `collectPredicate` needs the validation context (timelocks) and returns the
 * signature checks instead of verifying them, so a whole batch of transactions is
 * verified with one `verifyBatch` call.
 */
import { PhantomError } from "../errors.ts";
import { blake3_32 } from "../crypto/hash.ts";
import { equalBytes } from "../crypto/bytes.ts";
import type { Lock, Witness } from "../types/lock.ts";
import {
  LOCK_DEPTH_MAX, LOCK_NODES_MAX, MULTISIG_KEYS_MAX, HASHLOCK_PREIMAGE_BYTES_MAX, HASH_BYTES, PUBLIC_KEY_BYTES, SIGNATURE_BYTES,
} from "../types/constants.ts";

/** Every reason a MicroTx is invalid; stable strings, listed in docs/SPEC_TX.md. */
export type TxRejectCode =
  | "TX_MALFORMED"
  | "TX_NO_INPUTS"
  | "TX_NO_OUTPUTS"
  | "TX_TOO_MANY_INPUTS"
  | "TX_TOO_MANY_OUTPUTS"
  | "TX_WITNESS_COUNT"
  | "TX_DUPLICATE_INPUT"
  | "TX_AMOUNT_RANGE"
  | "TX_DUST"
  | "TX_TOO_LARGE"
  | "TX_LOCK_TOO_COMPLEX"
  | "TX_WITNESS_MISMATCH"
  | "TX_MULTISIG_INDEX"
  | "TX_MULTISIG_THRESHOLD"
  | "TX_HASHLOCK_MISMATCH"
  | "TX_MISSING_INPUT"
  | "TX_LOCK_MISMATCH"
  | "TX_IMMATURE"
  | "TX_TIMELOCK"
  | "TX_BAD_SIGNATURE"
  | "TX_OUTPUTS_EXCEED_INPUTS";

export const TX_REJECT_CODES: readonly TxRejectCode[] = [
  "TX_MALFORMED", "TX_NO_INPUTS", "TX_NO_OUTPUTS", "TX_TOO_MANY_INPUTS", "TX_TOO_MANY_OUTPUTS", "TX_WITNESS_COUNT",
  "TX_DUPLICATE_INPUT", "TX_AMOUNT_RANGE", "TX_DUST", "TX_TOO_LARGE", "TX_LOCK_TOO_COMPLEX", "TX_WITNESS_MISMATCH",
  "TX_MULTISIG_INDEX", "TX_MULTISIG_THRESHOLD", "TX_HASHLOCK_MISMATCH", "TX_MISSING_INPUT", "TX_LOCK_MISMATCH",
  "TX_IMMATURE", "TX_TIMELOCK", "TX_BAD_SIGNATURE", "TX_OUTPUTS_EXCEED_INPUTS",
];

/** A MicroTx failed a validity rule. `details.input` names the input when one is at fault. */
export class TxRejected extends PhantomError<TxRejectCode> {
  constructor(code: TxRejectCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.name = "TxRejected";
  }
}

/** One Ed25519 check a witness asks for; verified later, in a batch. */
export interface SigCheck {
  signature: Uint8Array;
  message: Uint8Array;
  publicKey: Uint8Array;
  /** Input whose witness asked for the check (for error reports). */
  input?: number;
}

interface Walk {
  nodes: number;
  input: number;
}

function reject(code: TxRejectCode, walk: Walk, message: string): never {
  throw new TxRejected(code, `input ${walk.input}: ${message}`, { input: walk.input });
}

function enter(depth: number, walk: Walk): void {
  if (depth > LOCK_DEPTH_MAX) reject("TX_LOCK_TOO_COMPLEX", walk, `lock nested deeper than ${LOCK_DEPTH_MAX}`);
  if (++walk.nodes > LOCK_NODES_MAX) reject("TX_LOCK_TOO_COMPLEX", walk, `lock has more than ${LOCK_NODES_MAX} nodes`);
}

function checkLockNode(lock: Lock, depth: number, walk: Walk): void {
  enter(depth, walk);
  switch (lock.kind) {
    case "sig":
      if (lock.publicKey.length !== PUBLIC_KEY_BYTES) reject("TX_MALFORMED", walk, "public key is not 32 bytes");
      return;
    case "multisig": {
      const n = lock.publicKeys.length;
      if (n < 1 || n > MULTISIG_KEYS_MAX) reject("TX_LOCK_TOO_COMPLEX", walk, `multisig needs 1..${MULTISIG_KEYS_MAX} keys, has ${n}`);
      if (!Number.isInteger(lock.m) || lock.m < 1 || lock.m > n) reject("TX_MALFORMED", walk, `multisig needs 1 <= m <= n, got m=${lock.m} n=${n}`);
      for (const pk of lock.publicKeys) if (pk.length !== PUBLIC_KEY_BYTES) reject("TX_MALFORMED", walk, "multisig key is not 32 bytes");
      return;
    }
    case "hashlock":
      if (lock.digest.length !== HASH_BYTES) reject("TX_MALFORMED", walk, "hashlock digest is not 32 bytes");
      return;
    case "after":
      if (lock.anchorIndex < 0n || lock.anchorIndex >= 1n << 64n) reject("TX_MALFORMED", walk, "after anchor index is not a u64");
      return;
    case "and":
    case "or":
      checkLockNode(lock.left, depth + 1, walk);
      checkLockNode(lock.right, depth + 1, walk);
      return;
  }
}

function checkWitnessNode(lock: Lock, wit: Witness, depth: number, walk: Walk): void {
  enter(depth, walk);
  if (wit.kind !== lock.kind) reject("TX_WITNESS_MISMATCH", walk, `a ${lock.kind} lock got a ${wit.kind} witness`);
  switch (lock.kind) {
    case "sig":
      if ((wit as Extract<Witness, { kind: "sig" }>).signature.length !== SIGNATURE_BYTES) reject("TX_MALFORMED", walk, "signature is not 64 bytes");
      return;
    case "multisig":
      return checkMultisigWitness(lock, wit as Extract<Witness, { kind: "multisig" }>, walk);
    case "hashlock": {
      const preimage = (wit as Extract<Witness, { kind: "hashlock" }>).preimage;
      if (preimage.length > HASHLOCK_PREIMAGE_BYTES_MAX) reject("TX_MALFORMED", walk, `preimage longer than ${HASHLOCK_PREIMAGE_BYTES_MAX} bytes`);
      if (!equalBytes(blake3_32(preimage), lock.digest)) reject("TX_HASHLOCK_MISMATCH", walk, "blake3_32(preimage) differs from the hashlock digest");
      return;
    }
    case "after":
      return;
    case "and": {
      const w = wit as Extract<Witness, { kind: "and" }>;
      checkWitnessNode(lock.left, w.left, depth + 1, walk);
      checkWitnessNode(lock.right, w.right, depth + 1, walk);
      return;
    }
    case "or": {
      const w = wit as Extract<Witness, { kind: "or" }>;
      if (w.branch !== 0 && w.branch !== 1) reject("TX_MALFORMED", walk, "or-branch must be 0 or 1");
      checkWitnessNode(w.branch === 0 ? lock.left : lock.right, w.witness, depth + 1, walk);
      return;
    }
  }
}

function checkMultisigWitness(lock: Extract<Lock, { kind: "multisig" }>, wit: Extract<Witness, { kind: "multisig" }>, walk: Walk): void {
  const sigs = wit.signatures;
  if (sigs.length > MULTISIG_KEYS_MAX) reject("TX_MULTISIG_INDEX", walk, `more than ${MULTISIG_KEYS_MAX} multisig signatures`);
  let previous = -1;
  for (const s of sigs) {
    if (!Number.isInteger(s.index) || s.index < 0 || s.index >= lock.publicKeys.length) reject("TX_MULTISIG_INDEX", walk, `multisig key index ${s.index} out of range`);
    if (s.index <= previous) reject("TX_MULTISIG_INDEX", walk, "multisig key indices must strictly increase");
    if (s.signature.length !== SIGNATURE_BYTES) reject("TX_MALFORMED", walk, "signature is not 64 bytes");
    previous = s.index;
  }
  if (sigs.length < lock.m) reject("TX_MULTISIG_THRESHOLD", walk, `multisig needs ${lock.m} signatures, has ${sigs.length}`);
}

/**
 * Context-free checks of one input's revealed Lock and Witness: size limits, the
 * witness follows the lock's shape (an Or witness names its branch), multisig
 * indices strictly increase and meet the threshold, hash-lock preimages match.
 */
export function checkPredicateShape(lock: Lock, witness: Witness, input: number): void {
  const lockWalk: Walk = { nodes: 0, input };
  checkLockNode(lock, 1, lockWalk);
  checkWitnessNode(lock, witness, 1, { nodes: 0, input });
}

export interface PredicateEnv {
  /** What signatures sign: the txid (digest_microtx). */
  message: Uint8Array;
  /** Anchor index the spend is evaluated at. */
  anchorIndex: bigint;
}

/**
 * Context-dependent part: timelocks against `env.anchorIndex`, and the signature
 * checks the witness needs, appended to `out`. Assumes `checkPredicateShape` passed.
 */
export function collectPredicate(lock: Lock, witness: Witness, env: PredicateEnv, out: SigCheck[], input: number): void {
  const walk: Walk = { nodes: 0, input };
  switch (lock.kind) {
    case "sig":
      out.push({ signature: (witness as Extract<Witness, { kind: "sig" }>).signature, message: env.message, publicKey: lock.publicKey, input });
      return;
    case "multisig":
      for (const s of (witness as Extract<Witness, { kind: "multisig" }>).signatures) {
        out.push({ signature: s.signature, message: env.message, publicKey: lock.publicKeys[s.index]!, input });
      }
      return;
    case "hashlock":
      return;
    case "after":
      if (env.anchorIndex < lock.anchorIndex) reject("TX_TIMELOCK", walk, `spendable from anchor index ${lock.anchorIndex}, now ${env.anchorIndex}`);
      return;
    case "and": {
      const w = witness as Extract<Witness, { kind: "and" }>;
      collectPredicate(lock.left, w.left, env, out, input);
      collectPredicate(lock.right, w.right, env, out, input);
      return;
    }
    case "or": {
      const w = witness as Extract<Witness, { kind: "or" }>;
      collectPredicate(w.branch === 0 ? lock.left : lock.right, w.witness, env, out, input);
      return;
    }
  }
}
