/**
 * Self-signed X.509 v3 certificates (RFC 5280) for a node's Ed25519 identity key
 * (RFC 8410), written with a minimal DER encoder, and verification of a peer's
 * certificate through node:crypto's X509Certificate.
 */
import { X509Certificate, type KeyObject } from "node:crypto";
import { concatBytes } from "../../../crypto/bytes.ts";
import { sign } from "../../../crypto/ed25519.ts";
import { ALERT_BAD_CERTIFICATE, ALERT_UNSUPPORTED_CERTIFICATE, tlsAlert } from "./bytes.ts";

export interface Identity {
  publicKey: Uint8Array;
  /** 64-byte libsodium secret key (seed || public key). */
  secretKey: Uint8Array;
}

/** Host name put in the certificate's subjectAltName, for peers that check one. */
export const CERT_DNS_NAME = "localhost";
const NOT_BEFORE_UTC = "250101000000Z";
const NOT_AFTER_GENERALIZED = "99991231235959Z";
const OID_ED25519 = [1, 3, 101, 112];
const OID_COMMON_NAME = [2, 5, 4, 3];
const OID_SUBJECT_ALT_NAME = [2, 5, 29, 17];
const OID_BASIC_CONSTRAINTS = [2, 5, 29, 19];

function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let x = n; x > 0; x = Math.floor(x / 256)) bytes.unshift(x & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const n = content.reduce((sum, c) => sum + c.length, 0);
  return concatBytes(Uint8Array.from([tag, ...derLength(n)]), ...content);
}

const seq = (...c: Uint8Array[]) => tlv(0x30, ...c);
const ascii = (s: string) => new Uint8Array(Buffer.from(s, "latin1"));

function oid(parts: number[]): Uint8Array {
  const out = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [];
    for (let x = p; ; x = Math.floor(x / 128)) {
      chunk.unshift((x & 0x7f) | (chunk.length ? 0x80 : 0));
      if (x < 128) break;
    }
    out.push(...chunk);
  }
  return tlv(0x06, new Uint8Array(out));
}

function positiveInteger(bytes: Uint8Array): Uint8Array {
  const b = bytes.slice();
  b[0]! &= 0x7f;
  if (b[0] === 0) b[0] = 1;
  return tlv(0x02, b);
}

function name(cn: string): Uint8Array {
  return seq(tlv(0x31, seq(oid(OID_COMMON_NAME), tlv(0x0c, ascii(cn)))));
}

/** DER of the self-signed certificate binding `identity`'s Ed25519 key (deterministic). */
export function certificateDer(identity: Identity): Uint8Array {
  const algorithm = seq(oid(OID_ED25519));
  const cn = "phantom-" + Buffer.from(identity.publicKey.subarray(0, 8)).toString("hex");
  const spki = seq(algorithm, tlv(0x03, new Uint8Array([0]), identity.publicKey));
  const san = seq(oid(OID_SUBJECT_ALT_NAME), tlv(0x04, seq(tlv(0x82, ascii(CERT_DNS_NAME)))));
  // CA:TRUE lets strict chain builders accept the self-signed certificate as its own anchor.
  const basic = seq(oid(OID_BASIC_CONSTRAINTS), tlv(0x01, new Uint8Array([0xff])), tlv(0x04, seq(tlv(0x01, new Uint8Array([0xff])))));
  const tbs = seq(
    tlv(0xa0, tlv(0x02, new Uint8Array([2]))),
    positiveInteger(identity.publicKey.subarray(0, 16)),
    algorithm,
    name(cn),
    seq(tlv(0x17, ascii(NOT_BEFORE_UTC)), tlv(0x18, ascii(NOT_AFTER_GENERALIZED))),
    name(cn),
    spki,
    tlv(0xa3, seq(basic, san)),
  );
  return seq(tbs, algorithm, tlv(0x03, new Uint8Array([0]), sign(identity.secretKey, tbs)));
}

/** PEM text of a DER certificate. */
export function certificatePem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

/**
 * Parses a peer's end-entity certificate, requires an Ed25519 key and a valid
 * self-signature; returns the 32-byte public key. The validity dates are not read:
 * the caller accepts a key only if genesis pins it (TRANSPORT.md), so dates would add
 * nothing but a dependency on the wall clock (a board without a real-time clock that
 * boots in 1970 must still reach its committee).
 */
export function verifyCertificate(der: Uint8Array): Uint8Array {
  // A pure function of the bytes: peers present the same certificate on every
  // handshake, so a verified one is remembered (parsing and the self-signature check
  // cost ~80 µs, on the critical path of both sides' flights).
  if (der.length > CACHED_CERTIFICATE_BYTES_MAX) return verifyCertificateUncached(der);
  const cacheKey = Buffer.from(der.buffer, der.byteOffset, der.length).toString("latin1");
  const cached = verifiedCertificates.get(cacheKey);
  if (cached) {
    verifiedCertificates.delete(cacheKey); // most recently used last
    verifiedCertificates.set(cacheKey, cached);
    return cached.slice();
  }
  const pk = verifyCertificateUncached(der);
  if (verifiedCertificates.size >= VERIFIED_CERTIFICATES_MAX) verifiedCertificates.delete(verifiedCertificates.keys().next().value!);
  verifiedCertificates.set(cacheKey, pk.slice());
  return pk;
}

/** Certificates that passed verifyCertificate (DER as latin1 -> key), least recently used first. */
const verifiedCertificates = new Map<string, Uint8Array>();
/** Bounds the memory a peer sending many distinct certificates can pin (≤ 256 KB). */
const VERIFIED_CERTIFICATES_MAX = 256;
/** Ours are ~300 bytes, quic-go's Ed25519 ones similar; larger ones are not remembered. */
const CACHED_CERTIFICATE_BYTES_MAX = 1024;

function verifyCertificateUncached(der: Uint8Array): Uint8Array {
  let cert: X509Certificate;
  let key: KeyObject;
  try {
    cert = new X509Certificate(der);
    // The key is decoded lazily: a certificate can parse and still hold an undecodable key.
    key = cert.publicKey;
  } catch {
    throw tlsAlert(ALERT_BAD_CERTIFICATE, "certificate does not parse");
  }
  if (key.asymmetricKeyType !== "ed25519") throw tlsAlert(ALERT_UNSUPPORTED_CERTIFICATE, "certificate key is not Ed25519");
  if (!cert.verify(key)) throw tlsAlert(ALERT_BAD_CERTIFICATE, "certificate self-signature is invalid");
  const jwk = key.export({ format: "jwk" }) as { x?: string };
  if (typeof jwk.x !== "string") throw tlsAlert(ALERT_BAD_CERTIFICATE, "certificate key unreadable");
  const pk = new Uint8Array(Buffer.from(jwk.x, "base64url"));
  if (pk.length !== 32) throw tlsAlert(ALERT_BAD_CERTIFICATE, "certificate key length");
  return pk;
}
