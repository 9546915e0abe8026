/**
 * Fees, stake and slashing on chain, over a real scenario (a consensus-ordered signed
 * DAG whose anchors mint, pay fees and carry evidence), on the in-memory and the
 * SQLite store side by side:
 * - every anchor: both stores agree on the commitment, and supply is accounted
 *   (emitted = unspent outputs + fees awaiting settlement; slashed stake is not coin);
 * - fees settle at a + k·D_max as payout outputs to each validator's Sig lock, whose
 *   root (committed in the state) is what anchorPayout recomputes from the finalized
 *   headers, and every payout's Merkle proof verifies;
 * - penalties follow SPEC_SLASHING (100% / 50% / 25% then 50%), once per offense;
 * - the SQLite store reopened mid-way restores the stake table and pending fees.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryLedgerStore } from "../../src/ledger/memory-store.ts";
import { SqliteStore } from "../../src/store/sqlite-store.ts";
import { payoutTxid, settlementDelay } from "../../src/ledger/settlement.ts";
import { anchorPayout, splitFees, DEFAULT_FEE_PARAMS } from "../../src/consensus/fees.ts";
import { payoutProof, payoutRoot, verifyPayoutProof } from "../../src/consensus/payout.ts";
import { writeHeadersFile } from "../../src/cli/headers-file-io.ts";
import { toHex, equalBytes } from "../../src/crypto/bytes.ts";
import type { Evidence } from "../../src/types/evidence.ts";
import { runPhantom } from "../phantom-cli.ts";
import { buildScenario, PayloadScript, applyScenarioAnchor, forkOf, conflictingDa, missingCrossLink, equivocationEvidence } from "./economics.fixtures.ts";

const dir = mkdtempSync(join(tmpdir(), "phantom-economics-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("fees settle as payout outputs at a + k·D_max, stake is slashed by finalized evidence, every unit is accounted on both stores", () => {
  const s = buildScenario();
  const n = s.finalized.length;
  const delay = Number(settlementDelay(s.params.economics!));
  expect(delay).toBe(16); // k = 4, D_max = 4
  expect(n).toBeGreaterThan(90);

  const byCreator = (c: number, nth: number) => s.finalized.filter((e) => e.header.creator === c)[nth]!;
  const equivocation = equivocationEvidence(byCreator(3, 5), forkOf(s, byCreator(3, 5)));
  const evidenceAt = new Map<number, Evidence[]>([
    [30, [equivocation]],
    [40, [conflictingDa(s, s.finalized[5]!, 2)]],
    [45, [conflictingDa(s, s.finalized[6]!, 2)]],
    [50, [missingCrossLink(s, byCreator(1, 3))]],
    [55, [equivocationEvidence(forkOf(s, byCreator(3, 5)), byCreator(3, 5))]], // the same offense again
  ]);
  const script = new PayloadScript(evidenceAt);
  const mem = new MemoryLedgerStore(s.params.emission);
  const storeOpts = { storeDir: dir, emission: s.params.emission, fsync: false };
  let sql = new SqliteStore(storeOpts);
  let settledWithFees = 0;
  let paidUnits = 0n;

  for (let i = 0; i < n; i++) {
    const txs = script.payload(mem, i);
    const d = applyScenarioAnchor(s, mem, i, txs);
    const d2 = applyScenarioAnchor(s, sql, i, txs);
    expect(toHex(d2.commitment)).toBe(toHex(d.commitment));
    mem.commitAnchor(d);
    sql.commitAnchor(d2);
    script.observe(d);
    expect(d.outcomes.filter((o) => !o.applied).map((o) => o.code)).toEqual(i === 55 ? ["EVIDENCE_DUPLICATE"] : []);

    // Supply: every emitted unit is an unspent output or a fee awaiting settlement.
    const emitted = mem.mintTip().emittedUnits;
    expect(mem.unspentUnits() + d.pendingFeesUnits).toBe(emitted);
    expect(sql.unspentUnits() + sql.pendingFeesUnits()).toBe(emitted);

    if (i < delay) {
      expect(d.settlement).toBeUndefined();
      continue;
    }
    const st = d.settlement!;
    expect(st.anchorIndex).toBe(BigInt(i - delay));
    expect(toHex(st.eventId)).toBe(toHex(s.finalized[i - delay]!.id));
    expect(toHex(d.payoutRoot)).toBe(toHex(st.root));
    const payouts = d.created.filter((c) => equalBytes(c.txid, payoutTxid(st.anchorIndex)));
    expect(payouts.reduce((a, c) => a + c.entry.amount, 0n)).toBe(st.feesUnits);
    if (st.feesUnits === 0n) continue;
    settledWithFees++;
    paidUnits += st.feesUnits;
    // The committed root is the tools' recomputation over the finalized prefix (stakes as of this anchor).
    const recomputed = anchorPayout({
      events: s.finalized.slice(0, i + 1), anchorId: st.eventId, feesUnits: st.feesUnits, recipients: s.params.economics!.payoutLocks,
      stakes: d.stakes.map((x) => x.stakeUnits), params: s.genesis.fees, proposerIndex: s.finalized[i - delay]!.header.creator,
    });
    expect(toHex(recomputed.root)).toBe(toHex(st.root));
    for (const c of payouts) {
      expect(toHex(c.entry.lockCommitment)).toBe(toHex(s.params.economics!.payoutLocks[c.index]!));
      expect(c.entry.createdAt).toBe(BigInt(i));
      expect(verifyPayoutProof(st.root, st.entries[c.index]!, payoutProof(st.entries, c.index))).toBe(true);
    }
    // After the equivocation is final, validator 3 (stake 0) gets no attestor share.
    if (i > 30) expect(recomputed.split.payouts[3]!.attestor).toBe(0n);

    if (i === 60) {
      sql.close();
      sql = new SqliteStore(storeOpts);
      expect(sql.stakeTable()).toEqual(mem.stakeTable());
      expect(sql.pendingFees()).toEqual(mem.pendingFees());
      expect(toHex(sql.lastApplied()!.commitment)).toBe(toHex(d.commitment));
    }
  }

  expect(settledWithFees).toBeGreaterThan(40);
  expect(mem.settlements.filter((x) => x.feesUnits > 0n).reduce((a, x) => a + x.feesUnits, 0n)).toBe(paidUnits);
  // 1000 each at genesis: v1 half (missing cross-link), v2 25% then 50% (two DA offenses), v3 all (equivocation).
  expect(mem.stakeTable().map((e) => e.stakeUnits)).toEqual([1000n, 500n, 375n, 0n]);
  expect(mem.stakeTable().map((e) => e.daOffenses)).toEqual([0, 0, 2, 0]);
  expect(sql.stakeTable()).toEqual(mem.stakeTable());
  expect(sql.slashes(100).map((x) => [x.anchorIndex, x.offender, x.bps, x.slashedUnits])).toEqual([
    [30n, 3, 10_000, 1000n], [40n, 2, 2_500, 250n], [45n, 2, 5_000, 375n], [50n, 1, 5_000, 500n],
  ]);
  const settled = sql.settlementOf(20n)!;
  expect(settled.settledAt).toBe(20n + BigInt(delay));
  expect(settled.entries.map((e) => e.amount)).toEqual(mem.settlements.find((x) => x.anchorIndex === 20n)!.entries.map((e) => e.amount));
  sql.close();
}, 120_000);

test("ConsensusPayoutRoot recomputes the committed payout root from a headers file of the finalized events", () => {
  const s = buildScenario();
  const delay = Number(settlementDelay(s.params.economics!));
  // Validator 2 is slashed at anchor 30: the last check needs --stakes with the chain's table.
  const script = new PayloadScript(new Map([[30, [equivocationEvidence(s.finalized.find((e) => e.header.creator === 2)!, forkOf(s, s.finalized.find((e) => e.header.creator === 2)!))]]]));
  const mem = new MemoryLedgerStore(s.params.emission);
  const settled: { settledAt: number; root: string; anchorId: string; fees: bigint; stakes: string }[] = [];
  for (let i = 0; i < 40; i++) {
    const d = applyScenarioAnchor(s, mem, i, script.payload(mem, i));
    mem.commitAnchor(d);
    script.observe(d);
    if (d.settlement && d.settlement.feesUnits > 0n) {
      settled.push({ settledAt: i, root: toHex(d.settlement.root), anchorId: toHex(d.settlement.eventId), fees: d.settlement.feesUnits, stakes: d.stakes.map((x) => x.stakeUnits).join(",") });
    }
  }
  expect(settled[settled.length - 1]!.stakes).toBe("1000,1000,0,1000");
  expect(settled.length).toBeGreaterThan(10);
  const cwd = mkdtempSync(join(dir, "tool-"));
  writeFileSync(join(cwd, "genesis.toml"), s.genesisToml);
  const recipients = s.params.economics!.payoutLocks.map(toHex).join(",");
  for (const x of [settled[0]!, settled[settled.length - 1]!]) {
    writeHeadersFile(join(cwd, "headers.bin"), s.finalized.slice(0, x.settledAt + 1));
    const r = runPhantom(["ConsensusPayoutRoot", "--ack_id", x.anchorId, "--headers_file", "headers.bin", "--fees", x.fees.toString(), "--recipients", recipients, "--genesis", "genesis.toml", "--stakes", x.stakes], { cwd, timeoutMs: 30_000 });
    expect(r.err).toBe("");
    expect(JSON.parse(r.out).root).toBe(x.root);
  }
  expect(delay).toBe(16);
}, 120_000);

test("the worked example of SPEC_FEES §7", () => {
  const split = splitFees({ feesUnits: 1_000_000n, params: DEFAULT_FEE_PARAMS, stakes: [1000n, 1000n, 1000n, 0n], ackDistances: [2, 0, 1, 1], proposerIndex: 1 });
  expect(split.payouts.map((p) => p.bonus)).toEqual([25_000n, 50_000n, 37_500n, 37_500n]);
  expect(split.unearnedBonus).toBe(50_000n);
  expect(split.attestors).toEqual([0, 2]);
  expect(split.payouts.map((p) => p.total)).toEqual([300_000n, 250_000n, 312_500n, 137_500n]);
  const entries = split.payouts.map((p) => ({ index: p.index, recipient: new Uint8Array(32).fill(0x10 + p.index), amount: p.total }));
  expect(toHex(payoutRoot(entries))).toBe("b5613c8e61cb338e1f999645f3ec16f20156d3046998631c0f2a4aca59c79ed2");
  expect(toHex(payoutTxid(830n))).toBe("7593f9081726391d28cc25879aca8d000c2bccfef2d297d6af05886b3380d34d");
}, 10_000);
