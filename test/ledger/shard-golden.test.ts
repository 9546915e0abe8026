// The worked example of docs/SPEC_SHARDING.md (test/vectors/shard-golden.json). These bytes
// are the protocol: the implementation must reproduce them, and every digest, offset and
// signature is recomputed here from the spec's text with @noble/hashes and @noble/curves
// (an implementation independent of libphantom), as a second implementation would.
import { expect, test } from "bun:test";
import { blake3 } from "@noble/hashes/blake3.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { fromHex, toHex, concatBytes } from "../../src/crypto/bytes.ts";
import golden from "../vectors/shard-golden.json";
import { shardGolden } from "./shard-golden.ts";

const T = 30_000;
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const derive = (ctx: string, x: Uint8Array): Uint8Array => blake3(x, { context: utf8(ctx) });
const u16 = (n: number): Uint8Array => Uint8Array.of(n & 0xff, n >> 8);
const u32 = (n: number): Uint8Array => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n, true); return b; };

test("the implementation reproduces the stored worked example byte for byte", () => {
  expect(shardGolden()).toEqual(golden);
}, T);

test("an independent recomputation from the spec's rules gives the same bytes", () => {
  const lock = fromHex(golden.lockCommitment);
  // §2: u64_le(lock[0..8]) mod S.
  expect(Number(new DataView(lock.buffer, lock.byteOffset, 8).getBigUint64(0, true) % BigInt(golden.shardCount))).toBe(golden.shardOfLock);
  const leaves = golden.leaves.map((x) => fromHex(x));
  leaves.forEach((leaf, i) => {
    // §5.2 layout: tag, version, source, dest, anchor, txid, output, amount, lock (90 bytes).
    expect(leaf.length).toBe(90);
    expect([leaf[0], leaf[1]]).toEqual([0x08, 1]);
    const v = new DataView(leaf.buffer, leaf.byteOffset);
    expect([v.getUint16(2, true), v.getUint16(4, true), v.getBigUint64(6, true), v.getUint32(46, true), v.getBigUint64(50, true)]).toEqual([golden.source, golden.shardOfLock, 5n + BigInt(i), 1, 150_000_000n * BigInt(i + 1)]);
    expect(toHex(leaf.subarray(58))).toBe(golden.lockCommitment);
    expect(toHex(derive("phantom shard export id v0", concatBytes(u16(golden.source), leaf.subarray(14, 46), u32(1))))).toBe(golden.exportIds[i]!);
    expect(toHex(derive("phantom shard export leaf v0", leaf))).toBe(golden.leafHashes[i]!);
  });
  // §5.3: three leaves: node(node(h0, h1), h2), the third carried up one level.
  const h = golden.leafHashes.map((x) => fromHex(x));
  const node = (a: Uint8Array, b: Uint8Array): Uint8Array => derive("phantom shard export node v0", concatBytes(a, b));
  const n01 = node(h[0]!, h[1]!);
  expect(toHex(node(n01, h[2]!))).toBe(golden.exportRoot);
  expect(golden.proofOfLeaf2).toEqual({ leafIndex: 2, siblings: [toHex(n01)] });
  // §6 layout and digest.
  const root = fromHex(golden.shardRoot);
  expect(root.length).toBe(144);
  const rv = new DataView(root.buffer, root.byteOffset);
  expect([root[0], root[1], rv.getUint16(34, true), rv.getBigUint64(36, true), rv.getUint32(108, true)]).toEqual([0x09, 1, golden.source, 0n, 3]);
  expect(toHex(root.subarray(76, 108))).toBe(golden.exportRoot);
  expect(toHex(root.subarray(112))).toBe("00".repeat(32));
  expect(toHex(derive("phantom shard root v0", root))).toBe(golden.rootDigest);
  // §7: message = DST || digest; the certificate = tag, version, root, count 1, signer 0, signature.
  const message = concatBytes(utf8("PHANTOM_SHARD_ROOT_CERT_V0"), fromHex(golden.rootDigest));
  expect(toHex(message)).toBe(golden.certMessage);
  const cert = fromHex(golden.certificate);
  expect(toHex(cert.subarray(0, 2))).toBe("0a01");
  expect(toHex(cert.subarray(2, 146))).toBe(golden.shardRoot);
  expect([cert[146], cert[147], cert.length]).toEqual([1, 0, 148 + 64]);
  const publicKey = ed25519.getPublicKey(fromHex(golden.seed));
  expect(ed25519.verify(cert.subarray(148), message, publicKey)).toBe(true);
  // §8: the claim = tag, version, certificate, leaf, u32 index, siblings.
  expect(golden.importClaim).toBe(toHex(concatBytes(Uint8Array.of(0x0b, 1), cert, leaves[2]!, u32(2), Uint8Array.of(1), n01)));
}, T);
