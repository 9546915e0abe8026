/**
 * Decodes AnchorPayload bytes exactly as `decodeAnchorPayload` does, and also keeps
 * where each MicroTx sits in them. The unsigned encoding of a MicroTx (what its txid
 * hashes) is a prefix of its full encoding whose length follows from the input and
 * output counts, so txids come from one blake3Batch call over slices of the payload,
 * with no re-encoding, and the validator gets each tx's size for free.
 */
import { Reader, CodecError } from "../codec/index.ts";
import { blake3Batch } from "../crypto/hash.ts";
import { TAG, CODEC_VERSION, PAYLOAD_TXS_MAX, PAYLOAD_BYTES_MAX, HASH_BYTES } from "../types/constants.ts";
import type { AnchorPayload, PayloadTx } from "../types/payload.ts";
import { readMicroTx } from "../types/tx.ts";
import { readMintTx } from "../types/mint.ts";
import { readEvidence } from "../types/evidence.ts";

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
  if (bytes.length > PAYLOAD_BYTES_MAX) throw new CodecError("CODEC_LENGTH_TOO_LARGE", `payload of ${bytes.length} bytes exceeds ${PAYLOAD_BYTES_MAX}`);
  const r = new Reader(bytes);
  r.tag(TAG.anchorPayload, "anchor payload");
  r.version(CODEC_VERSION, "anchor payload");
  const spans: { position: number; start: number; unsigned: number; size: number }[] = [];
  const txs = r.list(PAYLOAD_TXS_MAX, (r, position): PayloadTx => {
    if (r.remaining < 1) throw new CodecError("CODEC_TRUNCATED", "truncated payload transaction");
    const start = r.offset;
    const tag = r.u8("payload tx tag");
    r.rewindTo(start);
    switch (tag) {
      case TAG.microTx: {
        const tx = readMicroTx(r);
        spans.push({ position, start, unsigned: unsignedMicroTxBytes(tx.inputs.length, tx.outputs.length), size: r.offset - start });
        return { kind: "micro", tx };
      }
      case TAG.mintTx:
        return { kind: "mint", tx: readMintTx(r) };
      case TAG.evidence:
        return { kind: "evidence", tx: readEvidence(r) };
      default:
        throw new CodecError("CODEC_UNKNOWN_TAG", `unknown payload transaction tag ${tag}`);
    }
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
