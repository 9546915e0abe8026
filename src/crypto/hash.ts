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

/** Hashes many short inputs in one native call; returns their 32-byte digests. */
export function blake3Batch(inputs: readonly Uint8Array[]): Uint8Array[] {
  const n = inputs.length;
  if (n === 0) return [];
  let total = 0;
  for (const x of inputs) total += x.length;
  if (total > 0xffffffff) throw new PhantomError("BATCH_TOO_LARGE", "blake3Batch input exceeds 4 GiB");
  const data = new Uint8Array(Math.max(total, 1));
  const offsets = new Uint32Array(n + 1);
  let o = 0;
  for (let i = 0; i < n; i++) {
    offsets[i] = o;
    data.set(inputs[i]!, o);
    o += inputs[i]!.length;
  }
  offsets[n] = o;
  const out = new Uint8Array(n * 32);
  native.ph_blake3_batch(n, data, offsets, out);
  const digests: Uint8Array[] = new Array(n);
  for (let i = 0; i < n; i++) digests[i] = out.subarray(i * 32, i * 32 + 32);
  return digests;
}
