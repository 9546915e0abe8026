/**
 * Canonical codec decoders (docs/SPEC_CODEC.md): each input decodes to a value that
 * re-encodes to exactly the input, or raises a CodecError.
 */
import { CodecError, Writer, decodeExact } from "../../src/codec/index.ts";
import {
  TAG, CODEC_VERSION, readEventHeader, encodeEventHeader, decodeSignedEvent, encodeSignedEvent, decodeMicroTx, encodeMicroTx,
  decodeMintTx, encodeMintTx, decodeEvidence, encodeEvidence, decodeAnchorPayload, encodeAnchorPayload, decodeLock, encodeLock,
  readWitness, writeWitness, type Witness,
} from "../../src/types/index.ts";
import { HEADERS_FILE_MAGIC, HeadersFileError, decodeHeadersFile, encodeHeadersFile } from "../../src/consensus/headers-file.ts";
import { SHARD_TAG } from "../../src/ledger/export-tree.ts";
import { sameBytes, type FuzzTarget } from "../target.ts";

const codecRejection = (e: unknown): string | undefined => (e instanceof CodecError ? e.code : undefined);

/** Tags, the version byte and varint boundaries: the bytes every codec object starts with or counts in. */
const CODEC_DICTIONARY: readonly Uint8Array[] = [
  ...Object.values(TAG).map((t) => Uint8Array.of(t, CODEC_VERSION)),
  // Nested objects of a payload's import claim (tag 0x0b: certificate 0x0a, root 0x09, leaf 0x08).
  ...Object.values(SHARD_TAG).map((t) => Uint8Array.of(t, CODEC_VERSION)),
  Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x10), Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f), Uint8Array.of(0x80, 0x02), Uint8Array.of(0x81, 0x00),
  Uint8Array.of(0, 0, 0, 0, 0, 0x20, 0, 0), // 2^53 as u64 LE
];

function codecTarget<T>(name: string, description: string, decode: (b: Uint8Array) => T, encode: (v: T) => Uint8Array, maxBytes = 2048): FuzzTarget {
  return {
    name, description, extension: "bin", maxBytes, dictionary: CODEC_DICTIONARY,
    run(input) {
      const value = decode(input);
      sameBytes(encode(value), input, name);
    },
    rejection: codecRejection,
  };
}

const encodeWitness = (w: Witness): Uint8Array => {
  const writer = new Writer(64);
  writeWitness(writer, w);
  return writer.finish();
};

export const CODEC_TARGETS: FuzzTarget[] = [
  codecTarget("event-header", "EventHeader decoder (readEventHeader)", (b) => decodeExact(b, "event header", readEventHeader), encodeEventHeader),
  codecTarget("signed-event", "SignedEvent decoder", decodeSignedEvent, encodeSignedEvent),
  codecTarget("micro-tx", "MicroTx decoder (inputs, outputs, locks, witnesses)", decodeMicroTx, encodeMicroTx, 4096),
  codecTarget("mint-tx", "MintTx header decoder", decodeMintTx, encodeMintTx),
  codecTarget("evidence", "slashing Evidence decoder", decodeEvidence, encodeEvidence, 4096),
  codecTarget("anchor-payload", "AnchorPayload decoder (micro, mint, evidence and import-claim txs)", decodeAnchorPayload, encodeAnchorPayload, 8192),
  codecTarget("lock", "Lock tree decoder", decodeLock, encodeLock),
  codecTarget("witness", "Witness tree decoder", (b) => decodeExact(b, "witness", readWitness), encodeWitness),
];

/** The consensus tools' headers.bin (src/consensus/headers-file.ts): closed, ordered, canonical. */
export const HEADERS_FILE_TARGET: FuzzTarget = {
  name: "headers-file",
  description: "headers.bin decoder (prefix, entries, closure and order of parents)",
  extension: "bin", maxBytes: 4096,
  dictionary: [...CODEC_DICTIONARY, HEADERS_FILE_MAGIC, Uint8Array.of(0xff, 0xff, 0xff, 0xff), Uint8Array.of(0, 4, 0, 0)],
  run(input) {
    sameBytes(encodeHeadersFile(decodeHeadersFile(input)), input, "headers file");
  },
  rejection: (e) => (e instanceof HeadersFileError ? e.code : undefined),
};
