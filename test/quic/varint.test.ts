import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  QuicReader, decodeVarint, decodeVarintBig, encodeVarint, encodeVarintBig, varintLength, varintMaxBig, varintSafeMax, writeVarintWithLength,
} from "../../src/net/quic/varint.ts";
import { QuicError } from "../../src/net/quic/errors.ts";

const hex = (s: string) => Uint8Array.from(Buffer.from(s, "hex"));

// RFC 9000 Appendix A.1 sample variable-length integer decodings.
const samples: [string, bigint][] = [
  ["c2197c5eff14e88c", 151_288_809_941_952_652n],
  ["9d7f3e7d", 494_878_333n],
  ["7bbd", 15_293n],
  ["25", 37n],
  ["4025", 37n],
];

describe("varint (RFC 9000 §16)", () => {
  test("Appendix A.1 samples decode exactly (bigint API)", () => {
    for (const [h, want] of samples) {
      const { value, length } = decodeVarintBig(hex(h), 0);
      expect(value).toBe(want);
      expect(length).toBe(h.length / 2);
    }
  });

  test("Appendix A.1 samples: number API; the 8-byte one saturates above 2^53-1", () => {
    expect(decodeVarint(hex("9d7f3e7d"), 0)).toEqual({ value: 494_878_333, length: 4 });
    expect(decodeVarint(hex("7bbd"), 0)).toEqual({ value: 15_293, length: 2 });
    expect(decodeVarint(hex("25"), 0)).toEqual({ value: 37, length: 1 });
    expect(decodeVarint(hex("4025"), 0)).toEqual({ value: 37, length: 2 }); // non-minimal is legal
    expect(decodeVarint(hex("c2197c5eff14e88c"), 0)).toEqual({ value: varintSafeMax, length: 8 });
  });

  test("shortest encodings match the samples", () => {
    expect(Buffer.from(encodeVarintBig(151_288_809_941_952_652n)).toString("hex")).toBe("c2197c5eff14e88c");
    expect(Buffer.from(encodeVarint(494_878_333)).toString("hex")).toBe("9d7f3e7d");
    expect(Buffer.from(encodeVarint(15_293)).toString("hex")).toBe("7bbd");
    expect(Buffer.from(encodeVarint(37)).toString("hex")).toBe("25");
  });

  test("length boundaries", () => {
    expect([0, 63, 64, 16383, 16384, 2 ** 30 - 1, 2 ** 30, varintSafeMax].map(varintLength)).toEqual([1, 1, 2, 2, 4, 4, 8, 8]);
    expect(() => varintLength(-1)).toThrow(RangeError);
    expect(() => varintLength(1.5)).toThrow(RangeError);
    expect(() => varintLength(2 ** 53)).toThrow(RangeError);
    expect(() => encodeVarintBig(varintMaxBig + 1n)).toThrow(RangeError);
    expect(Buffer.from(encodeVarintBig(varintMaxBig)).toString("hex")).toBe("ffffffffffffffff");
  });

  test("fixed-length writes (e.g. a reserved 2-byte Length) round-trip", () => {
    const buf = new Uint8Array(8);
    for (const len of [1, 2, 4, 8] as const) {
      expect(writeVarintWithLength(buf, 0, 37, len)).toBe(len);
      expect(decodeVarint(buf, 0)).toEqual({ value: 37, length: len });
    }
    expect(() => writeVarintWithLength(buf, 0, 16384, 2)).toThrow(RangeError);
    expect(() => writeVarintWithLength(buf, 7, 1000, 2)).toThrow(RangeError);
  });

  test("number round-trip over the safe range and agreement with the bigint codec", () => {
    fc.assert(fc.property(fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.maxSafeNat()), (n) => {
      const enc = encodeVarint(n);
      expect(enc).toEqual(encodeVarintBig(BigInt(n)));
      expect(decodeVarint(enc, 0)).toEqual({ value: n, length: enc.length });
    }), { numRuns: 2000 });
  });

  test("bigint round-trip over the full 62-bit range", () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: varintMaxBig }), (n) => {
      const enc = encodeVarintBig(n);
      expect(decodeVarintBig(enc, 0).value).toBe(n);
      const asNumber = decodeVarint(enc, 0).value;
      expect(asNumber).toBe(n > BigInt(varintSafeMax) ? varintSafeMax : Number(n));
    }), { numRuns: 2000 });
  });

  test("truncation raises QuicError with the caller's code", () => {
    for (const h of ["", "40", "80ffff", "c0000000000000"]) {
      expect(() => decodeVarint(hex(h), 0)).toThrow(QuicError);
      let caught: unknown;
      try {
        decodeVarint(hex(h), 0, "TRANSPORT_PARAMETER_ERROR");
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(QuicError);
      expect((caught as QuicError).code).toBe("QUIC_TRANSPORT_PARAMETER_ERROR");
      expect((caught as QuicError).wireCode).toBe(0x08);
    }
  });

  test("reader bytes() is a zero-copy view", () => {
    const buf = hex("0102030405");
    const r = new QuicReader(buf);
    r.u8();
    const view = r.bytes(3);
    buf[2] = 0xee;
    expect(view[1]).toBe(0xee);
    expect(r.remaining).toBe(1);
    expect(() => r.bytes(2)).toThrow(QuicError);
  });
});
