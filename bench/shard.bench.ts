/**
 * Sharding protocol core (docs/SPEC_SHARDING.md): certificate verification at k = 21,
 * export tree building and proof checks, import checks. References measured in the same
 * run: the certificate's signatures through one plain verifyBatch call, and the leaves
 * hashed with blake3Batch (the tree's floor).
 *   bun run bench/shard.bench.ts       (PHANTOM_BENCH_EXPORTS=4096 by default)
 */
import { emit, measure } from "./lib.ts";
import { keyPairFromSeed, verifyBatch } from "../src/crypto/ed25519.ts";
import { blake3_32, blake3Batch } from "../src/crypto/hash.ts";
import { shardLayout, shardOfLock } from "../src/ledger/shard.ts";
import { type ExportLeaf, encodeExportLeaf, exportLeafHash, exportProof, exportRootOfHashes, verifyExportProof } from "../src/ledger/export-tree.ts";
import { assembleCertificate, certMessage, decodeShardCertificate, encodeShardCertificate, shardRootDigest, signShardRoot, verifyShardCertificate, type ShardRoot } from "../src/ledger/shard-root.ts";
import { CrossShardLedger } from "../src/ledger/cross-shard.ts";

const SUITE = "shard";
const EXPORTS = Number(process.env.PHANTOM_BENCH_EXPORTS ?? 4096);
const K = 21;
const S = 2;
const enc = new TextEncoder();
const chain = blake3_32(enc.encode("bench chain"));
const keys = Array.from({ length: S }, (_, s) => Array.from({ length: K }, (_, i) => keyPairFromSeed(blake3_32(enc.encode(`bench ${s}/${i}`)))));
const layout = shardLayout(S, keys.flatMap((ks, shard) => ks.map((kp) => ({ publicKey: kp.publicKey, stake: 1000n, shard }))));
const lockOn = (s: number, i: number): Uint8Array => {
  for (let j = 0; ; j++) {
    const l = blake3_32(enc.encode(`lock ${i}/${j}`));
    if (shardOfLock(l, S) === s) return l;
  }
};
const leaves: ExportLeaf[] = Array.from({ length: EXPORTS }, (_, i) => ({ sourceShard: 0, destShard: 1, anchorIndex: BigInt(i >> 4), txid: blake3_32(enc.encode(`tx ${i}`)), outputIndex: i & 15, amount: BigInt(1000 + i), lockCommitment: lockOn(1, i) }));
const leafBytes = leaves.map(encodeExportLeaf);

const build = measure(() => void exportRootOfHashes(leaves.map(exportLeafHash)), { minMs: 800, warmup: 1 });
const floor = measure(() => void blake3Batch(leafBytes), { minMs: 800, warmup: 1 });
emit({ suite: SUITE, name: "export_tree_build", value: EXPORTS / (build.perIterMs / 1000), unit: "leaves/s", higher_is_better: true, params: { leaves: EXPORTS } });
emit({ suite: SUITE, name: "export_tree_build_vs_blake3_batch_leaves", value: build.perIterMs / floor.perIterMs, unit: "ratio", higher_is_better: false, params: { blake3_batch_leaves_per_s: Math.round(EXPORTS / (floor.perIterMs / 1000)) } });

const hashes = leaves.map(exportLeafHash);
const root = exportRootOfHashes(hashes);
const proofs = Array.from({ length: 256 }, (_, i) => exportProof(hashes, (i * 7919) % EXPORTS));
let c = 0;
const prove = measure(() => {
  const p = proofs[c++ % proofs.length]!;
  if (!verifyExportProof(hashes[p.leafIndex]!, p, root, EXPORTS)) throw new Error("proof");
}, { minMs: 500 });
emit({ suite: SUITE, name: "export_proof_verify", value: 1000 / prove.perIterMs, unit: "ops/s", higher_is_better: true, params: { leaves: EXPORTS, siblings: proofs[0]!.siblings.length } });

const shardRoot: ShardRoot = { chain, shard: 0, epoch: 0n, stateCommitment: blake3_32(enc.encode("state")), exportRoot: root, exportCount: EXPORTS, prevRoot: new Uint8Array(32) };
const quorumSigners = Number(layout.committees[0]!.quorum / 1000n) + (layout.committees[0]!.quorum % 1000n === 0n ? 0 : 1);
const cert = assembleCertificate(shardRoot, keys[0]!.slice(0, quorumSigners).map((kp, i) => signShardRoot(shardRoot, i, kp.secretKey)));
const certBytes = encodeShardCertificate(cert);
const verifyCert = measure(() => void verifyShardCertificate(decodeShardCertificate(certBytes), { chain, layout }), { minMs: 800 });
const message = certMessage(shardRootDigest(shardRoot));
const items = cert.signatures.map((s) => ({ message, signature: s.signature, publicKey: keys[0]![s.signer]!.publicKey }));
const plain = measure(() => void verifyBatch(items), { minMs: 800 });
emit({ suite: SUITE, name: "shard_cert_decode_verify_k21", value: 1000 / verifyCert.perIterMs, unit: "ops/s", higher_is_better: true, params: { signatures: cert.signatures.length, bytes: certBytes.length } });
emit({ suite: SUITE, name: "shard_cert_verify_vs_plain_verify_batch", value: verifyCert.perIterMs / plain.perIterMs, unit: "ratio", higher_is_better: false, params: { plain_ops_per_s: Math.round(1000 / plain.perIterMs) } });

// Import checks with a memoized signature check (one certificate covers a whole epoch's exports).
const memo = new Map<string, boolean>();
const dst = new CrossShardLedger({ chain, layout, shard: 1, rootInterval: BigInt(EXPORTS), verify: (its) => its.map((it) => {
  const key = Buffer.from(it.signature).toString("hex");
  let v = memo.get(key);
  if (v === undefined) memo.set(key, (v = verifyBatch([it])[0]!));
  return v;
}) });
c = 0;
const check = measure(() => {
  const p = proofs[c++ % proofs.length]!;
  dst.checkImport({ cert, leaf: leaves[p.leafIndex]!, proof: p });
}, { minMs: 500 });
emit({ suite: SUITE, name: "import_check_cached_cert", value: 1000 / check.perIterMs, unit: "ops/s", higher_is_better: true, params: { leaves: EXPORTS, k: K } });
