// Fuzzing parseFrames: random and mutated payloads either parse (and then re-serialize
// to something that parses to the same frames) or raise QuicError, never anything else.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { parseFrames, serializeFrames, type Frame, type PacketType } from "../../src/net/quic/frames.ts";
import { QuicError } from "../../src/net/quic/errors.ts";
import { frameListArb } from "./frames-arbitraries.ts";

const packetTypes: PacketType[] = ["initial", "handshake", "0rtt", "1rtt"];
const packetTypeArb = fc.constantFrom(...packetTypes);
const runs = Number(process.env.PHANTOM_FUZZ_RUNS ?? 3000);

/** Parses; on success checks the re-serialization round-trips. Returns the outcome. */
function check(payload: Uint8Array, pt: PacketType): "ok" | "error" {
  let frames: Frame[];
  try {
    frames = parseFrames(payload, pt);
  } catch (e) {
    if (!(e instanceof QuicError)) throw e;
    expect(e.wireCode === 0x07 || e.wireCode === 0x0a).toBe(true);
    return "error";
  }
  const again = serializeFrames(frames);
  expect(parseFrames(again, pt)).toEqual(frames);
  return "ok";
}

describe("frame fuzz", () => {
  test("random payloads", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), packetTypeArb, (bytes, pt) => {
      check(bytes, pt);
    }), { numRuns: runs });
  });

  test("random payloads biased towards valid frame type bytes", () => {
    const typeByte = fc.oneof(fc.integer({ min: 0, max: 0x1e }), fc.constantFrom(0x30, 0x31, 0x40, 0x80, 0xc0));
    const chunk = fc.tuple(typeByte, fc.uint8Array({ maxLength: 12 })).map(([t, rest]) => [t, ...rest]);
    fc.assert(fc.property(fc.array(chunk, { maxLength: 10 }), packetTypeArb, (chunks, pt) => {
      check(Uint8Array.from(chunks.flat()), pt);
    }), { numRuns: runs });
  });

  test("mutated valid payloads (byte flips, truncation, splices)", () => {
    const outcomes = { ok: 0, error: 0 };
    const mutation = fc.record({
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      cut: fc.option(fc.nat()),
      insert: fc.option(fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 9 }))),
    });
    fc.assert(fc.property(frameListArb, mutation, packetTypeArb, (frames, m, pt) => {
      let bytes = serializeFrames(frames);
      if (bytes.length) for (const [at, value] of m.flips) bytes[at % bytes.length] = value;
      if (m.insert) {
        const at = m.insert[0] % (bytes.length + 1);
        bytes = Uint8Array.from([...bytes.subarray(0, at), ...m.insert[1], ...bytes.subarray(at)]);
      }
      if (m.cut !== null) bytes = bytes.subarray(0, m.cut % (bytes.length + 1));
      outcomes[check(bytes, pt)]++;
    }), { numRuns: runs });
    // The fuzzer must exercise both paths, or it is not testing much.
    expect(outcomes.ok).toBeGreaterThan(0);
    expect(outcomes.error).toBeGreaterThan(0);
  });

  test("a large payload of tiny frames parses in bounded work", () => {
    const payload = new Uint8Array(65_000).fill(0x01); // 65,000 PINGs
    expect(parseFrames(payload, "1rtt").length).toBe(65_000);
  });
});
