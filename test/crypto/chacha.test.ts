// ChaCha20-Poly1305 and raw ChaCha20 properties on seeded random inputs: round trip,
// any single-bit change makes open fail, and the AEAD ciphertext is the ChaCha20
// keystream from block counter 1 (RFC 8439 §2.8), which ties the two entry points together.
import { describe, expect, test, setDefaultTimeout } from "bun:test";
import fc from "fast-check";
import { chacha20poly1305Seal, chacha20poly1305Open, chacha20Xor, toHex } from "../../src/crypto/index.ts";

// Generous per-test budget: the CI machine is shared; no test asserts a duration.
setDefaultTimeout(60_000);

const SEED = 0xc4ac4a;
const key = fc.uint8Array({ minLength: 32, maxLength: 32 });
const nonce = fc.uint8Array({ minLength: 12, maxLength: 12 });
const data = fc.uint8Array({ maxLength: 600 });

describe("ChaCha20-Poly1305 properties", () => {
  test("open(seal(m)) = m; ciphertext = ChaCha20 keystream from counter 1 (1,000 cases)", () => {
    fc.assert(
      fc.property(key, nonce, data, fc.uint8Array({ maxLength: 64 }), (k, n, m, aad) => {
        const sealed = chacha20poly1305Seal(k, n, m, aad);
        expect(sealed.length).toBe(m.length + 16);
        expect(toHex(sealed.subarray(0, m.length))).toBe(toHex(chacha20Xor(k, n, 1, m)));
        expect(toHex(chacha20poly1305Open(k, n, sealed, aad)!)).toBe(toHex(m));
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  test("flipping any one bit of ciphertext, tag or AAD makes open return null (1,000 cases)", () => {
    fc.assert(
      fc.property(key, nonce, data, fc.uint8Array({ minLength: 1, maxLength: 32 }), fc.nat(), fc.integer({ min: 0, max: 7 }), fc.boolean(), (k, n, m, aad, at, bit, inAad) => {
        const sealed = chacha20poly1305Seal(k, n, m, aad);
        if (inAad) {
          const bad = aad.slice();
          bad[at % bad.length]! ^= 1 << bit;
          expect(chacha20poly1305Open(k, n, sealed, bad)).toBeNull();
        } else {
          const bad = sealed.slice();
          bad[at % bad.length]! ^= 1 << bit;
          expect(chacha20poly1305Open(k, n, bad, aad)).toBeNull();
        }
      }),
      { seed: SEED + 1, numRuns: 1000 },
    );
  });

  test("the ChaCha20 keystream is continuous across block counters (500 cases)", () => {
    fc.assert(
      fc.property(key, nonce, fc.oneof(fc.nat({ max: 0xfffffffc }), fc.constant(0xfffffffc)), fc.integer({ min: 1, max: 3 }), (k, n, counter, blocks) => {
        const zeros = new Uint8Array(64 * (blocks + 1));
        const stream = chacha20Xor(k, n, counter, zeros);
        expect(toHex(stream.subarray(64))).toBe(toHex(chacha20Xor(k, n, counter + 1, zeros.subarray(64))));
      }),
      { seed: SEED + 2, numRuns: 500 },
    );
  });

  test("a keystream that would pass block 2^32 - 1 is a typed error, not a process abort", () => {
    const k = new Uint8Array(32).fill(1);
    const n = new Uint8Array(12).fill(2);
    expect(chacha20Xor(k, n, 0xffffffff, new Uint8Array(64)).length).toBe(64);
    expect(chacha20Xor(k, n, 0xfffffffe, new Uint8Array(128)).length).toBe(128);
    for (const [counter, length] of [[0xffffffff, 65], [0xfffffffe, 129], [0xffffff00, 64 * 257]] as const) {
      expect(() => chacha20Xor(k, n, counter, new Uint8Array(length))).toThrow(/pass the 32-bit block counter/);
    }
  });
});
