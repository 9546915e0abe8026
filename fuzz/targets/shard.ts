/**
 * Sharding decoders (docs/SPEC_SHARDING.md §5–§8): export leaf, shard root, finality
 * certificate and import claim. Each input decodes to a value that re-encodes to exactly
 * the input, or is refused with a CodecError or a ShardCertError (duplicate signer).
 */
import { CodecError } from "../../src/codec/index.ts";
import { CODEC_VERSION } from "../../src/types/constants.ts";
import { keyPairFromSeed } from "../../src/crypto/ed25519.ts";
import { blake3_32 } from "../../src/crypto/hash.ts";
import { SHARD_TAG, decodeExportLeaf, encodeExportLeaf, exportLeafHash, exportProof, exportRootOfHashes, type ExportLeaf } from "../../src/ledger/export-tree.ts";
import {
  ShardCertError, decodeShardRoot, encodeShardRoot, decodeShardCertificate, encodeShardCertificate, signShardRoot, assembleCertificate,
  SHARD_CERT_BYTES_MAX, type ShardRoot,
} from "../../src/ledger/shard-root.ts";
import { decodeImportClaim, encodeImportClaim, IMPORT_CLAIM_BYTES_MAX } from "../../src/ledger/cross-shard.ts";
import { sameBytes, type FuzzTarget } from "../target.ts";

const rejection = (e: unknown): string | undefined => (e instanceof CodecError || e instanceof ShardCertError ? e.code : undefined);

const DICTIONARY: readonly Uint8Array[] = [
  ...Object.values(SHARD_TAG).map((t) => Uint8Array.of(t, CODEC_VERSION)),
  Uint8Array.of(0x40), Uint8Array.of(0x41), Uint8Array.of(0x20), Uint8Array.of(0x21), new Uint8Array(32),
  Uint8Array.of(0x01, 0x80, 0xc6, 0xa4, 0x7e, 0x8d, 0x03, 0x00), // 5·10^15 + 1 as u64 LE (above the cap)
];

function target<T>(name: string, description: string, decode: (b: Uint8Array) => T, encode: (v: T) => Uint8Array, maxBytes: number): FuzzTarget {
  return {
    name, description, extension: "bin", maxBytes, dictionary: DICTIONARY,
    run(input) {
      sameBytes(encode(decode(input)), input, name);
    },
    rejection,
  };
}

export const SHARD_TARGETS: FuzzTarget[] = [
  target("export-leaf", "cross-shard export leaf decoder", decodeExportLeaf, encodeExportLeaf, 256),
  target("shard-root", "shard root decoder (per-epoch summary of a shard)", decodeShardRoot, encodeShardRoot, 512),
  target("shard-cert", "shard finality certificate decoder (root + ascending signatures)", decodeShardCertificate, encodeShardCertificate, SHARD_CERT_BYTES_MAX + 16),
  target("import-claim", "cross-shard import claim decoder (certificate, leaf, Merkle proof)", decodeImportClaim, encodeImportClaim, IMPORT_CLAIM_BYTES_MAX + 16),
];

/** Seed corpus entries (target, file name, bytes) from the real encoders; `bun run fuzz:corpus` writes them. */
export function shardCorpusEntries(): { target: string; name: string; bytes: Uint8Array }[] {
  const enc = new TextEncoder();
  const h = (s: string): Uint8Array => blake3_32(enc.encode(s));
  const leaves: ExportLeaf[] = Array.from({ length: 5 }, (_, i) => ({
    sourceShard: i % 3, destShard: (i % 3) + 1, anchorIndex: BigInt(i * 17), txid: h(`fuzz tx ${i}`), outputIndex: i, amount: BigInt(i) * 100_000_000n, lockCommitment: h(`fuzz lock ${i}`),
  }));
  const hashes = leaves.map(exportLeafHash);
  const keys = Array.from({ length: 4 }, (_, i) => keyPairFromSeed(h(`fuzz shard key ${i}`)));
  const roots: ShardRoot[] = [
    { chain: h("fuzz chain"), shard: 0, epoch: 0n, stateCommitment: h("s0"), exportRoot: new Uint8Array(32), exportCount: 0, prevRoot: new Uint8Array(32) },
    { chain: h("fuzz chain"), shard: 3, epoch: 7n, stateCommitment: h("s7"), exportRoot: exportRootOfHashes(hashes), exportCount: hashes.length, prevRoot: h("p6") },
  ];
  const out: { target: string; name: string; bytes: Uint8Array }[] = [];
  leaves.forEach((l, i) => out.push({ target: "export-leaf", name: `sample-${i}.bin`, bytes: encodeExportLeaf(l) }));
  roots.forEach((r, i) => out.push({ target: "shard-root", name: `sample-${i}.bin`, bytes: encodeShardRoot(r) }));
  const certs = roots.map((r, i) => assembleCertificate(r, keys.slice(0, i + 2).map((kp, j) => signShardRoot(r, j, kp.secretKey))));
  certs.forEach((c, i) => out.push({ target: "shard-cert", name: `sample-${i}.bin`, bytes: encodeShardCertificate(c) }));
  for (const i of [0, 3, 4]) out.push({ target: "import-claim", name: `sample-${i}.bin`, bytes: encodeImportClaim({ cert: certs[1]!, leaf: leaves[i]!, proof: exportProof(hashes, i) }) });
  return out;
}
