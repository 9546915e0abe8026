// The transfer pipeline of a validator, in process (real engines, SQLite stores and
// timers on the in-memory transport): every transfer signature is checked natively once
// per validator, also on the validators it was relayed to (admission fills the
// verified-signature cache, finalization is answered from it: pc_node_sig_cache_*), and
// proposing follows what is pending rather than waiting for the proposer interval.
import { afterAll, describe, expect, test } from "bun:test";
import { accountFromSeed } from "../../src/wallet/keys.ts";
import { buildMicroTx, buildTransfer, payTo, sigLock, sigSolution } from "../../src/wallet/tx-builder.ts";
import { digestMicroTx, encodeMicroTx, type MicroTx } from "../../src/types/tx.ts";
import { TestNet, minedHeader, metricValue, stopAll, until, type TestNode } from "./harness.ts";

const nets: TestNet[] = [];
afterAll(() => nets.forEach((n) => n.cleanup()));

const TRANSFERS = 24;
/** Longer than any test here runs: only pending-driven proposing can carry a tx. */
const PROPOSER_INTERVAL_NEVER_MS = 3_600_000;

async function funded(nodes: TestNode[], net: TestNet, seed: number) {
  const wallet = accountFromSeed(new Uint8Array(32).fill(seed));
  const { mintId } = nodes[0]!.node.submitMint(await minedHeader(nodes[0]!.store, net.genesis, wallet.lockCommitment));
  await until(() => nodes.every((n) => n.store.getUtxo(mintId, 0) !== undefined));
  return { wallet, coin: { outpoint: { txid: mintId, index: 0 }, amount: nodes[0]!.store.getUtxo(mintId, 0)!.amount } };
}

describe("node pipeline", () => {
  test("each transfer signature is verified natively once per validator, relayed transfers included", async () => {
    const net = new TestNet({ k: 4, devnetLabel: "pipeline-verify-once", initialTargetBits: 8, maturityAnchors: 0n });
    nets.push(net);
    const nodes = [0, 1, 2, 3].map((i) => net.node(i));
    for (const n of nodes) await n.node.start();
    try {
      await until(() => nodes.every((n) => n.node.ready()));
      const { wallet, coin } = await funded(nodes, net, 21);
      const lock = sigLock(wallet.keyPair.publicKey);
      const split = buildMicroTx({ inputs: [{ outpoint: coin.outpoint, lock, solution: sigSolution(wallet.keyPair) }], outputs: Array.from({ length: TRANSFERS }, () => payTo(lock, (coin.amount - 100_000n) / BigInt(TRANSFERS))) });
      const splitId = digestMicroTx(split);
      expect(nodes[0]!.node.submitTxs([encodeMicroTx(split)])[0]!.ok).toBe(true);
      await until(() => nodes.every((n) => n.store.getUtxo(splitId, 0) !== undefined));

      const before = await Promise.all(nodes.map(async (n) => [await metricValue(n.registry, "pc_node_sig_cache_misses"), await metricValue(n.registry, "pc_node_sig_cache_hits")]));
      const bob = sigLock(accountFromSeed(new Uint8Array(32).fill(22)).keyPair.publicKey);
      const transfers: MicroTx[] = split.outputs.map((o, index) => buildTransfer({ keyPair: wallet.keyPair, spend: [{ outpoint: { txid: splitId, index }, amount: o.amount }], to: [payTo(bob, 1_000n)], fee: 5_000n }));
      // All submitted to validator 0: validators 1..3 see them only as relayed txs.
      const results = nodes[0]!.node.submitTxs(transfers.map(encodeMicroTx));
      expect(results.every((r) => r.ok)).toBe(true);
      await until(() => nodes.every((n) => transfers.every((_, index) => n.store.getUtxo(splitId, index) === undefined)));
      for (const [i, n] of nodes.entries()) {
        const misses = (await metricValue(n.registry, "pc_node_sig_cache_misses")) - before[i]![0]!;
        const hits = (await metricValue(n.registry, "pc_node_sig_cache_hits")) - before[i]![1]!;
        // One native check per signature (at admission, or when an anchor carried it first)...
        expect({ validator: i, misses }).toEqual({ validator: i, misses: TRANSFERS });
        // ...and the other check of it (finalization) came from the cache.
        expect(hits).toBeGreaterThanOrEqual(TRANSFERS);
      }
    } finally {
      await stopAll(nodes);
    }
  }, 120_000);

  test("tx_submit's path verifies on the native pool, admits batches in arrival order and still verifies each signature once", async () => {
    const net = new TestNet({ k: 4, devnetLabel: "pipeline-verify-async", initialTargetBits: 8, maturityAnchors: 0n });
    nets.push(net);
    const nodes = [0, 1, 2, 3].map((i) => net.node(i));
    for (const n of nodes) await n.node.start();
    try {
      await until(() => nodes.every((n) => n.node.ready()));
      const { wallet, coin } = await funded(nodes, net, 25);
      const lock = sigLock(wallet.keyPair.publicKey);
      const outputs = 40;
      const split = buildMicroTx({ inputs: [{ outpoint: coin.outpoint, lock, solution: sigSolution(wallet.keyPair) }], outputs: Array.from({ length: outputs }, () => payTo(lock, (coin.amount - 100_000n) / BigInt(outputs))) });
      const splitId = digestMicroTx(split);
      expect((await nodes[0]!.node.submitTxsAsync([encodeMicroTx(split)]))[0]!.ok).toBe(true);
      await until(() => nodes.every((n) => n.store.getUtxo(splitId, 0) !== undefined));
      const before = await Promise.all(nodes.map((n) => metricValue(n.registry, "pc_node_sig_cache_misses")));
      const pooledBefore = await Promise.all(nodes.map((n) => metricValue(n.registry, "pc_node_verify_async_batches_total", { outcome: "verified" })));

      const bob = sigLock(accountFromSeed(new Uint8Array(32).fill(26)).keyPair.publicKey);
      const carol = sigLock(accountFromSeed(new Uint8Array(32).fill(27)).keyPair.publicKey);
      const transfer = (index: number, to: typeof bob) => buildTransfer({ keyPair: wallet.keyPair, spend: [{ outpoint: { txid: splitId, index }, amount: split.outputs[index]!.amount }], to: [payTo(to, 1_000n)], fee: 5_000n });
      // Batch A spends outputs 0..31. Batch B, sent before A is admitted, spends 0..7 again
      // at the same fee (refused only because A came first), 32..38 anew, repeats one of A's
      // txs and carries one bad signature.
      const a = Array.from({ length: 32 }, (_, i) => transfer(i, bob));
      const badSig = transfer(39, bob);
      const sig = badSig.witnesses[0]!.witness as { kind: "sig"; signature: Uint8Array };
      sig.signature = sig.signature.map((x, j) => (j === 10 ? x ^ 1 : x));
      const b = [...Array.from({ length: 8 }, (_, i) => transfer(i, carol)), ...Array.from({ length: 7 }, (_, i) => transfer(32 + i, bob)), a[20]!, badSig];
      const pendingA = nodes[0]!.node.submitTxsAsync(a.map(encodeMicroTx));
      const pendingB = nodes[0]!.node.submitTxsAsync(b.map(encodeMicroTx));
      const [ra, rb] = await Promise.all([pendingA, pendingB]);
      expect(ra.every((r) => r.ok)).toBe(true);
      const codes = rb.map((r) => (r.ok ? "ok" : r.error.code));
      expect(codes).toEqual([...Array(8).fill("MEMPOOL_RBF_FEE_RATE"), ...Array(7).fill("ok"), "MEMPOOL_DUPLICATE", "TX_BAD_SIGNATURE"]);

      const accepted = [...a, ...b.slice(8, 15)].map(digestMicroTx);
      await until(() => nodes.every((n) => accepted.every((txid) => n.store.getUtxo(txid, 0) !== undefined)));
      for (const [i, n] of nodes.entries()) {
        const misses = (await metricValue(n.registry, "pc_node_sig_cache_misses")) - before[i]!;
        // Validator 0 checked A's 32, B's 8 refused conflicts, 7 new and the bad one, once each
        // (the repeat of A's tx was not verified again); the others only the 39 relayed to them.
        expect({ validator: i, misses }).toEqual({ validator: i, misses: i === 0 ? 48 : 39 });
        // A (and for validator 0 also B) went through the native pool, not the event loop.
        expect((await metricValue(n.registry, "pc_node_verify_async_batches_total", { outcome: "verified" })) - pooledBefore[i]!).toBeGreaterThanOrEqual(i === 0 ? 2 : 1);
      }
      expect(await metricValue(nodes[0]!.registry, "pc_node_tx_admissions_queued")).toBe(0);
    } finally {
      await stopAll(nodes);
    }
  }, 120_000);

  test("a submitted transfer is proposed when it arrives, not at the proposer interval", async () => {
    const net = new TestNet({ k: 4, devnetLabel: "pipeline-propose-soon", initialTargetBits: 8, maturityAnchors: 0n });
    nets.push(net);
    const nodes = [0, 1, 2, 3].map((i) => net.node(i, undefined, { txProposerIntervalMs: PROPOSER_INTERVAL_NEVER_MS }));
    for (const n of nodes) await n.node.start();
    try {
      await until(() => nodes.every((n) => n.node.ready()));
      const { wallet, coin } = await funded(nodes, net, 23);
      const bob = sigLock(accountFromSeed(new Uint8Array(32).fill(24)).keyPair.publicKey);
      // Two in a row, to validators 1 and 2: the second is built after the first payload was carried.
      let spend = coin;
      for (const v of [1, 2]) {
        const tx = buildTransfer({ keyPair: wallet.keyPair, spend: [spend], to: [payTo(bob, 1_000n)], fee: 5_000n });
        const [res] = nodes[v]!.node.submitTxs([encodeMicroTx(tx)]);
        expect(res!.ok).toBe(true);
        const txid = digestMicroTx(tx);
        await until(() => nodes.every((n) => n.store.getUtxo(txid, 0) !== undefined));
        const change = tx.outputs.findIndex((o) => o.amount !== 1_000n);
        spend = { outpoint: { txid, index: change }, amount: tx.outputs[change]!.amount };
      }
    } finally {
      await stopAll(nodes);
    }
  }, 120_000);
});
