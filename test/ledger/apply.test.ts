import { expect, test } from "bun:test";
import { commitmentOf } from "../../src/ledger/commitment.ts";
import fc from "fast-check";
import { generateStream } from "./stream.ts";
import { MemoryLedgerStore } from "../../src/ledger/memory-store.ts";
import { applyAnchor, applyAnchorBytes, LedgerError } from "../../src/ledger/apply.ts";
import { encodeAnchorPayload } from "../../src/types/payload.ts";
import { ltHashOfSet } from "../../src/ledger/lthash.ts";
import type { AnchorDiff } from "../../src/ledger/state.ts";
import type { PayloadTx } from "../../src/types/payload.ts";
import { lockCommitment } from "../../src/types/lock.ts";
import { digestMicroTx as digest } from "../../src/types/tx.ts";
import { signEvent, type EventHeader } from "../../src/types/event.ts";
import { toHex, equalBytes } from "../../src/crypto/bytes.ts";
import { sign } from "../../src/crypto/ed25519.ts";
import { testParams, key, sigLock, mineMint, buildTx, sigSpend, out, committee } from "./fixtures.ts";

const params = testParams();
const alice = key(1);
const bob = key(2);

function setup() {
  const mem = new MemoryLedgerStore(params.emission);
  const step = (txs: PayloadTx[]): AnchorDiff => {
    const diff = applyAnchor(mem, params, mem.lastApplied() ? mem.lastApplied()!.anchorIndex + 1n : 0n, { txs });
    mem.commitAnchor(diff);
    return diff;
  };
  return { mem, step };
}

/** Mines one coin to alice and advances past maturity; returns its outpoint. */
function fundedAlice() {
  const s = setup();
  const d = s.step([{ kind: "mint", tx: mineMint(s.mem.mintTip(), lockCommitment(sigLock(alice))) }]);
  for (let i = 0n; i < params.emission.maturityAnchors; i++) s.step([]);
  return { ...s, coin: { txid: d.created[0]!.txid, index: 0 }, amount: d.created[0]!.entry.amount };
}

const codes = (d: AnchorDiff) => d.outcomes.map((o) => (o.applied ? "ok" : o.code));

test("a coin cannot be spent before maturity, then can", () => {
  const s = setup();
  const d = s.step([{ kind: "mint", tx: mineMint(s.mem.mintTip(), lockCommitment(sigLock(alice))) }]);
  const coin = { txid: d.created[0]!.txid, index: 0 };
  const tx = buildTx([sigSpend(coin, alice)], [out(1_000_000n, sigLock(bob))]);
  expect(codes(s.step([{ kind: "micro", tx }]))).toEqual(["TX_IMMATURE"]);
  s.step([]);
  expect(codes(s.step([{ kind: "micro", tx }]))).toEqual(["ok"]); // anchor 3 = created 0 + maturity 3
});

test("first spend in total order wins; later spends are void with TX_DOUBLE_SPEND, across and within anchors", () => {
  const f = fundedAlice();
  const a = buildTx([sigSpend(f.coin, alice)], [out(f.amount - 1_000n, sigLock(bob))]);
  const b = buildTx([sigSpend(f.coin, alice)], [out(f.amount - 2_000n, sigLock(alice))]);
  const d1 = f.step([{ kind: "micro", tx: a }, { kind: "micro", tx: b }, { kind: "micro", tx: a }]);
  expect(codes(d1)).toEqual(["ok", "TX_DOUBLE_SPEND", "TX_DOUBLE_SPEND"]);
  expect(d1.feesUnits).toBe(1_000n);
  const d2 = f.step([{ kind: "micro", tx: b }]);
  expect(codes(d2)).toEqual(["TX_DOUBLE_SPEND"]);
  expect(d2.outcomes[0]!.applied ? "" : d2.outcomes[0]!.message).toContain("spent at anchor");
  expect(f.mem.getUtxo(f.coin.txid, 0)).toBeUndefined();
});

test("a chain of spends inside one anchor applies in payload order; a spend of a void tx's output is void", () => {
  const f = fundedAlice();
  const t1 = buildTx([sigSpend(f.coin, alice)], [out(f.amount - 1_000n, sigLock(bob))]);
  const t2 = buildTx([sigSpend({ txid: digest(t1), index: 0 }, bob)], [out(f.amount - 3_000n, sigLock(alice))]);
  // t2 before t1 in payload order: its input does not exist yet.
  const f2 = fundedAlice();
  expect(codes(f2.step([{ kind: "micro", tx: t2 }, { kind: "micro", tx: t1 }]))).toEqual(["TX_MISSING_INPUT", "ok"]);
  expect(codes(f.step([{ kind: "micro", tx: t1 }, { kind: "micro", tx: t2 }]))).toEqual(["ok", "ok"]);
  // A spend of an output whose creator was void (bad signature) is void too.
  const g = fundedAlice();
  const bad = buildTx([{ ...sigSpend(g.coin, alice), witness: (txid) => ({ kind: "sig", signature: sign(bob.secretKey, txid) }) }], [out(g.amount - 1_000n, sigLock(bob))]);
  const child = buildTx([sigSpend({ txid: digest(bad), index: 0 }, bob)], [out(g.amount - 2_000n, sigLock(bob))]);
  expect(codes(g.step([{ kind: "micro", tx: bad }, { kind: "micro", tx: child }]))).toEqual(["TX_BAD_SIGNATURE", "TX_MISSING_INPUT"]);
});

test("a repeated earlier transaction in a payload does not hide the real outputs it would re-create", () => {
  const f = fundedAlice();
  const x = buildTx([sigSpend(f.coin, alice)], [out(f.amount - 1_000n, sigLock(bob))]);
  expect(codes(f.step([{ kind: "micro", tx: x }]))).toEqual(["ok"]);
  const y = buildTx([sigSpend({ txid: digest(x), index: 0 }, bob)], [out(f.amount - 2_000n, sigLock(alice))]);
  const d = f.step([{ kind: "micro", tx: x }, { kind: "micro", tx: y }]);
  expect(codes(d)).toEqual(["TX_DOUBLE_SPEND", "ok"]);
  expect(d.spent[0]!.entry.createdAt).toBe(f.mem.lastApplied()!.anchorIndex - 1n); // the real entry, not a re-creation
});

test("validator codes pass through: overspend, lock mismatch, unknown input", () => {
  const f = fundedAlice();
  const over = buildTx([sigSpend(f.coin, alice)], [out(f.amount + 1n, sigLock(bob))]);
  const wrongLock = buildTx([sigSpend(f.coin, bob)], [out(1_000_000n, sigLock(bob))]);
  const unknown = buildTx([sigSpend({ txid: new Uint8Array(32).fill(9), index: 0 }, alice)], [out(1_000_000n, sigLock(bob))]);
  expect(codes(f.step([{ kind: "micro", tx: over }, { kind: "micro", tx: wrongLock }, { kind: "micro", tx: unknown }]))).toEqual([
    "TX_OUTPUTS_EXCEED_INPUTS", "TX_LOCK_MISMATCH", "TX_MISSING_INPUT",
  ]);
  expect(f.mem.getUtxo(f.coin.txid, 0)).toBeDefined();
});

test("a second mint on the same tip in one anchor is void (the mint chain never forks)", () => {
  const s = setup();
  const tip = s.mem.mintTip();
  const m1 = mineMint(tip, lockCommitment(sigLock(alice)));
  const m2 = mineMint(tip, lockCommitment(sigLock(bob)));
  const d = s.step([{ kind: "mint", tx: m1 }, { kind: "mint", tx: m2 }, { kind: "mint", tx: m1 }]);
  expect(codes(d)).toEqual(["ok", "MINT_NOT_ON_TIP", "MINT_NOT_ON_TIP"]);
  expect(s.mem.mintTip().nextHeight).toBe(1n);
  expect(d.created[0]!.entry).toMatchObject({ coinbase: true, createdAt: 0n, amount: params.emission.initialRewardUnits });
});

test("evidence is recorded once; bad evidence is void with a typed reason", () => {
  const s = setup();
  const header = (seq: number, digestByte: number): EventHeader => ({ shard: 0, creator: 1, seq, parents: [], parentRounds: [], lamport: 0, payloadDigest: new Uint8Array(32).fill(digestByte) });
  const a = signEvent(header(0, 1), committee[1]!.secretKey);
  const b = signEvent(header(0, 2), committee[1]!.secretKey);
  const forged = signEvent(header(0, 3), committee[2]!.secretKey);
  const d = s.step([
    { kind: "evidence", tx: { kind: "equivocation", a, b } },
    { kind: "evidence", tx: { kind: "equivocation", a: b, b: a } }, // same offense, other order
    { kind: "evidence", tx: { kind: "equivocation", a, b: forged } },
    { kind: "evidence", tx: { kind: "equivocation", a, b: a } },
  ]);
  expect(codes(d)).toEqual(["ok", "EVIDENCE_DUPLICATE", "EVIDENCE_BAD_SIGNATURE", "EVIDENCE_SAME_EVENT"]);
  expect(d.evidence[0]).toMatchObject({ kind: "equivocation", offender: 1, anchorIndex: 0n });
  expect(codes(s.step([{ kind: "evidence", tx: { kind: "equivocation", a, b } }]))).toEqual(["EVIDENCE_DUPLICATE"]);
});

test("payload bytes that do not decode apply as an empty anchor with the codec error recorded", () => {
  const s = setup();
  const good = applyAnchorBytes(s.mem, params, 0n, encodeAnchorPayload({ txs: [{ kind: "mint", tx: mineMint(s.mem.mintTip(), lockCommitment(sigLock(alice))) }] }));
  expect(codes(good)).toEqual(["ok"]);
  expect(good.payloadError).toBeUndefined();
  s.mem.commitAnchor(good);
  const bytes = encodeAnchorPayload({ txs: [] });
  for (const [i, bad] of [bytes.subarray(0, 1), Uint8Array.of(...bytes, 0), Uint8Array.of(0x02, 0x09, 0x00)].entries()) {
    const d = applyAnchorBytes(s.mem, params, BigInt(i + 1), bad);
    expect(d.payloadError).toMatch(/^CODEC_/);
    expect(d.outcomes).toEqual([]);
    expect(toHex(d.commitment)).toBe(toHex(good.commitment));
    s.mem.commitAnchor(d);
  }
});

test("a constructed tx object without a canonical encoding is void TX_MALFORMED, not a crash", () => {
  const f = fundedAlice();
  const tx = buildTx([sigSpend(f.coin, alice)], [out(1_000_000n, sigLock(bob))]);
  const bad = { ...tx, outputs: [{ amount: -5n, lockCommitment: new Uint8Array(32) }] };
  expect(codes(f.step([{ kind: "micro", tx: bad }, { kind: "micro", tx }]))).toEqual(["TX_MALFORMED", "ok"]);
});

test("anchors must be applied in order", () => {
  const s = setup();
  expect(() => applyAnchor(s.mem, params, 1n, { txs: [] })).toThrow(LedgerError);
  s.step([]);
  expect(() => applyAnchor(s.mem, params, 0n, { txs: [] })).toThrow(LedgerError);
});

test("the incremental commitment equals a from-scratch LtHash of the UTXO set after every anchor", () => {
  const f = fundedAlice();
  let coin = f.coin;
  let amount = f.amount;
  for (let i = 0; i < 5; i++) {
    const tx = buildTx([sigSpend(coin, alice)], [out(amount - 2_000n, sigLock(alice)), out(1_000n, sigLock(bob))]);
    const d = f.step([{ kind: "micro", tx }, { kind: "mint", tx: mineMint(f.mem.mintTip(), lockCommitment(sigLock(bob))) }]);
    expect(equalBytes(d.utxoRoot, ltHashOfSet(f.mem.allUtxos()).commitment())).toBe(true);
    expect(equalBytes(d.commitment, commitmentOf(d.utxoRoot, f.mem.stakeTable(), f.mem.pendingFees()))).toBe(true);
    coin = { txid: digest(tx), index: 0 };
    amount -= 2_000n;
  }
  expect(toHex(f.mem.lastApplied()!.commitment)).toBe(toHex(commitmentOf(ltHashOfSet(f.mem.allUtxos()).commitment(), f.mem.stakeTable(), f.mem.pendingFees())));
});

test("fuzz: random and mutated payload bytes never crash the ledger; the result is deterministic", () => {
  const stream = generateStream(12, 99);
  const mem = new MemoryLedgerStore(stream.params.emission);
  for (let i = 0; i < 10; i++) mem.commitAnchor(applyAnchorBytes(mem, stream.params, BigInt(i), stream.payloads[i]!));
  const target = stream.payloads[10]!;
  fc.assert(
    fc.property(fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }), fc.uint8Array({ maxLength: 64 }), (flips, junk) => {
      const mutated = target.slice();
      for (const f of flips) mutated[f.at % mutated.length] = f.byte;
      for (const bytes of [mutated, junk]) {
        const a = applyAnchorBytes(mem, stream.params, 10n, bytes);
        const b = applyAnchorBytes(mem, stream.params, 10n, bytes);
        expect(toHex(a.commitment)).toBe(toHex(b.commitment));
        expect(a.outcomes.map((o) => (o.applied ? "ok" : o.code))).toEqual(b.outcomes.map((o) => (o.applied ? "ok" : o.code)));
      }
    }),
    { numRuns: 200 },
  );
});
