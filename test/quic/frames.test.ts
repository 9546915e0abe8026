import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import {
  FrameType, ackRangesParsedMax, cryptoDataFitting, encodeFrame, frameAllowedIn, frameSize, isAckEliciting, parseFrames,
  serializeFrames, streamDataFitting, streamFrameHeaderLength, type Frame, type PacketType,
} from "../../src/net/quic/frames.ts";
import { QuicError } from "../../src/net/quic/errors.ts";
import { encodeVarint, encodeVarintBig } from "../../src/net/quic/varint.ts";
import { frameArb, frameListArb } from "./frames-arbitraries.ts";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const cat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

function errorOf(fn: () => unknown): QuicError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(QuicError);
    return e as QuicError;
  }
  throw new Error("expected a QuicError");
}

describe("frames: round trip", () => {
  test("serialize -> parse -> serialize is the identity (1-RTT allows every frame)", () => {
    fc.assert(fc.property(frameListArb, (frames) => {
      const bytes = serializeFrames(frames);
      const parsed = parseFrames(bytes, "1rtt");
      expect(parsed).toEqual(frames);
      expect(serializeFrames(parsed)).toEqual(bytes);
    }), { numRuns: 3000 });
  });

  test("frameSize equals the encoded length", () => {
    fc.assert(fc.property(frameArb, (f) => {
      expect(encodeFrame(f).length).toBe(frameSize(f));
    }), { numRuns: 2000 });
  });

  test("parsed data is a zero-copy view of the payload", () => {
    const bytes = serializeFrames([{ kind: "stream", streamId: 4, offset: 10, data: hex("aabbcc"), fin: false }]);
    const f = parseFrames(bytes, "1rtt")[0] as Extract<Frame, { kind: "stream" }>;
    bytes[bytes.length - 1] = 0x11;
    expect(f.data[2]).toBe(0x11);
    expect(f.data.buffer).toBe(bytes.buffer);
  });
});

describe("frames: wire vectors", () => {
  test("STREAM type bits: no OFF, no LEN (data to end), FIN", () => {
    const [f] = parseFrames(hex("09 04 68656c6c6f"), "1rtt");
    expect(f).toEqual({ kind: "stream", streamId: 4, offset: 0, data: hex("68656c6c6f"), fin: true });
    const [g] = parseFrames(hex("0e 00 4400 02 6869"), "0rtt"); // OFF|LEN, 2-byte offset 0x400
    expect(g).toEqual({ kind: "stream", streamId: 0, offset: 1024, data: hex("6869"), fin: false });
  });

  test("writer output for a STREAM frame with offset and FIN", () => {
    expect(Buffer.from(encodeFrame({ kind: "stream", streamId: 8, offset: 100, data: hex("01"), fin: true })).toString("hex")).toBe("0f08406401" + "01");
    expect(Buffer.from(encodeFrame({ kind: "stream", streamId: 8, offset: 0, data: hex(""), fin: true })).toString("hex")).toBe("0b0800");
  });

  test("ACK with gaps: largest 100, ranges [95..100], [80..90], [0..3]", () => {
    // first range 5; gap = 95-90-2 = 3, len 10; gap = 80-3-2 = 75, len 3
    const bytes = hex("02 4064 0a 02 05 03 0a 404b 03");
    const [f] = parseFrames(bytes, "initial");
    expect(f).toEqual({ kind: "ack", ackDelay: 10, ranges: [{ smallest: 95, largest: 100 }, { smallest: 80, largest: 90 }, { smallest: 0, largest: 3 }] });
    expect(encodeFrame(f!)).toEqual(bytes);
  });

  test("ACK_ECN carries three counts", () => {
    const [f] = parseFrames(hex("03 05 00 00 01 01 02 03"), "handshake");
    expect(f).toEqual({ kind: "ack", ackDelay: 0, ranges: [{ smallest: 4, largest: 5 }], ecn: { ect0: 1, ect1: 2, ce: 3 } });
  });

  test("PADDING runs merge; trailing padding after a frame", () => {
    expect(parseFrames(hex("00000000 01 0000"), "initial")).toEqual([{ kind: "padding", length: 4 }, { kind: "ping" }, { kind: "padding", length: 2 }]);
  });

  test("CONNECTION_CLOSE transport and application; DATAGRAM with and without length", () => {
    expect(parseFrames(hex("1c 0a 08 02 6f6b"), "initial")).toEqual([{ kind: "connection_close", application: false, errorCode: 10, frameType: 8, reason: hex("6f6b") }]);
    expect(parseFrames(hex("1d 4100 00"), "1rtt")).toEqual([{ kind: "connection_close", application: true, errorCode: 256, frameType: 0, reason: hex("") }]);
    expect(parseFrames(hex("31 02 aabb 30 ccdd"), "1rtt")).toEqual([{ kind: "datagram", data: hex("aabb") }, { kind: "datagram", data: hex("ccdd") }]);
  });

  test("MAX_STREAMS up to 2^60 is accepted, above is FRAME_ENCODING_ERROR", () => {
    const ok = cat(hex("12"), encodeVarintBig(1n << 60n));
    expect((parseFrames(ok, "1rtt")[0] as { maximum: number }).maximum).toBe(Number.MAX_SAFE_INTEGER);
    const e = errorOf(() => parseFrames(cat(hex("13"), encodeVarintBig((1n << 60n) + 1n)), "1rtt"));
    expect(e.code).toBe("QUIC_FRAME_ENCODING_ERROR");
    expect(e.frameType).toBe(0x13);
    expect(errorOf(() => parseFrames(cat(hex("16"), encodeVarintBig((1n << 61n))), "1rtt")).code).toBe("QUIC_FRAME_ENCODING_ERROR");
  });
});

describe("frames: errors", () => {
  const cases: [string, string, PacketType, string, number][] = [
    ["empty payload", "", "1rtt", "QUIC_PROTOCOL_VIOLATION", 0],
    ["unknown frame type 0x1f", "1f", "1rtt", "QUIC_FRAME_ENCODING_ERROR", 0x1f],
    ["unknown 2-byte frame type", "4040", "1rtt", "QUIC_FRAME_ENCODING_ERROR", 0x40],
    ["non-minimal PING 0x4001", "4001", "1rtt", "QUIC_PROTOCOL_VIOLATION", 1],
    ["ACK first range below 0", "02 05 00 00 06", "1rtt", "QUIC_FRAME_ENCODING_ERROR", 2],
    ["ACK later range below 0", "02 05 00 01 00 03 01", "1rtt", "QUIC_FRAME_ENCODING_ERROR", 2],
    ["ACK truncated", "02 05 00 02 00 00", "1rtt", "QUIC_FRAME_ENCODING_ERROR", 2],
    ["ACK in 0-RTT", "02 00 00 00 00", "0rtt", "QUIC_PROTOCOL_VIOLATION", 2],
    ["STREAM in Initial", "08 00", "initial", "QUIC_PROTOCOL_VIOLATION", 8],
    ["STREAM length past end", "0a 00 05 0102", "1rtt", "QUIC_FRAME_ENCODING_ERROR", 0x0a],
    ["STREAM offset+length > 2^62-1", "0e 00 ffffffffffffffff 01 aa", "1rtt", "QUIC_FRAME_ENCODING_ERROR", 0x0e],
    ["CRYPTO offset+length > 2^62-1", "06 ffffffffffffffff 01 aa", "1rtt", "QUIC_FRAME_ENCODING_ERROR", 6],
    ["CRYPTO in 0-RTT", "06 00 00", "0rtt", "QUIC_PROTOCOL_VIOLATION", 6],
    ["NEW_TOKEN empty", "07 00", "1rtt", "QUIC_FRAME_ENCODING_ERROR", 7],
    ["NEW_TOKEN in 0-RTT", "07 01 aa", "0rtt", "QUIC_PROTOCOL_VIOLATION", 7],
    ["NEW_CONNECTION_ID length 0", "18 01 00 00" + "00".repeat(16), "1rtt", "QUIC_FRAME_ENCODING_ERROR", 0x18],
    ["NEW_CONNECTION_ID length 21", "18 01 00 15" + "aa".repeat(21) + "00".repeat(16), "1rtt", "QUIC_FRAME_ENCODING_ERROR", 0x18],
    ["NEW_CONNECTION_ID retire > seq", "18 01 02 01 aa" + "00".repeat(16), "1rtt", "QUIC_FRAME_ENCODING_ERROR", 0x18],
    ["NEW_CONNECTION_ID short token", "18 01 00 01 aa" + "00".repeat(15), "1rtt", "QUIC_FRAME_ENCODING_ERROR", 0x18],
    ["PATH_CHALLENGE short", "1a 01020304", "1rtt", "QUIC_FRAME_ENCODING_ERROR", 0x1a],
    ["PATH_RESPONSE in 0-RTT", "1b 0102030405060708", "0rtt", "QUIC_PROTOCOL_VIOLATION", 0x1b],
    ["application close in Handshake", "1d 00 00", "handshake", "QUIC_PROTOCOL_VIOLATION", 0x1d],
    ["HANDSHAKE_DONE in Handshake", "1e", "handshake", "QUIC_PROTOCOL_VIOLATION", 0x1e],
    ["DATAGRAM in Initial", "30", "initial", "QUIC_PROTOCOL_VIOLATION", 0x30],
    ["DATAGRAM length past end", "31 05 aa", "1rtt", "QUIC_FRAME_ENCODING_ERROR", 0x31],
    ["reason phrase past end", "1c 00 00 09 aa", "1rtt", "QUIC_FRAME_ENCODING_ERROR", 0x1c],
    ["truncated varint in MAX_DATA", "10 80", "1rtt", "QUIC_FRAME_ENCODING_ERROR", 0x10],
  ];
  for (const [name, bytes, pt, code, frameType] of cases) {
    test(name, () => {
      const e = errorOf(() => parseFrames(hex(bytes), pt));
      expect(e.code).toBe(code as QuicError["code"]);
      expect(e.frameType).toBe(frameType);
    });
  }

  test("a valid frame followed by garbage still fails the packet", () => {
    expect(errorOf(() => parseFrames(hex("01 01 1f"), "1rtt")).code).toBe("QUIC_FRAME_ENCODING_ERROR");
  });
});

describe("frames: packet-type table (RFC 9000 Table 3, RFC 9221)", () => {
  // Pkts column written out independently: I, H, 0 (0-RTT), 1 (1-RTT).
  const table: [number, string][] = [
    [0x00, "IH01"], [0x01, "IH01"], [0x02, "IH_1"], [0x03, "IH_1"], [0x04, "__01"], [0x05, "__01"], [0x06, "IH_1"],
    [0x07, "___1"], [0x08, "__01"], [0x0f, "__01"], [0x10, "__01"], [0x11, "__01"], [0x12, "__01"], [0x13, "__01"],
    [0x14, "__01"], [0x15, "__01"], [0x16, "__01"], [0x17, "__01"], [0x18, "__01"], [0x19, "___1"], [0x1a, "__01"],
    [0x1b, "___1"], [0x1c, "IH01"], [0x1d, "__01"], [0x1e, "___1"], [0x30, "__01"], [0x31, "__01"],
  ];
  const order: PacketType[] = ["initial", "handshake", "0rtt", "1rtt"];
  test("every frame type", () => {
    for (const [type, pkts] of table) {
      order.forEach((pt, i) => expect([type, pt, frameAllowedIn(type, pt)]).toEqual([type, pt, pkts[i] !== "_"]));
    }
    expect(frameAllowedIn(0x1f, "1rtt")).toBe(false);
  });
});

describe("frames: helpers", () => {
  test("ack-eliciting classification", () => {
    expect(isAckEliciting({ kind: "ping" })).toBe(true);
    expect(isAckEliciting({ kind: "padding", length: 3 })).toBe(false);
    expect(isAckEliciting({ kind: "ack", ackDelay: 0, ranges: [{ smallest: 0, largest: 0 }] })).toBe(false);
    expect(isAckEliciting({ kind: "connection_close", application: true, errorCode: 0, frameType: 0, reason: new Uint8Array() })).toBe(false);
  });

  test("streamDataFitting / cryptoDataFitting fill the budget exactly or leave it unusable", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 20000 }), (id, off, avail) => {
      const n = streamDataFitting(id, off, avail);
      if (n > 0) {
        expect(streamFrameHeaderLength(id, off, n) + n).toBeLessThanOrEqual(avail);
        expect(streamFrameHeaderLength(id, off, n + 1) + n + 1).toBeGreaterThan(avail);
        expect(frameSize({ kind: "stream", streamId: id, offset: off, data: new Uint8Array(n), fin: false })).toBeLessThanOrEqual(avail);
      }
      const c = cryptoDataFitting(off, avail);
      if (c > 0) {
        expect(frameSize({ kind: "crypto", offset: off, data: new Uint8Array(c) })).toBeLessThanOrEqual(avail);
        expect(frameSize({ kind: "crypto", offset: off, data: new Uint8Array(c + 1) })).toBeGreaterThan(avail);
      }
    }), { numRuns: 2000 });
  });

  test("a hostile ACK with many ranges keeps at most ackRangesParsedMax", () => {
    const count = ackRangesParsedMax + 100;
    const largest = 10 * count;
    const parts = [hex("02"), encodeVarint(largest), hex("00"), encodeVarint(count), hex("00")];
    for (let i = 0; i < count; i++) parts.push(hex("00 00")); // gap 0, length 0: every other packet
    const [f] = parseFrames(cat(...parts), "1rtt");
    expect(f?.kind === "ack" && f.ranges.length).toBe(ackRangesParsedMax);
  });

  test("FrameType covers the STREAM range", () => {
    for (let t = FrameType.STREAM; t <= 0x0f; t++) expect(frameAllowedIn(t, "1rtt")).toBe(true);
  });
});

describe("frames: RFC 9001 Appendix A payloads (test/vectors/quic-rfc9001.json)", () => {
  const vectors = JSON.parse(readFileSync(`${import.meta.dir}/../vectors/quic-rfc9001.json`, "utf8")) as {
    client_initial: { payload_prefix: string; padded_payload_length: number };
    server_initial: { payload: string };
    chacha20_short: { payload: string };
  };

  test("A.3 server Initial: ACK of packet 0, then CRYPTO at offset 0 with the 90-byte ServerHello", () => {
    const payload = hex(vectors.server_initial.payload);
    const frames = parseFrames(payload, "initial");
    expect(frames.length).toBe(2);
    expect(frames[0]).toEqual({ kind: "ack", ackDelay: 0, ranges: [{ smallest: 0, largest: 0 }] });
    const crypto = frames[1] as Extract<Frame, { kind: "crypto" }>;
    expect([crypto.kind, crypto.offset, crypto.data.length, crypto.data[0]]).toEqual(["crypto", 0, 90, 0x02]); // TLS ServerHello
    expect(serializeFrames(frames)).toEqual(payload);
  });

  test("A.2 client Initial: CRYPTO (offset 0, 241 bytes of ClientHello) then PADDING to 1162 bytes", () => {
    const prefix = hex(vectors.client_initial.payload_prefix);
    const payload = new Uint8Array(vectors.client_initial.padded_payload_length);
    expect(prefix.length).toBe(4 + 241); // the whole CRYPTO frame; the RFC pads with zeros after it
    payload.set(prefix);
    const frames = parseFrames(payload, "initial");
    expect(frames.length).toBe(2);
    const crypto = frames[0] as Extract<Frame, { kind: "crypto" }>;
    expect([crypto.kind, crypto.offset, crypto.data.length, crypto.data[0]]).toEqual(["crypto", 0, 241, 0x01]); // TLS ClientHello
    expect(frames[1]).toEqual({ kind: "padding", length: 1162 - 4 - 241 });
  });

  test("A.5 ChaCha20 short-header packet: a single PING", () => {
    expect(parseFrames(hex(vectors.chacha20_short.payload), "1rtt")).toEqual([{ kind: "ping" }]);
  });
});
