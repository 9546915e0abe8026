/**
 * Scripted scenario: mine coins with real PoW, wait for maturity, move them through
 * Sig, Multisig, HashLock, After, And and Or outputs, with voided double spends and
 * bad inputs along the way. Run on the in-memory and the SQLite store side by side;
 * balances and the commitment are checked against independent recomputations.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryLedgerStore } from "../../src/ledger/memory-store.ts";
import { SqliteStore } from "../../src/store/sqlite-store.ts";
import { applyAnchor } from "../../src/ledger/apply.ts";
import type { AnchorDiff, CreatedUtxo } from "../../src/ledger/state.ts";
import type { PayloadTx } from "../../src/types/payload.ts";
import { type Lock, lockCommitment } from "../../src/types/lock.ts";
import { type MicroTx, type Outpoint, digestMicroTx } from "../../src/types/tx.ts";
import { blake3, blake3_32 } from "../../src/crypto/hash.ts";
import { sign } from "../../src/crypto/ed25519.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { testParams, key, sigLock, mineMint, buildTx, sigSpend, out, type Spend } from "./fixtures.ts";

const params = testParams();
const [alice, bob, carol] = [key(11), key(12), key(13)];
const dir = mkdtempSync(join(tmpdir(), "phantom-scenario-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Independent LtHash: built from the spec text (docs/SPEC_POW.md), not from src/ledger/lthash.ts. */
function independentCommitment(utxos: CreatedUtxo[]): string {
  const lanes = new Array<number>(1024).fill(0);
  const domain = new TextEncoder().encode("phantom/utxo-lthash/v0");
  for (const u of utxos) {
    const el = new Uint8Array(domain.length + 85);
    el.set(domain);
    const v = new DataView(el.buffer, domain.length);
    el.set(u.txid, domain.length);
    v.setUint32(32, u.index, true);
    v.setBigUint64(36, u.entry.amount, true);
    el.set(u.entry.lockCommitment, domain.length + 44);
    v.setBigUint64(76, u.entry.createdAt, true);
    v.setUint8(84, u.entry.coinbase ? 1 : 0);
    const x = blake3(el, 2048);
    for (let i = 0; i < 1024; i++) lanes[i] = (lanes[i]! + x[2 * i]! + 256 * x[2 * i + 1]!) % 65536;
  }
  const bytes = new Uint8Array(2048);
  lanes.forEach((l, i) => ((bytes[2 * i] = l & 0xff), (bytes[2 * i + 1] = l >> 8)));
  return toHex(blake3_32(bytes));
}

/** Independent state commitment v1 (docs/SPEC_POW.md §10) of a ledger with no stake table and no settlement yet. */
function independentStateCommitment(utxoRootHex: string, pending: { anchorIndex: bigint; eventId: Uint8Array; creator: number; feesUnits: bigint }[]): string {
  const enc = (s: string) => new TextEncoder().encode(s);
  const stake = blake3_32(new Uint8Array([...enc("phantom/stake/v0"), 0]));
  const rows: number[] = [...enc("phantom/fees-pending/v0"), pending.length & 0xff, (pending.length >> 8) & 0xff, 0, 0];
  const le64 = (v: bigint) => Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
  for (const p of pending) rows.push(...le64(p.anchorIndex), ...p.eventId, p.creator, ...le64(p.feesUnits));
  const utxoRoot = Uint8Array.from(utxoRootHex.match(/../g)!.map((h) => parseInt(h, 16)));
  return toHex(blake3_32(new Uint8Array([...enc("phantom/state/v1"), ...utxoRoot, ...stake, ...blake3_32(new Uint8Array(rows)), ...new Uint8Array(32)])));
}

test("mine, mature, and spend through every predicate; voids are typed; state agrees on both stores", () => {
  const mem = new MemoryLedgerStore(params.emission);
  const sql = new SqliteStore({ storeDir: dir, emission: params.emission, fsync: true });
  let anchor = 0n;
  const step = (txs: PayloadTx[]): AnchorDiff => {
    const d = applyAnchor(mem, params, anchor, { txs });
    const d2 = applyAnchor(sql, params, anchor, { txs });
    expect(toHex(d2.commitment)).toBe(toHex(d.commitment));
    mem.commitAnchor(d);
    sql.commitAnchor(d2);
    anchor++;
    return d;
  };
  const codes = (d: AnchorDiff) => d.outcomes.map((o) => (o.applied ? "ok" : o.code));
  const micro = (...txs: MicroTx[]): PayloadTx[] => txs.map((tx) => ({ kind: "micro", tx }));
  const op = (tx: MicroTx, index: number): Outpoint => ({ txid: digestMicroTx(tx), index });

  // 1. Mine two coins to alice, one per anchor (real PoW at the test target).
  const coins: Outpoint[] = [];
  for (let i = 0; i < 2; i++) {
    const d = step([{ kind: "mint", tx: mineMint(mem.mintTip(), lockCommitment(sigLock(alice))) }]);
    expect(codes(d)).toEqual(["ok"]);
    coins.push({ txid: d.created[0]!.txid, index: 0 });
  }
  const reward = params.emission.initialRewardUnits;
  // Spending the second coin right away is immature.
  expect(codes(step(micro(buildTx([sigSpend(coins[1]!, alice)], [out(reward - 1_000n, sigLock(bob))]))))).toEqual(["TX_IMMATURE"]);
  while (anchor < 1n + params.emission.maturityAnchors) step([]);

  // 2. Alice funds one output per predicate from coin 0.
  const preimage = new TextEncoder().encode("open sesame");
  const hashLock: Lock = { kind: "hashlock", digest: blake3_32(preimage) };
  const multisig: Lock = { kind: "multisig", m: 2, publicKeys: [alice.publicKey, bob.publicKey, carol.publicKey] };
  const afterAt = anchor + 5n;
  const after: Lock = { kind: "after", anchorIndex: afterAt };
  const and: Lock = { kind: "and", left: sigLock(bob), right: hashLock };
  const or: Lock = { kind: "or", left: sigLock(carol), right: { kind: "after", anchorIndex: 1_000_000n } };
  const unit = 500_000_000n;
  const fund = buildTx([sigSpend(coins[0]!, alice)], [out(unit, multisig), out(unit, hashLock), out(unit, after), out(unit, and), out(unit, or), out(reward - 5n * unit - 10_000n, sigLock(alice))]);
  const dup = buildTx([sigSpend(coins[0]!, alice)], [out(reward - 5_000n, sigLock(carol))]);
  expect(codes(step(micro(fund, dup)))).toEqual(["ok", "TX_DOUBLE_SPEND"]);
  expect(codes(step(micro(dup)))).toEqual(["TX_DOUBLE_SPEND"]); // and in a later anchor too

  // 3. Bad spends of each output, all void with their codes; the outputs stay unspent.
  const spend = (o: Outpoint, lock: Lock, w: Spend["witness"]): Spend => ({ outpoint: o, lock, witness: w });
  const toBob = (s: Spend) => buildTx([s], [out(unit - 1_000n, sigLock(bob))]);
  const bad = [
    toBob(spend(op(fund, 0), multisig, (t) => ({ kind: "multisig", signatures: [{ index: 0, signature: sign(alice.secretKey, t) }] }))),
    toBob(spend(op(fund, 1), hashLock, () => ({ kind: "hashlock", preimage: new TextEncoder().encode("wrong") }))),
    toBob(spend(op(fund, 2), after, () => ({ kind: "after" }))),
    toBob(spend(op(fund, 3), and, (t) => ({ kind: "and", left: { kind: "sig", signature: sign(carol.secretKey, t) }, right: { kind: "hashlock", preimage } }))),
    toBob(spend(op(fund, 4), or, () => ({ kind: "or", branch: 1, witness: { kind: "after" } }))),
    toBob(spend(op(fund, 4), or, (t) => ({ kind: "sig", signature: sign(carol.secretKey, t) }))),
    toBob(spend(op(fund, 0), sigLock(alice), (t) => ({ kind: "sig", signature: sign(alice.secretKey, t) }))),
    toBob(spend({ txid: new Uint8Array(32).fill(0xee), index: 7 }, sigLock(bob), (t) => ({ kind: "sig", signature: sign(bob.secretKey, t) }))),
  ];
  expect(codes(step(micro(...bad)))).toEqual([
    "TX_MULTISIG_THRESHOLD", "TX_HASHLOCK_MISMATCH", "TX_TIMELOCK", "TX_BAD_SIGNATURE", "TX_TIMELOCK", "TX_WITNESS_MISMATCH", "TX_LOCK_MISMATCH", "TX_MISSING_INPUT",
  ]);
  for (let i = 0; i < 5; i++) expect(mem.getUtxo(digestMicroTx(fund), i)).toBeDefined();

  // 4. Good spends; the After output only once its anchor index is reached.
  while (anchor < afterAt) step([]);
  const good = [
    toBob(spend(op(fund, 0), multisig, (t) => ({ kind: "multisig", signatures: [{ index: 0, signature: sign(alice.secretKey, t) }, { index: 2, signature: sign(carol.secretKey, t) }] }))),
    toBob(spend(op(fund, 1), hashLock, () => ({ kind: "hashlock", preimage }))),
    toBob(spend(op(fund, 2), after, () => ({ kind: "after" }))),
    toBob(spend(op(fund, 3), and, (t) => ({ kind: "and", left: { kind: "sig", signature: sign(bob.secretKey, t) }, right: { kind: "hashlock", preimage } }))),
    toBob(spend(op(fund, 4), or, (t) => ({ kind: "or", branch: 0, witness: { kind: "sig", signature: sign(carol.secretKey, t) } }))),
  ];
  const d = step(micro(...good));
  expect(codes(d)).toEqual(["ok", "ok", "ok", "ok", "ok"]);
  expect(d.feesUnits).toBe(5_000n);
  // Bob sends some on to carol; the same transfer twice in one payload: the second is void.
  const onward = buildTx([sigSpend(op(good[0]!, 0), bob)], [out(300_000_000n, sigLock(carol)), out(unit - 1_000n - 300_000_000n - 2_000n, sigLock(bob))]);
  expect(codes(step(micro(onward, onward)))).toEqual(["ok", "TX_DOUBLE_SPEND"]);

  // 5. Balances by lock, from the store, against the script's own arithmetic.
  const balance = (lock: Lock) => mem.allUtxos().filter((u) => toHex(u.entry.lockCommitment) === toHex(lockCommitment(lock))).reduce((s, u) => s + u.entry.amount, 0n);
  expect(balance(sigLock(alice))).toBe(reward + (reward - 5n * unit - 10_000n)); // coin 1 untouched + change
  expect(balance(sigLock(bob))).toBe(4n * (unit - 1_000n) + (unit - 1_000n - 300_000_000n - 2_000n));
  expect(balance(sigLock(carol))).toBe(300_000_000n);
  const total = mem.allUtxos().reduce((s, u) => s + u.entry.amount, 0n);
  expect(total).toBe(2n * reward - 10_000n - 5_000n - 2_000n); // minted minus every fee paid
  expect(mem.mintTip().emittedUnits).toBe(2n * reward);

  // 6. The commitment equals an independent from-scratch recomputation, on both stores.
  // Without economics the fees stay pending (never settled): every fee-paying anchor is listed.
  expect(mem.pendingFees().reduce((s, p) => s + p.feesUnits, 0n)).toBe(10_000n + 5_000n + 2_000n);
  const utxoRoot = independentCommitment(mem.allUtxos());
  expect(independentCommitment([...sql.allUtxos()])).toBe(utxoRoot);
  const expected = independentStateCommitment(utxoRoot, [...mem.pendingFees()]);
  expect(toHex(mem.lastApplied()!.commitment)).toBe(expected);
  expect(toHex(sql.lastApplied()!.commitment)).toBe(expected);
  expect(sql.voidedAt(2n).map((v) => v.code)).toEqual(["TX_IMMATURE"]);
  for (const lock of [sigLock(alice), sigLock(bob), sigLock(carol), multisig]) {
    expect(sql.balanceOf(lockCommitment(lock))).toBe(balance(lock));
    expect(sql.utxosByLock(lockCommitment(lock), 100).reduce((s, u) => s + u.entry.amount, 0n)).toBe(balance(lock));
  }
  sql.close();
});
