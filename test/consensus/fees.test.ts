// Fee split: a hand-computed example, conservation and monotonicity properties,
// edge cases and typed errors.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { splitFees, bonusWeightBps, anchorPayout, DEFAULT_FEE_PARAMS, FeesError, type FeeSplitInput } from "../../src/consensus/fees.ts";
import type { FeeParams } from "../../src/genesis/genesis.ts";
import { payoutRoot } from "../../src/consensus/payout.ts";
import { committeeKeys, DagBuilder } from "./tools-fixtures.ts";
import { thrownCode } from "../thrown-code.ts";

const U64_MAX = (1n << 64n) - 1n;

const code = (f: () => unknown): string => thrownCode(f, FeesError, "OK");

const paramsArb: fc.Arbitrary<FeeParams> = fc
  .tuple(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 1, max: 12 }))
  .map(([a, b, c, alphaBps, dMax]) => {
    const [x, y, z] = [a, b, c].sort((p, q) => p - q) as [number, number, number];
    return { floorBps: x, proposerBps: y - x, performanceBps: z - y, attestorBps: 10_000 - z, alphaBps, dMax };
  });

const inputArb: fc.Arbitrary<FeeSplitInput> = fc.integer({ min: 1, max: 64 }).chain((k) =>
  fc.record({
    feesUnits: fc.bigInt({ min: 0n, max: U64_MAX }),
    params: paramsArb,
    stakes: fc.array(fc.bigInt({ min: 1n, max: U64_MAX / 64n }), { minLength: k, maxLength: k }),
    ackDistances: fc.array(fc.integer({ min: 0, max: 14 }), { minLength: k, maxLength: k }),
    proposerIndex: fc.integer({ min: 0, max: k - 1 }),
  }),
);

describe("fee split", () => {
  test("hand-computed example (genesis defaults, k = 4, distances 2,0,1,2, proposer 1)", () => {
    const s = splitFees({ feesUnits: 1_000_000n, params: DEFAULT_FEE_PARAMS, stakes: [1n, 1n, 1n, 1n], ackDistances: [2, 0, 1, 2], proposerIndex: 1 });
    // Pools: floor 40%, proposer 10%, performance 20%, attestor 30%.
    expect(s.pools).toEqual({ floor: 400_000n, proposer: 100_000n, performance: 200_000n, attestor: 300_000n });
    // Bonus cap 200000/4 = 50000; weight 10000 − 2500·d: d=0 → 50000, d=1 → 37500, d=2 → 25000.
    expect(s.payouts.map((p) => p.bonus)).toEqual([25_000n, 50_000n, 37_500n, 25_000n]);
    expect(s.unearnedBonus).toBe(62_500n);
    // Attestors 0, 2, 3 share (300000 + 62500) by equal stake: 120833 each, 1 unit of dust.
    expect(s.attestors).toEqual([0, 2, 3]);
    expect(s.payouts.map((p) => p.attestor)).toEqual([120_833n, 0n, 120_833n, 120_833n]);
    expect(s.dust).toBe(1n);
    expect(s.payouts.map((p) => p.total)).toEqual([245_833n, 250_001n, 258_333n, 245_833n]);
  });

  test("attestors are paid by stake", () => {
    const s = splitFees({ feesUnits: 10_000n, params: { ...DEFAULT_FEE_PARAMS, performanceBps: 0, attestorBps: 5_000 }, stakes: [5n, 1n, 3n], ackDistances: [0, 0, 0], proposerIndex: 0 });
    // Attestor pool 5000 over stakes 1 : 3.
    expect(s.payouts.map((p) => p.attestor)).toEqual([0n, 1_250n, 3_750n]);
  });

  test("bonus weights decay with α and stop at D_max", () => {
    const p = { alphaBps: 2_500, dMax: 4 };
    expect([0, 1, 2, 3, 4, 9].map((d) => bonusWeightBps(d, p))).toEqual([10_000, 7_500, 5_000, 2_500, 0, 0]);
    expect(bonusWeightBps(3, { alphaBps: 4_000, dMax: 10 })).toBe(0);
  });

  test("property: every unit is paid exactly once, nothing negative, bonus capped at 1/k of its pool", () => {
    fc.assert(
      fc.property(inputArb, (x) => {
        const s = splitFees(x);
        const k = BigInt(x.stakes.length);
        expect(s.payouts.reduce((a, p) => a + p.total, 0n)).toBe(x.feesUnits);
        for (const p of s.payouts) {
          for (const v of [p.floor, p.proposer, p.bonus, p.attestor, p.dust]) expect(v >= 0n).toBe(true);
          expect(p.bonus <= s.pools.performance / k).toBe(true);
          if (p.index !== x.proposerIndex) expect(p.proposer + p.dust).toBe(0n);
        }
        // Dust is bounded: under one unit per floor division.
        expect(s.dust < BigInt(4 + 3 * x.stakes.length)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  test("property: a smaller ack distance never earns less bonus (and at most 1 unit less in total)", () => {
    fc.assert(
      fc.property(inputArb, fc.nat(), fc.integer({ min: 1, max: 6 }), (x, pick, step) => {
        const v = pick % x.stakes.length;
        const slower = splitFees(x);
        const faster = splitFees({ ...x, ackDistances: x.ackDistances.map((d, i) => (i === v ? Math.max(0, d - step) : d)) });
        expect(faster.payouts[v]!.bonus >= slower.payouts[v]!.bonus).toBe(true);
        expect(faster.payouts[v]!.total + 1n >= slower.payouts[v]!.total).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  test("edge cases: zero fees, u64 max fees, k = 1, nobody acknowledges", () => {
    expect(splitFees({ feesUnits: 0n, params: DEFAULT_FEE_PARAMS, stakes: [1n, 2n], ackDistances: [0, 1], proposerIndex: 0 }).payouts.map((p) => p.total)).toEqual([0n, 0n]);
    const max = splitFees({ feesUnits: U64_MAX, params: DEFAULT_FEE_PARAMS, stakes: [U64_MAX / 2n, U64_MAX / 2n], ackDistances: [0, 3], proposerIndex: 1 });
    expect(max.payouts.reduce((a, p) => a + p.total, 0n)).toBe(U64_MAX);
    const solo = splitFees({ feesUnits: 999n, params: DEFAULT_FEE_PARAMS, stakes: [7n], ackDistances: [0], proposerIndex: 0 });
    expect(solo.payouts[0]!.total).toBe(999n);
    // Nobody but the proposer acknowledged: the attestor pool is shared like the floor.
    const alone = splitFees({ feesUnits: 1_000n, params: DEFAULT_FEE_PARAMS, stakes: [1n, 1n], ackDistances: [4, 0], proposerIndex: 1 });
    expect(alone.attestors).toEqual([]);
    // Floor 400 + attestor 300 + validator 0's unearned half of the 200 performance pool.
    expect(alone.payouts[0]!.floor).toBe((400n + 300n + 100n) / 2n);
  });

  test("a validator slashed to zero stake is no attestor; its share goes to the floor when nobody else attests", () => {
    const x: FeeSplitInput = { feesUnits: 1_000_000n, params: DEFAULT_FEE_PARAMS, stakes: [1n, 1n, 0n], ackDistances: [0, 1, 1], proposerIndex: 0 };
    const s = splitFees(x);
    expect(s.attestors).toEqual([1]);
    expect(s.payouts[2]!.attestor).toBe(0n);
    expect(s.payouts.reduce((a, p) => a + p.total, 0n)).toBe(1_000_000n);
    const none = splitFees({ ...x, stakes: [1n, 0n, 0n] });
    expect(none.attestors).toEqual([]);
    expect(none.payouts[1]!.floor).toBe((400_000n + 300_000n + none.unearnedBonus) / 3n);
    expect(none.payouts.reduce((a, p) => a + p.total, 0n)).toBe(1_000_000n);
  });

  test("bad input is typed", () => {
    const ok: FeeSplitInput = { feesUnits: 1n, params: DEFAULT_FEE_PARAMS, stakes: [1n, 1n], ackDistances: [0, 0], proposerIndex: 0 };
    expect(code(() => splitFees({ ...ok, feesUnits: U64_MAX + 1n }))).toBe("FEES_OUT_OF_RANGE");
    expect(code(() => splitFees({ ...ok, feesUnits: -1n }))).toBe("FEES_OUT_OF_RANGE");
    expect(code(() => splitFees({ ...ok, params: { ...DEFAULT_FEE_PARAMS, floorBps: 4_001 } }))).toBe("FEES_BAD_PARAMS");
    expect(code(() => splitFees({ ...ok, params: { ...DEFAULT_FEE_PARAMS, dMax: 0 } }))).toBe("FEES_BAD_PARAMS");
    expect(code(() => splitFees({ ...ok, stakes: [1n, -1n] }))).toBe("FEES_BAD_COMMITTEE");
    expect(code(() => splitFees({ ...ok, ackDistances: [0] }))).toBe("FEES_BAD_COMMITTEE");
    expect(code(() => splitFees({ ...ok, ackDistances: [0, -1] }))).toBe("FEES_BAD_COMMITTEE");
    expect(code(() => splitFees({ ...ok, proposerIndex: 2 }))).toBe("FEES_BAD_PROPOSER");
  });
});

describe("anchorPayout", () => {
  const keys = committeeKeys(3);
  const d = new DagBuilder(keys);
  const a = d.add(0);
  const b = d.add(1, a);
  d.add(2, b);
  const recipients = [1, 2, 3].map((i) => new Uint8Array(32).fill(i));

  test("composes ack distances, the split and the Merkle root", () => {
    const p = anchorPayout({ events: d.events, anchorId: a.id, feesUnits: 12_345n, recipients, stakes: [1n, 1n, 1n], params: DEFAULT_FEE_PARAMS });
    expect(p.ack.distances.map((x) => x.distance)).toEqual([0, 1, 2]);
    expect(p.entries.reduce((s, e) => s + e.amount, 0n)).toBe(12_345n);
    expect(p.root).toEqual(payoutRoot(p.entries));
    const other = anchorPayout({ events: d.events, anchorId: b.id, feesUnits: 12_345n, recipients, stakes: [1n, 1n, 1n], params: DEFAULT_FEE_PARAMS });
    expect(other.root).not.toEqual(p.root);
  });

  test("a proposer index that is not the creator, or a wrong recipient count, is rejected", () => {
    expect(code(() => anchorPayout({ events: d.events, anchorId: a.id, feesUnits: 1n, recipients, stakes: [1n, 1n, 1n], params: DEFAULT_FEE_PARAMS, proposerIndex: 1 }))).toBe("FEES_BAD_PROPOSER");
    expect(code(() => anchorPayout({ events: d.events, anchorId: a.id, feesUnits: 1n, recipients: recipients.slice(1), stakes: [1n, 1n, 1n], params: DEFAULT_FEE_PARAMS }))).toBe("FEES_BAD_COMMITTEE");
  });
});
