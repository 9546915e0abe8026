/**
 * The worked example of docs/SPEC_SHARDING.md (test/vectors/shard-golden.json): built from
 * the SPEC_CODEC example key (seed 11..11) and its sig lock. `bun run test/ledger/shard-golden.ts`
 * prints the JSON; shard-golden.test.ts checks the implementation against the stored file
 * and recomputes every digest with @noble/hashes (an independent BLAKE3).
 */
import { keyPairFromSeed } from "../../src/crypto/ed25519.ts";
import { fromHex, toHex } from "../../src/crypto/bytes.ts";
import { lockCommitment } from "../../src/types/lock.ts";
import { shardOfLock, shardLayout } from "../../src/ledger/shard.ts";
import { type ExportLeaf, encodeExportLeaf, exportId, exportLeafHash, exportRootOfHashes, exportProof } from "../../src/ledger/export-tree.ts";
import { type ShardRoot, encodeShardRoot, shardRootDigest, certMessage, signShardRoot, assembleCertificate, encodeShardCertificate } from "../../src/ledger/shard-root.ts";
import { encodeImportClaim } from "../../src/ledger/cross-shard.ts";

export const GOLDEN_SEED = "11".repeat(32);
export const GOLDEN_S = 4;

export function shardGolden(): Record<string, unknown> {
  const kp = keyPairFromSeed(fromHex(GOLDEN_SEED));
  const lock = lockCommitment({ kind: "sig", publicKey: kp.publicKey });
  const dest = shardOfLock(lock, GOLDEN_S);
  const source = (dest + 1) % GOLDEN_S;
  const leaves: ExportLeaf[] = [0, 1, 2].map((i) => ({
    sourceShard: source, destShard: dest, anchorIndex: 5n + BigInt(i), txid: new Uint8Array(32).fill(0xcc - i), outputIndex: 1, amount: 150_000_000n * BigInt(i + 1), lockCommitment: lock,
  }));
  const hashes = leaves.map(exportLeafHash);
  const root: ShardRoot = {
    chain: new Uint8Array(32).fill(0xa0), shard: source, epoch: 0n, stateCommitment: new Uint8Array(32).fill(0x5c),
    exportRoot: exportRootOfHashes(hashes), exportCount: hashes.length, prevRoot: new Uint8Array(32),
  };
  // A committee of one (the example key) in the source shard: its signature alone is a quorum.
  shardLayout(GOLDEN_S, Array.from({ length: GOLDEN_S }, (_, s) => ({ publicKey: s === source ? kp.publicKey : new Uint8Array(32).fill(s + 1), stake: 1n, shard: s })));
  const cert = assembleCertificate(root, [signShardRoot(root, 0, kp.secretKey)]);
  const proof = exportProof(hashes, 2);
  return {
    _source: "Worked example of docs/SPEC_SHARDING.md, computed by this implementation (protocol v0). Key: seed 11..11 (the SPEC_CODEC example), its sig lock; S = 4. Three exports from shard `source` to the lock's shard (txids cc.., cb.., ca.., output 1, anchors 5..7, 1.5/3/4.5 PC); root of epoch 0 (chain a0.., state 5c..); a certificate signed by that key as signer 0; the import claim of the third export.",
    seed: GOLDEN_SEED, shardCount: GOLDEN_S, lockCommitment: toHex(lock), shardOfLock: dest, source,
    leaves: leaves.map((l) => toHex(encodeExportLeaf(l))), exportIds: leaves.map((l) => toHex(exportId(l))), leafHashes: hashes.map(toHex),
    exportRoot: toHex(root.exportRoot), proofOfLeaf2: { leafIndex: proof.leafIndex, siblings: proof.siblings.map(toHex) },
    shardRoot: toHex(encodeShardRoot(root)), rootDigest: toHex(shardRootDigest(root)), certMessage: toHex(certMessage(shardRootDigest(root))),
    certificate: toHex(encodeShardCertificate(cert)), importClaim: toHex(encodeImportClaim({ cert, leaf: leaves[2]!, proof })),
  };
}

if (import.meta.main) console.log(JSON.stringify(shardGolden(), null, 2));
