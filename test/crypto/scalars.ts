/** Ed25519 scalar helpers shared by the signature tests (edge cases built by hand). */

/** Group order L (RFC 8032 §5.1). */
export const L = (1n << 252n) + 27742317777372353535851937790883648493n;

/** A little-endian byte string as an unsigned integer. */
export function leToBigint(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

/** An unsigned integer as `length` little-endian bytes (high bits beyond them dropped). */
export function bigintToLe(n: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
}
