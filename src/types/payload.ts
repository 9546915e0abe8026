/**
 * AnchorPayload: the batch of transactions an event carries, fetched by digest.
 * `payload_digest = blake3_32(canonical payload)`.
 */
import { Writer, Reader, decodeExact, CodecError } from "../codec/index.ts";
import { blake3_32 } from "../crypto/hash.ts";
import { TAG, CODEC_VERSION, PAYLOAD_TXS_MAX, PAYLOAD_BYTES_MAX } from "./constants.ts";
import { type MicroTx, writeMicroTx, readMicroTx } from "./tx.ts";
import { type MintTx, writeMintTx, readMintTx } from "./mint.ts";
import { type Evidence, writeEvidence, readEvidence } from "./evidence.ts";
import { type ImportClaim, writeImportClaim, readImportClaim } from "../ledger/cross-shard.ts";
import { SHARD_TAG } from "../ledger/export-tree.ts";
import { ShardCertError } from "../ledger/shard-root.ts";

export type PayloadTx =
  | { kind: "micro"; tx: MicroTx }
  | { kind: "mint"; tx: MintTx }
  | { kind: "evidence"; tx: Evidence }
  /** A cross-shard import claim (docs/SPEC_SHARDING.md §8, tag 0x0b); applied only on a sharded ledger. */
  | { kind: "import"; tx: ImportClaim };

export interface AnchorPayload {
  txs: PayloadTx[];
}

function writePayloadTx(w: Writer, t: PayloadTx): void {
  switch (t.kind) {
    case "micro":
      return writeMicroTx(w, t.tx);
    case "mint":
      return writeMintTx(w, t.tx);
    case "evidence":
      return writeEvidence(w, t.tx);
    case "import":
      return writeImportClaim(w, t.tx);
  }
}

/** Reads one transaction of a payload, picking the decoder by its tag. */
export function readPayloadTx(r: Reader): PayloadTx {
  if (r.remaining < 1) throw new CodecError("CODEC_TRUNCATED", "truncated payload transaction");
  // Peek the tag of the nested object to pick the decoder.
  const at = r.offset;
  const tag = r.u8("payload tx tag");
  r.rewindTo(at);
  switch (tag) {
    case TAG.microTx:
      return { kind: "micro", tx: readMicroTx(r) };
    case TAG.mintTx:
      return { kind: "mint", tx: readMintTx(r) };
    case TAG.evidence:
      return { kind: "evidence", tx: readEvidence(r) };
    case SHARD_TAG.importClaim:
      try {
        return { kind: "import", tx: readImportClaim(r) };
      } catch (e) {
        // A certificate naming a signer twice does not decode; inside a payload that is a codec
        // refusal like any other, so payload decoding throws CodecError only.
        if (e instanceof ShardCertError) throw new CodecError("CODEC_INVALID", `import claim: ${e.message}`);
        throw e;
      }
    default:
      throw new CodecError("CODEC_UNKNOWN_TAG", `unknown payload transaction tag ${tag}`);
  }
}

/** Rejects encoded payloads over PAYLOAD_BYTES_MAX. */
export function checkPayloadLength(bytes: Uint8Array): void {
  if (bytes.length > PAYLOAD_BYTES_MAX) throw new CodecError("CODEC_LENGTH_TOO_LARGE", `payload of ${bytes.length} bytes exceeds ${PAYLOAD_BYTES_MAX}`);
}

export function writeAnchorPayload(w: Writer, p: AnchorPayload): void {
  w.u8(TAG.anchorPayload).u8(CODEC_VERSION);
  w.list(p.txs, PAYLOAD_TXS_MAX, writePayloadTx);
}

export function readAnchorPayload(r: Reader): AnchorPayload {
  r.tag(TAG.anchorPayload, "anchor payload");
  r.version(CODEC_VERSION, "anchor payload");
  return { txs: r.list(PAYLOAD_TXS_MAX, readPayloadTx, "payload txs") };
}

export function encodeAnchorPayload(p: AnchorPayload): Uint8Array {
  const w = new Writer(1024);
  writeAnchorPayload(w, p);
  const bytes = w.finish();
  checkPayloadLength(bytes);
  return bytes;
}

export function decodeAnchorPayload(bytes: Uint8Array): AnchorPayload {
  checkPayloadLength(bytes);
  return decodeExact(bytes, "anchor payload", readAnchorPayload);
}

export const payloadDigest = (bytes: Uint8Array): Uint8Array => blake3_32(bytes);

/** The empty payload and its digest (events that carry no transactions). */
export const EMPTY_PAYLOAD_BYTES = encodeAnchorPayload({ txs: [] });
