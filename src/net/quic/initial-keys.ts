/**
 * HKDF (RFC 5869) over HMAC-SHA256 from node:crypto, TLS 1.3's HKDF-Expand-Label
 * (RFC 8446 §7.1) and QUIC v1 Initial secrets (RFC 9001 §5.2).
 */
import { createHmac } from "node:crypto";

export const QUIC_VERSION_1 = 0x00000001;
/** RFC 9001 §5.2: initial_salt for QUIC version 1. */
export const INITIAL_SALT_V1 = new Uint8Array(Buffer.from("38762cf7f55934b34d179ae6a4c80cadccbb7f0a", "hex"));
export const HASH_BYTES = 32;

export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac("sha256", key).update(data).digest());
}

export function hkdfExtract(salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  return hmacSha256(salt, ikm);
}

export function hkdfExpand(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let prev = new Uint8Array(0);
  let o = 0;
  for (let i = 1; o < length; i++) {
    const h = createHmac("sha256", prk);
    h.update(prev);
    h.update(info);
    h.update(new Uint8Array([i]));
    prev = new Uint8Array(h.digest());
    out.set(prev.subarray(0, Math.min(prev.length, length - o)), o);
    o += prev.length;
  }
  return out;
}

const LABEL_PREFIX = "tls13 ";

/** HKDF-Expand-Label(secret, label, context, length) with the "tls13 " prefix. */
export function hkdfExpandLabel(secret: Uint8Array, label: string, context: Uint8Array, length: number): Uint8Array {
  const full = Buffer.from(LABEL_PREFIX + label, "latin1");
  const info = new Uint8Array(2 + 1 + full.length + 1 + context.length);
  info[0] = length >> 8;
  info[1] = length & 0xff;
  info[2] = full.length;
  info.set(full, 3);
  info[3 + full.length] = context.length;
  info.set(context, 4 + full.length);
  return hkdfExpand(secret, info, length);
}

export interface InitialSecrets {
  client: Uint8Array;
  server: Uint8Array;
}

/** RFC 9001 §5.2: Initial secrets from the client's first Destination Connection ID. */
export function initialSecrets(dcid: Uint8Array): InitialSecrets {
  const initial = hkdfExtract(INITIAL_SALT_V1, dcid);
  return {
    client: hkdfExpandLabel(initial, "client in", new Uint8Array(0), HASH_BYTES),
    server: hkdfExpandLabel(initial, "server in", new Uint8Array(0), HASH_BYTES),
  };
}
