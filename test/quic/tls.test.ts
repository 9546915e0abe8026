import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { randomBytes, X509Certificate } from "node:crypto";
import { keyPairFromSeed, sign } from "../../src/crypto/ed25519.ts";
import { TlsSession, type EncryptionLevel, type TlsConfig } from "../../src/net/quic/tls/handshake.ts";
import { certificateDer, verifyCertificate } from "../../src/net/quic/tls/certificate.ts";
import { decodeTransportParameters, defaultTransportParameters, encodeTransportParameters } from "../../src/net/quic/tls/transport-parameters.ts";
import { TLS_CHACHA20_POLY1305_SHA256 } from "../../src/net/quic/packet-protection.ts";
import { isQuicError } from "../../src/net/quic/errors.ts";

// Generous per-test bound: CI runs the suite on 2 shared cores.
setDefaultTimeout(30_000);

const clientId = keyPairFromSeed(new Uint8Array(32).fill(1));
const serverId = keyPairFromSeed(new Uint8Array(32).fill(2));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

interface Side { session: TlsSession; keys: Map<string, string>; out: { level: EncryptionLevel; data: Uint8Array }[] }

function side(cfg: Partial<TlsConfig> & { isClient: boolean }): Side {
  const s: Side = { session: null as unknown as TlsSession, keys: new Map(), out: [] };
  s.session = new TlsSession(
    {
      identity: cfg.isClient ? clientId : serverId,
      alpn: ["phantom/0"],
      transportParameters: encodeTransportParameters({ ...defaultTransportParameters(), initialMaxData: 1000 }),
      verifyPeer: () => true,
      random: (n) => new Uint8Array(randomBytes(n)),
      ...cfg,
    },
    {
      send: (level, data) => s.out.push({ level, data }),
      installKey: (level, dir, suite, secret) => s.keys.set(`${level}/${dir}`, `${suite}:${hex(secret)}`),
    },
  );
  return s;
}

/** Delivers queued handshake bytes back and forth until quiet; splits messages at odd points. */
function pump(a: Side, b: Side): void {
  for (let round = 0; round < 10; round++) {
    let moved = false;
    for (const [from, to] of [[a, b], [b, a]] as const) {
      const batch = from.out.splice(0);
      for (const { level, data } of batch) {
        const cut = Math.floor(data.length / 3);
        to.session.receive(level, data.subarray(0, cut));
        to.session.receive(level, data.subarray(cut));
        moved = true;
      }
    }
    if (!moved) return;
  }
}

describe("TLS 1.3 handshake (mutual Ed25519)", () => {
  test("both sides complete, agree on keys, learn each other's key", () => {
    for (const suites of [undefined, [TLS_CHACHA20_POLY1305_SHA256] as const]) {
      const c = side({ isClient: true, cipherSuites: suites });
      const s = side({ isClient: false });
      c.session.start();
      pump(c, s);
      expect(c.session.complete).toBe(true);
      expect(s.session.complete).toBe(true);
      expect(hex(c.session.peerPublicKey!)).toBe(hex(serverId.publicKey));
      expect(hex(s.session.peerPublicKey!)).toBe(hex(clientId.publicKey));
      for (const level of [2, 3]) {
        expect(c.keys.get(`${level}/write`)).toBe(s.keys.get(`${level}/read`)!);
        expect(c.keys.get(`${level}/read`)).toBe(s.keys.get(`${level}/write`)!);
      }
      expect(c.session.alpn).toBe("phantom/0");
      expect(decodeTransportParameters(c.session.peerTransportParameters!, true).initialMaxData).toBe(1000);
      if (suites) expect(c.keys.get("3/write")!.startsWith(String(TLS_CHACHA20_POLY1305_SHA256))).toBe(true);
    }
  });

  test("rejected peer key fails with CRYPTO_ERROR bad_certificate", () => {
    const c = side({ isClient: true, verifyPeer: (pk) => hex(pk) === hex(clientId.publicKey) });
    const s = side({ isClient: false });
    c.session.start();
    let err: unknown;
    try { pump(c, s); } catch (e) { err = e; }
    expect(isQuicError(err) && err.wireCode).toBe(0x100 + 42);
  });

  test("server rejects the client's key", () => {
    const c = side({ isClient: true });
    const s = side({ isClient: false, verifyPeer: () => false });
    c.session.start();
    expect(() => pump(c, s)).toThrow(/not accepted/);
    expect(s.session.complete).toBe(false);
  });

  test("ALPN mismatch → no_application_protocol", () => {
    const c = side({ isClient: true, alpn: ["h3"] });
    const s = side({ isClient: false });
    c.session.start();
    let err: unknown;
    try { pump(c, s); } catch (e) { err = e; }
    expect(isQuicError(err) && err.wireCode).toBe(0x100 + 120);
  });

  test("garbage and truncated messages give typed errors", () => {
    const s = side({ isClient: false });
    const c = side({ isClient: true });
    c.session.start();
    const ch = c.out[0]!.data;
    for (let n = 4; n < ch.length; n += 7) {
      const bad = ch.slice(0, n);
      bad[1] = 0; bad[2] = (n - 4) >> 8; bad[3] = (n - 4) & 0xff;
      const fresh = side({ isClient: false });
      expect(() => fresh.session.receive(0, bad)).toThrow();
    }
    expect(() => s.session.receive(0, new Uint8Array([1, 0xff, 0, 0]))).toThrow(/handshake message of/);
    expect(() => s.session.receive(2, ch)).toThrow(/wrong encryption level/);
  });
});

describe("certificate", () => {
  test("round trip and tamper detection", () => {
    const der = certificateDer(serverId);
    expect(hex(verifyCertificate(der))).toBe(hex(serverId.publicKey));
    const bad = der.slice();
    bad[bad.length - 5] = bad[bad.length - 5]! ^ 1;
    expect(() => verifyCertificate(bad)).toThrow(/self-signature/);
    expect(() => verifyCertificate(der.subarray(0, 50))).toThrow(/parse/);
  });

  test("a remembered certificate gives the same key, unharmed by what callers do with theirs", () => {
    const der = certificateDer(clientId);
    const first = verifyCertificate(der);
    first.fill(0);
    const inArray = new Uint8Array(der.length + 7);
    inArray.set(der, 7); // the same bytes at an offset in a larger buffer
    expect(hex(verifyCertificate(inArray.subarray(7)))).toBe(hex(clientId.publicKey));
    const bad = der.slice();
    bad[bad.length - 5] = bad[bad.length - 5]! ^ 1;
    expect(() => verifyCertificate(bad)).toThrow(/self-signature/);
    expect(hex(verifyCertificate(der))).toBe(hex(clientId.publicKey));
  });

  test("validity dates are not checked: keys are pinned by genesis, not by a clock", () => {
    // Re-signed certificates whose validity ended in 2020, or starts in 2099.
    const expired = withValidity(certificateDer(serverId), "200101000000Z", "20201231235959Z");
    const future = withValidity(certificateDer(serverId), "990101000000Z", "99991231235959Z");
    for (const der of [expired, future]) {
      const x509 = new X509Certificate(der);
      expect(x509.verify(x509.publicKey)).toBe(true); // a well-formed, correctly signed certificate
      expect(hex(verifyCertificate(der))).toBe(hex(serverId.publicKey));
    }
    expect(new X509Certificate(expired).validTo).toContain("2020");
  });
});

/** `der` with other validity dates (same lengths), re-signed by `serverId`. */
function withValidity(der: Uint8Array, notBeforeUtc: string, notAfterGeneralized: string): Uint8Array {
  const out = der.slice();
  const text = Buffer.from(out).toString("latin1");
  const patch = (from: string, to: string) => {
    const at = text.indexOf(from);
    expect(at).toBeGreaterThan(0);
    expect(to.length).toBe(from.length);
    out.set(Buffer.from(to, "latin1"), at);
  };
  patch("250101000000Z", notBeforeUtc);
  patch("99991231235959Z", notAfterGeneralized);
  // Outer SEQUENCE header, then the tbsCertificate TLV (long-form lengths).
  const outerHeader = 2 + (out[1]! & 0x80 ? out[1]! & 0x7f : 0);
  const tbsLenBytes = out[outerHeader + 1]! & 0x80 ? out[outerHeader + 1]! & 0x7f : 0;
  let tbsLen = tbsLenBytes ? 0 : out[outerHeader + 1]!;
  for (let i = 0; i < tbsLenBytes; i++) tbsLen = tbsLen * 256 + out[outerHeader + 2 + i]!;
  const tbs = out.subarray(outerHeader, outerHeader + 2 + tbsLenBytes + tbsLen);
  out.set(sign(serverId.secretKey, tbs), out.length - 64); // the signature ends the certificate
  return out;
}

describe("transport parameters", () => {
  test("round trip, duplicates and server-only checks", () => {
    const p = { ...defaultTransportParameters(), maxIdleTimeoutMs: 30000, initialMaxStreamsBidi: 100, originalDestinationConnectionId: new Uint8Array([1, 2]), maxDatagramFrameSize: 1200 };
    const enc = encodeTransportParameters(p);
    const dec = decodeTransportParameters(enc, true);
    expect(dec.maxIdleTimeoutMs).toBe(30000);
    expect(dec.initialMaxStreamsBidi).toBe(100);
    expect(dec.maxDatagramFrameSize).toBe(1200);
    expect(() => decodeTransportParameters(enc, false)).toThrow(/server-only/);
    const dup = new Uint8Array([...encodeTransportParameters({ ...defaultTransportParameters(), initialMaxData: 5 }), 0x04, 0x01, 0x05]);
    expect(() => decodeTransportParameters(dup, false)).toThrow(/duplicate/);
    expect(() => decodeTransportParameters(new Uint8Array([0x04, 0x05, 0x01]), false)).toThrow();
  });
});
