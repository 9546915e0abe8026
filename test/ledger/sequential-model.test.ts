/**
 * The batched anchor application (one verifyBatch per payload over a speculative view)
 * must decide exactly what a naive one-tx-at-a-time model decides: random payloads with
 * chains, conflicts, bad signatures and spends of void outputs, compared tx by tx and by
 * the final commitment.
 */
import { expect, test } from "bun:test";
import fc from "fast-check";
import { MemoryLedgerStore } from "../../src/ledger/memory-store.ts";
import { applyAnchor } from "../../src/ledger/apply.ts";
import { ltHashOfSet } from "../../src/ledger/lthash.ts";
import { outpointString } from "../../src/ledger/state.ts";
import { sign } from "../../src/crypto/ed25519.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { lockCommitment } from "../../src/types/lock.ts";
import { type MicroTx, type Outpoint, digestMicroTx } from "../../src/types/tx.ts";
import type { PayloadTx } from "../../src/types/payload.ts";
import { testParams, key, sigLock, mineMint, buildTx, sigSpend, out, applyMicroTxNaively, type ModelUtxos } from "./fixtures.ts";

const params = testParams();
const keys = [key(21), key(22), key(23)];

/** Reference: validate and apply one tx at a time against the running UTXO map. */
function sequentialModel(utxos: ModelUtxos, anchor: bigint, txs: MicroTx[]): boolean[] {
  return txs.map((tx) => applyMicroTxNaively(utxos, anchor, params.emission.maturityAnchors, tx));
}

interface Choice {
  pick: number;
  pick2: number;
  twoInputs: boolean;
  badSig: boolean;
  to: number;
}

const arbChoice = fc.record({ pick: fc.nat(), pick2: fc.nat(), twoInputs: fc.boolean(), badSig: fc.boolean(), to: fc.nat({ max: 2 }) });

test("batched application equals sequential validation on random conflicting payloads", () => {
  // A funded start: three mature coins, one per key.
  const base = new MemoryLedgerStore(params.emission);
  const owned: { op: Outpoint; k: number; amount: bigint }[] = [];
  for (let i = 0; i < 3; i++) {
    const d = applyAnchor(base, params, BigInt(i), { txs: [{ kind: "mint", tx: mineMint(base.mintTip(), lockCommitment(sigLock(keys[i]!))) }] });
    base.commitAnchor(d);
    owned.push({ op: { txid: d.created[0]!.txid, index: 0 }, k: i, amount: d.created[0]!.entry.amount });
  }
  const start = base.lastApplied()!.anchorIndex + 1n + params.emission.maturityAnchors;

  fc.assert(
    fc.property(fc.array(fc.array(arbChoice, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 4 }), (anchors) => {
      const mem = new MemoryLedgerStore(params.emission);
      // Rebuild the funded start (deterministic) then pad to maturity.
      let idx = 0n;
      for (const o of owned) {
        mem.commitAnchor(applyAnchor(mem, params, idx++, { txs: [{ kind: "mint", tx: mineMint(mem.mintTip(), lockCommitment(sigLock(keys[o.k]!))) }] }));
      }
      while (idx < start) mem.commitAnchor(applyAnchor(mem, params, idx++, { txs: [] }));
      const model = new Map(mem.allUtxos().map((u) => [outpointString(u.txid, u.index), u]));
      // Candidates: everything ever created in this run (spent or not, valid or void).
      const known: { op: Outpoint; k: number; amount: bigint }[] = [...owned];
      for (const choices of anchors) {
        const txs: MicroTx[] = [];
        for (const c of choices) {
          const a = known[c.pick % known.length]!;
          const b = known[c.pick2 % known.length]!;
          const inputs = c.twoInputs && toHex(a.op.txid) + a.op.index !== toHex(b.op.txid) + b.op.index ? [a, b] : [a];
          const total = inputs.reduce((s, i) => s + i.amount, 0n);
          const half = total / 2n;
          const spends = inputs.map((i) => (c.badSig ? { ...sigSpend(i.op, keys[i.k]!), witness: (t: Uint8Array) => ({ kind: "sig" as const, signature: sign(keys[(i.k + 1) % 3]!.secretKey, t) }) } : sigSpend(i.op, keys[i.k]!)));
          const tx = buildTx(spends, [out(half, sigLock(keys[c.to]!)), out(total - half - 1_000n, sigLock(keys[inputs[0]!.k]!))]);
          txs.push(tx);
          const txid = digestMicroTx(tx);
          known.push({ op: { txid, index: 0 }, k: c.to, amount: half }, { op: { txid, index: 1 }, k: inputs[0]!.k, amount: total - half - 1_000n });
        }
        const expected = sequentialModel(model, idx, txs);
        const diff = applyAnchor(mem, params, idx, { txs: txs.map((tx): PayloadTx => ({ kind: "micro", tx })) });
        mem.commitAnchor(diff);
        idx++;
        expect(diff.outcomes.map((o) => o.applied)).toEqual(expected);
        expect(toHex(diff.utxoRoot)).toBe(toHex(ltHashOfSet(model.values()).commitment()));
      }
    }),
    { numRuns: Number(process.env.PHANTOM_MODEL_RUNS ?? 40), endOnFailure: true },
  );
}, 60_000);
