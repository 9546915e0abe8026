import { expect, test } from "bun:test";
import fc from "fast-check";
import { LtHash, ltHashOfSet, LTHASH_BYTES, utxoLanes } from "../../src/ledger/lthash.ts";
import { blake3_32 } from "../../src/crypto/hash.ts";
import { equalBytes, toHex } from "../../src/crypto/bytes.ts";
import type { UtxoEntry } from "../../src/ledger/validate.ts";

const arbUtxo = fc.record({
  txid: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  index: fc.integer({ min: 0, max: 0xffffffff }),
  entry: fc.record({
    amount: fc.bigInt({ min: 0n, max: 5_000_000_000_000_000n }),
    lockCommitment: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    createdAt: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    coinbase: fc.boolean(),
  }) as fc.Arbitrary<UtxoEntry>,
});

test("the empty set commits to blake3_32 of 2048 zero bytes", () => {
  expect(toHex(new LtHash().commitment())).toBe(toHex(blake3_32(new Uint8Array(LTHASH_BYTES))));
});

test("commitment depends only on the set, not on insertion order or removed history", () => {
  fc.assert(
    fc.property(fc.array(arbUtxo, { minLength: 1, maxLength: 12 }), fc.array(arbUtxo, { maxLength: 6 }), (set, transient) => {
      const forward = ltHashOfSet(set);
      const backward = ltHashOfSet([...set].reverse());
      const withHistory = new LtHash();
      for (const t of transient) withHistory.addUtxo(t.txid, t.index, t.entry);
      for (const u of set) withHistory.addUtxo(u.txid, u.index, u.entry);
      for (const t of transient) withHistory.removeUtxo(t.txid, t.index, t.entry);
      expect(equalBytes(forward.commitment(), backward.commitment())).toBe(true);
      expect(equalBytes(forward.commitment(), withHistory.commitment())).toBe(true);
    }),
    { numRuns: 60 },
  );
});

test("every field of a UTXO changes its lanes", () => {
  const base = { txid: new Uint8Array(32).fill(7), index: 3, entry: { amount: 10n, lockCommitment: new Uint8Array(32).fill(9), createdAt: 5n, coinbase: false } };
  const ref = toHex(new Uint8Array(utxoLanes(base.txid, base.index, base.entry).buffer));
  const variants = [
    utxoLanes(new Uint8Array(32).fill(8), 3, base.entry),
    utxoLanes(base.txid, 4, base.entry),
    utxoLanes(base.txid, 3, { ...base.entry, amount: 11n }),
    utxoLanes(base.txid, 3, { ...base.entry, lockCommitment: new Uint8Array(32).fill(1) }),
    utxoLanes(base.txid, 3, { ...base.entry, createdAt: 6n }),
    utxoLanes(base.txid, 3, { ...base.entry, coinbase: true }),
  ];
  for (const v of variants) expect(toHex(new Uint8Array(v.buffer))).not.toBe(ref);
});

test("accumulator bytes round-trip and a removed element leaves no trace", () => {
  const h = new LtHash();
  const e = { amount: 1n, lockCommitment: new Uint8Array(32), createdAt: 0n, coinbase: true };
  h.addUtxo(new Uint8Array(32), 0, e);
  const copy = LtHash.fromBytes(h.toBytes());
  expect(equalBytes(copy.commitment(), h.commitment())).toBe(true);
  copy.removeUtxo(new Uint8Array(32), 0, e);
  expect(equalBytes(copy.toBytes(), new Uint8Array(LTHASH_BYTES))).toBe(true);
});

test("packed lane arithmetic equals plain mod-2^16 arithmetic, lane by lane", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 2048, maxLength: 2048 }), fc.uint8Array({ minLength: 2048, maxLength: 2048 }), (a, b) => {
      const x = LtHash.fromBytes(a);
      const e = new Uint16Array(b.slice().buffer);
      const plainA = new Uint16Array(a.slice().buffer);
      x.add(e);
      for (let i = 0; i < 1024; i++) expect(x.lanes[i]).toBe((plainA[i]! + e[i]!) % 65536);
      x.subtract(e);
      x.subtract(e);
      for (let i = 0; i < 1024; i++) expect(x.lanes[i]).toBe((plainA[i]! - e[i]! + 65536) % 65536);
    }),
    { numRuns: 40 },
  );
});
