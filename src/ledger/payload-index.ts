/**
 * Decodes AnchorPayload bytes exactly as `decodeAnchorPayload` does, and also keeps
 * where each MicroTx sits in them. The unsigned encoding of a MicroTx (what its txid
 * hashes) is a prefix of its full encoding whose length follows from the input and
 * output counts, so txids come from one blake3Batch call over slices of the payload,
 * with no re-encoding, and the validator gets each tx's size for free.
 */
import { Reader } from "../codec/index.ts";
import { blake3Batch } from "../crypto/hash.ts";
import { TAG, CODEC_VERSION, PAYLOAD_TXS_MAX, HASH_BYTES } from "../types/constants.ts";
import { checkPayloadLength, readPayloadTx, type AnchorPayload, type PayloadTx } from "../types/payload.ts";

/** Per payload position: the MicroTx's txid and canonical size (undefined for other kinds). */
export interface PayloadHints {
  txids: (Uint8Array | undefined)[];
  encodedBytes: (number | undefined)[];
}

export interface IndexedPayload {
  payload: AnchorPayload;
  hints: PayloadHints;
}

const OUTPOINT_BYTES = HASH_BYTES + 4;
const OUTPUT_BYTES = 8 + HASH_BYTES;

const varintBytes = (n: number): number => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5);

/** Bytes of tag, version, inputs and outputs: the witness-free prefix the txid hashes. */
export function unsignedMicroTxBytes(inputs: number, outputs: number): number {
  return 2 + varintBytes(inputs) + inputs * OUTPOINT_BYTES + varintBytes(outputs) + outputs * OUTPUT_BYTES;
}

export function decodePayloadIndexed(bytes: Uint8Array): IndexedPayload {
  checkPayloadLength(bytes);
  const r = new Reader(bytes);
  r.tag(TAG.anchorPayload, "anchor payload");
  r.version(CODEC_VERSION, "anchor payload");
  const spans: { position: number; start: number; unsigned: number; size: number }[] = [];
  const txs = r.list(PAYLOAD_TXS_MAX, (r, position): PayloadTx => {
    const start = r.offset;
    const t = readPayloadTx(r);
    if (t.kind === "micro") {
      spans.push({ position, start, unsigned: unsignedMicroTxBytes(t.tx.inputs.length, t.tx.outputs.length), size: r.offset - start });
    }
    return t;
  }, "payload txs");
  r.end("anchor payload");
  const digests = blake3Batch(spans.map((s) => bytes.subarray(s.start, s.start + s.unsigned)));
  const hints: PayloadHints = { txids: new Array(txs.length), encodedBytes: new Array(txs.length) };
  spans.forEach((s, i) => {
    hints.txids[s.position] = digests[i]!;
    hints.encodedBytes[s.position] = s.size;
  });
  return { payload: { txs }, hints };
}
