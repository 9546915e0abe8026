// Mempool invariants under random admit / finalize sequences (real validation, After(0) locks), and decoder fuzzing.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { Registry } from "prom-client";
import { Mempool, feeRateLess, outpointKey, rbfMinimumBump, type AdmitResult } from "../../src/mempool/mempool.ts";
import { validateMicroTxBatch } from "../../src/ledger/validate.ts";
import { encodeMicroTx, digestMicroTx, type MicroTx } from "../../src/types/tx.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { CTX, fundedView, freeTx } from "./fixtures.ts";
import { selectPayload, buildPayload } from "../../src/mempool/proposer.ts";
import { referencePicks } from "./proposer-reference.ts";

const OUTPOINTS = 10;

const txSpecArb = fc.record({
  inputs: fc.uniqueArray(fc.integer({ min: 0, max: OUTPOINTS - 1 }), { minLength: 1, maxLength: 3 }),
  // A few fixed fees make equal fee rates (the RBF boundary) common.
  fee: fc.oneof(fc.constantFrom(0n, 1_000n, 2_000n), fc.bigInt({ min: 0n, max: 20_000n })),
  group: fc.integer({ min: 0, max: 3 }),
  extraOutputs: fc.integer({ min: 0, max: 2 }),
});
type TxSpec = typeof txSpecArb extends fc.Arbitrary<infer T> ? T : never;

const opArb = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("admit" as const), specs: fc.array(txSpecArb, { minLength: 1, maxLength: 6 }), dupFirst: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("finalize" as const), spend: fc.uniqueArray(fc.integer({ min: 0, max: OUTPOINTS - 1 }), { maxLength: 3 }), includeSome: fc.boolean() }) },
);

const limitsArb = fc.record({ txsMax: fc.integer({ min: 1, max: 6 }), bytesMax: fc.integer({ min: 120, max: 900 }) });

interface Seen {
  fee: bigint;
  encodedBytes: number;
}

function checkInvariants(pool: Mempool, view: ReturnType<typeof fundedView>["view"]): void {
  const entries = pool.entries();
  expect(pool.size).toBeLessThanOrEqual(pool.limits.txsMax);
  expect(pool.bytes).toBeLessThanOrEqual(pool.limits.bytesMax);
  expect(pool.bytes).toBe(entries.reduce((s, e) => s + e.encodedBytes, 0));
  const spent = new Set<string>();
  for (const e of entries) {
    expect(e.txidHex).toBe(toHex(digestMicroTx(e.tx)));
    for (const op of e.tx.inputs) {
      const k = outpointKey(op);
      expect(spent.has(k)).toBe(false);
      spent.add(k);
      expect(pool.spender(op)).toBe(e);
    }
  }
  // Everything held is still valid against the finalized view.
  for (const r of validateMicroTxBatch(view, entries.map((e) => e.tx), CTX)) expect(r.ok).toBe(true);
}

/** Checks each admit result against what the pool held before: RBF and eviction only ever favour strictly higher fee rates. */
function checkAdmit(txs: MicroTx[], results: AdmitResult[], seen: Map<string, Seen>, before: Set<string>, after: Set<string>): void {
  const left = new Set<string>();
  results.forEach((r, i) => {
    const me = { fee: r.ok ? r.fee : 0n, encodedBytes: encodeMicroTx(txs[i]!).length };
    if (!r.ok) return;
    seen.set(toHex(r.txid), me);
    let replacedFees = 0n;
    for (const t of r.replaced) {
      const old = seen.get(toHex(t))!;
      expect(feeRateLess(old, me)).toBe(true);
      replacedFees += old.fee;
      left.add(toHex(t));
    }
    // The pools here relay at 0 units per byte: a replacement adds at least 10 % of what it replaces.
    if (r.replaced.length > 0) expect(me.fee).toBeGreaterThanOrEqual(replacedFees + rbfMinimumBump(replacedFees, me.encodedBytes, 0n));
    for (const t of r.evicted) {
      expect(feeRateLess(seen.get(toHex(t))!, me)).toBe(true);
      left.add(toHex(t));
    }
  });
  // Nothing leaves silently: every tx gone from the pool was replaced or evicted.
  for (const t of before) if (!after.has(t)) expect(left.has(t)).toBe(true);
}

const specTx = (ops: ReturnType<typeof fundedView>["ops"], s: TxSpec) => freeTx(s.inputs.map((i) => ops[i]!), s.fee, { group: s.group, extraOutputs: s.extraOutputs });

describe("mempool properties", () => {
  test("limits hold, no input is spent twice, RBF/eviction only for strictly higher fee rates, nothing leaves silently", async () => {
    await fc.assert(fc.asyncProperty(limitsArb, fc.array(opArb, { minLength: 1, maxLength: 25 }), async (limits, ops) => {
      const registry = new Registry();
      const { view, ops: outs } = fundedView(OUTPOINTS);
      const pool = new Mempool({ minRelayFeePerByte: 0n, view, limits, registry });
      const seen = new Map<string, Seen>();
      for (const op of ops) {
        if (op.kind === "admit") {
          const txs = op.specs.map((s) => specTx(outs, s));
          if (op.dupFirst) txs.push(txs[0]!);
          const before = new Set(pool.entries().map((e) => e.txidHex));
          const results = pool.admit(txs, CTX);
          expect(results.length).toBe(txs.length);
          if (op.dupFirst && results.at(-1)!.ok) {
            // A repeated tx enters only if its first copy did not, or left again in between.
            const id = toHex(results.at(-1)!.txid!);
            const left = results.slice(1, -1).some((r) => r.ok && [...r.replaced, ...r.evicted].some((t) => toHex(t) === id));
            expect(!results[0]!.ok || left).toBe(true);
          }
          checkAdmit(txs, results, seen, before, new Set(pool.entries().map((e) => e.txidHex)));
        } else {
          const spendOps = op.spend.map((i) => outs[i]!);
          const includedEntries = op.includeSome ? pool.entries().filter((e) => e.tx.inputs.every((i) => op.spend.some((s) => outpointKey(outs[s]!) === outpointKey(i)))) : [];
          for (const o of spendOps) view.spend(o);
          const out = pool.onFinalized(spendOps, includedEntries.map((e) => e.txid));
          expect(out.included.length).toBe(includedEntries.length);
          for (const o of spendOps) expect(pool.spender(o)).toBeUndefined();
        }
        checkInvariants(pool, view);
        // The incrementally kept proposer index equals a fresh one and the naive reference.
        const budgetBytes = Math.floor(pool.bytes / 2) + 3;
        const picks = selectPayload(pool.candidates, { txsMax: 3, budgetBytes }).pickOrder.map((e) => e.txidHex);
        expect(buildPayload({ candidates: pool.entries(), txsMax: 3, budgetBytes }).pickOrder.map((e) => e.txidHex)).toEqual(picks);
        expect(referencePicks(pool.entries(), 3, budgetBytes, new Set(), new Set()).map((e) => e.txidHex)).toEqual(picks);
        expect(pool.candidates.size).toBe(pool.size);
      }
      const size = (await registry.getSingleMetric("pc_node_mempool_size")!.get()).values[0]!.value;
      expect(size).toBe(pool.size);
    }), { numRuns: 150 });
  });

  test("one batch or one tx at a time: the same mempool", () => {
    fc.assert(fc.property(limitsArb, fc.array(txSpecArb, { minLength: 1, maxLength: 12 }), (limits, specs) => {
      const a = fundedView(OUTPOINTS);
      const b = fundedView(OUTPOINTS);
      const batched = new Mempool({ minRelayFeePerByte: 0n, view: a.view, limits });
      const single = new Mempool({ minRelayFeePerByte: 0n, view: b.view, limits });
      const txs = specs.map((s) => specTx(a.ops, s));
      const r1 = batched.admit(txs, CTX).map((r) => (r.ok ? "ok" : r.error.code));
      const r2 = txs.map((tx) => single.admit([tx], CTX)[0]!).map((r) => (r.ok ? "ok" : r.error.code));
      expect(r1).toEqual(r2);
      const view = (p: Mempool) => p.entries().map((e) => `${e.txidHex}/${e.seq}`).sort();
      expect(view(batched)).toEqual(view(single));
    }), { numRuns: 150 });
  });

  test("reordered offers of conflict-free txs give the same mempool", () => {
    fc.assert(fc.property(fc.uniqueArray(fc.nat(OUTPOINTS - 1), { minLength: 1, maxLength: OUTPOINTS }), fc.array(fc.bigInt({ min: 0n, max: 9_999n }), { minLength: OUTPOINTS, maxLength: OUTPOINTS }), fc.integer(), (picks, fees, seed) => {
      const a = fundedView(OUTPOINTS);
      const txs = picks.map((p, i) => freeTx([a.ops[p]!], fees[i]!, { group: p % 3 }));
      const order = txs.map((_, i) => i).sort((x, y) => ((x * 7919 + seed) % 101) - ((y * 7919 + seed) % 101) || x - y);
      const one = new Mempool({ minRelayFeePerByte: 0n, view: a.view });
      const two = new Mempool({ minRelayFeePerByte: 0n, view: a.view });
      one.admit(txs, CTX);
      two.admit(order.map((i) => txs[i]!), CTX);
      const ids = (p: Mempool) => p.entries().map((e) => e.txidHex).sort();
      expect(ids(two)).toEqual(ids(one));
      expect(one.size).toBe(txs.length);
    }), { numRuns: 100 });
  });

  test("random and mutated bytes never crash admission and never enter unless valid", () => {
    const { view, ops } = fundedView(OUTPOINTS);
    const valid = encodeMicroTx(freeTx([ops[0]!, ops[1]!], 700n, { extraOutputs: 1 }));
    const mutated = fc.record({ at: fc.nat(valid.length - 1), byte: fc.integer({ min: 0, max: 255 }), cut: fc.nat(valid.length) }).map(({ at, byte, cut }) => {
      const b = valid.slice(0, Math.max(cut, at + 1));
      b[at] = byte;
      return b;
    });
    fc.assert(fc.property(fc.array(fc.oneof(fc.uint8Array({ maxLength: 300 }), mutated), { minLength: 1, maxLength: 8 }), (blobs) => {
      const pool = new Mempool({ minRelayFeePerByte: 0n, view });
      const results = pool.admitEncoded(blobs, CTX);
      results.forEach((r) => {
        if (!r.ok) expect(r.error.code).toMatch(/^(TX|MEMPOOL)_[A-Z_]+$/);
      });
      checkInvariants(pool, view);
    }), { numRuns: 300 });
  });
});
