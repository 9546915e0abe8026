/**
 * Ed25519 through libsodium. Verification is strict (canonical S and A, A and R
 * not of small order, cofactorless equation); that rule is consensus-critical and
 * `verifyBatch` gives exactly the same per-item answers.
 */
import { native } from "./native.ts";
import { checkLength } from "./bytes.ts";
import { PhantomError } from "../errors.ts";
import { availableParallelism } from "node:os";

export interface Ed25519KeyPair {
  /** 32-byte public key. */
  publicKey: Uint8Array;
  /** 64-byte libsodium secret key (seed || public key). Wipe after use. */
  secretKey: Uint8Array;
}

const EMPTY = new Uint8Array(0);

export function keyPairFromSeed(seed: Uint8Array): Ed25519KeyPair {
  checkLength("seed", seed, 32);
  const publicKey = new Uint8Array(32);
  const secretKey = new Uint8Array(64);
  if (native.ph_ed25519_seed_keypair(seed, publicKey, secretKey) !== 0) {
    throw new PhantomError("CRYPTO_FAILED", "ed25519 key derivation failed");
  }
  return { publicKey, secretKey };
}

export function sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  checkLength("secretKey", secretKey, 64);
  const sig = new Uint8Array(64);
  if (native.ph_ed25519_sign(secretKey, message.length ? message : EMPTY, message.length, sig) !== 0) {
    throw new PhantomError("CRYPTO_FAILED", "ed25519 signing failed");
  }
  return sig;
}

/** Returns false for any invalid signature, key or length (never throws on bad input). */
export function verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  return native.ph_ed25519_verify(signature, message.length ? message : EMPTY, message.length, publicKey) === 1;
}

export interface VerifyItem {
  signature: Uint8Array;
  message: Uint8Array;
  publicKey: Uint8Array;
}

/** Threads used by verifyBatch unless told otherwise. */
export const defaultVerifyThreads = Math.max(1, Math.min(64, availableParallelism()));

/**
 * Verifies many signatures in one native call on `threads` threads. Returns one
 * boolean per item (an item with a wrong-sized key or signature is simply invalid).
 */
export function verifyBatch(items: readonly VerifyItem[], threads = defaultVerifyThreads): boolean[] {
  const n = items.length;
  if (n === 0) return [];
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw new PhantomError("BAD_ARGUMENT", `threads must be 1..64, got ${threads}`);
  }
  let total = 0;
  for (const it of items) total += it.message.length;
  const msgs = new Uint8Array(Math.max(total, 1));
  const offsets = new Uint32Array(n + 1);
  const sigs = new Uint8Array(n * 64);
  const pks = new Uint8Array(n * 32);
  const malformed = new Uint8Array(n);
  let o = 0;
  for (let i = 0; i < n; i++) {
    const it = items[i]!;
    offsets[i] = o;
    msgs.set(it.message, o);
    o += it.message.length;
    if (it.signature.length === 64 && it.publicKey.length === 32) {
      sigs.set(it.signature, i * 64);
      pks.set(it.publicKey, i * 32);
    } else {
      malformed[i] = 1;
    }
  }
  offsets[n] = o;
  const valid = new Uint8Array(n);
  const rc = Number(native.ph_ed25519_verify_batch(n, msgs, offsets, sigs, pks, valid, threads));
  if (rc < 0) throw new PhantomError("CRYPTO_FAILED", `verify_batch failed with status ${rc}`);
  const result: boolean[] = new Array(n);
  for (let i = 0; i < n; i++) result[i] = valid[i] === 1 && malformed[i] === 0;
  return result;
}
