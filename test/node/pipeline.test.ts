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
