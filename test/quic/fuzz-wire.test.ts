/**
 * Fuzzing the wire-facing decoders owned by the packet/TLS/connection layer: packet
 * headers, transport parameters, TLS handshake messages and whole datagrams fed to
 * live connections (random bytes and bit-flipped real packets). Every input either
 * parses, is dropped, or fails with a typed error; nothing else is thrown and a
 * live connection stays usable.
 */
import { describe, expect, test, setDefaultTimeout } from "bun:test";
import fc from "fast-check";
import { randomBytes } from "node:crypto";
import { isQuicError } from "../../src/net/quic/errors.ts";
import { QuicHeaderError, parsePacketHeader } from "../../src/net/quic/packet-header.ts";
import { decodeTransportParameters } from "../../src/net/quic/tls/transport-parameters.ts";
import { TlsSession } from "../../src/net/quic/tls/handshake.ts";
import { makePair, run, serverIdentity } from "./harness.ts";

// Generous per-test bound: CI runs the suite on 2 shared cores.
setDefaultTimeout(30_000);

const RUNS = 400;

describe("wire fuzz", () => {
  test("parsePacketHeader: parses or throws QuicHeaderError, bounds stay inside the datagram", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 1500 }), fc.integer({ min: 0, max: 20 }), (bytes, cidLen) => {
      if (bytes.length === 0) return;
      try {
        const h = parsePacketHeader(bytes, 0, cidLen);
        expect(h.end).toBeLessThanOrEqual(bytes.length);
        if (h.form !== "vn") expect(h.pnOffset).toBeLessThanOrEqual(h.end);
      } catch (e) {
        expect(e).toBeInstanceOf(QuicHeaderError);
      }
    }), { numRuns: RUNS * 5 });
  });

  test("transport parameters: decode or TRANSPORT_PARAMETER_ERROR", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, fromServer) => {
      try {
        decodeTransportParameters(bytes, fromServer);
      } catch (e) {
        expect(isQuicError(e) && e.transportError).toBe("TRANSPORT_PARAMETER_ERROR");
      }
    }), { numRuns: RUNS * 5 });
  });

  test("TLS server: random handshake bytes give CRYPTO_ERROR, never another exception", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
      const s = new TlsSession(
        { isClient: false, identity: serverIdentity, alpn: ["phantom/0"], transportParameters: new Uint8Array(0), verifyPeer: () => true, random: (n) => new Uint8Array(randomBytes(n)) },
        { send: () => {}, installKey: () => {} },
      );
      const msg = new Uint8Array(4 + bytes.length);
      msg[0] = 1;
      msg[1] = bytes.length >> 16; msg[2] = (bytes.length >> 8) & 0xff; msg[3] = bytes.length & 0xff;
      msg.set(bytes, 4);
      try {
        s.receive(0, msg);
      } catch (e) {
        expect(isQuicError(e) && e.transportError).toBe("CRYPTO_ERROR");
      }
    }), { numRuns: RUNS });
  });

  test("live connections survive random and bit-flipped datagrams", () => {
    const p = makePair();
    const captured: Uint8Array[] = [];
    p.filter = (_dir, d) => { if (captured.length < 50) captured.push(d.slice()); return true; };
    run(p, p.nowMs + 5000, {}, () => p.client.isEstablished && !!p.server?.isEstablished);
    const sid = p.client.openStream();
    p.client.writeStream(sid, new Uint8Array(20_000).fill(1), true);
    run(p, p.nowMs + 2000, {}, () => p.serverEvents.some((e) => e.type === "stream_data" && e.fin));
    fc.assert(fc.property(fc.nat({ max: captured.length - 1 }), fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), fc.uint8Array({ maxLength: 1300 }), (which, flips, junk) => {
      const d = captured[which]!.slice();
      for (const f of flips) d[f % d.length] = d[f % d.length]! ^ (1 << (f % 8));
      p.server.receive(d, p.nowMs);
      p.client.receive(d, p.nowMs);
      p.server.receive(junk, p.nowMs);
      p.client.receive(junk, p.nowMs);
    }), { numRuns: RUNS });
    expect(p.client.isEstablished).toBe(true);
    expect(p.server.isEstablished).toBe(true);
    const sid2 = p.client.openStream();
    p.client.writeStream(sid2, new Uint8Array([9, 9]), true);
    run(p, p.nowMs + 2000, {}, () => p.serverEvents.some((e) => e.type === "stream_data" && e.streamId === sid2 && e.fin));
    expect(p.serverEvents.some((e) => e.type === "stream_data" && e.streamId === sid2 && e.fin)).toBe(true);
  });
});
