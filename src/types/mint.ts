/**
 * MintTx: the only source of new coins (docs/SPEC_POW.md). Its header is hashed
 * for proof of work; the nonce is the last 8 bytes so the miner varies only them.
 */
import { Writer, Reader, decodeExact } from "../codec/index.ts";
import { blake3_32 } from "../crypto/hash.ts";
import { TAG, CODEC_VERSION, HASH_BYTES } from "./constants.ts";

export interface MintTx {
  /** Id of the previous mint (all zero for the first mint). */
  prevMint: Uint8Array;
  /** 0 for the first mint; prev height + 1 after. */
  height: bigint;
  /** Difficulty the miner claims; must equal the ledger's current target. */
  targetBits: number;
  /** Lock commitment that receives the reward. */
  recipient: Uint8Array;
  nonce: bigint;
}

/** Encoded size of a mint header: tag, version, prev, height, bits, recipient, nonce. */
export const MINT_HEADER_BYTES = 1 + 1 + HASH_BYTES + 8 + 1 + HASH_BYTES + 8;
export const MINT_NONCE_OFFSET = MINT_HEADER_BYTES - 8;

export function writeMintTx(w: Writer, m: MintTx): void {
  w.u8(TAG.mintTx).u8(CODEC_VERSION).fixed(m.prevMint, HASH_BYTES).u64(m.height).u8(m.targetBits);
  w.fixed(m.recipient, HASH_BYTES).u64(m.nonce);
}

export function readMintTx(r: Reader): MintTx {
  r.tag(TAG.mintTx, "mint tx");
  r.version(CODEC_VERSION, "mint tx");
  return {
    prevMint: r.fixed(HASH_BYTES, "prev mint"),
    height: r.u64("mint height"),
    targetBits: r.u8("target bits"),
    recipient: r.fixed(HASH_BYTES, "recipient"),
    nonce: r.u64("nonce"),
  };
}

export function encodeMintTx(m: MintTx): Uint8Array {
  const w = new Writer(MINT_HEADER_BYTES);
  writeMintTx(w, m);
  return w.finish();
}

export const decodeMintTx = (bytes: Uint8Array): MintTx => decodeExact(bytes, "mint tx", readMintTx);

/** Mint id = its PoW hash = blake3_32 of the header. */
export const mintId = (m: MintTx): Uint8Array => blake3_32(encodeMintTx(m));
