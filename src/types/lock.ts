/**
 * eUTXO v0 spending predicates. An output stores only `lock_commitment =
 * blake3_32(canonical Lock)`; spending reveals the Lock and a Witness.
 */
import { Writer, Reader, decodeExact, CodecError } from "../codec/index.ts";
import { blake3_32 } from "../crypto/hash.ts";
import {
  TAG, CODEC_VERSION, HASH_BYTES, PUBLIC_KEY_BYTES, SIGNATURE_BYTES, LOCK_DEPTH_MAX, LOCK_NODES_MAX,
  MULTISIG_KEYS_MAX, HASHLOCK_PREIMAGE_BYTES_MAX,
} from "./constants.ts";

export type Lock =
  | { kind: "sig"; publicKey: Uint8Array }
  | { kind: "multisig"; m: number; publicKeys: Uint8Array[] }
  | { kind: "hashlock"; digest: Uint8Array }
  | { kind: "after"; anchorIndex: bigint }
  | { kind: "and"; left: Lock; right: Lock }
  | { kind: "or"; left: Lock; right: Lock };

export type Witness =
  | { kind: "sig"; signature: Uint8Array }
  | { kind: "multisig"; signatures: { index: number; signature: Uint8Array }[] }
  | { kind: "hashlock"; preimage: Uint8Array }
  | { kind: "after" }
  | { kind: "and"; left: Witness; right: Witness }
  | { kind: "or"; branch: 0 | 1; witness: Witness };

const LOCK_KIND = { sig: 0, multisig: 1, hashlock: 2, after: 3, and: 4, or: 5 } as const;
const KIND_BY_CODE = ["sig", "multisig", "hashlock", "after", "and", "or"] as const;

interface Budget {
  nodes: number;
}

function enter(depth: number, budget: Budget, what: string): void {
  if (depth > LOCK_DEPTH_MAX) throw new CodecError("CODEC_INVALID", `${what} nested deeper than ${LOCK_DEPTH_MAX}`);
  if (++budget.nodes > LOCK_NODES_MAX) throw new CodecError("CODEC_INVALID", `${what} has more than ${LOCK_NODES_MAX} nodes`);
}

function writeLockNode(w: Writer, lock: Lock, depth: number, budget: Budget): void {
  enter(depth, budget, "lock");
  w.u8(LOCK_KIND[lock.kind]);
  switch (lock.kind) {
    case "sig":
      w.fixed(lock.publicKey, PUBLIC_KEY_BYTES);
      return;
    case "multisig":
      checkMultisig(lock.m, lock.publicKeys.length);
      w.u8(lock.m);
      w.list(lock.publicKeys, MULTISIG_KEYS_MAX, (w, pk) => w.fixed(pk, PUBLIC_KEY_BYTES));
      return;
    case "hashlock":
      w.fixed(lock.digest, HASH_BYTES);
      return;
    case "after":
      w.u64(lock.anchorIndex);
      return;
    case "and":
    case "or":
      writeLockNode(w, lock.left, depth + 1, budget);
      writeLockNode(w, lock.right, depth + 1, budget);
      return;
  }
}

function checkMultisig(m: number, n: number): void {
  if (n < 1 || m < 1 || m > n) throw new CodecError("CODEC_INVALID", `multisig needs 1 <= m <= n, got m=${m} n=${n}`);
}

function readLockNode(r: Reader, depth: number, budget: Budget): Lock {
  enter(depth, budget, "lock");
  const code = r.u8("lock kind");
  const kind = KIND_BY_CODE[code];
  if (kind === undefined) throw new CodecError("CODEC_UNKNOWN_TAG", `unknown lock kind ${code}`);
  switch (kind) {
    case "sig":
      return { kind, publicKey: r.fixed(PUBLIC_KEY_BYTES, "lock public key") };
    case "multisig": {
      const m = r.u8("multisig m");
      const publicKeys = r.list(MULTISIG_KEYS_MAX, (r) => r.fixed(PUBLIC_KEY_BYTES, "multisig key"), "multisig keys");
      checkMultisig(m, publicKeys.length);
      return { kind, m, publicKeys };
    }
    case "hashlock":
      return { kind, digest: r.fixed(HASH_BYTES, "hashlock digest") };
    case "after":
      return { kind, anchorIndex: r.u64("after anchor index") };
    case "and":
    case "or":
      return { kind, left: readLockNode(r, depth + 1, budget), right: readLockNode(r, depth + 1, budget) };
  }
}

export function writeLock(w: Writer, lock: Lock): void {
  w.u8(TAG.lock).u8(CODEC_VERSION);
  writeLockNode(w, lock, 1, { nodes: 0 });
}

export function readLock(r: Reader): Lock {
  r.tag(TAG.lock, "lock");
  r.version(CODEC_VERSION, "lock");
  return readLockNode(r, 1, { nodes: 0 });
}

export function encodeLock(lock: Lock): Uint8Array {
  const w = new Writer(64);
  writeLock(w, lock);
  return w.finish();
}

export const decodeLock = (bytes: Uint8Array): Lock => decodeExact(bytes, "lock", readLock);

export function lockCommitment(lock: Lock): Uint8Array {
  return blake3_32(encodeLock(lock));
}

function writeWitnessNode(w: Writer, wit: Witness, depth: number, budget: Budget): void {
  enter(depth, budget, "witness");
  w.u8(LOCK_KIND[wit.kind]);
  switch (wit.kind) {
    case "sig":
      w.fixed(wit.signature, SIGNATURE_BYTES);
      return;
    case "multisig":
      checkIndicesIncrease(wit.signatures);
      w.list(wit.signatures, MULTISIG_KEYS_MAX, (w, s) => {
        w.u8(s.index);
        w.fixed(s.signature, SIGNATURE_BYTES);
      });
      return;
    case "hashlock":
      w.bytes(wit.preimage, HASHLOCK_PREIMAGE_BYTES_MAX);
      return;
    case "after":
      return;
    case "and":
      writeWitnessNode(w, wit.left, depth + 1, budget);
      writeWitnessNode(w, wit.right, depth + 1, budget);
      return;
    case "or":
      w.u8(wit.branch);
      writeWitnessNode(w, wit.witness, depth + 1, budget);
      return;
  }
}

function readWitnessNode(r: Reader, depth: number, budget: Budget): Witness {
  enter(depth, budget, "witness");
  const code = r.u8("witness kind");
  const kind = KIND_BY_CODE[code];
  if (kind === undefined) throw new CodecError("CODEC_UNKNOWN_TAG", `unknown witness kind ${code}`);
  switch (kind) {
    case "sig":
      return { kind, signature: r.fixed(SIGNATURE_BYTES, "signature") };
    case "multisig": {
      const signatures = r.list(MULTISIG_KEYS_MAX, (r) => ({ index: r.u8("key index"), signature: r.fixed(SIGNATURE_BYTES, "signature") }), "multisig signatures");
      checkIndicesIncrease(signatures);
      return { kind, signatures };
    }
    case "hashlock":
      return { kind, preimage: r.bytes(HASHLOCK_PREIMAGE_BYTES_MAX, "preimage") };
    case "after":
      return { kind };
    case "and":
      return { kind, left: readWitnessNode(r, depth + 1, budget), right: readWitnessNode(r, depth + 1, budget) };
    case "or": {
      const branch = r.u8("or branch");
      if (branch > 1) throw new CodecError("CODEC_INVALID", `or-branch must be 0 or 1, got ${branch}`);
      return { kind, branch: branch as 0 | 1, witness: readWitnessNode(r, depth + 1, budget) };
    }
  }
}

/** Canonical multisig witness: strictly increasing key indices (no duplicates, one encoding). */
function checkIndicesIncrease(signatures: readonly { index: number }[]): void {
  for (let i = 1; i < signatures.length; i++) {
    if (signatures[i]!.index <= signatures[i - 1]!.index) throw new CodecError("CODEC_INVALID", "multisig signature indices must strictly increase");
  }
}

export function writeWitness(w: Writer, wit: Witness): void {
  writeWitnessNode(w, wit, 1, { nodes: 0 });
}

export function readWitness(r: Reader): Witness {
  return readWitnessNode(r, 1, { nodes: 0 });
}
