/** TLS 1.3 key schedule for the SHA-256 suites (RFC 8446 §7.1) and the running transcript hash. */
import { createHash, type Hash } from "node:crypto";
import { HASH_BYTES, hkdfExpandLabel, hkdfExtract, hmacSha256 } from "../initial-keys.ts";

const ZEROS = new Uint8Array(HASH_BYTES);
const EMPTY = new Uint8Array(0);
const EMPTY_HASH = new Uint8Array(createHash("sha256").digest());

export class Transcript {
  private readonly hash: Hash = createHash("sha256");
  add(message: Uint8Array): void {
    this.hash.update(message);
  }
  digest(): Uint8Array {
    return new Uint8Array(this.hash.copy().digest());
  }
}

export interface HandshakeSecrets {
  client: Uint8Array;
  server: Uint8Array;
  /** Kept to derive the master secret. */
  handshakeSecret: Uint8Array;
}

export function handshakeSecrets(sharedSecret: Uint8Array, helloHash: Uint8Array): HandshakeSecrets {
  const early = hkdfExtract(ZEROS, ZEROS);
  const derived = hkdfExpandLabel(early, "derived", EMPTY_HASH, HASH_BYTES);
  const hs = hkdfExtract(derived, sharedSecret);
  return {
    client: hkdfExpandLabel(hs, "c hs traffic", helloHash, HASH_BYTES),
    server: hkdfExpandLabel(hs, "s hs traffic", helloHash, HASH_BYTES),
    handshakeSecret: hs,
  };
}

export function applicationSecrets(handshakeSecret: Uint8Array, serverFinishedHash: Uint8Array): { client: Uint8Array; server: Uint8Array } {
  const derived = hkdfExpandLabel(handshakeSecret, "derived", EMPTY_HASH, HASH_BYTES);
  const master = hkdfExtract(derived, ZEROS);
  return {
    client: hkdfExpandLabel(master, "c ap traffic", serverFinishedHash, HASH_BYTES),
    server: hkdfExpandLabel(master, "s ap traffic", serverFinishedHash, HASH_BYTES),
  };
}

/** Finished.verify_data (RFC 8446 §4.4.4). */
export function finishedVerifyData(baseSecret: Uint8Array, transcriptHash: Uint8Array): Uint8Array {
  const key = hkdfExpandLabel(baseSecret, "finished", EMPTY, HASH_BYTES);
  return hmacSha256(key, transcriptHash);
}

/** The signed content of CertificateVerify (RFC 8446 §4.4.3). */
export function certificateVerifyContent(isServer: boolean, transcriptHash: Uint8Array): Uint8Array {
  const ctx = Buffer.from(isServer ? "TLS 1.3, server CertificateVerify" : "TLS 1.3, client CertificateVerify", "latin1");
  const out = new Uint8Array(64 + ctx.length + 1 + transcriptHash.length);
  out.fill(0x20, 0, 64);
  out.set(ctx, 64);
  out[64 + ctx.length] = 0;
  out.set(transcriptHash, 65 + ctx.length);
  return out;
}
