// crypto/bytes hex helpers against Node's Buffer hex on random bytes and views.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { fromHex, toHex } from "../../src/crypto/bytes.ts";

describe("toHex / fromHex", () => {
  test("toHex equals Buffer's lowercase hex of exactly the view's bytes, and fromHex inverts it", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(), fc.nat(), (b, x, y) => {
        const expected = Buffer.from(b).toString("hex");
        expect(toHex(b)).toBe(expected);
        expect([...fromHex(expected)]).toEqual([...b]);
        const from = b.length ? x % b.length : 0;
        const to = from + (b.length - from ? y % (b.length - from + 1) : 0);
        expect(toHex(b.subarray(from, to))).toBe(Buffer.from(b.slice(from, to)).toString("hex"));
      }),
      { seed: 0x4e7, numRuns: 2000 },
    );
  });
});
