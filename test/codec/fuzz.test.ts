// Decoder fuzzing: random bytes and mutated valid encodings (bit flips, truncation,
// insertion, deletion, splices) into every decoder. Each input either decodes to a
// value that re-encodes to exactly the input, or raises a CodecError with a known
// code; anything else (another exception, a hang) fails the test. Sizes are bounded.
import { describe, expect, test, setDefaultTimeout } from "bun:test";

// Generous per-test budget: the CI machine is shared; no test asserts a duration.
setDefaultTimeout(60_000);
import fc from "fast-check";
import { CodecError, type CodecErrorCode } from "../../src/codec/index.ts";
import { TAG, CODEC_VERSION } from "../../src/types/index.ts";
import { CODECS, type CodecCase } from "../types/codecs.ts";
import { concatBytes, toHex } from "../../src/crypto/index.ts";

const SEED = 0xf022;
const CASES_PER_DECODER = 3000;
const RANDOM_BYTES_MAX = 300;
const MUTATIONS_MAX = 4;
const CODES: readonly CodecErrorCode[] = [
  "CODEC_TRUNCATED", "CODEC_TRAILING_BYTES", "CODEC_NON_MINIMAL_VARINT", "CODEC_VARINT_OVERFLOW", "CODEC_LENGTH_TOO_LARGE",
  "CODEC_UNKNOWN_VERSION", "CODEC_UNKNOWN_TAG", "CODEC_VALUE_OUT_OF_RANGE", "CODEC_INVALID",
];
const TAG_BY_NAME: Record<string, number | undefined> = {
  EventHeader: TAG.eventHeader, SignedEvent: TAG.signedEvent, Lock: TAG.lock, Witness: undefined,
  MicroTx: TAG.microTx, MintTx: TAG.mintTx, Evidence: TAG.evidence, AnchorPayload: TAG.anchorPayload,
};

type Mutation = { op: "flip" | "truncate" | "insert" | "delete" | "splice" | "boundary" | "duplicate" | "widen"; pos: number; len: number; bits: number; bytes: Uint8Array };

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom("flip", "truncate", "insert", "delete", "splice", "boundary", "duplicate", "widen"),
  pos: fc.nat(),
  len: fc.integer({ min: 1, max: 40 }),
  bits: fc.integer({ min: 1, max: 255 }),
  bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
});

/** Applies one mutation; `other` is a valid encoding of some object to splice from. */
function mutate(input: Uint8Array, m: Mutation, other: Uint8Array): Uint8Array {
  const at = input.length === 0 ? 0 : m.pos % (input.length + 1);
  switch (m.op) {
    case "flip": {
      if (input.length === 0) return m.bytes;
      const out = input.slice();
      out[at % input.length]! ^= m.bits;
      return out;
    }
    case "truncate":
      return input.slice(0, at);
    case "insert":
      return concatBytes(input.subarray(0, at), m.bytes, input.subarray(at));
    case "delete":
      return concatBytes(input.subarray(0, at), input.subarray(at + m.len));
    case "splice":
      return concatBytes(input.subarray(0, at), other.subarray(m.pos % (other.length + 1)));
    case "boundary": {
      if (input.length === 0) return new Uint8Array([0x80]);
      const out = input.slice();
      out[at % input.length] = [0x00, 0x01, 0x7f, 0x80, 0xff][m.bits % 5]!;
      return out;
    }
    case "duplicate":
      return concatBytes(input.subarray(0, at), input.subarray(at, at + m.len), input.subarray(at));
    case "widen": {
      // Re-encodes a byte that could be a one-byte varint as a two-byte (non-minimal) one.
      const i = input.findIndex((b, j) => j >= at && b < 0x80);
      if (i < 0) return input;
      return concatBytes(input.subarray(0, i), new Uint8Array([input[i]! | 0x80, 0x00]), input.subarray(i + 1));
    }
  }
}

interface Tally {
  accepted: number;
  codes: Map<string, number>;
}

/** The fuzz oracle: a canonical value or a typed CodecError, nothing else. */
function check(c: CodecCase<unknown>, input: Uint8Array, tally: Tally): void {
  let value: unknown;
  try {
    value = c.decode(input);
  } catch (e) {
    if (!(e instanceof CodecError)) throw new Error(`${c.name} decoder threw a non-CodecError on ${toHex(input)}: ${String(e)}`);
    expect(CODES).toContain(e.code);
    tally.codes.set(e.code, (tally.codes.get(e.code) ?? 0) + 1);
    return;
  }
  tally.accepted++;
  expect(toHex(c.encode(value))).toBe(toHex(input));
}

const anyValidEncodingArb = fc.oneof(...CODECS.map((c) => c.arb.map((v) => c.encode(v))));

describe("decoder fuzz", () => {
  CODECS.forEach((c, i) => {
    test(`${c.name}: ${CASES_PER_DECODER} random and mutated inputs give a canonical value or a CodecError`, () => {
      const tally: Tally = { accepted: 0, codes: new Map() };
      const tag = TAG_BY_NAME[c.name];
      const randomArb = fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: RANDOM_BYTES_MAX })).map(([prefixed, bytes]) =>
        prefixed && tag !== undefined ? concatBytes(new Uint8Array([tag, CODEC_VERSION]), bytes) : bytes,
      );
      const mutatedArb = fc
        .tuple(c.arb, fc.array(mutationArb, { minLength: 1, maxLength: MUTATIONS_MAX }), anyValidEncodingArb)
        .map(([value, mutations, other]) => mutations.reduce((bytes, m) => mutate(bytes, m, other), c.encode(value)));
      const inputArb = fc.oneof({ arbitrary: randomArb, weight: 1 }, { arbitrary: mutatedArb, weight: 3 });
      fc.assert(fc.property(inputArb, (input) => check(c, input, tally)), { seed: SEED + i, numRuns: CASES_PER_DECODER });
      // The fuzzer reaches both outcomes and more than one kind of rejection.
      expect(tally.codes.size).toBeGreaterThan(2);
      expect([...tally.codes.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(CASES_PER_DECODER / 2);
    }, 60_000);
  });

  test("each decoder accepts every valid encoding it is given (no false rejections, 200 each)", () => {
    CODECS.forEach((c, i) => {
      const tally: Tally = { accepted: 0, codes: new Map() };
      fc.assert(fc.property(c.arb, (v) => check(c, c.encode(v), tally)), { seed: SEED + 100 + i, numRuns: 200 });
      expect(tally.accepted).toBe(200);
    });
  });
});
