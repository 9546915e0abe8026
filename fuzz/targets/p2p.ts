/**
 * P2P wire (docs/P2P.md): message bodies must decode canonically or raise a CodecError;
 * the stream framer must split any byte stream into frames that re-frame to the bytes
 * it consumed, whatever the chunking.
 */
import { CodecError } from "../../src/codec/index.ts";
import { FrameDecoder, decodeMessage, encodeMessage, frame } from "../../src/net/p2p/messages.ts";
import { mutateFramedStream } from "../structured.ts";
import { oracle, sameBytes, type FuzzTarget } from "../target.ts";

const codecRejection = (e: unknown): string | undefined => (e instanceof CodecError ? e.code : undefined);

const P2P_DICTIONARY: readonly Uint8Array[] = [
  ...[1, 2, 3, 4, 5, 6, 7].map((k) => Uint8Array.of(k)),
  Uint8Array.of(1, 1), // hello, version 1
  Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x10), Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f), Uint8Array.of(0x81, 0x04), Uint8Array.of(0x41),
  Uint8Array.of(0, 0, 0, 0, 0, 0x20, 0, 0),
];

export const P2P_TARGETS: FuzzTarget[] = [
  {
    name: "p2p-message",
    description: "P2P message decoder (hello, events, sync_request, txs, get_payload, payload, get_events, txs_held, sync_end)",
    extension: "bin", maxBytes: 4096, dictionary: P2P_DICTIONARY,
    run(input) {
      sameBytes(encodeMessage(decodeMessage(input)), input, "p2p message");
    },
    rejection: codecRejection,
  },
  {
    name: "p2p-stream",
    description: "P2P stream framer (FrameDecoder) fed in chunks, each frame decoded as a message",
    extension: "bin", maxBytes: 4096, structured: mutateFramedStream,
    dictionary: [...P2P_DICTIONARY, Uint8Array.of(0, 0, 0, 0), Uint8Array.of(0xff, 0xff, 0xff, 0x7f)],
    run(input) {
      // The first byte sets the chunk size, so one input always replays the same way.
      const chunk = 1 + (input[0] ?? 0);
      const stream = input.subarray(1);
      const decoder = new FrameDecoder();
      const frames: Uint8Array[] = [];
      for (let o = 0; o < stream.length; o += chunk) frames.push(...decoder.push(stream.subarray(o, o + chunk)));
      let consumed = 0;
      for (const f of frames) {
        sameBytes(frame(f), stream.subarray(consumed, consumed + 4 + f.length), "p2p frame");
        consumed += 4 + f.length;
      }
      oracle(consumed <= stream.length, "framer returned more bytes than it was given");
      // Linear work: each received byte is copied at most twice (on arrival, into its frame).
      oracle(decoder.bytesCopied <= 2 * stream.length, `framer copied ${decoder.bytesCopied} bytes for a stream of ${stream.length}`);
      for (const f of frames) decodeMessage(f);
    },
    rejection: codecRejection,
  },
];
