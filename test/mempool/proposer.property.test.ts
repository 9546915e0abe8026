// Property tests of every proposer rule (docs/SPEC_TX.md "Proposer policy") on random candidate sets.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { buildPayload, payloadBytesFor, type ProposerCandidate, type PayloadSelection } from "../../src/mempool/proposer.ts";
import { blake3_32 } from "../../src/crypto/hash.ts";
import { compareBytes } from "../../src/crypto/bytes.ts";
import { referencePicks } from "./proposer-reference.ts";

interface Case {
  candidates: ProposerCandidate[];
  txsMax: number;
  budgetBytes: number;
  pendingTxids: Set<string>;
  pendingInputs: Set<string>;
  shuffleSeed: number;
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    specs: fc.array(
      fc.record({ size: fc.oneof(fc.integer({ min: 40, max: 60 }), fc.integer({ min: 200, max: 400 })), group: fc.integer({ min: 0, max: 5 }), inputs: fc.uniqueArray(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 3 }), pending: fc.boolean() }),
      { maxLength: 70 },
    ),
    txsMax: fc.integer({ min: 0, max: 40 }),
    // Share of the candidates' total size the budget allows, so the budget often binds.
    budgetPercent: fc.integer({ min: 0, max: 110 }),
    pendingInputs: fc.uniqueArray(fc.integer({ min: 0, max: 50 }), { maxLength: 4 }),
    pendingRate: fc.integer({ min: 0, max: 4 }),
    shuffleSeed: fc.integer(),
  })
  .map(({ specs, txsMax, budgetPercent, pendingInputs, pendingRate, shuffleSeed }) => {
    const budgetBytes = Math.floor((specs.reduce((sum, s) => sum + s.size, 3) * budgetPercent) / 100);
    const candidates = specs.map((s, i) => ({
      txid: blake3_32(new Uint8Array([i, i >> 8])), txidHex: `t${i}`, encodedBytes: s.size, seq: i * 3 + 1, group: `g${s.group}`, inputKeys: s.inputs.map((n) => `o${n}`),
    }));
    const pendingTxids = new Set(specs.flatMap((s, i) => (s.pending && i % 5 < pendingRate ? [`t${i}`] : [])));
    return { candidates, txsMax, budgetBytes, pendingTxids, pendingInputs: new Set(pendingInputs.map((n) => `o${n}`)), shuffleSeed };
  });

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const before = (a: ProposerCandidate, b: ProposerCandidate) => a.encodedBytes < b.encodedBytes || (a.encodedBytes === b.encodedBytes && a.seq < b.seq);
const run = (c: Case, candidates = c.candidates) =>
  buildPayload({ candidates, txsMax: c.txsMax, budgetBytes: c.budgetBytes, pendingTxids: c.pendingTxids, pendingInputs: c.pendingInputs });

/** Facts about a selection the properties below share. */
function analyse(c: Case, sel: PayloadSelection<ProposerCandidate>) {
  const picked = new Set(sel.pickOrder.map((x) => x.txidHex));
  const used = new Set(sel.pickOrder.flatMap((x) => x.inputKeys));
  const txBytes = sel.pickOrder.reduce((s, x) => s + x.encodedBytes, 0);
  const eligibleAtEnd = (x: ProposerCandidate) => !picked.has(x.txidHex) && !c.pendingTxids.has(x.txidHex) && x.inputKeys.every((k) => !used.has(k) && !c.pendingInputs.has(k));
  const fitsAtEnd = (x: ProposerCandidate) => payloadBytesFor(sel.pickOrder.length + 1, txBytes + x.encodedBytes) <= c.budgetBytes;
  const count = new Map<string, number>();
  for (const x of sel.pickOrder) count.set(x.group, (count.get(x.group) ?? 0) + 1);
  return { picked, txBytes, eligibleAtEnd, fitsAtEnd, count };
}

const RUNS = { numRuns: 400 };

describe("proposer properties", () => {
  test("picks exactly what the naive reference implementation of the policy picks", () => {
    fc.assert(fc.property(caseArb, (c) => {
      const expected = referencePicks(c.candidates, c.txsMax, c.budgetBytes, c.pendingTxids, c.pendingInputs);
      expect(run(c).pickOrder.map((x) => x.txidHex)).toEqual(expected.map((x) => x.txidHex));
    }), RUNS);
  });

  test("limits: at most txsMax txs, payload within the byte budget, size accounted exactly", () => {
    fc.assert(fc.property(caseArb, (c) => {
      const sel = run(c);
      expect(sel.txs.length).toBeLessThanOrEqual(c.txsMax);
      if (sel.txs.length > 0) expect(sel.payloadBytes).toBeLessThanOrEqual(c.budgetBytes);
      expect(sel.payloadBytes).toBe(payloadBytesFor(sel.txs.length, analyse(c, sel).txBytes));
    }), RUNS);
  });

  test("no two selected txs share an input; nothing pending or spending a pending input is selected", () => {
    fc.assert(fc.property(caseArb, (c) => {
      const seen = new Set<string>();
      for (const x of run(c).txs) {
        expect(c.pendingTxids.has(x.txidHex)).toBe(false);
        for (const k of x.inputKeys) {
          expect(seen.has(k) || c.pendingInputs.has(k)).toBe(false);
          seen.add(k);
        }
      }
    }), RUNS);
  });

  test("final list strictly sorted by txid and a permutation of the picks", () => {
    fc.assert(fc.property(caseArb, (c) => {
      const sel = run(c);
      for (let i = 1; i < sel.txs.length; i++) expect(compareBytes(sel.txs[i - 1]!.txid, sel.txs[i]!.txid)).toBeLessThan(0);
      expect(sel.txs.map((x) => x.txidHex).sort()).toEqual(sel.pickOrder.map((x) => x.txidHex).sort());
    }), RUNS);
  });

  test("deterministic: the candidates' order does not matter", () => {
    fc.assert(fc.property(caseArb, (c) => {
      const a = run(c);
      const b = run(c, shuffled(c.candidates, c.shuffleSeed));
      expect(b.pickOrder.map((x) => x.txidHex)).toEqual(a.pickOrder.map((x) => x.txidHex));
    }), RUNS);
  });

  test("round-robin: every group is served once per round before any gets another; rounds go smaller-then-older", () => {
    fc.assert(fc.property(caseArb, (c) => {
      const sel = run(c);
      const seen = new Map<string, number>();
      let lastRound = 1;
      let last: ProposerCandidate | undefined;
      for (const x of sel.pickOrder) {
        const round = (seen.get(x.group) ?? 0) + 1;
        seen.set(x.group, round);
        expect(round).toBeGreaterThanOrEqual(lastRound);
        if (round === lastRound && last !== undefined) expect(before(x, last)).toBe(false);
        lastRound = round;
        last = x;
      }
    }), RUNS);
  });

  test("no starvation: a group left with an eligible tx that fits has at most one tx fewer than any other group", () => {
    fc.assert(fc.property(caseArb, (c) => {
      const sel = run(c);
      const { eligibleAtEnd, fitsAtEnd, count } = analyse(c, sel);
      for (const h of c.candidates) {
        if (!eligibleAtEnd(h) || !fitsAtEnd(h)) continue;
        const mine = count.get(h.group) ?? 0;
        for (const other of count.values()) expect(other).toBeLessThanOrEqual(mine + 1);
      }
    }), RUNS);
  });

  test("maximal: below txsMax, every unselected tx is pending, conflicting or too big for what is left", () => {
    fc.assert(fc.property(caseArb, (c) => {
      const sel = run(c);
      if (sel.pickOrder.length >= c.txsMax) return;
      const { eligibleAtEnd, fitsAtEnd } = analyse(c, sel);
      for (const x of c.candidates) expect(eligibleAtEnd(x) && fitsAtEnd(x)).toBe(false);
    }), RUNS);
  });

  test("within a group, smaller then older: no skipped eligible tx precedes a selected one of its group", () => {
    fc.assert(fc.property(caseArb, (c) => {
      const sel = run(c);
      const { eligibleAtEnd } = analyse(c, sel);
      for (const s of sel.pickOrder) {
        for (const x of c.candidates) if (x.group === s.group && eligibleAtEnd(x)) expect(before(x, s)).toBe(false);
      }
    }), RUNS);
  });
});
