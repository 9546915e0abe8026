// Property tests of the sharding core (docs/SPEC_SHARDING.md §5–§8): for arbitrary leaf
// lists every proof verifies and any one-bit change of leaf, sibling or index is refused;
// roots, certificates and claims with arbitrary fields round-trip byte for byte.
import { expect, test } from "bun:test";
import fc from "fast-check";
import { blake3_32 } from "../../src/crypto/hash.ts";
import { keyPairFromSeed } from "../../src/crypto/ed25519.ts";
import { equalBytes } from "../../src/crypto/bytes.ts";
import { MAX_SUPPLY_UNITS } from "../../src/types/constants.ts";
import { type ExportLeaf, exportLeafHash, exportProof, exportRootOfHashes, verifyExportProof, encodeExportLeaf, decodeExportLeaf } from "../../src/ledger/export-tree.ts";
import { type ShardRoot, assembleCertificate, signShardRoot, encodeShardCertificate, decodeShardCertificate, encodeShardRoot, decodeShardRoot } from "../../src/ledger/shard-root.ts";
import { decodeImportClaim, encodeImportClaim } from "../../src/ledger/cross-shard.ts";

const T = 60_000;
const SEED = 0x5a4d;
const h32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const leafArb: fc.Arbitrary<ExportLeaf> = fc.record({
  sourceShard: fc.integer({ min: 0, max: 0xffff }), destShard: fc.integer({ min: 0, max: 0xffff }),
  anchorIndex: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), txid: h32, outputIndex: fc.integer({ min: 0, max: 0xffffffff }),
  amount: fc.bigInt({ min: 0n, max: MAX_SUPPLY_UNITS }), lockCommitment: h32,
});
const keys = Array.from({ length: 8 }, (_, i) => keyPairFromSeed(blake3_32(Uint8Array.of(i))));

test("every proof verifies; a flipped bit in the leaf, a sibling or the index is refused", () => {
  fc.assert(fc.property(fc.array(leafArb, { minLength: 1, maxLength: 70 }), fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), (leaves, pick, flipAt, bit) => {
    const hashes = leaves.map(exportLeafHash);
    const root = exportRootOfHashes(hashes);
    const i = pick % leaves.length;
    const p = exportProof(hashes, i);
    expect(verifyExportProof(hashes[i]!, p, root, leaves.length)).toBe(true);
    const mask = 1 << (bit % 8);
    const badLeaf = encodeExportLeaf(leaves[i]!);
    badLeaf[2 + (flipAt % (badLeaf.length - 2))]! ^= mask;
    const changed = (() => { try { return exportLeafHash(decodeExportLeaf(badLeaf)); } catch { return blake3_32(badLeaf); } })();
    expect(verifyExportProof(changed, p, root, leaves.length)).toBe(false);
    if (p.siblings.length > 0) {
      const sib = p.siblings.map((s) => s.slice());
      sib[flipAt % sib.length]![bit % 32]! ^= mask;
      expect(verifyExportProof(hashes[i]!, { ...p, siblings: sib }, root, leaves.length)).toBe(false);
    }
    if (leaves.length > 1) {
      const j = (i + 1 + (flipAt % (leaves.length - 1))) % leaves.length;
      // The same proof at another index is refused (unless the two leaves are equal).
      if (!equalBytes(hashes[i]!, hashes[j]!)) expect(verifyExportProof(hashes[i]!, { ...p, leafIndex: j }, root, leaves.length)).toBe(false);
    }
  }), { seed: SEED, numRuns: 300 });
}, T);

test("roots, certificates and claims round-trip byte for byte", () => {
  const rootArb: fc.Arbitrary<ShardRoot> = fc.record({
    chain: h32, shard: fc.integer({ min: 0, max: 0xffff }), epoch: fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }), stateCommitment: h32,
    exportRoot: h32.filter((b) => b.some((x) => x !== 0)), exportCount: fc.integer({ min: 1, max: 0xffffffff }), prevRoot: h32,
  });
  fc.assert(fc.property(rootArb, fc.uniqueArray(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 8 }), leafArb, fc.array(h32, { maxLength: 32 }), fc.nat(), (root, signers, leaf, siblings, idx) => {
    const rb = encodeShardRoot(root);
    expect(encodeShardRoot(decodeShardRoot(rb))).toEqual(rb);
    const cert = assembleCertificate(root, signers.map((s) => signShardRoot(root, s, keys[s]!.secretKey)));
    const cb = encodeShardCertificate(cert);
    expect(encodeShardCertificate(decodeShardCertificate(cb))).toEqual(cb);
    const claim = { cert, leaf, proof: { leafIndex: idx % 0x100000000, siblings } };
    const b = encodeImportClaim(claim);
    expect(encodeImportClaim(decodeImportClaim(b))).toEqual(b);
  }), { seed: SEED, numRuns: 150 });
}, T);
