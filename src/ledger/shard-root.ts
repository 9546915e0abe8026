/**
 * Shard roots and compact finality certificates (docs/SPEC_SHARDING.md §6, §7): a
 * shard's finalized order summarised per epoch of anchors, signed by stake ≥ q of that
 * shard's committee so that any other shard can verify it on its own.
 */
import { Writer, Reader, decodeExact, CodecError } from "../codec/index.ts";
import { PhantomError } from "../errors.ts";
import { blake3DeriveKey } from "../crypto/hash.ts";
import { sign, verifyBatch, type VerifyItem } from "../crypto/ed25519.ts";
import { equalBytes, toHex } from "../crypto/bytes.ts";
import { CODEC_VERSION, COMMITTEE_MAX, HASH_BYTES, SIGNATURE_BYTES } from "../types/constants.ts";
import { SHARD_TAG, ZERO_ROOT } from "./export-tree.ts";
import type { ShardLayout } from "./shard.ts";

export const SHARD_ROOT_BYTES = 144;
/** 2 + 144 + 1 (varint ≤ 64) + 64 × 65. */
export const SHARD_CERT_BYTES_MAX = 2 + SHARD_ROOT_BYTES + 1 + COMMITTEE_MAX * (1 + SIGNATURE_BYTES);
/** Domain separation tag of certificate signatures (26 ASCII bytes before the root digest). */
export const SHARD_CERT_DST = new TextEncoder().encode("PHANTOM_SHARD_ROOT_CERT_V0");
const CTX_ROOT = "phantom shard root v0";

export interface ShardRoot {
  /** Genesis `[consensus] commitment`: the network. */
  chain: Uint8Array;
  shard: number;
  /** Covers anchors epoch·E … (epoch+1)·E − 1 of the shard. */
  epoch: bigint;
  stateCommitment: Uint8Array;
  exportRoot: Uint8Array;
  exportCount: number;
  /** root_digest of the previous epoch; zeros for epoch 0. */
  prevRoot: Uint8Array;
}

export interface CertSignature {
  /** Index in the committee of `root.shard`. */
  signer: number;
  signature: Uint8Array;
}

export interface ShardCertificate {
  root: ShardRoot;
  /** Strictly ascending by signer. */
  signatures: CertSignature[];
}

export type ShardCertErrorCode =
  | "SHARD_CERT_DUPLICATE_SIGNER"
  | "SHARD_CERT_WRONG_CHAIN"
  | "SHARD_CERT_WRONG_SHARD"
  | "SHARD_CERT_UNKNOWN_SIGNER"
  | "SHARD_CERT_BAD_SIGNATURE"
  | "SHARD_CERT_BELOW_QUORUM";

export class ShardCertError extends PhantomError<ShardCertErrorCode> {
  constructor(code: ShardCertErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.name = "ShardCertError";
  }
}

export function writeShardRoot(w: Writer, r: ShardRoot): void {
  w.u8(SHARD_TAG.shardRoot).u8(CODEC_VERSION).fixed(r.chain, HASH_BYTES).u16(r.shard).u64(r.epoch)
    .fixed(r.stateCommitment, HASH_BYTES).fixed(r.exportRoot, HASH_BYTES).u32(r.exportCount).fixed(r.prevRoot, HASH_BYTES);
}

export function readShardRoot(r: Reader): ShardRoot {
  r.tag(SHARD_TAG.shardRoot, "shard root");
  r.version(CODEC_VERSION, "shard root");
  const chain = r.fixed(HASH_BYTES, "chain");
  const shard = r.u16("shard");
  const epoch = r.u64("epoch");
  const stateCommitment = r.fixed(HASH_BYTES, "state commitment");
  const exportRoot = r.fixed(HASH_BYTES, "export root");
  const exportCount = r.u32("export count");
  // An empty tree has the zero root and nothing else does (a hash is never all zero in practice, but the rule keeps encodings unique).
  if ((exportCount === 0) !== equalBytes(exportRoot, ZERO_ROOT)) throw new CodecError("CODEC_INVALID", "export root must be 32 zero bytes exactly when export count is 0");
  const prevRoot = r.fixed(HASH_BYTES, "prev root");
  if (epoch === 0n && !equalBytes(prevRoot, ZERO_ROOT)) throw new CodecError("CODEC_INVALID", "epoch 0 has prev root 32 zero bytes");
  return { chain, shard, epoch, stateCommitment, exportRoot, exportCount, prevRoot };
}

export function encodeShardRoot(root: ShardRoot): Uint8Array {
  const w = new Writer(SHARD_ROOT_BYTES);
  writeShardRoot(w, root);
  return w.finish();
}

export const decodeShardRoot = (b: Uint8Array): ShardRoot => decodeExact(b, "shard root", readShardRoot);

/** root_digest = derive("phantom shard root v0", root bytes). */
export function shardRootDigest(root: ShardRoot): Uint8Array {
  return blake3DeriveKey(CTX_ROOT, encodeShardRoot(root));
}

/** What a committee member signs: DST || root_digest. */
export function certMessage(rootDigest: Uint8Array): Uint8Array {
  const m = new Uint8Array(SHARD_CERT_DST.length + HASH_BYTES);
  m.set(SHARD_CERT_DST);
  m.set(rootDigest, SHARD_CERT_DST.length);
  return m;
}

export function signShardRoot(root: ShardRoot, signer: number, secretKey: Uint8Array): CertSignature {
  return { signer, signature: sign(secretKey, certMessage(shardRootDigest(root))) };
}

/** A certificate from any signatures over the same root: sorted by signer, one per signer. */
export function assembleCertificate(root: ShardRoot, sigs: readonly CertSignature[]): ShardCertificate {
  const bySigner = new Map<number, CertSignature>();
  for (const s of sigs) if (!bySigner.has(s.signer)) bySigner.set(s.signer, s);
  return { root, signatures: [...bySigner.values()].sort((a, b) => a.signer - b.signer) };
}

function checkSignerOrder(sigs: readonly CertSignature[]): void {
  for (let i = 1; i < sigs.length; i++) {
    const prev = sigs[i - 1]!.signer;
    const cur = sigs[i]!.signer;
    if (cur === prev) throw new ShardCertError("SHARD_CERT_DUPLICATE_SIGNER", `certificate: signer ${cur} signs twice; each committee member counts once`, { signer: cur });
    if (cur < prev) throw new CodecError("CODEC_INVALID", `certificate signers must be strictly ascending: ${cur} after ${prev}`);
  }
}

export function writeShardCertificate(w: Writer, c: ShardCertificate): void {
  if (c.signatures.length === 0) throw new CodecError("CODEC_INVALID", "a certificate has at least one signature");
  checkSignerOrder(c.signatures);
  w.u8(SHARD_TAG.shardCert).u8(CODEC_VERSION);
  writeShardRoot(w, c.root);
  w.list(c.signatures, COMMITTEE_MAX, (w, s) => w.u8(s.signer).fixed(s.signature, SIGNATURE_BYTES));
}

export function readShardCertificate(r: Reader): ShardCertificate {
  const start = r.offset;
  r.tag(SHARD_TAG.shardCert, "shard certificate");
  r.version(CODEC_VERSION, "shard certificate");
  const root = readShardRoot(r);
  const signatures = r.list(COMMITTEE_MAX, (r) => ({ signer: r.u8("signer"), signature: r.fixed(SIGNATURE_BYTES, "signature") }), "signatures");
  if (signatures.length === 0) throw new CodecError("CODEC_INVALID", "a certificate has at least one signature");
  checkSignerOrder(signatures);
  if (r.offset - start > SHARD_CERT_BYTES_MAX) throw new CodecError("CODEC_LENGTH_TOO_LARGE", `certificate exceeds ${SHARD_CERT_BYTES_MAX} bytes`);
  return { root, signatures };
}

export function encodeShardCertificate(c: ShardCertificate): Uint8Array {
  const w = new Writer(SHARD_ROOT_BYTES + 3 + c.signatures.length * (1 + SIGNATURE_BYTES));
  writeShardCertificate(w, c);
  return w.finish();
}

/** Decodes one certificate; an input above SHARD_CERT_BYTES_MAX is refused before parsing. */
export function decodeShardCertificate(b: Uint8Array): ShardCertificate {
  if (b.length > SHARD_CERT_BYTES_MAX) throw new CodecError("CODEC_LENGTH_TOO_LARGE", `certificate of ${b.length} bytes exceeds ${SHARD_CERT_BYTES_MAX}`);
  return decodeExact(b, "shard certificate", readShardCertificate);
}

export interface CertVerifyContext {
  /** This network's genesis commitment. */
  chain: Uint8Array;
  layout: ShardLayout;
  /** The shard the verifier expects the root to be from, if any. */
  expectShard?: number;
  /** Batch signature check with verifyBatch's answers (default verifyBatch; the simulator memoizes). */
  verify?: (items: readonly VerifyItem[]) => boolean[];
}

/**
 * Checks a decoded certificate (SPEC_SHARDING §7, rules 2–6); returns the root digest and
 * the signing stake. Throws ShardCertError with the first broken rule.
 */
export function verifyShardCertificate(c: ShardCertificate, ctx: CertVerifyContext): { rootDigest: Uint8Array; signedStake: bigint } {
  checkSignerOrder(c.signatures);
  if (!equalBytes(c.root.chain, ctx.chain)) throw new ShardCertError("SHARD_CERT_WRONG_CHAIN", `certificate is for network ${toHex(c.root.chain).slice(0, 16)}…, not this one`);
  const committee = ctx.layout.committees[c.root.shard];
  if (committee === undefined) throw new ShardCertError("SHARD_CERT_WRONG_SHARD", `certificate root is from shard ${c.root.shard}, but the network has ${ctx.layout.shardCount} shards`, { shard: c.root.shard });
  if (ctx.expectShard !== undefined && c.root.shard !== ctx.expectShard) {
    throw new ShardCertError("SHARD_CERT_WRONG_SHARD", `certificate root is from shard ${c.root.shard}, expected shard ${ctx.expectShard}`, { shard: c.root.shard });
  }
  for (const s of c.signatures) {
    if (s.signer >= committee.publicKeys.length) throw new ShardCertError("SHARD_CERT_UNKNOWN_SIGNER", `certificate signer ${s.signer} is not in shard ${c.root.shard}'s committee of ${committee.publicKeys.length}`, { signer: s.signer });
  }
  const rootDigest = shardRootDigest(c.root);
  const message = certMessage(rootDigest);
  const items = c.signatures.map((s) => ({ message, signature: s.signature, publicKey: committee.publicKeys[s.signer]! }));
  const ok = (ctx.verify ?? verifyBatch)(items);
  const bad = ok.findIndex((v) => !v);
  if (bad >= 0) {
    const signer = c.signatures[bad]!.signer;
    throw new ShardCertError("SHARD_CERT_BAD_SIGNATURE", `certificate signature of signer ${signer} (shard ${c.root.shard}) does not verify over the root`, { signer });
  }
  let signedStake = 0n;
  for (const s of c.signatures) signedStake += committee.stakes[s.signer]!;
  if (signedStake < committee.quorum) {
    throw new ShardCertError("SHARD_CERT_BELOW_QUORUM", `certificate signers hold stake ${signedStake} of shard ${c.root.shard}, below the quorum ${committee.quorum}`, { signedStake: signedStake.toString(), quorum: committee.quorum.toString() });
  }
  return { rootDigest, signedStake };
}
