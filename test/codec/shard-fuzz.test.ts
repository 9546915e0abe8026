// Decoder fuzzing of the sharding objects (docs/SPEC_SHARDING.md §5–§8), as test/codec/fuzz.test.ts
// does for the single-shard codecs: random bytes and mutated valid encodings (flips,
// truncation, insertion, deletion, splices between kinds). Each input decodes to a value
// that re-encodes to exactly the input, or raises a CodecError, or (a certificate that
// names a signer twice) a ShardCertError SHARD_CERT_DUPLICATE_SIGNER; anything else fails.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { CodecError } from "../../src/codec/index.ts";
import { concatBytes, toHex } from "../../src/crypto/bytes.ts";
import { blake3_32 } from "../../src/crypto/hash.ts";
import { keyPairFromSeed } from "../../src/crypto/ed25519.ts";
import { MAX_SUPPLY_UNITS } from "../../src/types/constants.ts";
import { type ExportLeaf, decodeExportLeaf, encodeExportLeaf } from "../../src/ledger/export-tree.ts";
import { type ShardRoot, ShardCertError, assembleCertificate, decodeShardCertificate, decodeShardRoot, encodeShardCertificate, encodeShardRoot, signShardRoot } from "../../src/ledger/shard-root.ts";
import { decodeImportClaim, encodeImportClaim } from "../../src/ledger/cross-shard.ts";

const SEED = 0x5ad0;
const CASES = 2000;
const h32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const keys = Array.from({ length: 6 }, (_, i) => keyPairFromSeed(blake3_32(Uint8Array.of(0x70, i))));
const leafArb: fc.Arbitrary<ExportLeaf> = fc.record({
  sourceShard: fc.integer({ min: 0, max: 0xffff }), destShard: fc.integer({ min: 0, max: 0xffff }), anchorIndex: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  txid: h32, outputIndex: fc.nat(), amount: fc.bigInt({ min: 0n, max: MAX_SUPPLY_UNITS }), lockCommitment: h32,
});
const rootArb: fc.Arbitrary<ShardRoot> = fc.record({
  chain: h32, shard: fc.integer({ min: 0, max: 0xffff }), epoch: fc.bigInt({ min: 1n, max: 1n << 40n }), stateCommitment: h32,
  exportRoot: h32.map((b) => { b[0] = 1; return b; }), exportCount: fc.integer({ min: 1, max: 1 << 20 }), prevRoot: h32,
});
const certArb = fc.tuple(rootArb, fc.uniqueArray(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 6 }))
  .map(([root, signers]) => assembleCertificate(root, signers.map((s) => signShardRoot(root, s, keys[s]!.secretKey))));
const claimArb = fc.tuple(certArb, leafArb, fc.nat(), fc.array(h32, { maxLength: 12 })).map(([cert, leaf, leafIndex, siblings]) => ({ cert, leaf, proof: { leafIndex, siblings } }));

interface Case { name: string; tag: number; valid: fc.Arbitrary<Uint8Array>; decode: (b: Uint8Array) => unknown; encode: (v: never) => Uint8Array }
const CASES_TABLE: Case[] = [
  { name: "ExportLeaf", tag: 0x08, valid: leafArb.map(encodeExportLeaf), decode: decodeExportLeaf, encode: encodeExportLeaf as (v: never) => Uint8Array },
  { name: "ShardRoot", tag: 0x09, valid: rootArb.map(encodeShardRoot), decode: decodeShardRoot, encode: encodeShardRoot as (v: never) => Uint8Array },
  { name: "ShardCertificate", tag: 0x0a, valid: certArb.map(encodeShardCertificate), decode: decodeShardCertificate, encode: encodeShardCertificate as (v: never) => Uint8Array },
  { name: "ImportClaim", tag: 0x0b, valid: claimArb.map(encodeImportClaim), decode: decodeImportClaim, encode: encodeImportClaim as (v: never) => Uint8Array },
];
const anyValid = fc.oneof(...CASES_TABLE.map((c) => c.valid));
const mutation = fc.record({ op: fc.constantFrom("flip", "truncate", "insert", "delete", "splice"), pos: fc.nat(), bits: fc.integer({ min: 1, max: 255 }), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }), len: fc.integer({ min: 1, max: 40 }) });

function mutate(input: Uint8Array, m: { op: string; pos: number; bits: number; bytes: Uint8Array; len: number }, other: Uint8Array): Uint8Array {
  const at = m.pos % (input.length + 1);
  switch (m.op) {
    case "flip": { const out = input.slice(); if (out.length > 0) out[at % out.length]! ^= m.bits; return out; }
    case "truncate": return input.slice(0, at);
    case "insert": return concatBytes(input.subarray(0, at), m.bytes, input.subarray(at));
    case "delete": return concatBytes(input.subarray(0, at), input.subarray(at + m.len));
    default: return concatBytes(input.subarray(0, at), other.subarray(m.pos % (other.length + 1)));
  }
}

describe("sharding decoder fuzz", () => {
  CASES_TABLE.forEach((c, i) => {
    test(`${c.name}: ${CASES} random and mutated inputs give a canonical value or a typed refusal`, () => {
      const codes = new Map<string, number>();
      let accepted = 0;
      const random = fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 400 })).map(([pre, b]) => (pre ? concatBytes(Uint8Array.of(c.tag, 1), b) : b));
      const mutated = fc.tuple(c.valid, fc.array(mutation, { minLength: 1, maxLength: 3 }), anyValid).map(([v, ms, other]) => ms.reduce((b, m) => mutate(b, m, other), v));
      fc.assert(fc.property(fc.oneof({ arbitrary: random, weight: 1 }, { arbitrary: mutated, weight: 3 }), (input) => {
        let value: unknown;
        try {
          value = c.decode(input);
        } catch (e) {
          const typed = e instanceof CodecError || (e instanceof ShardCertError && e.code === "SHARD_CERT_DUPLICATE_SIGNER");
          if (!typed) throw new Error(`${c.name} decoder threw ${String(e)} on ${toHex(input)}`);
          codes.set((e as CodecError).code, (codes.get((e as CodecError).code) ?? 0) + 1);
          return;
        }
        accepted++;
        expect(toHex(c.encode(value as never))).toBe(toHex(input));
      }), { seed: SEED + i, numRuns: CASES });
      expect(codes.size).toBeGreaterThan(2);
      expect(accepted).toBeGreaterThan(0);
      expect(accepted + [...codes.values()].reduce((a, b) => a + b, 0)).toBe(CASES);
    }, 60_000);
  });
});
