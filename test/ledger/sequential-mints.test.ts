/**
 * Like sequential-model.test.ts, with mints inside payloads and maturity 0, so payloads
 * spend mint outputs created earlier (or later, or by a void duplicate mint) in the same
 * payload: the batched ledger must decide exactly what one-at-a-time application decides.
 */
import { expect, test } from "bun:test";
import fc from "fast-check";
import { MemoryLedgerStore } from "../../src/ledger/memory-store.ts";
import { applyAnchor } from "../../src/ledger/apply.ts";
import { checkMint, advanceMintTip, MintRejected } from "../../src/ledger/emission.ts";
import { outpointString, type MintTip } from "../../src/ledger/state.ts";
import { ltHashOfSet } from "../../src/ledger/lthash.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { lockCommitment } from "../../src/types/lock.ts";
import { type MicroTx, type Outpoint, digestMicroTx } from "../../src/types/tx.ts";
import { mintId, type MintTx } from "../../src/types/mint.ts";
import type { PayloadTx } from "../../src/types/payload.ts";
import { testParams, testEmission, key, sigLock, mineMint, buildTx, sigSpend, out, applyMicroTxNaively, type ModelUtxos } from "./fixtures.ts";

const params = testParams({ ...testEmission, maturityAnchors: 0n });
const miner = key(31);
const minerLock = sigLock(miner);

function modelStep(utxos: ModelUtxos, tip: MintTip, anchor: bigint, txs: PayloadTx[]): { applied: boolean[]; tip: MintTip } {
  const applied = txs.map((t) => {
    if (t.kind === "mint") {
      try {
        const accepted = checkMint(tip, params.emission, t.tx);
        tip = advanceMintTip(tip, params.emission, accepted, t.tx.height, anchor);
        utxos.set(outpointString(accepted.id, 0), { txid: accepted.id, index: 0, entry: { amount: accepted.rewardUnits, lockCommitment: t.tx.recipient, createdAt: anchor, coinbase: true } });
        return true;
      } catch (e) {
        if (e instanceof MintRejected) return false;
        throw e;
      }
    }
    if (t.kind !== "micro") return false;
    return applyMicroTxNaively(utxos, anchor, params.emission.maturityAnchors, t.tx);
  });
  return { applied, tip };
}

const arbStep = fc.record({ mint: fc.boolean(), dupMint: fc.boolean(), spendNewest: fc.boolean(), before: fc.boolean(), pick: fc.nat() });

test("payloads that mint and spend mint outputs: batched = sequential", () => {
  fc.assert(
    fc.property(fc.array(fc.array(arbStep, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 5 }), (anchors) => {
      const mem = new MemoryLedgerStore(params.emission);
      const utxos: ModelUtxos = new Map();
      let tip = mem.mintTip();
      const coins: { op: Outpoint; amount: bigint }[] = [];
      let anchor = 0n;
      for (const steps of anchors) {
        const txs: PayloadTx[] = [];
        let planTip = tip;
        for (const s of steps) {
          if (s.mint) {
            const m: MintTx = mineMint(planTip, lockCommitment(minerLock), BigInt(s.pick % 1000) * 1000n);
            const id = mintId(m);
            const spend = buildTx([sigSpend({ txid: id, index: 0 }, miner)], [out(1_000_000n, minerLock), out(params.emission.initialRewardUnits - 1_001_000n, minerLock)]);
            // Spend the new mint's output before or after the mint itself in payload order.
            if (s.spendNewest && s.before) txs.push({ kind: "micro", tx: spend });
            txs.push({ kind: "mint", tx: m });
            if (s.dupMint) txs.push({ kind: "mint", tx: m });
            if (s.spendNewest && !s.before) txs.push({ kind: "micro", tx: spend });
            planTip = advanceMintTip(planTip, params.emission, checkMint(planTip, params.emission, m), m.height, anchor);
            coins.push({ op: { txid: id, index: 0 }, amount: params.emission.initialRewardUnits });
          } else if (coins.length) {
            const c = coins[s.pick % coins.length]!;
            const tx = buildTx([sigSpend(c.op, miner)], [out(c.amount - 2_000n, minerLock)]);
            txs.push({ kind: "micro", tx });
            coins.push({ op: { txid: digestMicroTx(tx), index: 0 }, amount: c.amount - 2_000n });
          }
        }
        const expected = modelStep(utxos, tip, anchor, txs);
        tip = expected.tip;
        const diff = applyAnchor(mem, params, anchor, { txs });
        mem.commitAnchor(diff);
        anchor++;
        expect(diff.outcomes.map((o) => o.applied)).toEqual(expected.applied);
        expect(mem.mintTip()).toEqual(tip);
        expect(toHex(diff.utxoRoot)).toBe(toHex(ltHashOfSet(utxos.values()).commitment()));
      }
    }),
    { numRuns: 40 },
  );
}, 60_000);
