// Sharding protocol core (docs/SPEC_SHARDING.md): assignment, layout, export tree and
// proofs, shard roots and certificates (every refusal code), imports exactly once, and
// supply conservation across shards. S = 1 never exports.
import { describe, expect, test } from "bun:test";
import { blake3_32, blake3DeriveKey } from "../../src/crypto/hash.ts";
import { keyPairFromSeed, type Ed25519KeyPair } from "../../src/crypto/ed25519.ts";
import { concatBytes, equalBytes, fromHex } from "../../src/crypto/bytes.ts";
import { thrownCode as thrownCodeOf } from "../thrown-code.ts";
import { PhantomError } from "../../src/errors.ts";
import { shardOfLock, shardLayout, shardLayoutOf, quorumOf, type ShardLayout } from "../../src/ledger/shard.ts";
import { parseGenesis, quorumStake } from "../../src/genesis/genesis.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../phantom-cli.ts";
import { encodeAddress, shardOfAddress } from "../../src/wallet/address.ts";
import {
  type ExportLeaf, exportRoot, exportLeafHash, exportProof, verifyExportProof, encodeExportLeaf, decodeExportLeaf, exportId, ZERO_ROOT, EXPORT_LEAF_BYTES,
} from "../../src/ledger/export-tree.ts";
import {
  type ShardRoot, type ShardCertificate, encodeShardRoot, decodeShardRoot, encodeShardCertificate, decodeShardCertificate, signShardRoot,
  assembleCertificate, verifyShardCertificate, SHARD_ROOT_BYTES, SHARD_CERT_BYTES_MAX, shardRootDigest,
} from "../../src/ledger/shard-root.ts";
import { CrossShardLedger, encodeImportClaim, decodeImportClaim, globalSupplyCheck, type ImportClaim } from "../../src/ledger/cross-shard.ts";
import type { Output } from "../../src/types/tx.ts";

const T = 30_000;
/** The typed code `fn` throws (any PhantomError), or "none". */
const thrownCode = (fn: () => unknown): string => thrownCodeOf(fn, PhantomError, "none");
const enc = new TextEncoder();
const CHAIN = blake3_32(enc.encode("shard test chain"));
const S = 3;
const K = 4;
const keys: Ed25519KeyPair[][] = Array.from({ length: S }, (_, s) => Array.from({ length: K }, (_, i) => keyPairFromSeed(blake3_32(enc.encode(`shard ${s} validator ${i}`)))));
const layout: ShardLayout = shardLayout(S, keys.flatMap((ks, shard) => ks.map((kp, i) => ({ publicKey: kp.publicKey, stake: BigInt(100 + i), shard }))));

/** A lock commitment on shard `s` (searched deterministically). */
function lockOn(s: number, salt: string, shardCount = S): Uint8Array {
  for (let i = 0; ; i++) {
    const l = blake3_32(enc.encode(`${salt}/${i}`));
    if (shardOfLock(l, shardCount) === s) return l;
  }
}

/** Reference tree: recursive definition of SPEC_SHARDING §5.3, written independently of export-tree.ts. */
function refRoot(hashes: Uint8Array[]): Uint8Array {
  if (hashes.length === 0) return new Uint8Array(32);
  let level = hashes;
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(level[i + 1] ? blake3DeriveKey("phantom shard export node v0", concatBytes(level[i]!, level[i + 1]!)) : level[i]!);
    level = next;
  }
  return level[0]!;
}

function leaf(i: number, src = 0, dst = 1): ExportLeaf {
  return { sourceShard: src, destShard: dst, anchorIndex: BigInt(i), txid: blake3_32(enc.encode(`tx ${i}`)), outputIndex: i % 3, amount: BigInt(1000 + i), lockCommitment: lockOn(dst, `leaf ${i}`) };
}

function certFor(root: ShardRoot, signers: number[]): ShardCertificate {
  return assembleCertificate(root, signers.map((i) => signShardRoot(root, i, keys[root.shard]![i]!.secretKey)));
}

describe("shard assignment and layout", () => {
  test("shard_of = u64_le(lock[0..8]) mod S; S = 1 is always 0", () => {
    const lock = fromHex("0a00000000000000" + "ff".repeat(24));
    expect(shardOfLock(lock, 1)).toBe(0);
    expect(shardOfLock(lock, 4)).toBe(2);
    expect(shardOfLock(lock, 10)).toBe(0);
    const big = fromHex("ffffffffffffffff" + "00".repeat(24)); // 2^64 − 1
    expect(shardOfLock(big, 1000)).toBe(Number(((1n << 64n) - 1n) % 1000n));
    const counts = new Array(8).fill(0);
    for (let i = 0; i < 4000; i++) counts[shardOfLock(blake3_32(enc.encode(`l${i}`)), 8)]++;
    for (const c of counts) expect(c).toBeGreaterThan(400);
    expect(thrownCode(() => shardOfLock(lock, 0))).toBe("SHARD_BAD_COUNT");
    expect(thrownCode(() => shardOfLock(lock, 1025))).toBe("SHARD_BAD_COUNT");
  }, T);

  test("layout: committees in file order, quorum floor(2T/3)+1, every shard size k", () => {
    expect(layout.committees.map((c) => c.publicKeys.length)).toEqual([K, K, K]);
    expect(layout.committees[1]!.genesisIndices).toEqual([4, 5, 6, 7]);
    expect(layout.committees[2]!.totalStake).toBe(406n);
    expect(layout.committees[2]!.quorum).toBe(quorumOf(406n));
    expect(quorumOf(406n)).toBe(271n);
    const one = shardLayout(1, [{ publicKey: keys[0]![0]!.publicKey, stake: 5n }, { publicKey: keys[0]![1]!.publicKey, stake: 7n }]);
    expect(one.committees[0]!.quorum).toBe(9n);
    const entries = keys.flatMap((ks, shard) => ks.map((kp) => ({ publicKey: kp.publicKey, stake: 1n, shard })));
    expect(thrownCode(() => shardLayout(S, entries.slice(1)))).toBe("SHARD_LAYOUT_COMMITTEE_SIZE");
    expect(thrownCode(() => shardLayout(2, entries))).toBe("SHARD_LAYOUT_BAD_SHARD");
    expect(thrownCode(() => shardLayout(S, [...entries.slice(0, 11), { ...entries[0]!, shard: 2 }]))).toBe("SHARD_LAYOUT_DUPLICATE_KEY");
    expect(thrownCode(() => shardLayout(1, [{ publicKey: keys[0]![0]!.publicKey, stake: 0n }]))).toBe("SHARD_LAYOUT_STAKE");
  }, T);
});

describe("export tree", () => {
  test("root matches the reference for 0..33 leaves; every proof verifies and nothing else does", () => {
    for (let n = 0; n <= 33; n++) {
      const leaves = Array.from({ length: n }, (_, i) => leaf(i));
      const hashes = leaves.map(exportLeafHash);
      const root = exportRoot(leaves);
      expect(equalBytes(root, refRoot(hashes))).toBe(true);
      if (n === 0) expect(equalBytes(root, ZERO_ROOT)).toBe(true);
      for (let i = 0; i < n; i++) {
        const p = exportProof(hashes, i);
        expect(verifyExportProof(hashes[i]!, p, root, n)).toBe(true);
        // Another leaf, another index, a missing or extra sibling: refused.
        expect(verifyExportProof(hashes[(i + 1) % n]!, p, root, n)).toBe(n === 1);
        if (n > 1) expect(verifyExportProof(hashes[i]!, { ...p, leafIndex: (i + 1) % n }, root, n)).toBe(false);
        // (The count is not checked by the path alone: it comes from the signed root.)
        expect(verifyExportProof(hashes[i]!, p, root, 0)).toBe(false);
        expect(verifyExportProof(hashes[i]!, { ...p, siblings: [...p.siblings, root] }, root, n)).toBe(false);
        if (p.siblings.length > 0) expect(verifyExportProof(hashes[i]!, { ...p, siblings: p.siblings.slice(1) }, root, n)).toBe(false);
      }
      expect(verifyExportProof(ZERO_ROOT, { leafIndex: n, siblings: [] }, root, n)).toBe(false);
    }
  }, T);

  test("leaf codec: 90 bytes, round trip, typed refusals; export id is domain-separated", () => {
    const l = leaf(7);
    const b = encodeExportLeaf(l);
    expect(b.length).toBe(EXPORT_LEAF_BYTES);
    expect(decodeExportLeaf(b)).toEqual(l);
    expect(thrownCode(() => decodeExportLeaf(b.slice(0, 89)))).toBe("CODEC_TRUNCATED");
    expect(thrownCode(() => decodeExportLeaf(concatBytes(b, Uint8Array.of(0))))).toBe("CODEC_TRAILING_BYTES");
    const over = b.slice();
    new DataView(over.buffer).setBigUint64(50, 5_000_000_000_000_001n, true);
    expect(thrownCode(() => decodeExportLeaf(over))).toBe("CODEC_VALUE_OUT_OF_RANGE");
    expect(equalBytes(exportId(l), exportId({ ...l, sourceShard: 2 }))).toBe(false);
    expect(equalBytes(exportId(l), exportId({ ...l, destShard: 2, amount: 1n } as ExportLeaf))).toBe(true);
  }, T);
});

describe("shard root and certificate", () => {
  const root: ShardRoot = { chain: CHAIN, shard: 1, epoch: 3n, stateCommitment: blake3_32(enc.encode("state")), exportRoot: exportRoot([leaf(0)]), exportCount: 1, prevRoot: blake3_32(enc.encode("prev")) };
  const ctx = { chain: CHAIN, layout };

  test("root codec: 144 bytes, canonical rules", () => {
    const b = encodeShardRoot(root);
    expect(b.length).toBe(SHARD_ROOT_BYTES);
    expect(decodeShardRoot(b)).toEqual(root);
    expect(thrownCode(() => decodeShardRoot(encodeShardRoot({ ...root, exportCount: 0 })))).toBe("CODEC_INVALID");
    expect(thrownCode(() => decodeShardRoot(encodeShardRoot({ ...root, epoch: 0n })))).toBe("CODEC_INVALID");
    expect(thrownCode(() => decodeShardRoot(b.slice(0, 100)))).toBe("CODEC_TRUNCATED");
  }, T);

  test("a quorum certificate verifies and round-trips; each broken rule has its code", () => {
    // Stakes 100..103 (T = 406, q = 271): signers 1,2,3 hold 306; signers 0,1 hold 201.
    const cert = certFor(root, [3, 1, 2]);
    expect(cert.signatures.map((s) => s.signer)).toEqual([1, 2, 3]);
    const bytes = encodeShardCertificate(cert);
    expect(decodeShardCertificate(bytes)).toEqual(cert);
    const ok = verifyShardCertificate(decodeShardCertificate(bytes), ctx);
    expect(ok.signedStake).toBe(306n);
    expect(equalBytes(ok.rootDigest, shardRootDigest(root))).toBe(true);

    expect(thrownCode(() => verifyShardCertificate(certFor(root, [0, 1]), ctx))).toBe("SHARD_CERT_BELOW_QUORUM");
    expect(thrownCode(() => verifyShardCertificate(cert, { ...ctx, chain: blake3_32(enc.encode("other")) }))).toBe("SHARD_CERT_WRONG_CHAIN");
    expect(thrownCode(() => verifyShardCertificate(cert, { ...ctx, expectShard: 2 }))).toBe("SHARD_CERT_WRONG_SHARD");
    const far = { ...root, shard: 9 };
    expect(thrownCode(() => verifyShardCertificate({ root: far, signatures: cert.signatures }, ctx))).toBe("SHARD_CERT_WRONG_SHARD");
    // Signatures by shard 1's keys over another shard's root: a bad signature.
    const stolen: ShardCertificate = { root: { ...root, shard: 2 }, signatures: cert.signatures };
    expect(thrownCode(() => verifyShardCertificate(stolen, ctx))).toBe("SHARD_CERT_BAD_SIGNATURE");
    // The root changed after signing (a forged export root).
    expect(thrownCode(() => verifyShardCertificate({ ...cert, root: { ...root, exportCount: 2 } }, ctx))).toBe("SHARD_CERT_BAD_SIGNATURE");
    const flipped = cert.signatures.map((s, i) => (i === 1 ? { ...s, signature: s.signature.map((x, j) => (j === 5 ? x ^ 1 : x)) } : s));
    const err = (() => { try { verifyShardCertificate({ ...cert, signatures: flipped }, ctx); } catch (e) { return e as { code: string; details: { signer: number } }; } })();
    expect(err?.code).toBe("SHARD_CERT_BAD_SIGNATURE");
    expect(err?.details.signer).toBe(2);
    const unknown = { ...cert, signatures: [...cert.signatures, { signer: 4, signature: cert.signatures[0]!.signature }] };
    expect(thrownCode(() => verifyShardCertificate(unknown, ctx))).toBe("SHARD_CERT_UNKNOWN_SIGNER");
    // Duplicate signer: refused by the verifier and by the decoder; out of order is non-canonical.
    const dup = { ...cert, signatures: [cert.signatures[0]!, cert.signatures[0]!, cert.signatures[2]!] };
    expect(thrownCode(() => verifyShardCertificate(dup, ctx))).toBe("SHARD_CERT_DUPLICATE_SIGNER");
    const dupBytes = bytes.slice();
    dupBytes[2 + SHARD_ROOT_BYTES + 1 + 65] = 1; // second signer index := first
    expect(thrownCode(() => decodeShardCertificate(dupBytes))).toBe("SHARD_CERT_DUPLICATE_SIGNER");
    dupBytes[2 + SHARD_ROOT_BYTES + 1 + 65] = 0;
    expect(thrownCode(() => decodeShardCertificate(dupBytes))).toBe("CODEC_INVALID");
    // Truncated, trailing, oversize, empty.
    expect(thrownCode(() => decodeShardCertificate(bytes.slice(0, bytes.length - 1)))).toBe("CODEC_TRUNCATED");
    expect(thrownCode(() => decodeShardCertificate(concatBytes(bytes, Uint8Array.of(1))))).toBe("CODEC_TRAILING_BYTES");
    expect(thrownCode(() => decodeShardCertificate(new Uint8Array(SHARD_CERT_BYTES_MAX + 1)))).toBe("CODEC_LENGTH_TOO_LARGE");
    const many = bytes.slice(0, 2 + SHARD_ROOT_BYTES + 1);
    many[2 + SHARD_ROOT_BYTES] = 65;
    expect(thrownCode(() => decodeShardCertificate(many))).toBe("CODEC_LENGTH_TOO_LARGE");
    many[2 + SHARD_ROOT_BYTES] = 0;
    expect(thrownCode(() => decodeShardCertificate(many))).toBe("CODEC_INVALID");
  }, T);
});

describe("cross-shard transfers", () => {
  const E = 4n;
  const make = (shard: number): CrossShardLedger => new CrossShardLedger({ chain: CHAIN, layout, shard, rootInterval: E });

  /** Shard 0 exports two outputs to shard 1 and one to shard 2 in epoch 0, keeps one; returns the claims for shard 1. */
  function scenario(): { src: CrossShardLedger; claims: ImportClaim[]; root: ShardRoot; localSum: bigint; voidTxid: Uint8Array } {
    const src = make(0);
    src.recordMint(10_000n);
    const outs: Output[] = [
      { amount: 1000n, lockCommitment: lockOn(1, "a") }, { amount: 2000n, lockCommitment: lockOn(0, "b") },
      { amount: 3000n, lockCommitment: lockOn(2, "c") }, { amount: 500n, lockCommitment: lockOn(1, "d") },
    ];
    let root: ShardRoot | undefined;
    const split = src.splitOutputs(0n, blake3_32(enc.encode("tx0")), outs);
    expect(split.local.map((l) => l.index)).toEqual([1]);
    expect(split.exports.map((e) => [e.destShard, e.outputIndex])).toEqual([[1, 0], [2, 2], [1, 3]]);
    for (let a = 0n; a < E; a++) root = src.endAnchor(a, blake3_32(enc.encode(`state ${a}`))) ?? root;
    expect(root?.epoch).toBe(0n);
    expect(root?.exportCount).toBe(3);
    const cert = certFor(root!, [0, 1, 2]);
    const claims = src.exportsWithProofs(0n).filter((x) => x.leaf.destShard === 1).map((x) => ({ cert, ...x }));
    return { src, claims, root: root!, localSum: 2000n, voidTxid: blake3_32(enc.encode("void tx")) };
  }

  test("export → certified root → import, exactly once; supply conserved across shards", () => {
    const { src, claims, localSum } = scenario();
    const dst = make(1);
    const other = make(2);
    // Fees: the exporting tx spent 10,000 and created 6,500: 3,500 is fee pending on shard 0.
    const fees = 10_000n - 6_500n;
    const supplies = () => [
      { shard: 0, unspent: localSum, pending: fees, ...src.supply() },
      { shard: 1, unspent: dst.supply().imported, pending: 0n, ...dst.supply() },
      { shard: 2, unspent: other.supply().imported, pending: 0n, ...other.supply() },
    ];
    expect(globalSupplyCheck(supplies())).toEqual([]);
    const round = decodeImportClaim(encodeImportClaim(claims[0]!));
    expect(round).toEqual(claims[0]!);
    const a = dst.applyImport(round);
    expect(a.output.amount).toBe(1000n);
    expect(thrownCode(() => dst.applyImport(claims[0]!))).toBe("IMPORT_DUPLICATE");
    // The same claim is refused inside one payload too (pending set).
    const b = dst.checkImport(claims[1]!);
    expect(thrownCode(() => dst.checkImport(claims[1]!, new Set([Buffer.from(b.exportId).toString("hex")])))).toBe("IMPORT_DUPLICATE");
    dst.applyImport(claims[1]!);
    expect(dst.importedCount()).toBe(2);
    expect(globalSupplyCheck(supplies())).toEqual([]);
    // A bad books entry is caught: value created on shard 1.
    const broken = supplies();
    broken[1] = { ...broken[1]!, unspent: broken[1]!.unspent + 1n };
    expect(globalSupplyCheck(broken).length).toBeGreaterThan(0);
  }, T);

  test("unknown, voided, forged, misdirected and conflicting imports are refused", () => {
    const { claims, root, voidTxid } = scenario();
    const dst = make(1);
    const c = claims[0]!;
    // A forged leaf (more value) is not in the root.
    expect(thrownCode(() => dst.checkImport({ ...c, leaf: { ...c.leaf, amount: c.leaf.amount + 1n } }))).toBe("IMPORT_NOT_PROVEN");
    // A voided export: the void tx created nothing, so no proof places it in the root.
    expect(thrownCode(() => dst.checkImport({ ...c, leaf: { ...c.leaf, txid: voidTxid } }))).toBe("IMPORT_NOT_PROVEN");
    // The right leaf with another leaf's proof, or an anchor outside the epoch.
    expect(thrownCode(() => dst.checkImport({ ...c, proof: claims[1]!.proof }))).toBe("IMPORT_NOT_PROVEN");
    expect(thrownCode(() => dst.checkImport({ ...c, leaf: { ...c.leaf, anchorIndex: 9n } }))).toBe("IMPORT_NOT_PROVEN");
    // Claimed on the wrong shard.
    expect(thrownCode(() => make(2).checkImport(c))).toBe("IMPORT_WRONG_DESTINATION");
    expect(thrownCode(() => make(0).checkImport(c))).toBe("IMPORT_WRONG_SOURCE");
    expect(thrownCode(() => dst.checkImport({ ...c, leaf: { ...c.leaf, sourceShard: 2 } }))).toBe("IMPORT_WRONG_SOURCE");
    // A certificate below quorum (a Byzantine minority's forged root) never gets to the proof.
    const forgedRoot = { ...root, exportRoot: exportRoot([{ ...c.leaf, amount: 10n ** 12n }]), exportCount: 1 };
    const minority = { ...c, cert: certFor(forgedRoot, [3]), leaf: { ...c.leaf, amount: 10n ** 12n }, proof: { leafIndex: 0, siblings: [] } };
    expect(thrownCode(() => dst.checkImport(minority))).toBe("SHARD_CERT_BELOW_QUORUM");
    // After one import relied on the root, a conflicting certified root of the same epoch is refused.
    dst.applyImport(c);
    const conflicting = { ...c, cert: certFor(forgedRoot, [0, 1, 2, 3]), leaf: minority.leaf, proof: minority.proof };
    expect(thrownCode(() => dst.checkImport(conflicting))).toBe("IMPORT_ROOT_CONFLICT");
    expect(dst.supply().imported).toBe(1000n);
  }, T);

  test("roots chain by prev_root; anchors must come in order; S = 1 never exports", () => {
    const src = make(0);
    const roots: ShardRoot[] = [];
    for (let a = 0n; a < 3n * E; a++) {
      const r = src.endAnchor(a, blake3_32(enc.encode(`s${a}`)));
      if (r) roots.push(r);
    }
    expect(roots.map((r) => r.epoch)).toEqual([0n, 1n, 2n]);
    expect(equalBytes(roots[0]!.prevRoot, ZERO_ROOT)).toBe(true);
    expect(equalBytes(roots[2]!.prevRoot, shardRootDigest(roots[1]!))).toBe(true);
    expect(thrownCode(() => src.endAnchor(99n, ZERO_ROOT))).toBe("CROSS_SHARD_ANCHOR_OUT_OF_ORDER");
    expect(thrownCode(() => src.exportsWithProofs(3n))).toBe("CROSS_SHARD_UNKNOWN_EPOCH");
    const single = new CrossShardLedger({ chain: CHAIN, layout: shardLayout(1, [{ publicKey: keys[0]![0]!.publicKey, stake: 1n }]), shard: 0, rootInterval: 1n });
    const outs = Array.from({ length: 50 }, (_, i) => ({ amount: BigInt(i), lockCommitment: blake3_32(enc.encode(`o${i}`)) }));
    expect(single.splitOutputs(0n, blake3_32(enc.encode("t")), outs).exports).toEqual([]);
    expect(single.supply().exported).toBe(0n);
  }, T);
});

test("shardLayoutOf(genesis): the repository's single-shard genesis is one committee, quorum as consensus uses", () => {
  const g = parseGenesis(readFileSync(join(ROOT, "genesis.toml"), "utf8"));
  const l = shardLayoutOf(g);
  expect(l.shardCount).toBe(1);
  expect(l.committees[0]!.publicKeys).toEqual(g.validators.map((v) => v.publicKey));
  expect(l.committees[0]!.quorum).toBe(quorumStake(g));
}, T);

test("a lock commitment of the wrong length is SHARD_BAD_LOCK", () => {
  expect(thrownCode(() => shardOfLock(new Uint8Array(31), 4))).toBe("SHARD_BAD_LOCK");
}, T);

test("a wallet knows an address's shard: shardOfAddress = shardOfLock of the decoded address", () => {
  for (let s = 0; s < S; s++) {
    const lock = lockOn(s, `wallet ${s}`);
    expect(shardOfAddress(encodeAddress(lock), S)).toBe(s);
    expect(shardOfAddress(encodeAddress(lock), 1)).toBe(0);
  }
  expect(thrownCode(() => shardOfAddress("pc1notanaddress", S))).toBe("ADDRESS_INVALID");
}, T);
