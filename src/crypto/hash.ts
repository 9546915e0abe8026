/** BLAKE3 through libphantom (official C implementation with SIMD dispatch). */
import { native } from "./native.ts";
import { checkLength } from "./bytes.ts";
import { PhantomError } from "../errors.ts";

const EMPTY = new Uint8Array(0);

/** Largest XOF output a caller may ask for (protocol uses 32; bounds the allocation). */
export const BLAKE3_OUT_BYTES_MAX = 1 << 20;

function checkOutLength(outLength: number): void {
  if (!Number.isInteger(outLength) || outLength < 0 || outLength > BLAKE3_OUT_BYTES_MAX) {
    throw new PhantomError("BAD_ARGUMENT", `BLAKE3 output length must be an integer 0..${BLAKE3_OUT_BYTES_MAX}, got ${outLength}`);
  }
}

/** BLAKE3 of `input`; `outLength` bytes of XOF output (default 32). */
export function blake3(input: Uint8Array, outLength = 32): Uint8Array {
  checkOutLength(outLength);
  return blake3Into(input, new Uint8Array(outLength));
}

/** BLAKE3 of `input` written into the caller's `out` (XOF output of `out.length` bytes); returns `out`. */
export function blake3Into(input: Uint8Array, out: Uint8Array): Uint8Array {
  checkOutLength(out.length);
  native.ph_blake3(input.length ? input : EMPTY, input.length, out, out.length);
  return out;
}

/** The 32-byte BLAKE3 digest (the seed's `blake3_32`). */
export const blake3_32 = (input: Uint8Array): Uint8Array => blake3(input, 32);

export function blake3Keyed(key: Uint8Array, input: Uint8Array, outLength = 32): Uint8Array {
  checkLength("key", key, 32);
  checkOutLength(outLength);
  const out = new Uint8Array(outLength);
  native.ph_blake3_keyed(key, input.length ? input : EMPTY, input.length, out, outLength);
  return out;
}

const encoder = new TextEncoder();

/** BLAKE3 derive_key mode with a context string (domain separation). */
export function blake3DeriveKey(context: string, input: Uint8Array, outLength = 32): Uint8Array {
  checkOutLength(outLength);
  const ctx = encoder.encode(context);
  const out = new Uint8Array(outLength);
  native.ph_blake3_derive_key(ctx, ctx.length, input.length ? input : EMPTY, input.length, out, outLength);
  return out;
}

/** Batches up to these sizes reuse the scratch buffers below; larger ones get their own. */
const BATCH_SCRATCH_BYTES_MAX = 1 << 20;
const BATCH_SCRATCH_ITEMS_MAX = 1 << 14;

// Reused across blake3Batch calls (JS is single-threaded and the native call is synchronous).
// Handing freshly allocated typed arrays to FFI on every call cost more than the copy-out of
// the digests (bench/crypto.bench.ts blake3_batch_64b_per_item); they grow up to the maxima.
let scratchData = new Uint8Array(1);
let scratchOffsets = new Uint32Array(1);
let scratchOut = new Uint8Array(0);

const grown = (length: number, need: number, max: number): number => Math.min(max, Math.max(need, 2 * length));

/** Hashes many short inputs in one native call; returns their 32-byte digests (each its own array). */
export function blake3Batch(inputs: readonly Uint8Array[]): Uint8Array[] {
  const n = inputs.length;
  if (n === 0) return [];
  let total = 0;
  for (const x of inputs) total += x.length;
  if (total > 0xffffffff) throw new PhantomError("BATCH_TOO_LARGE", "blake3Batch input exceeds 4 GiB");
  const fits = total <= BATCH_SCRATCH_BYTES_MAX && n <= BATCH_SCRATCH_ITEMS_MAX;
  if (fits && scratchData.length < total) scratchData = new Uint8Array(grown(scratchData.length, total, BATCH_SCRATCH_BYTES_MAX));
  if (fits && scratchOffsets.length < n + 1) scratchOffsets = new Uint32Array(grown(scratchOffsets.length, n + 1, BATCH_SCRATCH_ITEMS_MAX + 1));
  if (fits && scratchOut.length < n * 32) scratchOut = new Uint8Array(grown(scratchOut.length, n * 32, BATCH_SCRATCH_ITEMS_MAX * 32));
  const data = fits ? scratchData : new Uint8Array(Math.max(total, 1));
  const offsets = fits ? scratchOffsets : new Uint32Array(n + 1);
  const out = fits ? scratchOut : new Uint8Array(n * 32);
  let o = 0;
  for (let i = 0; i < n; i++) {
    offsets[i] = o;
    data.set(inputs[i]!, o);
    o += inputs[i]!.length;
  }
  offsets[n] = o;
  native.ph_blake3_batch(n, data, offsets, out);
  const digests: Uint8Array[] = new Array(n);
  for (let i = 0; i < n; i++) {
    // A byte loop into a fresh 32-byte array is cheaper here than slice() or subarray().
    const d = new Uint8Array(32);
    for (let j = 0, at = i * 32; j < 32; j++) d[j] = out[at + j]!;
    digests[i] = d;
  }
  return digests;
}
