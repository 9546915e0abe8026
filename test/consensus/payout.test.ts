// Payout Merkle tree: an independent oracle (@noble/hashes BLAKE3, recursive
// definition), proofs for every leaf, and tampered proofs failing.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { blake3 as nobleBlake3 } from "@noble/hashes/blake3.js";
import { payoutRoot, payoutProof, verifyPayoutProof, encodePayoutLeaf, PayoutError, type PayoutEntry, type PayoutProof } from "../../src/consensus/payout.ts";

const h = (...parts: (number[] | Uint8Array)[]): Uint8Array => nobleBlake3(new Uint8Array(parts.flatMap((p) => [...p])));

function leafBytes(e: PayoutEntry): Uint8Array {
  const amount = new Uint8Array(8);
  new DataView(amount.buffer).setBigUint64(0, e.amount, true);
  return new Uint8Array([e.index, ...e.recipient, ...amount]);
}

/** The spec's definition, written independently: pair left to right, promote an odd last node. */
function oracleRoot(entries: PayoutEntry[]): Uint8Array {
  if (entries.length === 0) return h([0x02]);
  let level = entries.map((e) => h([0x00], leafBytes(e)));
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? h([0x01], level[i]!, level[i + 1]!) : level[i]!);
    level = next;
  }
  return level[0]!;
}

function entries(n: number, salt = 0): PayoutEntry[] {
  return Array.from({ length: n }, (_, i) => ({ index: i, recipient: new Uint8Array(32).fill((i * 7 + salt) & 0xff), amount: BigInt(i * 1000 + salt) }));
}

describe("payout root", () => {
  test("leaf encoding is index || recipient || amount LE", () => {
    const e = { index: 3, recipient: new Uint8Array(32).fill(9), amount: 0x0102030405060708n };
    expect(encodePayoutLeaf(e)).toEqual(leafBytes(e));
    expect(encodePayoutLeaf(e).length).toBe(41);
  });

  test("matches the oracle for every size 0..64", () => {
    for (let n = 0; n <= 64; n++) expect(payoutRoot(entries(n))).toEqual(oracleRoot(entries(n)));
  });

  test("small trees by hand: 1 leaf, 2 leaves, 3 leaves (odd one promoted)", () => {
    const [a, b, c] = entries(3).map((e) => h([0x00], leafBytes(e)));
    expect(payoutRoot(entries(1))).toEqual(a!);
    expect(payoutRoot(entries(2))).toEqual(h([0x01], a!, b!));
    expect(payoutRoot(entries(3))).toEqual(h([0x01], h([0x01], a!, b!), c!));
  });

  test("any change to any leaf changes the root; appending a leaf changes the root", () => {
    const base = entries(9);
    const root = payoutRoot(base);
    for (let i = 0; i < base.length; i++) {
      const more = base.map((e, j) => (j === i ? { ...e, amount: e.amount + 1n } : e));
      expect(payoutRoot(more)).not.toEqual(root);
    }
    expect(payoutRoot(entries(10))).not.toEqual(root);
  });

  test("entries must be a u64 amount, 32-byte recipient, in index order", () => {
    const bad = (list: PayoutEntry[]) => expect(() => payoutRoot(list)).toThrow(PayoutError);
    bad([{ index: 1, recipient: new Uint8Array(32), amount: 0n }]);
    bad([{ index: 0, recipient: new Uint8Array(31), amount: 0n }]);
    bad([{ index: 0, recipient: new Uint8Array(32), amount: 1n << 64n }]);
    bad([{ index: 0, recipient: new Uint8Array(32), amount: -1n }]);
  });
});

describe("payout proofs", () => {
  test("every leaf of every size 1..64 proves against the root", () => {
    for (let n = 1; n <= 64; n++) {
      const list = entries(n, n);
      const root = payoutRoot(list);
      for (let i = 0; i < n; i++) expect(verifyPayoutProof(root, list[i]!, payoutProof(list, i))).toBe(true);
    }
  });

  test("property: tampered leaf, index, sibling, sibling list, leaf count or root fails", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 64 }), fc.nat(), fc.nat(), (n, pick, pickSibling) => {
        const list = entries(n, pick & 0xff);
        const root = payoutRoot(list);
        const i = pick % n;
        const proof = payoutProof(list, i);
        const entry = list[i]!;
        const ok = (e: PayoutEntry, p: PayoutProof) => verifyPayoutProof(root, e, p);
        expect(ok(entry, proof)).toBe(true);
        expect(ok({ ...entry, amount: entry.amount + 1n }, proof)).toBe(false);
        expect(ok({ ...entry, recipient: entry.recipient.map((b) => b ^ 1) }, proof)).toBe(false);
        const j = (i + 1) % n;
        expect(ok({ ...entry, index: j }, { ...proof, index: j })).toBe(false);
        expect(ok(list[j]!, proof)).toBe(false);
        if (proof.siblings.length > 0) {
          const s = pickSibling % proof.siblings.length;
          const flipped = proof.siblings.map((x, k) => (k === s ? x.map((b, m) => (m === 0 ? b ^ 0x80 : b)) : x));
          expect(ok(entry, { ...proof, siblings: flipped })).toBe(false);
          expect(ok(entry, { ...proof, siblings: proof.siblings.slice(0, -1) })).toBe(false);
        }
        expect(ok(entry, { ...proof, siblings: [...proof.siblings, new Uint8Array(32)] })).toBe(false);
        // leafCount only shapes the path (the leaf itself binds its index): a count that
        // changes where odd nodes are promoted on this path breaks the proof.
        if (i === n - 1 && n % 2 === 0) expect(ok(entry, { ...proof, leafCount: n + 1 })).toBe(false);
        expect(verifyPayoutProof(payoutRoot(entries(n, (pick + 1) & 0xff)), entry, proof)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  test("out-of-range proofs are rejected without throwing", () => {
    const list = entries(5);
    const root = payoutRoot(list);
    const proof = payoutProof(list, 4);
    expect(verifyPayoutProof(root, list[4]!, { ...proof, index: 5 })).toBe(false);
    expect(verifyPayoutProof(root, list[4]!, { ...proof, leafCount: 0 })).toBe(false);
    expect(verifyPayoutProof(root, list[4]!, { ...proof, leafCount: 65 })).toBe(false);
    expect(verifyPayoutProof(root, { ...list[4]!, recipient: new Uint8Array(3) }, proof)).toBe(false);
    expect(() => payoutProof(list, 5)).toThrow(PayoutError);
  });
});
