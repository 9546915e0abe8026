// MicroTx validity (docs/SPEC_TX.md): every predicate with real signatures, every rejection code.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  checkMicroTxStateless, checkMicroTxStateful, validateMicroTxBatch, TxRejected, DUST_LIMIT_UNITS, TX_BYTES_MAX,
  type ValidationContext,
} from "../../src/ledger/validate.ts";
import {
  buildMicroTx, buildTransfer, payTo, sigLock, multisigLock, hashLock, afterLock, andLock, orLock,
  sigSolution, multisigSolution, hashSolution, afterSolution, andSolution, orSolution, type SpendInput,
} from "../../src/wallet/tx-builder.ts";
import { sign } from "../../src/crypto/ed25519.ts";
import { decodeMicroTx, encodeMicroTx, digestMicroTx, type MicroTx, type Output } from "../../src/types/tx.ts";
import type { Lock, Witness } from "../../src/types/lock.ts";
import { MAX_SUPPLY_UNITS } from "../../src/types/constants.ts";
import { key, outpoint, MapUtxoView } from "./validate-fixtures.ts";
import { thrownCode } from "../thrown-code.ts";

const CTX: ValidationContext = { anchorIndex: 100n, maturityAnchors: 10n };
const alice = key(1);
const bob = key(2);
const carol = key(3);
const dave = key(4);
const PAY = 50_000n;

const codeOf = (fn: () => unknown): string | undefined => thrownCode(fn, TxRejected, undefined);

/** Validates one tx both ways (step by step and through the batch) and checks they agree. */
function validate(view: MapUtxoView, tx: MicroTx, ctx = CTX): { code?: string; fee?: bigint } {
  const [r] = validateMicroTxBatch(view, [tx], ctx);
  const stepwise = codeOf(() => {
    checkMicroTxStateless(tx);
    checkMicroTxStateful(view, tx, ctx);
  });
  if (r!.ok) {
    expect(stepwise).toBeUndefined();
    return { fee: r!.fee };
  }
  if (stepwise !== undefined) expect<string>(r!.error.code).toBe(stepwise);
  return { code: r!.error.code };
}

function spendOne(lock: Lock, solution: SpendInput["solution"], amount = 100_000n, outputs: Output[] = [payTo(sigLock(bob.publicKey), PAY)]) {
  const view = new MapUtxoView();
  const op = view.add(outpoint(1), lock, amount);
  return { view, tx: buildMicroTx({ inputs: [{ outpoint: op, lock, solution }], outputs }) };
}

describe("predicates accept real witnesses", () => {
  test("Sig(pk): fee is inputs minus outputs", () => {
    const { view, tx } = spendOne(sigLock(alice.publicKey), sigSolution(alice));
    expect(validate(view, tx)).toEqual({ fee: 50_000n });
  });

  test("Multisig(2, [a, b, c]) with keys 0 and 2, and with all three", () => {
    const lock = multisigLock(2, [alice.publicKey, bob.publicKey, carol.publicKey]);
    expect(validate(...Object.values(spendOne(lock, multisigSolution([{ index: 2, keyPair: carol }, { index: 0, keyPair: alice }]))) as [MapUtxoView, MicroTx])).toEqual({ fee: 50_000n });
    const all = spendOne(lock, multisigSolution([0, 1, 2].map((index) => ({ index, keyPair: [alice, bob, carol][index]! }))));
    expect(validate(all.view, all.tx).fee).toBe(50_000n);
  });

  test("HashLock, After, And, Or (both branches)", () => {
    const secret = new TextEncoder().encode("correct horse");
    const h = spendOne(hashLock(secret), hashSolution(secret));
    expect(validate(h.view, h.tx).fee).toBe(50_000n);
    const a = spendOne(afterLock(100n), afterSolution());
    expect(validate(a.view, a.tx).fee).toBe(50_000n);
    const and = spendOne(andLock(sigLock(alice.publicKey), afterLock(90n)), andSolution(sigSolution(alice), afterSolution()));
    expect(validate(and.view, and.tx).fee).toBe(50_000n);
    const htlc = orLock(andLock(sigLock(bob.publicKey), hashLock(secret)), andLock(sigLock(alice.publicKey), afterLock(500n)));
    const claim = spendOne(htlc, orSolution(0, andSolution(sigSolution(bob), hashSolution(secret))));
    expect(validate(claim.view, claim.tx).fee).toBe(50_000n);
    const refund = spendOne(htlc, orSolution(1, andSolution(sigSolution(alice), afterSolution())));
    expect(validate(refund.view, refund.tx, { ...CTX, anchorIndex: 500n }).fee).toBe(50_000n);
    expect(validate(refund.view, refund.tx, { ...CTX, anchorIndex: 499n }).code).toBe("TX_TIMELOCK");
  });

  test("a decoded tx validates exactly like the built one", () => {
    const { view, tx } = spendOne(multisigLock(1, [alice.publicKey, bob.publicKey]), multisigSolution([{ index: 1, keyPair: bob }]));
    const again = decodeMicroTx(encodeMicroTx(tx));
    expect(validate(view, again)).toEqual(validate(view, tx));
  });

  test("buildTransfer adds change and pays the fee", () => {
    const view = new MapUtxoView();
    const lock = sigLock(alice.publicKey);
    const spend = [1, 2].map((n) => ({ outpoint: view.add(outpoint(n), lock, 30_000n), amount: 30_000n }));
    const tx = buildTransfer({ keyPair: alice, spend, to: [payTo(sigLock(bob.publicKey), 45_000n)], fee: 2_000n });
    expect(tx.outputs.map((o) => o.amount)).toEqual([45_000n, 13_000n]);
    expect(validate(view, tx).fee).toBe(2_000n);
    expect(() => buildTransfer({ keyPair: alice, spend, to: [payTo(lock, 60_000n)], fee: 1n })).toThrow(expect.objectContaining({ code: "WALLET_INSUFFICIENT_FUNDS" }));
  });
});

describe("signature rejections", () => {
  test("flipped bit, wrong key, signature over another txid", () => {
    const { view, tx } = spendOne(sigLock(alice.publicKey), sigSolution(alice));
    const flipped = structuredClone(tx);
    (flipped.witnesses[0]!.witness as { signature: Uint8Array }).signature[5]! ^= 1;
    expect(validate(view, flipped).code).toBe("TX_BAD_SIGNATURE");
    const wrongKey = structuredClone(tx);
    (wrongKey.witnesses[0]!.witness as { signature: Uint8Array }).signature = sign(bob.secretKey, digestMicroTx(tx));
    expect(validate(view, wrongKey).code).toBe("TX_BAD_SIGNATURE");
    // Same witness, outputs changed: the signature no longer covers the txid.
    const moved = { ...tx, outputs: [payTo(sigLock(carol.publicKey), PAY)] };
    expect(validate(view, moved).code).toBe("TX_BAD_SIGNATURE");
  });

  test("reordered outputs change the txid and void the signature", () => {
    const outs = [payTo(sigLock(bob.publicKey), 20_000n), payTo(sigLock(carol.publicKey), 30_000n)];
    const { view, tx } = spendOne(sigLock(alice.publicKey), sigSolution(alice), 100_000n, outs);
    expect(validate(view, tx).fee).toBe(50_000n);
    expect(validate(view, { ...tx, outputs: [outs[1]!, outs[0]!] }).code).toBe("TX_BAD_SIGNATURE");
  });

  test("multisig: one bad signature among valid ones, a signature by a key at another index", () => {
    const lock = multisigLock(2, [alice.publicKey, bob.publicKey, carol.publicKey]);
    const { view, tx } = spendOne(lock, multisigSolution([{ index: 0, keyPair: alice }, { index: 1, keyPair: dave }]));
    expect(validate(view, tx).code).toBe("TX_BAD_SIGNATURE");
    const swapped = spendOne(lock, multisigSolution([{ index: 0, keyPair: bob }, { index: 1, keyPair: alice }]));
    expect(validate(swapped.view, swapped.tx).code).toBe("TX_BAD_SIGNATURE");
  });

  test("the error names the failing input", () => {
    const view = new MapUtxoView();
    const lock = sigLock(alice.publicKey);
    const inputs = [1, 2, 3].map((n) => ({ outpoint: view.add(outpoint(n), lock, 10_000n), lock, solution: sigSolution(alice) }));
    const tx = buildMicroTx({ inputs, outputs: [payTo(lock, 25_000n)] });
    (tx.witnesses[2]!.witness as { signature: Uint8Array }).signature[0]! ^= 0x80;
    const [r] = validateMicroTxBatch(view, [tx], CTX);
    expect(r!.ok).toBe(false);
    if (!r!.ok) expect(r!.error.details).toEqual({ input: 2 });
  });
});

describe("rule rejections", () => {
  const lock = sigLock(alice.publicKey);

  test("missing / spent input, lock mismatch", () => {
    const { view, tx } = spendOne(lock, sigSolution(alice));
    view.spend(tx.inputs[0]!);
    expect(validate(view, tx).code).toBe("TX_MISSING_INPUT");
    const other = spendOne(sigLock(bob.publicKey), sigSolution(alice));
    // The view's output is locked to Bob; Alice reveals her own lock.
    const forged = { ...other.tx, witnesses: [{ lock, witness: other.tx.witnesses[0]!.witness }] };
    expect(validate(other.view, forged).code).toBe("TX_LOCK_MISMATCH");
  });

  test("duplicate input, no inputs, no outputs, witness count", () => {
    const view = new MapUtxoView();
    const op = view.add(outpoint(1), lock, 100_000n);
    const dup = buildMicroTx({ inputs: [{ outpoint: op, lock, solution: sigSolution(alice) }, { outpoint: op, lock, solution: sigSolution(alice) }], outputs: [payTo(lock, PAY)] });
    expect(validate(view, dup).code).toBe("TX_DUPLICATE_INPUT");
    const { tx } = spendOne(lock, sigSolution(alice));
    expect(validate(view, { ...tx, inputs: [], witnesses: [] }).code).toBe("TX_NO_INPUTS");
    expect(validate(view, { ...tx, outputs: [] }).code).toBe("TX_NO_OUTPUTS");
    expect(validate(view, { ...tx, witnesses: [] }).code).toBe("TX_WITNESS_COUNT");
  });

  test("outputs exceed inputs; zero fee is valid", () => {
    const over = spendOne(lock, sigSolution(alice), 100_000n, [payTo(lock, 100_001n)]);
    expect(validate(over.view, over.tx).code).toBe("TX_OUTPUTS_EXCEED_INPUTS");
    const exact = spendOne(lock, sigSolution(alice), 100_000n, [payTo(lock, 100_000n)]);
    expect(validate(exact.view, exact.tx).fee).toBe(0n);
  });

  test("dust limit is inclusive at DUST_LIMIT_UNITS", () => {
    const dust = spendOne(lock, sigSolution(alice), 100_000n, [payTo(lock, DUST_LIMIT_UNITS - 1n)]);
    expect(validate(dust.view, dust.tx).code).toBe("TX_DUST");
    const ok = spendOne(lock, sigSolution(alice), 100_000n, [payTo(lock, DUST_LIMIT_UNITS)]);
    expect(validate(ok.view, ok.tx).fee).toBe(100_000n - DUST_LIMIT_UNITS);
  });

  test("amounts above the cap, in one output or in the sum", () => {
    const { view, tx } = spendOne(lock, sigSolution(alice));
    expect(codeOf(() => checkMicroTxStateless({ ...tx, outputs: [payTo(lock, MAX_SUPPLY_UNITS + 1n)] }))).toBe("TX_AMOUNT_RANGE");
    expect(codeOf(() => checkMicroTxStateless({ ...tx, outputs: [payTo(lock, -5n)] }))).toBe("TX_AMOUNT_RANGE");
    const half = MAX_SUPPLY_UNITS / 2n + 1n;
    expect(validate(view, { ...tx, outputs: [payTo(lock, half), payTo(lock, half)] }).code).toBe("TX_AMOUNT_RANGE");
  });

  test("coinbase maturity counts anchor indices", () => {
    const view = new MapUtxoView();
    const op = view.add(outpoint(9), lock, 100_000n, { createdAt: 95n, coinbase: true });
    const tx = buildMicroTx({ inputs: [{ outpoint: op, lock, solution: sigSolution(alice) }], outputs: [payTo(lock, PAY)] });
    expect(validate(view, tx, { anchorIndex: 104n, maturityAnchors: 10n }).code).toBe("TX_IMMATURE");
    expect(validate(view, tx, { anchorIndex: 105n, maturityAnchors: 10n }).fee).toBe(50_000n);
    // The same output, not from a mint, is spendable at once.
    view.add(op, lock, 100_000n, { createdAt: 95n, coinbase: false });
    expect(validate(view, tx, { anchorIndex: 95n, maturityAnchors: 10n }).fee).toBe(50_000n);
  });

  test("timelock, hashlock mismatch, witness shape mismatch", () => {
    const t = spendOne(afterLock(101n), afterSolution());
    expect(validate(t.view, t.tx).code).toBe("TX_TIMELOCK");
    const h = spendOne(hashLock(new Uint8Array([1, 2, 3])), hashSolution(new Uint8Array([1, 2, 4])));
    expect(validate(h.view, h.tx).code).toBe("TX_HASHLOCK_MISMATCH");
    const m = spendOne(lock, hashSolution(new Uint8Array([1])));
    expect(validate(m.view, m.tx).code).toBe("TX_WITNESS_MISMATCH");
    // Or witness naming the branch whose shape it does not follow.
    const or = spendOne(orLock(sigLock(alice.publicKey), afterLock(0n)), orSolution(1, sigSolution(alice)));
    expect(validate(or.view, or.tx).code).toBe("TX_WITNESS_MISMATCH");
  });

  test("multisig threshold and index rules", () => {
    const ms = multisigLock(2, [alice.publicKey, bob.publicKey, carol.publicKey]);
    const few = spendOne(ms, multisigSolution([{ index: 1, keyPair: bob }]));
    expect(validate(few.view, few.tx).code).toBe("TX_MULTISIG_THRESHOLD");
    const good = spendOne(ms, multisigSolution([{ index: 0, keyPair: alice }, { index: 1, keyPair: bob }]));
    const w = good.tx.witnesses[0]!.witness as Extract<Witness, { kind: "multisig" }>;
    const reordered = { ...good.tx, witnesses: [{ lock: ms, witness: { kind: "multisig" as const, signatures: [w.signatures[1]!, w.signatures[0]!] } }] };
    expect(validate(good.view, reordered).code).toBe("TX_MULTISIG_INDEX");
    const repeated = { ...good.tx, witnesses: [{ lock: ms, witness: { kind: "multisig" as const, signatures: [w.signatures[0]!, w.signatures[0]!] } }] };
    expect(validate(good.view, repeated).code).toBe("TX_MULTISIG_INDEX");
    const outOfRange = { ...good.tx, witnesses: [{ lock: ms, witness: { kind: "multisig" as const, signatures: [w.signatures[0]!, { index: 3, signature: w.signatures[1]!.signature }] } }] };
    expect(validate(good.view, outOfRange).code).toBe("TX_MULTISIG_INDEX");
  });

  test("lock depth and node limits", () => {
    const view = new MapUtxoView();
    const op = outpoint(1);
    // Too deep or too big to have a commitment at all: the view holds an arbitrary one.
    view.entries.set(`${Buffer.from(op.txid).toString("hex")}:0`, { amount: 100_000n, lockCommitment: new Uint8Array(32), createdAt: 0n, coinbase: false });
    let deep: Lock = afterLock(0n);
    let deepWitness: Witness = { kind: "after" };
    for (let i = 0; i < 8; i++) {
      deep = andLock(deep, afterLock(0n));
      deepWitness = { kind: "and", left: deepWitness, right: { kind: "after" } };
    }
    const out = [payTo(lock, PAY)];
    expect(validate(view, { inputs: [op], outputs: out, witnesses: [{ lock: deep, witness: deepWitness }] }).code).toBe("TX_LOCK_TOO_COMPLEX");
    // Depth 6 is allowed but a full tree of that depth has 63 nodes (limit 32).
    const full = (d: number): [Lock, Witness] => {
      if (d === 1) return [afterLock(0n), { kind: "after" }];
      const [l, w] = full(d - 1);
      return [andLock(l, l), { kind: "and", left: w, right: w }];
    };
    const [big, bigWitness] = full(6);
    expect(validate(view, { inputs: [op], outputs: out, witnesses: [{ lock: big, witness: bigWitness }] }).code).toBe("TX_LOCK_TOO_COMPLEX");
    const [ok, okWitness] = full(5);
    view.add(op, ok, 100_000n);
    expect(validate(view, { inputs: [op], outputs: out, witnesses: [{ lock: ok, witness: okWitness }] }).fee).toBe(50_000n);
  });

  test("encoded size limit", () => {
    const view = new MapUtxoView();
    const ms = multisigLock(16, Array.from({ length: 16 }, (_, i) => key(100 + i).publicKey));
    const solution = multisigSolution(Array.from({ length: 16 }, (_, i) => ({ index: i, keyPair: key(100 + i) })));
    const inputs = Array.from({ length: 45 }, (_, n) => ({ outpoint: view.add(outpoint(n), ms, 10_000n), lock: ms, solution }));
    const tx = buildMicroTx({ inputs, outputs: [payTo(lock, 10_000n)] });
    expect(encodeMicroTx(tx).length).toBeGreaterThan(TX_BYTES_MAX);
    expect(validate(view, tx).code).toBe("TX_TOO_LARGE");
    const smaller = buildMicroTx({ inputs: inputs.slice(0, 30), outputs: [payTo(lock, 10_000n)] });
    expect(validate(view, smaller).fee).toBe(290_000n);
  });

  test("malformed in-memory values are typed errors, not crashes", () => {
    const { view, tx } = spendOne(lock, sigSolution(alice));
    expect(validate(view, { ...tx, inputs: [{ txid: new Uint8Array(31), index: 0 }] }).code).toBe("TX_MALFORMED");
    expect(validate(view, { ...tx, outputs: [{ amount: PAY, lockCommitment: new Uint8Array(5) }] }).code).toBe("TX_MALFORMED");
    const badKey = { ...tx, witnesses: [{ lock: sigLock(new Uint8Array(31)), witness: tx.witnesses[0]!.witness }] };
    expect(validate(view, badKey).code).toBe("TX_MALFORMED");
  });
});

describe("batches", () => {
  test("each tx gets its own verdict; a bad signature does not taint the others", () => {
    const view = new MapUtxoView();
    const lock = sigLock(alice.publicKey);
    const txs = Array.from({ length: 20 }, (_, n) => {
      const op = view.add(outpoint(n), lock, 10_000n + BigInt(n));
      return buildMicroTx({ inputs: [{ outpoint: op, lock, solution: sigSolution(alice) }], outputs: [payTo(lock, 10_000n)] });
    });
    (txs[7]!.witnesses[0]!.witness as { signature: Uint8Array }).signature[9]! ^= 4;
    view.spend(txs[11]!.inputs[0]!);
    const results = validateMicroTxBatch(view, txs, CTX);
    results.forEach((r, n) => {
      if (n === 7) expect(r.ok ? "ok" : r.error.code).toBe("TX_BAD_SIGNATURE");
      else if (n === 11) expect(r.ok ? "ok" : r.error.code).toBe("TX_MISSING_INPUT");
      else expect(r).toEqual({ ok: true, fee: BigInt(n) });
    });
    expect(validateMicroTxBatch(view, [], CTX)).toEqual([]);
  });

  test("intra-batch conflicts are not detected (the caller's job)", () => {
    const { view, tx } = spendOne(sigLock(alice.publicKey), sigSolution(alice));
    const rival = buildMicroTx({ inputs: [{ outpoint: tx.inputs[0]!, lock: sigLock(alice.publicKey), solution: sigSolution(alice) }], outputs: [payTo(sigLock(carol.publicKey), 60_000n)] });
    expect(validateMicroTxBatch(view, [tx, rival], CTX).map((r) => r.ok)).toEqual([true, true]);
  });
});

