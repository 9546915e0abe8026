/** Every top-level encoder/decoder pair with its arbitrary (one table for round-trip and fuzz tests). */
import type fc from "fast-check";
import { Writer, decodeExact } from "../../src/codec/index.ts";
import {
  encodeEventHeader, readEventHeader, encodeSignedEvent, decodeSignedEvent, encodeLock, decodeLock, writeWitness, readWitness,
  encodeMicroTx, decodeMicroTx, encodeMintTx, decodeMintTx, encodeEvidence, decodeEvidence, encodeAnchorPayload, decodeAnchorPayload,
} from "../../src/types/index.ts";
import type { Witness } from "../../src/types/index.ts";
import {
  eventHeaderArb, signedEventArb, lockArb, witnessArb, microTxArb, mintTxArb, evidenceArb, anchorPayloadArb,
} from "./arbitraries.ts";

export interface CodecCase<T> {
  name: string;
  arb: fc.Arbitrary<T>;
  encode: (value: T) => Uint8Array;
  decode: (bytes: Uint8Array) => T;
}

export function encodeWitness(w: Witness): Uint8Array {
  const writer = new Writer(64);
  writeWitness(writer, w);
  return writer.finish();
}

export const decodeWitness = (bytes: Uint8Array): Witness => decodeExact(bytes, "witness", readWitness);
export const decodeEventHeader = (bytes: Uint8Array) => decodeExact(bytes, "event header", readEventHeader);

const entry = <T>(c: CodecCase<T>): CodecCase<unknown> => c as unknown as CodecCase<unknown>;

export const CODECS: CodecCase<unknown>[] = [
  entry({ name: "EventHeader", arb: eventHeaderArb, encode: encodeEventHeader, decode: decodeEventHeader }),
  entry({ name: "SignedEvent", arb: signedEventArb, encode: encodeSignedEvent, decode: decodeSignedEvent }),
  entry({ name: "Lock", arb: lockArb, encode: encodeLock, decode: decodeLock }),
  entry({ name: "Witness", arb: witnessArb, encode: encodeWitness, decode: decodeWitness }),
  entry({ name: "MicroTx", arb: microTxArb, encode: encodeMicroTx, decode: decodeMicroTx }),
  entry({ name: "MintTx", arb: mintTxArb, encode: encodeMintTx, decode: decodeMintTx }),
  entry({ name: "Evidence", arb: evidenceArb, encode: encodeEvidence, decode: decodeEvidence }),
  entry({ name: "AnchorPayload", arb: anchorPayloadArb, encode: encodeAnchorPayload, decode: decodeAnchorPayload }),
];
