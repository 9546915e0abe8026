/** RFC 9001 Appendix A vectors (test/vectors/quic-rfc9001.json cites the RFC). */
import { describe, expect, test } from "bun:test";
import vectors from "../vectors/quic-rfc9001.json";
import { initialSecrets } from "../../src/net/quic/initial-keys.ts";
import {
  PacketKeys, TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256, decodePacketNumber, openPacket, packetNumberLength, sealPacket, sealPacketInto,
} from "../../src/net/quic/packet-protection.ts";
import { parsePacketHeader, verifyRetry, writeLongHeader, writeRetry, writeShortHeader, writeVersionNegotiation, PACKET_TYPE_INITIAL } from "../../src/net/quic/packet-header.ts";
import { hkdfExpandLabel } from "../../src/net/quic/initial-keys.ts";

const hex = (s: string) => new Uint8Array(Buffer.from(s, "hex"));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("RFC 9001 A.1 keys", () => {
  const s = initialSecrets(hex(vectors.dcid));
  test("initial secrets and derived keys", () => {
    expect(toHex(s.client)).toBe(vectors.keys.client_initial_secret);
    expect(toHex(s.server)).toBe(vectors.keys.server_initial_secret);
    const c = new PacketKeys(TLS_AES_128_GCM_SHA256, s.client);
    expect(toHex(c.key)).toBe(vectors.keys.client_key);
    expect(toHex(c.iv)).toBe(vectors.keys.client_iv);
    expect(toHex(hkdfExpandLabel(s.client, "quic hp", new Uint8Array(0), 16))).toBe(vectors.keys.client_hp);
    const sv = new PacketKeys(TLS_AES_128_GCM_SHA256, s.server);
    expect(toHex(sv.key)).toBe(vectors.keys.server_key);
    expect(toHex(sv.iv)).toBe(vectors.keys.server_iv);
  });
});

describe("RFC 9001 A.2/A.3 Initial packets", () => {
  const s = initialSecrets(hex(vectors.dcid));
  test("client Initial seals to the vector and opens back", () => {
    const v = vectors.client_initial;
    const payload = new Uint8Array(v.padded_payload_length);
    payload.set(hex(v.payload_prefix));
    const keys = new PacketKeys(TLS_AES_128_GCM_SHA256, s.client);
    const sealed = sealPacket(keys, hex(v.header), v.pn_length, v.pn, payload);
    expect(toHex(sealed)).toBe(v.protected);
    const h = parsePacketHeader(sealed, 0, 0);
    expect(h.form).toBe("long");
    if (h.form !== "long") return;
    expect(toHex(h.dcid)).toBe(vectors.dcid);
    expect(h.end).toBe(1200);
    const opened = openPacket(new PacketKeys(TLS_AES_128_GCM_SHA256, s.client), sealed, h.pnOffset, -1);
    expect(opened?.pn).toBe(2);
    expect(toHex(opened!.payload)).toBe(toHex(payload));
    // A flipped ciphertext bit fails authentication.
    const bad = sealed.slice();
    bad[100] = bad[100]! ^ 1;
    expect(openPacket(keys, bad, h.pnOffset, -1)).toBeNull();
  });
  test("our header writer reproduces the client header", () => {
    const h = writeLongHeader({ type: PACKET_TYPE_INITIAL, dcid: hex(vectors.dcid), scid: new Uint8Array(0), pnLength: 4, pn: 2, protectedPayloadBytes: 1162 + 16 });
    expect(toHex(h)).toBe(vectors.client_initial.header);
  });
  test("server Initial", () => {
    const v = vectors.server_initial;
    const keys = new PacketKeys(TLS_AES_128_GCM_SHA256, s.server);
    const sealed = sealPacket(keys, hex(v.header), v.pn_length, v.pn, hex(v.payload));
    expect(toHex(sealed)).toBe(v.protected);
    const h = parsePacketHeader(sealed, 0, 0);
    if (h.form !== "long") throw new Error("expected long header");
    expect(toHex(h.scid)).toBe("f067a5502a4262b5");
    expect(toHex(openPacket(keys, sealed, h.pnOffset, 0)!.payload)).toBe(v.payload);
  });
});

describe("RFC 9001 A.4 Retry", () => {
  test("integrity tag", () => {
    const v = vectors.retry;
    const built = writeRetry(hex(v.original_dcid), hex(v.dcid), hex(v.scid), hex(v.token), 0xf);
    expect(toHex(built)).toBe(v.packet);
    expect(verifyRetry(hex(v.original_dcid), hex(v.packet))).toBe(true);
    expect(verifyRetry(hex("0000000000000000"), hex(v.packet))).toBe(false);
    const h = parsePacketHeader(hex(v.packet), 0, 0);
    if (h.form !== "long") throw new Error("expected long header");
    expect(toHex(h.token)).toBe(v.token);
  });
});

describe("RFC 9001 A.5 ChaCha20-Poly1305 short header", () => {
  const v = vectors.chacha20_short;
  test("keys, key update, seal, open", () => {
    const keys = new PacketKeys(TLS_CHACHA20_POLY1305_SHA256, hex(v.secret));
    expect(toHex(keys.key)).toBe(v.key);
    expect(toHex(keys.iv)).toBe(v.iv);
    expect(toHex(hkdfExpandLabel(hex(v.secret), "quic hp", new Uint8Array(0), 32))).toBe(v.hp);
    expect(toHex(keys.next().secret)).toBe(v.ku);
    const sealed = sealPacket(keys, hex(v.header), v.pn_length, v.pn, hex(v.payload));
    expect(toHex(sealed)).toBe(v.protected);
    const h = parsePacketHeader(sealed, 0, 0);
    if (h.form !== "short") throw new Error("expected short header");
    const opened = openPacket(keys, sealed, h.pnOffset, v.pn - 1);
    expect(opened?.pn).toBe(v.pn);
    expect(toHex(opened!.payload)).toBe(v.payload);
  });
  test("short header writer", () => {
    expect(toHex(writeShortHeader(new Uint8Array(0), 0, 3, v.pn))).toBe(v.header);
  });
});

describe("sealing into a shared buffer", () => {
  for (const suite of [TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256] as const) {
    test(`suite ${suite.toString(16)}: packets sealed back to back equal sealPacket's, and open to plain copies`, () => {
      const keys = new PacketKeys(suite, new Uint8Array(32).fill(7));
      const dcid = new Uint8Array(8).fill(3);
      const out = new Uint8Array(4096).fill(0xee);
      let o = 5;
      const spans: [number, number, Uint8Array][] = [];
      for (const [pn, len] of [[0, 40], [1, 1100], [2, 3]] as const) {
        const payload = new Uint8Array(len).map((_, i) => (i * 31 + pn) & 0xff);
        const header = writeShortHeader(dcid, 0, 2, pn);
        const end = sealPacketInto(keys, header, 2, pn, payload, out, o);
        expect(end - o).toBe(header.length + len + 16);
        expect(toHex(out.subarray(o, end))).toBe(toHex(sealPacket(keys, header, 2, pn, payload)));
        spans.push([o, end, payload]);
        o = end;
      }
      expect(out[4]).toBe(0xee); // nothing written before the offset
      expect(out[o]).toBe(0xee); // nor past the last packet
      for (const [i, [start, end, payload]] of spans.entries()) {
        const packet = out.subarray(start, end);
        const opened = openPacket(keys, packet, 1 + dcid.length, i - 1);
        expect(opened?.pn).toBe(i);
        expect(toHex(opened!.payload)).toBe(toHex(payload));
        // The payload is a plain Uint8Array: slice copies (a Buffer's would alias).
        expect(Buffer.isBuffer(opened!.payload)).toBe(false);
        if (opened!.payload.length === 0) continue;
        const copy = opened!.payload.slice();
        copy[0] = copy[0]! ^ 0xff;
        expect(opened!.payload[0]).toBe(payload[0]!);
        expect(opened!.payload.subarray(0, 1)).toBeInstanceOf(Uint8Array);
      }
    });
  }
});

describe("packet numbers (RFC 9000 Appendix A)", () => {
  test("A.3 example and wraparound", () => {
    expect(decodePacketNumber(0xa82f30ea, 0x9b32, 16)).toBe(0xa82f9b32);
    expect(decodePacketNumber(-1, 0, 8)).toBe(0);
    expect(decodePacketNumber(255, 0, 8)).toBe(256);
    expect(decodePacketNumber(2 ** 40, 0xff, 8)).toBe(2 ** 40 - 1);
  });
  test("A.2 encoding lengths", () => {
    expect(packetNumberLength(0xac5c02, 0xabe8b3)).toBe(2);
    expect(packetNumberLength(0xace8fe, 0xabe8b3)).toBe(3);
  });
  test("round-trip under random gaps", () => {
    let largest = -1;
    for (let pn = 0; pn < 5_000_000; pn += 1 + ((pn * 7919) % 3000)) {
      const len = packetNumberLength(pn, largest);
      const trunc = pn % 2 ** (8 * len);
      expect(decodePacketNumber(largest, trunc, 8 * len)).toBe(pn);
      largest = pn;
    }
  });
});

describe("version negotiation and malformed headers", () => {
  test("VN echoes swapped connection ids", () => {
    const vn = writeVersionNegotiation(hex("0102"), hex("0304"), [1, 0x1a2a3a4a], 5);
    const h = parsePacketHeader(vn, 0, 0);
    expect(h.form).toBe("vn");
    if (h.form !== "vn") return;
    expect(toHex(h.dcid)).toBe("0304");
    expect(toHex(h.scid)).toBe("0102");
    expect(h.versions).toEqual([1, 0x1a2a3a4a]);
  });
  test("truncations throw typed errors", () => {
    const pkt = hex(vectors.client_initial.protected);
    for (const n of [1, 3, 6, 10, 14, 17]) {
      expect(() => parsePacketHeader(pkt.subarray(0, n), 0, 0)).toThrow();
    }
    const bigCid = pkt.slice();
    bigCid[5] = 21;
    expect(() => parsePacketHeader(bigCid, 0, 0)).toThrow(/connection id/);
  });
});
