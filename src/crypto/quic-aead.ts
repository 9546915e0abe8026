/**
 * AES-128-GCM and the batch QUIC packet protection calls of libphantom
 * (native/quic_crypto.zig; RFC 9001 §5). Hardware AES is used when the CPU has it
 * (checked once at load); `quicHardwareAes()` says which way it went.
 */
import { native } from "./native.ts";
import { checkLength } from "./bytes.ts";
import { PhantomError } from "../errors.ts";

/** Descriptor words per packet (layout documented in native/quic_crypto.zig). */
export const QUIC_SEAL_DESC_WORDS = 6;
export const QUIC_OPEN_DESC_WORDS = 10;
/** Per-packet status written into open descriptor word 6. */
export const QUIC_OPEN_OK = 0;
export const QUIC_OPEN_AUTH_FAILED = 1;
export const QUIC_OPEN_TOO_SHORT = 2;
export const QUIC_OPEN_BAD_ARG = 3;

// bun:ffi passes an empty typed array as a null pointer; the native side never
// reads through a zero length, but it must be given a valid address.
const NONEMPTY = new Uint8Array(1);
const nz = (b: Uint8Array): Uint8Array => (b.length ? b : NONEMPTY);

/** Returns ciphertext || 16-byte tag. */
export function aes128gcmSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  checkLength("key", key, 16);
  checkLength("nonce", nonce, 12);
  const out = new Uint8Array(plaintext.length + 16);
  aes128gcmSealInto(key, nonce, plaintext, aad, out);
  return out;
}

/** Seals into `out` (plaintext.length + 16 bytes; `out` may start with `plaintext` itself). */
export function aes128gcmSealInto(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, out: Uint8Array): void {
  if (out.length !== plaintext.length + 16) throw new PhantomError("BAD_LENGTH", `aes128gcm: output must be ${plaintext.length + 16} bytes, got ${out.length}`);
  const rc = native.ph_aes128gcm_seal(nz(out), out.subarray(plaintext.length), nz(plaintext), plaintext.length, nz(aad), aad.length, nonce, key);
  if (rc !== 0) throw new PhantomError("CRYPTO_FAILED", "aes128gcm seal failed");
}

/** Opens ciphertext || tag; returns null when authentication fails. */
export function aes128gcmOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | null {
  checkLength("key", key, 16);
  checkLength("nonce", nonce, 12);
  if (sealed.length < 16) return null;
  const n = sealed.length - 16;
  const out = new Uint8Array(n);
  const rc = native.ph_aes128gcm_open(nz(out), nz(sealed), n, sealed.subarray(n), nz(aad), aad.length, nonce, key);
  return rc === 0 ? out : null;
}

/** True when QUIC packet protection runs on AES-NI / ARMv8 AES instructions. */
export function quicHardwareAes(): boolean {
  return native.ph_quic_hardware_aes() === 1;
}

/** Tests and benchmarks: force the baseline (software AES) build; returns the previous setting. */
export function quicForcePortable(force: boolean): boolean {
  return native.ph_quic_force_portable(force ? 1 : 0) === 1;
}

/**
 * Seals `n` packets in place in `buf` under one key set (`material` is key || iv ||
 * hp key). Descriptors are checked by the native side before anything is written.
 */
export function quicSealBatch(suite: number, material: Uint8Array, buf: Uint8Array, n: number, descs: Uint32Array): void {
  if (descs.length < n * QUIC_SEAL_DESC_WORDS) throw new PhantomError("BAD_LENGTH", `quic seal batch: ${n} packets need ${n * QUIC_SEAL_DESC_WORDS} descriptor words, got ${descs.length}`);
  if (n === 0) return;
  const rc = native.ph_quic_seal_batch(suite, material, buf, buf.length, n, descs);
  if (rc !== 0) throw new PhantomError("QUIC_SEAL_BAD_BATCH", `quic seal batch rejected (code ${rc}): a packet lies outside its buffer, has a bad packet number length, or is too short to sample`);
}

/**
 * Unprotects and decrypts `n` packets of `buf` (not modified) into `out`; per-packet
 * status, first byte and packet number come back in `descs`. Returns how many opened.
 */
export function quicOpenBatch(suite: number, material: Uint8Array, buf: Uint8Array, n: number, descs: Uint32Array, out: Uint8Array): number {
  if (descs.length < n * QUIC_OPEN_DESC_WORDS) throw new PhantomError("BAD_LENGTH", `quic open batch: ${n} packets need ${n * QUIC_OPEN_DESC_WORDS} descriptor words, got ${descs.length}`);
  if (n === 0) return 0;
  const rc = Number(native.ph_quic_open_batch(suite, material, nz(buf), buf.length, n, descs, nz(out), out.length));
  if (rc < 0) throw new PhantomError("QUIC_OPEN_BAD_SUITE", `quic open batch: unknown cipher suite 0x${suite.toString(16)}`);
  return rc;
}

/** The 5-byte header protection mask for a 16-byte sample (RFC 9001 §5.4). */
export function quicHeaderMask(suite: number, hpKey: Uint8Array, sample: Uint8Array): Uint8Array {
  checkLength("sample", sample, 16);
  const out = new Uint8Array(5);
  if (native.ph_quic_hp_mask(suite, hpKey, sample, out) !== 0) throw new PhantomError("QUIC_BAD_SUITE", `unknown cipher suite 0x${suite.toString(16)}`);
  return out;
}
