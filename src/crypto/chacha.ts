/** ChaCha20-Poly1305 AEAD (RFC 8439) and raw ChaCha20 (QUIC header protection). */
import { native } from "./native.ts";
import { checkLength } from "./bytes.ts";
import { PhantomError } from "../errors.ts";

const EMPTY = new Uint8Array(1);
const CHACHA_BLOCK_BYTES = 64;
/** Blocks addressable by the 32-bit counter (2^32). */
const CHACHA_BLOCKS_MAX = 2 ** 32;

/** Returns ciphertext || 16-byte tag. */
export function chacha20poly1305Seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  checkLength("key", key, 32);
  checkLength("nonce", nonce, 12);
  const out = new Uint8Array(plaintext.length + 16);
  const ct = out.subarray(0, plaintext.length);
  const tag = new Uint8Array(16);
  const rc = native.ph_chacha20poly1305_seal(
    plaintext.length ? ct : EMPTY, tag, plaintext.length ? plaintext : EMPTY, plaintext.length,
    aad.length ? aad : EMPTY, aad.length, nonce, key);
  if (rc !== 0) throw new PhantomError("CRYPTO_FAILED", "chacha20poly1305 seal failed");
  out.set(tag, plaintext.length);
  return out;
}

/** Opens ciphertext || tag; returns null when authentication fails. */
export function chacha20poly1305Open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | null {
  checkLength("key", key, 32);
  checkLength("nonce", nonce, 12);
  if (sealed.length < 16) return null;
  const n = sealed.length - 16;
  const out = new Uint8Array(n);
  const ct = sealed.subarray(0, n);
  const tag = sealed.slice(n);
  const rc = native.ph_chacha20poly1305_open(n ? out : EMPTY, n ? ct : EMPTY, n, tag, aad.length ? aad : EMPTY, aad.length, nonce, key);
  return rc === 0 ? out : null;
}

/** ChaCha20 keystream XOR with a 32-bit block counter (RFC 8439 §2.4). */
export function chacha20Xor(key: Uint8Array, nonce: Uint8Array, counter: number, input: Uint8Array): Uint8Array {
  checkLength("key", key, 32);
  checkLength("nonce", nonce, 12);
  if (!Number.isInteger(counter) || counter < 0 || counter > 0xffffffff) {
    throw new PhantomError("BAD_ARGUMENT", `chacha20 block counter must be an integer 0..2^32-1, got ${counter}`);
  }
  // libsodium aborts the whole process (sodium_misuse) if the keystream would run
  // past block 2^32 - 1, so that case must be refused here.
  if (counter + Math.ceil(input.length / CHACHA_BLOCK_BYTES) > CHACHA_BLOCKS_MAX) {
    throw new PhantomError("BAD_ARGUMENT", `chacha20: ${input.length} bytes from block ${counter} would pass the 32-bit block counter`);
  }
  const out = new Uint8Array(input.length);
  if (input.length === 0) return out;
  if (native.ph_chacha20_xor_ic(out, input, input.length, nonce, counter, key) !== 0) {
    throw new PhantomError("CRYPTO_FAILED", "chacha20 failed");
  }
  return out;
}
