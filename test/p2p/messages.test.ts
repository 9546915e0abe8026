import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { encodeMessage, decodeMessage, FrameDecoder, frame, messageBytesMax, P2P_PROTOCOL_VERSION, type P2pMessage } from "../../src/net/p2p/messages.ts";
import { isPhantomError } from "../../src/errors.ts";

const hash = fc.uint8Array({ minLength: 32, maxLength: 32 });
const signature = fc.uint8Array({ minLength: 64, maxLength: 64 });
const seqs = fc.array(fc.integer({ min: -1, max: 1_000_000 }), { maxLength: 64 });
const message: fc.Arbitrary<P2pMessage> = fc.oneof(
  fc.record({ kind: fc.constant("hello" as const), version: fc.constant(P2P_PROTOCOL_VERSION), commitment: hash, validator: fc.integer({ min: 0, max: 63 }), highestSeq: seqs }),
  fc.record({ kind: fc.constant("events" as const), items: fc.array(fc.record({ event: fc.uint8Array({ maxLength: 300 }), payload: fc.uint8Array({ maxLength: 300 }), serveSignature: signature }), { maxLength: 5 }) }),
  fc.record({ kind: fc.constant("sync_request" as const), highestSeq: seqs }),
  fc.record({ kind: fc.constant("txs" as const), txs: fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 5 }) }),
  fc.record({ kind: fc.constant("get_payload" as const), eventId: hash }),
  fc.record({ kind: fc.constant("get_events" as const), ids: fc.array(hash, { maxLength: 8 }) }),
  fc.record({ kind: fc.constant("payload" as const), eventId: hash, payload: fc.uint8Array({ maxLength: 500 }), serveSignature: signature }),
  fc.record({ kind: fc.constant("txs_held" as const), txids: fc.array(hash, { maxLength: 8 }) }),
  fc.record({ kind: fc.constant("sync_end" as const), more: fc.boolean() }),
  fc.record({ kind: fc.constant("history_pruned" as const), prunedSeqs: seqs }),
  fc.record({
    kind: fc.constant("root_signature" as const),
    // Canonical roots only (the decoder refuses the others): a zero export root exactly when the count is 0, epoch 0 without a previous root.
    root: fc.record({ chain: hash, shard: fc.integer({ min: 0, max: 1023 }), epoch: fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }), stateCommitment: hash, exportRoot: hash.map((h) => h.with(0, 1)), exportCount: fc.integer({ min: 1, max: 2 ** 32 - 1 }), prevRoot: hash }),
    signer: fc.integer({ min: 0, max: 63 }),
    signature,
  }),
);

describe("P2P messages", () => {
  test("round-trip byte for byte", () => {
    fc.assert(fc.property(message, (m) => {
      const bytes = encodeMessage(m);
      expect(encodeMessage(decodeMessage(bytes))).toEqual(bytes);
    }), { numRuns: 500 });
  });

  test("random and mutated bytes decode or raise a typed codec error, never crash", () => {
    fc.assert(fc.property(message, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat(), (m, flips, cut) => {
      const bytes = encodeMessage(m);
      for (const [at, v] of flips) if (bytes.length) bytes[at % bytes.length] = v;
      const mutated = bytes.subarray(0, bytes.length ? cut % (bytes.length + 1) : 0);
      try {
        const d = decodeMessage(mutated);
        expect(encodeMessage(d)).toEqual(mutated);
      } catch (e) {
        expect(isPhantomError(e) && e.code.startsWith("CODEC_")).toBe(true);
      }
    }), { numRuns: 3000 });
  });

  test("wrong protocol version and unknown kinds are refused", () => {
    const hello = encodeMessage({ kind: "hello", version: P2P_PROTOCOL_VERSION, commitment: new Uint8Array(32), validator: 0, highestSeq: [] });
    hello[1] = 1; // a v1 peer (payloads without serve signatures)
    expect(() => decodeMessage(hello)).toThrow(expect.objectContaining({ code: "CODEC_UNKNOWN_VERSION" }));
    expect(() => decodeMessage(new Uint8Array([99]))).toThrow(expect.objectContaining({ code: "CODEC_UNKNOWN_TAG" }));
    expect(() => decodeMessage(new Uint8Array(0))).toThrow(expect.objectContaining({ code: "CODEC_TRUNCATED" }));
  });

  test("frames reassemble across arbitrary chunking", () => {
    fc.assert(fc.property(fc.array(message, { minLength: 1, maxLength: 6 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1 }), (msgs, cuts) => {
      const stream = Buffer.concat(msgs.map((m) => frame(encodeMessage(m))));
      const dec = new FrameDecoder();
      const got: Uint8Array[] = [];
      let o = 0;
      let i = 0;
      while (o < stream.length) {
        const n = cuts[i++ % cuts.length]!;
        got.push(...dec.push(new Uint8Array(stream.subarray(o, o + n))));
        o += n;
      }
      expect(got.map((g) => decodeMessage(g))).toEqual(msgs.map((m) => decodeMessage(encodeMessage(m))));
    }), { numRuns: 200 });
  });

  test("a large frame in small chunks costs linear work: each byte is copied at most twice", () => {
    // Found by the p2p-stream fuzz target: the decoder joined its whole buffer on every
    // chunk, so an 8 MB payload arriving in packet-sized pieces cost ~30 GB of copying.
    const payload = new Uint8Array(1 << 20).map((_, i) => i & 0xff);
    const stream = frame(encodeMessage({ kind: "payload", eventId: new Uint8Array(32), payload, serveSignature: new Uint8Array(64) }));
    const dec = new FrameDecoder();
    const got: Uint8Array[] = [];
    // Views into the stream buffer, as QUIC hands over decrypted packet data.
    for (let o = 0; o < stream.length; o += 1000) got.push(...dec.push(stream.subarray(o, o + 1000)));
    expect(got.length).toBe(1);
    expect(decodeMessage(got[0]!)).toEqual({ kind: "payload", eventId: new Uint8Array(32), payload, serveSignature: new Uint8Array(64) });
    expect(dec.bytesCopied).toBeLessThanOrEqual(2 * stream.length);
  });

  test("an oversize frame header is refused before buffering it", () => {
    const head = new Uint8Array(4);
    new DataView(head.buffer).setUint32(0, messageBytesMax + 1, true);
    expect(() => new FrameDecoder().push(head)).toThrow(expect.objectContaining({ code: "CODEC_LENGTH_TOO_LARGE" }));
  });
});
