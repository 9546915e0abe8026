// Mempool admission, limits, replace-by-fee, invalidation and metrics (docs/SPEC_TX.md "Mempool policy").
import { describe, expect, test } from "bun:test";
import { Registry } from "prom-client";
import { Mempool, RBF_CONFLICTS_MAX, rbfMinimumBump, offerSignatureChecks, prepareEncodedOffers, preparedTxids, type AdmitResult } from "../../src/mempool/mempool.ts";
import { verifyBatch, type VerifyItem } from "../../src/crypto/ed25519.ts";
import { encodeMicroTx, digestMicroTx } from "../../src/types/tx.ts";
import { afterLock, afterSolution, andLock, andSolution, buildMicroTx, multisigLock, multisigSolution, orLock, orSolution, payTo, sigLock, sigSolution } from "../../src/wallet/tx-builder.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { key, outpoint, MapUtxoView } from "../ledger/validate-fixtures.ts";
import { CTX, fundedView, freeTx, FUND_UNITS } from "./fixtures.ts";

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (m === undefined) throw new Error(`no metric ${name}`);
  const { values } = await m.get();
  const hit = values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return hit?.value ?? 0;
}

const codes = (rs: AdmitResult[]) => rs.map((r) => (r.ok ? "ok" : r.error.code));

describe("admission", () => {
  test("valid txs are admitted with their fee; duplicates are counted, not admitted twice", async () => {
    const registry = new Registry();
    const { view, ops } = fundedView(3);
    const pool = new Mempool({ minRelayFeePerByte: 0n, view, registry });
    const a = freeTx([ops[0]!], 500n);
    const b = freeTx([ops[1]!], 700n);
    const r = pool.admit([a, b, a], CTX);
    expect(codes(r)).toEqual(["ok", "ok", "MEMPOOL_DUPLICATE"]);
    expect(r[0]!.ok && r[0]!.fee).toBe(500n);
    expect(codes(pool.admit([b], CTX))).toEqual(["MEMPOOL_DUPLICATE"]);
    expect(pool.size).toBe(2);
    expect(pool.bytes).toBe(encodeMicroTx(a).length + encodeMicroTx(b).length);
    expect(pool.has(digestMicroTx(a))).toBe(true);
    expect(await metric(registry, "pc_node_mempool_accepted_total")).toBe(2);
    expect(await metric(registry, "pc_node_mempool_duplicate_total")).toBe(2);
    expect(await metric(registry, "pc_node_mempool_size")).toBe(2);
  });

  test("invalid txs are refused with their code and counted by reason", async () => {
    const registry = new Registry();
    const alice = key(1);
    const view = new MapUtxoView();
    const lock = sigLock(alice.publicKey);
    const op = view.add(outpoint(1), lock, 100_000n);
    const good = buildMicroTx({ inputs: [{ outpoint: op, lock, solution: sigSolution(alice) }], outputs: [payTo(lock, 90_000n)] });
    const forged = structuredClone(good);
    (forged.witnesses[0]!.witness as { signature: Uint8Array }).signature[3]! ^= 1;
    // Reordered: the same inputs, outputs swapped, witnesses of the original order.
    const two = buildMicroTx({ inputs: [{ outpoint: op, lock, solution: sigSolution(alice) }], outputs: [payTo(lock, 40_000n), payTo(sigLock(key(2).publicKey), 50_000n)] });
    const reordered = { ...two, outputs: [two.outputs[1]!, two.outputs[0]!] };
    const missing = buildMicroTx({ inputs: [{ outpoint: outpoint(2), lock, solution: sigSolution(alice) }], outputs: [payTo(lock, 90_000n)] });
    const pool = new Mempool({ minRelayFeePerByte: 0n, view, registry });
    expect(codes(pool.admit([forged, reordered, missing], CTX))).toEqual(["TX_BAD_SIGNATURE", "TX_BAD_SIGNATURE", "TX_MISSING_INPUT"]);
    expect(pool.size).toBe(0);
    expect(codes(pool.admit([good], CTX))).toEqual(["ok"]);
    expect(await metric(registry, "pc_node_mempool_rejected_total", { reason: "TX_BAD_SIGNATURE" })).toBe(2);
    expect(await metric(registry, "pc_node_mempool_rejected_total", { reason: "TX_MISSING_INPUT" })).toBe(1);
  });

  test("wire bytes: valid, truncated at every length, trailing byte, wrong version", () => {
    const { view, ops } = fundedView(2);
    const pool = new Mempool({ minRelayFeePerByte: 0n, view });
    const bytes = encodeMicroTx(freeTx([ops[0]!], 100n));
    const broken: Uint8Array[] = [];
    for (let n = 0; n < bytes.length; n++) broken.push(bytes.slice(0, n));
    broken.push(Uint8Array.of(...bytes, 0));
    const wrongVersion = bytes.slice();
    wrongVersion[1] = 99;
    broken.push(wrongVersion);
    const results = pool.admitEncoded(broken, CTX);
    expect(new Set(codes(results))).toEqual(new Set(["TX_MALFORMED"]));
    expect(pool.size).toBe(0);
    expect(codes(pool.admitEncoded([bytes, bytes], CTX))).toEqual(["ok", "MEMPOOL_DUPLICATE"]);
    expect(toHex(pool.entries()[0]!.encoded)).toBe(toHex(bytes));
  });
});

describe("signature checks collected ahead of admission (node: verified on the native pool first)", () => {
  test("are the very checks admission asks for, and admitPrepared answers as admitEncoded", () => {
    const [alice, bob, carol] = [key(1), key(2), key(3)];
    const view = new MapUtxoView();
    const single = sigLock(alice.publicKey);
    const multi = multisigLock(2, [alice.publicKey, bob.publicKey, carol.publicKey]);
    const later = andLock(afterLock(50n), sigLock(bob.publicKey)); // not spendable at CTX's anchor 10
    const either = orLock(sigLock(carol.publicKey), afterLock(0n));
    const ops = [single, multi, later, either, either, single].map((lock, i) => view.add(outpoint(i), lock, 100_000n));
    const spend = (i: number, lock: typeof single, solution: Parameters<typeof buildMicroTx>[0]["inputs"][number]["solution"]) =>
      buildMicroTx({ inputs: [{ outpoint: ops[i]!, lock, solution }], outputs: [payTo(single, 90_000n)] });
    const txs = [
      spend(0, single, sigSolution(alice)),
      spend(1, multi, multisigSolution([{ index: 0, keyPair: alice }, { index: 2, keyPair: carol }])),
      spend(2, later, andSolution(afterSolution(), sigSolution(bob))),
      spend(3, either, orSolution(0, sigSolution(carol))),
      spend(4, either, orSolution(1, afterSolution())),
      spend(5, single, sigSolution(bob)), // wrong key: a bad signature
    ];
    const encoded = [...txs.map(encodeMicroTx), encodeMicroTx(txs[0]!), new Uint8Array([1, 2, 3])];
    const prepared = prepareEncodedOffers(encoded);
    expect(preparedTxids(prepared)).toEqual([...txs, txs[0]!].map((t) => toHex(digestMicroTx(t))));
    const checks = offerSignatureChecks(prepared, CTX.anchorIndex, () => false);
    // 1 + 2 + (timelock not yet open: none) + 1 + 0 + 1; the repeated tx once, the malformed bytes none.
    expect(checks.map((c) => c.input)).toEqual([0, 0, 0, 0, 0]);
    expect(checks.length).toBe(5);
    expect(verifyBatch(checks)).toEqual([true, true, true, true, false]);
    const skipped = offerSignatureChecks(prepared, CTX.anchorIndex, (id) => id === toHex(digestMicroTx(txs[1]!)));
    expect(skipped).toEqual([checks[0]!, checks[3]!, checks[4]!]);

    const asked: VerifyItem[] = [];
    const pool = new Mempool({ minRelayFeePerByte: 0n, view });
    const results = pool.admitPrepared(prepared, { ...CTX, verify: (items) => (asked.push(...items), verifyBatch(items)) });
    // Validation asked for exactly the collected checks, the same arrays (the node answers them by identity).
    expect(asked.length).toBe(checks.length);
    asked.forEach((a, i) => {
      expect(a.signature).toBe(checks[i]!.signature);
      expect(a.publicKey).toBe(checks[i]!.publicKey);
      expect(a.message).toBe(checks[i]!.message);
    });
    const reference = new Mempool({ minRelayFeePerByte: 0n, view }).admitEncoded(encoded, CTX);
    expect(codes(results)).toEqual(codes(reference));
    expect(codes(results)).toEqual(["ok", "ok", "TX_TIMELOCK", "ok", "ok", "TX_BAD_SIGNATURE", "MEMPOOL_DUPLICATE", "TX_MALFORMED"]);
  });
});

describe("replace-by-fee", () => {
  test("a conflict replaces only with a strictly higher fee rate and the minimum bump", () => {
    const registry = new Registry();
    const { view, ops } = fundedView(2);
    const pool = new Mempool({ minRelayFeePerByte: 0n, view, registry });
    const first = freeTx([ops[0]!], 1_000n);
    expect(codes(pool.admit([first], CTX))).toEqual(["ok"]);
    // Same size (only the amount differs), same fee: equal rate, refused.
    const same = freeTx([ops[0]!], 1_000n, { group: 1 });
    expect(codes(pool.admit([same], CTX))).toEqual(["MEMPOOL_RBF_FEE_RATE"]);
    const lower = freeTx([ops[0]!], 999n);
    expect(codes(pool.admit([lower], CTX))).toEqual(["MEMPOOL_RBF_FEE_RATE"]);
    // A higher rate alone is not enough: the replacement adds at least 10 % (100 units).
    expect(codes(pool.admit([freeTx([ops[0]!], 1_001n)], CTX))).toEqual(["MEMPOOL_RBF_FEE"]);
    expect(codes(pool.admit([freeTx([ops[0]!], 1_099n)], CTX))).toEqual(["MEMPOOL_RBF_FEE"]);
    const higher = freeTx([ops[0]!], 1_100n);
    const r = pool.admit([higher], CTX);
    expect(codes(r)).toEqual(["ok"]);
    expect(r[0]!.ok && r[0]!.replaced.map(toHex)).toEqual([toHex(digestMicroTx(first))]);
    expect(pool.has(digestMicroTx(first))).toBe(false);
    expect(pool.size).toBe(1);
  });

  test("multiple conflicts: must beat every conflict's rate and pay at least their fee sum", () => {
    const setup = (feeB: bigint) => {
      const { view, ops } = fundedView(3);
      const pool = new Mempool({ minRelayFeePerByte: 0n, view });
      expect(codes(pool.admit([freeTx([ops[0]!], 2_000n), freeTx([ops[1]!], feeB)], CTX))).toEqual(["ok", "ok"]);
      return { pool, both: (fee: bigint) => freeTx([ops[0]!, ops[1]!], fee) };
    };
    const sizeOne = BigInt(encodeMicroTx(freeTx(fundedView(1).ops, 1n)).length);
    const sizeBoth = BigInt(encodeMicroTx(setup(1n).both(1n)).length);
    expect(sizeBoth).toBeLessThan(2n * sizeOne);
    // b pays 3,000: a replacement at a higher rate than both must still pay the 5,000 sum plus 10 % (500).
    const low = setup(3_000n);
    const beatsRates = (3_000n * sizeBoth) / sizeOne + 1n;
    expect(beatsRates).toBeLessThan(5_000n);
    expect(codes(low.pool.admit([low.both(4_999n)], CTX))).toEqual(["MEMPOOL_RBF_FEE"]);
    expect(codes(low.pool.admit([low.both(5_499n)], CTX))).toEqual(["MEMPOOL_RBF_FEE"]);
    const r = low.pool.admit([low.both(5_500n)], CTX);
    expect(codes(r)).toEqual(["ok"]);
    expect(r[0]!.ok && r[0]!.replaced.length).toBe(2);
    expect(low.pool.size).toBe(1);
    // b pays 4,000: paying the 6,000 sum is not enough when the rate does not beat b's.
    const high = setup(4_000n);
    const atRate = (4_000n * sizeBoth) / sizeOne;
    expect(atRate).toBeGreaterThanOrEqual(6_000n);
    expect(codes(high.pool.admit([high.both(atRate)], CTX))).toEqual(["MEMPOOL_RBF_FEE_RATE"]);
    expect(high.pool.size).toBe(2);
    const enough = atRate + 1n > 6_600n ? atRate + 1n : 6_600n;
    expect(codes(high.pool.admit([high.both(enough)], CTX))).toEqual(["ok"]);
  });

  test("the bump is at least the replacement's own relay fee when that is more than 10 %", () => {
    const { view, ops } = fundedView(1);
    const pool = new Mempool({ minRelayFeePerByte: 1n, view });
    const bytes = BigInt(encodeMicroTx(freeTx([ops[0]!], 0n)).length);
    expect(codes(pool.admit([freeTx([ops[0]!], bytes)], CTX))).toEqual(["ok"]); // pays exactly the relay fee
    // 10 % of `bytes` is less than `bytes` x 1 unit: the replacement pays its relay fee on top.
    expect(codes(pool.admit([freeTx([ops[0]!], 2n * bytes - 1n, { group: 1 })], CTX))).toEqual(["MEMPOOL_RBF_FEE"]);
    expect(codes(pool.admit([freeTx([ops[0]!], 2n * bytes, { group: 1 })], CTX))).toEqual(["ok"]);
  });

  test("churning one output costs geometrically more: 50 minimal replacements pay > 100x the first fee", async () => {
    const registry = new Registry();
    const { view, ops } = fundedView(1);
    const pool = new Mempool({ minRelayFeePerByte: 1n, view, registry });
    let fee = 1_000n;
    expect(codes(pool.admit([freeTx([ops[0]!], fee)], CTX))).toEqual(["ok"]);
    for (let i = 1; i <= 50; i++) {
      const bytes = encodeMicroTx(freeTx([ops[0]!], fee, { group: i })).length;
      const next = fee + rbfMinimumBump(fee, bytes, 1n);
      expect(codes(pool.admit([freeTx([ops[0]!], next - 1n, { group: i })], CTX))).toEqual(["MEMPOOL_RBF_FEE"]);
      expect(codes(pool.admit([freeTx([ops[0]!], next, { group: i })], CTX))).toEqual(["ok"]);
      fee = next;
    }
    expect(fee).toBeGreaterThan(100n * 1_000n);
    expect(await metric(registry, "pc_node_mempool_rejected_total", { reason: "MEMPOOL_RBF_FEE" })).toBe(50);
  });

  test("rbfMinimumBump: the larger of relay fee and 10 % rounded up", () => {
    expect(rbfMinimumBump(1_000n, 200, 1n)).toBe(200n);
    expect(rbfMinimumBump(10_000n, 200, 1n)).toBe(1_000n);
    expect(rbfMinimumBump(1n, 200, 0n)).toBe(1n); // never free, even with relay fee 0
    expect(rbfMinimumBump(0n, 200, 0n)).toBe(0n); // the strictly-higher-rate rule still applies
    expect(rbfMinimumBump(10_001n, 10, 0n)).toBe(1_001n);
  });
});

describe("minimum relay fee", () => {
  test("a tx paying less than min_relay_fee_per_byte x its bytes is refused, typed and counted", async () => {
    const registry = new Registry();
    const { view, ops } = fundedView(2);
    const pool = new Mempool({ minRelayFeePerByte: 3n, view, registry });
    const bytes = BigInt(encodeMicroTx(freeTx([ops[0]!], 0n)).length);
    const r = pool.admit([freeTx([ops[0]!], 3n * bytes - 1n)], CTX);
    expect(codes(r)).toEqual(["MEMPOOL_FEE_TOO_LOW"]);
    expect(!r[0]!.ok && r[0]!.error.message).toContain(`minimum relay fee of ${3n * bytes}`);
    expect(codes(pool.admit([freeTx([ops[0]!], 3n * bytes)], CTX))).toEqual(["ok"]);
    expect(codes(pool.admit([freeTx([ops[1]!], 0n)], CTX))).toEqual(["MEMPOOL_FEE_TOO_LOW"]);
    expect(await metric(registry, "pc_node_mempool_rejected_total", { reason: "MEMPOOL_FEE_TOO_LOW" })).toBe(2);
  });

  test("0 admits fee-free txs (only where the genesis sets it)", () => {
    const { view, ops } = fundedView(1);
    const pool = new Mempool({ minRelayFeePerByte: 0n, view });
    expect(codes(pool.admit([freeTx([ops[0]!], 0n)], CTX))).toEqual(["ok"]);
  });

  test("at most RBF_CONFLICTS_MAX txs are replaced at once", () => {
    const n = RBF_CONFLICTS_MAX + 1;
    const { view, ops } = fundedView(n);
    const pool = new Mempool({ minRelayFeePerByte: 0n, view });
    pool.admit(ops.map((op) => freeTx([op], 1_000n)), CTX);
    expect(pool.size).toBe(n);
    expect(codes(pool.admit([freeTx(ops, 500_000n)], CTX))).toEqual(["MEMPOOL_RBF_TOO_MANY"]);
    expect(codes(pool.admit([freeTx(ops.slice(0, RBF_CONFLICTS_MAX), 500_000n)], CTX))).toEqual(["ok"]);
    expect(pool.size).toBe(2);
  });
});

describe("limits and eviction", () => {
  test("count limit: lowest fee rate leaves first; a tx that does not beat it is refused", async () => {
    const registry = new Registry();
    const { view, ops } = fundedView(6);
    const pool = new Mempool({ minRelayFeePerByte: 0n, view, registry, limits: { txsMax: 3 } });
    const fees = [300n, 100n, 200n];
    pool.admit(fees.map((f, i) => freeTx([ops[i]!], f)), CTX);
    const r = pool.admit([freeTx([ops[3]!], 150n)], CTX);
    expect(codes(r)).toEqual(["ok"]);
    expect(r[0]!.ok && r[0]!.evicted.map(toHex)).toEqual([toHex(digestMicroTx(freeTx([ops[1]!], 100n)))]);
    expect(codes(pool.admit([freeTx([ops[4]!], 150n)], CTX))).toEqual(["MEMPOOL_FULL"]);
    expect(codes(pool.admit([freeTx([ops[5]!], 149n)], CTX))).toEqual(["MEMPOOL_FULL"]);
    expect(pool.entries().map((e) => e.fee).sort()).toEqual([150n, 200n, 300n]);
    expect(await metric(registry, "pc_node_mempool_evictions_total")).toBe(1);
    expect(await metric(registry, "pc_node_mempool_rejected_total", { reason: "MEMPOOL_FULL" })).toBe(2);
  });

  test("byte limit: a large tx evicts several small ones only if it beats all of them", () => {
    const { view, ops } = fundedView(8);
    const small = freeTx([ops[0]!], 100n);
    const size = encodeMicroTx(small).length;
    const pool = new Mempool({ minRelayFeePerByte: 0n, view, limits: { bytesMax: 4 * size } });
    expect(codes(pool.admit([0, 1, 2, 3].map((i) => freeTx([ops[i]!], 100n + BigInt(i))), CTX))).toEqual(["ok", "ok", "ok", "ok"]);
    const big = freeTx([ops[4]!, ops[5]!], 10_000n);
    const bigSize = encodeMicroTx(big).length;
    expect(bigSize).toBeGreaterThan(size);
    const r = pool.admit([big], CTX);
    expect(codes(r)).toEqual(["ok"]);
    expect(r[0]!.ok && r[0]!.evicted.length).toBe(Math.ceil(bigSize / size));
    expect(pool.bytes).toBeLessThanOrEqual(4 * size);
    const tooBig = freeTx(ops.slice(0, 8), 1_000_000n, { extraOutputs: 4 });
    expect(encodeMicroTx(tooBig).length).toBeGreaterThan(4 * size);
    expect(codes(pool.admit([tooBig], CTX))).toEqual(["MEMPOOL_FULL"]);
  });
});

describe("finalization", () => {
  test("included txs leave; txs spending outpoints the anchor spent are invalidated", async () => {
    const registry = new Registry();
    const { view, ops } = fundedView(4);
    const pool = new Mempool({ minRelayFeePerByte: 0n, view, registry });
    const txs = [0, 1, 2].map((i) => freeTx([ops[i]!], 1_000n));
    pool.admit(txs, CTX);
    // The anchor included txs[0] and some other spend of ops[1] (not the mempool's).
    const out = pool.onFinalized([ops[0]!, ops[1]!], [digestMicroTx(txs[0]!)]);
    expect(out.included.map(toHex)).toEqual([toHex(digestMicroTx(txs[0]!))]);
    expect(out.invalidated.map(toHex)).toEqual([toHex(digestMicroTx(txs[1]!))]);
    expect(pool.size).toBe(1);
    expect(pool.spender(ops[1]!)).toBeUndefined();
    expect(await metric(registry, "pc_node_mempool_invalidated_total")).toBe(1);
    expect(await metric(registry, "pc_node_mempool_size")).toBe(1);
    // A freed outpoint can be spent again once the view says so (here it does not: spent).
    view.spend(ops[1]!);
    expect(codes(pool.admit([freeTx([ops[1]!], 5n * FUND_UNITS / 10n)], CTX))).toEqual(["TX_MISSING_INPUT"]);
  });
});
