// BLAKE3 (native, official C) against @noble/hashes on seeded random inputs:
// hash, keyed_hash, derive_key and XOF lengths, plus batch hashing.
import { describe, expect, test, setDefaultTimeout } from "bun:test";

// Generous per-test budget: the CI machine is shared; no test asserts a duration.
setDefaultTimeout(60_000);
import fc from "fast-check";
import { blake3 as nobleBlake3 } from "@noble/hashes/blake3.js";
import { blake3, blake3Into, blake3_32, blake3Keyed, blake3DeriveKey, blake3Batch, toHex } from "../../src/crypto/index.ts";

const SEED = 0xb1a4e3;
const utf8 = new TextEncoder();

/** Lengths around BLAKE3's 64-byte block and 1024-byte chunk edges, and random ones. */
const inputArb = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 300 }),
  fc.integer({ min: 0, max: 9000 }).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
  fc.constantFrom(63, 64, 65, 1023, 1024, 1025, 2048, 2049, 4096, 4097).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
);
const outLengthArb = fc.oneof(fc.constant(32), fc.integer({ min: 1, max: 300 }));

describe("BLAKE3 differential against @noble/hashes", () => {
  test("hash with XOF lengths (3,000 cases)", () => {
    fc.assert(
      fc.property(inputArb, outLengthArb, (input, outLength) => {
        expect(toHex(blake3(input, outLength))).toBe(toHex(nobleBlake3(input, { dkLen: outLength })));
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  test("keyed hash (2,000 cases)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), inputArb, outLengthArb, (key, input, outLength) => {
        expect(toHex(blake3Keyed(key, input, outLength))).toBe(toHex(nobleBlake3(input, { key, dkLen: outLength })));
      }),
      { seed: SEED + 1, numRuns: 2000 },
    );
  });

  test("derive_key with any context string (2,000 cases)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80, unit: "grapheme" }), inputArb, outLengthArb, (context, input, outLength) => {
        const expected = nobleBlake3(input, { context: utf8.encode(context), dkLen: outLength });
        expect(toHex(blake3DeriveKey(context, input, outLength))).toBe(toHex(expected));
      }),
      { seed: SEED + 2, numRuns: 2000 },
    );
  });

  test("blake3Batch equals one-by-one hashing for random batches with empty members (500 batches)", () => {
    const member = fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ minLength: 0, maxLength: 200 }));
    fc.assert(
      fc.property(fc.array(member, { minLength: 0, maxLength: 64 }), (inputs) => {
        const batch = blake3Batch(inputs);
        expect(batch.map(toHex)).toEqual(inputs.map((x) => toHex(blake3_32(x))));
        expect(batch.map(toHex)).toEqual(inputs.map((x) => toHex(nobleBlake3(x))));
      }),
      { seed: SEED + 3, numRuns: 500 },
    );
  });

  test("subarray views hash their own bytes only", () => {
    const big = new Uint8Array(100).map((_, i) => i);
    const view = big.subarray(10, 20);
    expect(toHex(blake3_32(view))).toBe(toHex(nobleBlake3(big.slice(10, 20))));
    expect(toHex(blake3Batch([view, big.subarray(0, 0)])[0]!)).toBe(toHex(nobleBlake3(big.slice(10, 20))));
  });

  test("blake3Batch results survive later batches, and batches past the scratch sizes hash the same", () => {
    const first = [new Uint8Array([1, 2, 3]), new Uint8Array(64).fill(9)];
    const digests = blake3Batch(first);
    blake3Batch([new Uint8Array(64).fill(1), new Uint8Array(64).fill(2)]);
    expect(digests.map(toHex)).toEqual(first.map((x) => toHex(nobleBlake3(x))));
    // Over 1 MiB of input, and more than 16,384 items: both take the non-scratch path.
    const big = [new Uint8Array(700_000).fill(3), new Uint8Array(400_000).fill(4), new Uint8Array(5)];
    expect(blake3Batch(big).map(toHex)).toEqual(big.map((x) => toHex(nobleBlake3(x))));
    const many = Array.from({ length: 16_385 }, (_, i) => new Uint8Array([i & 0xff, i >> 8]));
    const manyDigests = blake3Batch(many);
    expect(manyDigests.length).toBe(many.length);
    for (const i of [0, 1, 8191, 16_383, 16_384]) expect(toHex(manyDigests[i]!)).toBe(toHex(blake3_32(many[i]!)));
  });

  test("blake3Into fills exactly the caller's view and bounds its length", () => {
    const input = new Uint8Array(70).map((_, i) => i * 3);
    const backing = new Uint8Array(3000).fill(0xee);
    const out = backing.subarray(5, 5 + 2048);
    expect(blake3Into(input, out)).toBe(out);
    expect(toHex(out)).toBe(toHex(nobleBlake3(input, { dkLen: 2048 })));
    expect(backing.subarray(0, 5).every((b) => b === 0xee)).toBe(true);
    expect(backing.subarray(5 + 2048).every((b) => b === 0xee)).toBe(true);
    expect(() => blake3Into(input, new Uint8Array((1 << 20) + 1))).toThrow(/BLAKE3 output length/);
  });
});
