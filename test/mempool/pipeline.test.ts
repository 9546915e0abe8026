// The wiring the node uses: ledger store as the mempool's view, proposer payloads applied by the
// real ledger (applyAnchor), then mempool.onFinalized + proposer.release. Real PoW mints, real signatures.
import { describe, expect, test } from "bun:test";
import { Registry } from "prom-client";
import { MemoryLedgerStore } from "../../src/ledger/memory-store.ts";
import { applyAnchor, expectedAnchorIndex } from "../../src/ledger/apply.ts";
import type { AnchorDiff } from "../../src/ledger/state.ts";
import type { AnchorPayload } from "../../src/types/payload.ts";
import { lockCommitment } from "../../src/types/lock.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { Mempool } from "../../src/mempool/mempool.ts";
import { Proposer } from "../../src/mempool/proposer.ts";
import { buildTransfer, payTo, sigLock } from "../../src/wallet/tx-builder.ts";
import { digestMicroTx, type Outpoint } from "../../src/types/tx.ts";
import { testEmission, testParams, mineMint, key } from "../ledger/fixtures.ts";

const alice = key(1);
const bob = key(2);

function finalize(store: MemoryLedgerStore, payload: AnchorPayload): AnchorDiff {
  const diff = applyAnchor(store, testParams(), expectedAnchorIndex(store), payload);
  store.commitAnchor(diff);
  return diff;
}

/** What the node passes to mempool.onFinalized after committing an anchor. */
function finalizedSpends(diff: AnchorDiff): { spent: Outpoint[]; txids: Uint8Array[] } {
  return {
    spent: diff.spent.map((s) => ({ txid: s.txid, index: s.index })),
    txids: diff.outcomes.flatMap((o) => (o.kind === "micro" && o.applied ? [o.id] : [])),
  };
}

describe("mempool -> proposer -> ledger -> mempool", () => {
  test("every admitted tx ends up applied; a rival spend finalized elsewhere invalidates ours", async () => {
    const store = new MemoryLedgerStore(testEmission);
    const aliceLock = sigLock(alice.publicKey);
    const coins: { outpoint: Outpoint; amount: bigint }[] = [];
    for (let i = 0; i < 4; i++) {
      const mint = mineMint(store.mintTip(), lockCommitment(aliceLock));
      const diff = finalize(store, { txs: [{ kind: "mint", tx: mint }] });
      coins.push({ outpoint: { txid: diff.mints[0]!.id, index: 0 }, amount: diff.mints[0]!.rewardUnits });
    }
    const registry = new Registry();
    const mempool = new Mempool({ minRelayFeePerByte: 0n, view: store, registry });
    const proposer = new Proposer({ txsPerPayload: 2, payloadBudgetBytes: 64 * 1024, registry });
    const ctx = () => ({ anchorIndex: expectedAnchorIndex(store), maturityAnchors: testEmission.maturityAnchors });
    const transfer = (coin: (typeof coins)[number], fee: bigint, to = bob) => buildTransfer({ keyPair: alice, spend: [coin], to: [payTo(sigLock(to.publicKey), 1_000_000n)], fee });
    // Mint outputs created at anchors 0..3 mature at 3..6; at anchor 4 the last is immature.
    expect(mempool.admit([transfer(coins[3]!, 500n)], ctx()).map((r) => (r.ok ? "ok" : r.error.code))).toEqual(["TX_IMMATURE"]);
    while (expectedAnchorIndex(store) < 6n) finalize(store, { txs: [] });
    const txs = coins.map((c, i) => transfer(c, 1_000n + BigInt(i)));
    expect(mempool.admit(txs, ctx()).every((r) => r.ok)).toBe(true);
    // A rival spend of coin 0 (another validator's payload) is finalized first.
    const rival = transfer(coins[0]!, 9_999n, key(3));
    const rivalDiff = finalize(store, { txs: [{ kind: "micro", tx: rival }] });
    const rivalSpends = finalizedSpends(rivalDiff);
    expect(mempool.onFinalized(rivalSpends.spent, rivalSpends.txids).invalidated.map(toHex)).toEqual([toHex(digestMicroTx(txs[0]!))]);
    expect(mempool.size).toBe(3);
    let fees = 0n;
    for (let round = 0; round < 4 && mempool.size > 0; round++) {
      const built = proposer.build(mempool.candidates)!;
      const diff = finalize(store, built.payload);
      expect(diff.outcomes.every((o) => o.applied)).toBe(true);
      fees += diff.feesUnits;
      const { spent, txids } = finalizedSpends(diff);
      expect(mempool.onFinalized(spent, txids).included.length).toBe(built.txids.length);
      expect(proposer.release(built.digest)).toBe(true);
    }
    expect(mempool.size).toBe(0);
    expect(fees).toBe(1_001n + 1_002n + 1_003n);
    expect(proposer.pendingPayloads).toBe(0);
    const metric = async (name: string) => (await registry.getSingleMetric(name)!.get()).values[0]?.value;
    expect(await metric("pc_node_mempool_invalidated_total")).toBe(1);
    expect(await metric("pc_node_mempool_included_total")).toBe(3);
    expect(await metric("pc_node_proposer_built_total")).toBe(2);
  });
});
