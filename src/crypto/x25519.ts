/** X25519 (RFC 7748) and ChaCha20-Poly1305 (RFC 8439) for the transport. */
import { native } from "./native.ts";
import { checkLength } from "./bytes.ts";
import { PhantomError } from "../errors.ts";

export function x25519(scalar: Uint8Array, point: Uint8Array): Uint8Array {
  checkLength("scalar", scalar, 32);
  checkLength("point", point, 32);
  const out = new Uint8Array(32);
  // libsodium refuses an all-zero result (a small-order peer point).
  if (native.ph_x25519(out, scalar, point) !== 0) throw new PhantomError("X25519_SMALL_ORDER", "x25519 peer point has small order");
  return out;
}

export function x25519PublicKey(scalar: Uint8Array): Uint8Array {
  checkLength("scalar", scalar, 32);
  const out = new Uint8Array(32);
  if (native.ph_x25519_base(out, scalar) !== 0) throw new PhantomError("CRYPTO_FAILED", "x25519 base multiplication failed");
  return out;
}
