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

interface PackedBatch {
  n: number;
  msgs: Uint8Array;
  offsets: Uint32Array;
  sigs: Uint8Array;
  pks: Uint8Array;
  /** 1 where the item's key or signature has the wrong size: invalid whatever the native check says. */
  malformed: Uint8Array;
}

function checkThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw new PhantomError("BAD_ARGUMENT", `threads must be 1..64, got ${threads}`);
  }
}

/** The native batch layout: messages back to back with n+1 offsets, 64-byte signatures, 32-byte keys. */
function pack(items: readonly VerifyItem[]): PackedBatch {
  const n = items.length;
  let total = 0;
  for (const it of items) total += it.message.length;
  const msgs = new Uint8Array(Math.max(total, 1));
  const offsets = new Uint32Array(n + 1);
  const sigs = new Uint8Array(Math.max(n * 64, 1));
  const pks = new Uint8Array(Math.max(n * 32, 1));
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
  return { n, msgs, offsets, sigs, pks, malformed };
}

function answers(p: PackedBatch, valid: Uint8Array): boolean[] {
  const result: boolean[] = new Array(p.n);
  for (let i = 0; i < p.n; i++) result[i] = valid[i] === 1 && p.malformed[i] === 0;
  return result;
}

/**
 * Verifies many signatures in one native call on `threads` threads. Returns one
 * boolean per item (an item with a wrong-sized key or signature is simply invalid).
 */
export function verifyBatch(items: readonly VerifyItem[], threads = defaultVerifyThreads): boolean[] {
  if (items.length === 0) return [];
  checkThreads(threads);
  const p = pack(items);
  const valid = new Uint8Array(p.n);
  const rc = Number(native.ph_ed25519_verify_batch(p.n, p.msgs, p.offsets, p.sigs, p.pks, valid, threads));
  if (rc < 0) throw new PhantomError("CRYPTO_FAILED", `verify_batch failed with status ${rc}`);
  return answers(p, valid);
}

/**
 * Batches smaller than this are verified synchronously by verifyBatchAsync: a few
 * signatures take less time than starting, polling and joining a native batch.
 */
export const VERIFY_ASYNC_MIN_ITEMS = 16;
/** How often outstanding asynchronous batches are polled (ms). */
export const VERIFY_ASYNC_POLL_MS = 1;

type PoolHandle = NonNullable<ReturnType<typeof native.ph_verify_start>>;

/**
 * A batch handed to the native verification pool. Its answers arrive through `answers`
 * (a timer polls the pool while any batch is outstanding) or at once through `wait()`.
 */
export class PendingVerify {
  readonly answers: Promise<boolean[]>;
  private result: boolean[] | null = null;
  private resolveAnswers!: (result: boolean[]) => void;

  /** `handle` null: answered already (`result`). */
  constructor(private handle: PoolHandle | null, private readonly packed: PackedBatch | null, result: boolean[] | null) {
    this.answers = new Promise<boolean[]>((resolve) => (this.resolveAnswers = resolve));
    if (result !== null) this.settle(result);
  }

  get settled(): boolean {
    return this.result !== null;
  }

  /**
   * The answers now. A batch still on the pool is joined: the caller blocks until the
   * pool threads finish it (they keep verifying it; nothing is verified twice).
   */
  wait(): boolean[] {
    if (this.result === null) this.collect();
    return this.result!;
  }

  /** Collects the answers if the pool is done with the batch; true once settled. */
  poll(): boolean {
    if (this.result === null && native.ph_verify_poll(this.handle!) !== 0) this.collect();
    return this.result !== null;
  }

  private collect(): void {
    const valid = new Uint8Array(this.packed!.n);
    native.ph_verify_join(this.handle!, valid);
    this.handle = null;
    outstanding.delete(this);
    this.settle(answers(this.packed!, valid));
  }

  private settle(result: boolean[]): void {
    this.result = result;
    this.resolveAnswers(result);
  }
}

/** Batches on the native verification pool; one timer polls them all while any is outstanding. */
const outstanding = new Set<PendingVerify>();
let pollTimer: ReturnType<typeof setTimeout> | null = null;

function pollOutstanding(): void {
  pollTimer = null;
  for (const p of outstanding) p.poll();
  if (outstanding.size > 0) pollTimer = setTimeout(pollOutstanding, VERIFY_ASYNC_POLL_MS);
}

/** Asynchronous batches started and not yet answered (a gauge for the node's metrics). */
export function verifyBatchesInFlight(): number {
  return outstanding.size;
}

/**
 * Starts verifying `items` on libphantom's verification pool (up to `threads` threads):
 * the batch is copied to native memory and verified while the event loop runs; the
 * answers are exactly verifyBatch's. Batches under `syncBelow` items (default
 * VERIFY_ASYNC_MIN_ITEMS) are verified synchronously instead (1: every non-empty batch
 * goes to the pool). Throws on bad arguments or when the pool cannot take the batch.
 */
export function startVerifyBatch(items: readonly VerifyItem[], threads = defaultVerifyThreads, syncBelow = VERIFY_ASYNC_MIN_ITEMS): PendingVerify {
  if (items.length === 0 || items.length < syncBelow) return new PendingVerify(null, null, verifyBatch(items, threads));
  checkThreads(threads);
  const packed = pack(items);
  const handle = native.ph_verify_start(packed.n, packed.msgs, packed.offsets, packed.sigs, packed.pks, threads);
  if (handle === null || handle === undefined) throw new PhantomError("CRYPTO_FAILED", "could not start an asynchronous verify batch (no memory or no thread)");
  const pending = new PendingVerify(handle, packed, null);
  outstanding.add(pending);
  pollTimer ??= setTimeout(pollOutstanding, VERIFY_ASYNC_POLL_MS);
  return pending;
}

/** verifyBatch without blocking the JavaScript thread (startVerifyBatch's answers). */
export function verifyBatchAsync(items: readonly VerifyItem[], threads = defaultVerifyThreads, syncBelow = VERIFY_ASYNC_MIN_ITEMS): Promise<boolean[]> {
  try {
    return startVerifyBatch(items, threads, syncBelow).answers;
  } catch (e) {
    return Promise.reject(e);
  }
}
