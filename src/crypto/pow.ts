/**
 * Proof-of-work search on native worker threads. `powSearch` starts the threads,
 * then polls their status from timers, so Bun's event loop keeps running while
 * the search goes on. Cancel with an AbortSignal.
 */
import { native } from "./native.ts";
import { PhantomError } from "../errors.ts";
import { availableParallelism } from "node:os";
import { blake3 } from "./hash.ts";

export const POW_HEADER_BYTES_MAX = 256;

export type PowOutcome = "found" | "exhausted" | "cancelled";

export interface PowResult {
  outcome: PowOutcome;
  /** The winning nonce when outcome is "found". */
  nonce: bigint | null;
  /** Its BLAKE3 digest when found. */
  hash: Uint8Array | null;
  /** How many hashes the threads computed in all. */
  hashes: bigint;
}

export interface PowSearchOptions {
  /** Byte offset of the u64 little-endian nonce inside the header. */
  nonceOffset: number;
  targetBits: number;
  startNonce?: bigint;
  maxIters: bigint;
  threads?: number;
  signal?: AbortSignal;
  /** How often the status is polled (I/O scheduling only). */
  pollMs?: number;
}

/** Slowest allowed status poll (a search must notice completion and cancellation promptly). */
const POW_POLL_MS_MAX = 1000;
const U64_MAX = (1n << 64n) - 1n;
// Values outside u64 would be silently wrapped by the FFI layer.
const isU64 = (v: unknown): v is bigint => typeof v === "bigint" && v >= 0n && v <= U64_MAX;

const OUTCOMES: Record<number, PowOutcome> = { 1: "found", 2: "exhausted", 3: "cancelled" };

export async function powSearch(header: Uint8Array, opts: PowSearchOptions): Promise<PowResult> {
  const threads = opts.threads ?? Math.max(1, availableParallelism());
  if (header.length > POW_HEADER_BYTES_MAX) throw new PhantomError("POW_HEADER_TOO_LARGE", `PoW header is ${header.length} bytes, max ${POW_HEADER_BYTES_MAX}`);
  if (!Number.isInteger(opts.nonceOffset) || opts.nonceOffset < 0 || opts.nonceOffset + 8 > header.length) {
    throw new PhantomError("BAD_ARGUMENT", "nonceOffset must leave 8 bytes for the nonce inside the header");
  }
  if (!Number.isInteger(opts.targetBits) || opts.targetBits < 0 || opts.targetBits > 256) throw new PhantomError("BAD_ARGUMENT", "targetBits must be 0..256");
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new PhantomError("BAD_ARGUMENT", "threads must be 1..64");
  if (!isU64(opts.maxIters)) throw new PhantomError("BAD_ARGUMENT", "maxIters must be a u64 bigint");
  const startNonce = opts.startNonce ?? 0n;
  if (!isU64(startNonce)) throw new PhantomError("BAD_ARGUMENT", "startNonce must be a u64 bigint");
  const pollMs = opts.pollMs ?? 5;
  if (!Number.isInteger(pollMs) || pollMs < 0 || pollMs > POW_POLL_MS_MAX) throw new PhantomError("BAD_ARGUMENT", `pollMs must be 0..${POW_POLL_MS_MAX}`);
  const handle = native.ph_pow_start(header, header.length, opts.nonceOffset, opts.targetBits, startNonce, opts.maxIters, threads);
  if (handle === null) throw new PhantomError("POW_START_FAILED", "could not start PoW threads");
  const onAbort = () => native.ph_pow_cancel(handle);
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    while (native.ph_pow_status(handle) === 0) await Bun.sleep(pollMs);
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
  }
  const raw = new Uint8Array(56);
  native.ph_pow_join(handle, raw);
  const view = new DataView(raw.buffer);
  const outcome = OUTCOMES[view.getUint32(0, true)];
  if (!outcome) throw new PhantomError("POW_BAD_STATUS", "native PoW returned an unknown status");
  return {
    outcome,
    nonce: outcome === "found" ? view.getBigUint64(8, true) : null,
    hash: outcome === "found" ? raw.slice(24, 56) : null,
    hashes: view.getBigUint64(16, true),
  };
}

export function leadingZeroBits(hash: Uint8Array): number {
  let bits = 0;
  for (const byte of hash) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

/** Checks a PoW solution the way consensus does (pure function of the bytes). */
export function powHashOf(header: Uint8Array): Uint8Array {
  return blake3(header);
}
