// Round trip for every protocol object: decode(encode(x)) deep-equals x, and the
// decoded value re-encodes to the same bytes.
import { describe, expect, test, setDefaultTimeout } from "bun:test";

// Generous per-test budget: the CI machine is shared; no test asserts a duration.
setDefaultTimeout(60_000);
import fc from "fast-check";
import { CODECS } from "./codecs.ts";
import { toHex } from "../../src/crypto/index.ts";

const SEED = 0xc0dec;
const RUNS = 400;

describe("canonical round trip", () => {
  CODECS.forEach((c, i) => {
    test(`${c.name}: decode(encode(x)) = x and re-encodes byte-identical (${RUNS} cases)`, () => {
      fc.assert(
        fc.property(c.arb, (value) => {
          const bytes = c.encode(value);
          const decoded = c.decode(bytes);
          expect(decoded).toEqual(value);
          expect(toHex(c.encode(decoded))).toBe(toHex(bytes));
        }),
        { seed: SEED + i, numRuns: RUNS },
      );
    });
  });
});
