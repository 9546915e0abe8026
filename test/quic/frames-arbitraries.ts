// fast-check generators for every QUIC frame kind (shared by the frame and fuzz tests).
import fc from "fast-check";
import type { AckRange, Frame } from "../../src/net/quic/frames.ts";

const v = fc.oneof(fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: 16383 }), fc.integer({ min: 0, max: 2 ** 30 - 1 }), fc.integer({ min: 0, max: 2 ** 40 }));
const bytes = (max: number, min = 0) => fc.uint8Array({ minLength: min, maxLength: max });

/** Descending disjoint ranges built from (gap, length) pairs below a largest value. */
const ackRanges: fc.Arbitrary<AckRange[]> = fc
  .tuple(fc.integer({ min: 0, max: 2 ** 40 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1000 })), { minLength: 1, maxLength: 20 }))
  .map(([largest, parts]) => {
    const ranges: AckRange[] = [];
    let high = largest;
    for (const [gap, length] of parts) {
      const low = high - length;
      if (low < 0) break;
      ranges.push({ smallest: low, largest: high });
      high = low - gap - 2;
      if (high < 0) break;
    }
    return ranges.length ? ranges : [{ smallest: 0, largest: 0 }];
  });

export const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({ kind: fc.constant("padding" as const), length: fc.integer({ min: 1, max: 50 }) }),
  fc.record({ kind: fc.constant("ping" as const) }),
  fc.record({ kind: fc.constant("ack" as const), ackDelay: v, ranges: ackRanges }),
  fc.record({ kind: fc.constant("ack" as const), ackDelay: v, ranges: ackRanges, ecn: fc.record({ ect0: v, ect1: v, ce: v }) }),
  fc.record({ kind: fc.constant("reset_stream" as const), streamId: v, errorCode: v, finalSize: v }),
  fc.record({ kind: fc.constant("stop_sending" as const), streamId: v, errorCode: v }),
  fc.record({ kind: fc.constant("crypto" as const), offset: v, data: bytes(100) }),
  fc.record({ kind: fc.constant("new_token" as const), token: bytes(60, 1) }),
  fc.record({ kind: fc.constant("stream" as const), streamId: v, offset: v, data: bytes(200), fin: fc.boolean() }),
  fc.record({ kind: fc.constant("max_data" as const), maximum: v }),
  fc.record({ kind: fc.constant("max_stream_data" as const), streamId: v, maximum: v }),
  fc.record({ kind: fc.constant("max_streams" as const), bidi: fc.boolean(), maximum: v }),
  fc.record({ kind: fc.constant("data_blocked" as const), limit: v }),
  fc.record({ kind: fc.constant("stream_data_blocked" as const), streamId: v, limit: v }),
  fc.record({ kind: fc.constant("streams_blocked" as const), bidi: fc.boolean(), limit: v }),
  fc.tuple(v, v, bytes(20, 1), bytes(16, 16)).map(([a, b, connectionId, resetToken]): Frame => ({
    kind: "new_connection_id", sequence: Math.max(a, b), retirePriorTo: Math.min(a, b), connectionId, resetToken,
  })),
  fc.record({ kind: fc.constant("retire_connection_id" as const), sequence: v }),
  fc.record({ kind: fc.constant("path_challenge" as const), data: bytes(8, 8) }),
  fc.record({ kind: fc.constant("path_response" as const), data: bytes(8, 8) }),
  fc.record({ kind: fc.constant("connection_close" as const), application: fc.constant(false), errorCode: v, frameType: v, reason: bytes(40) }),
  fc.record({ kind: fc.constant("connection_close" as const), application: fc.constant(true), errorCode: v, frameType: fc.constant(0), reason: bytes(40) }),
  fc.record({ kind: fc.constant("handshake_done" as const) }),
  fc.record({ kind: fc.constant("datagram" as const), data: bytes(100) }),
);

/** A frame list as a packet would hold it: PADDING never next to PADDING (parsing merges runs). */
export const frameListArb: fc.Arbitrary<Frame[]> = fc.array(frameArb, { minLength: 1, maxLength: 8 }).map((frames) =>
  frames.filter((f, i) => !(f.kind === "padding" && frames[i - 1]?.kind === "padding")),
);
