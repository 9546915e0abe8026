// X25519 against @noble/curves on seeded random scalars and points.
import { describe, expect, test, setDefaultTimeout } from "bun:test";
import fc from "fast-check";
import { x25519 as nobleX25519 } from "@noble/curves/ed25519.js";
import { x25519, x25519PublicKey, toHex } from "../../src/crypto/index.ts";
import { PhantomError } from "../../src/errors.ts";

// Generous per-test budget: the CI machine is shared; no test asserts a duration.
setDefaultTimeout(60_000);

const SEED = 0x25519;
const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

describe("X25519 differential against @noble/curves", () => {
  test("public keys and shared secrets agree on random scalars (1,000 pairs)", () => {
    fc.assert(
      fc.property(bytes32, bytes32, (a, b) => {
        const pubA = x25519PublicKey(a);
        const pubB = x25519PublicKey(b);
        expect(toHex(pubA)).toBe(toHex(nobleX25519.getPublicKey(a)));
        const shared = x25519(a, pubB);
        expect(toHex(shared)).toBe(toHex(nobleX25519.getSharedSecret(a, pubB)));
        expect(toHex(x25519(b, pubA))).toBe(toHex(shared));
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  test("low-order u-coordinates (and their non-canonical encodings) are refused by both", () => {
    const P = (1n << 255n) - 19n;
    const le = (n: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));
    // u = 0, 1, p - 1 and the two points of order 8 (libsodium's blacklist), plus u + p where it fits in 255 bits.
    const order8 = ["e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"];
    const us = [0n, 1n, P - 1n, ...order8.map((h) => BigInt("0x" + Buffer.from(h, "hex").reverse().toString("hex")))];
    const encodings = us.flatMap((u) => (u + P < 1n << 255n ? [le(u), le(u + P)] : [le(u)]));
    expect(encodings.length).toBeGreaterThanOrEqual(7);
    const scalar = new Uint8Array(32).fill(0x42);
    for (const point of encodings) {
      expect(() => x25519(scalar, point)).toThrow(PhantomError);
      expect(() => nobleX25519.getSharedSecret(scalar, point)).toThrow();
    }
  });

  test("arbitrary 32-byte u-coordinates: same output, or both refuse an all-zero result (1,000 cases)", () => {
    fc.assert(
      fc.property(bytes32, bytes32, (scalar, point) => {
        let ours: string;
        try {
          ours = toHex(x25519(scalar, point));
        } catch (e) {
          expect((e as PhantomError).code).toBe("X25519_SMALL_ORDER");
          ours = "refused";
        }
        let theirs: string;
        try {
          theirs = toHex(nobleX25519.getSharedSecret(scalar, point));
        } catch {
          theirs = "refused";
        }
        expect(ours).toBe(theirs);
      }),
      { seed: SEED + 1, numRuns: 1000 },
    );
  });
});
