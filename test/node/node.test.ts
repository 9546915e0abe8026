// Four validators in one process: real engines, real SQLite stores, real timers,
// joined by the in-memory transport (the QUIC transport has its own tests, and the
// localnet test runs real processes over QUIC). Checks that the nodes agree on every
// anchor's state root, that a mined coin matures and can be spent, and that a node
// restarted from its store, or from an empty store, rejoins without equivocating.
import { afterAll, describe, expect, test } from "bun:test";
import { toHex } from "../../src/crypto/bytes.ts";
import { accountFromSeed } from "../../src/wallet/keys.ts";
import { buildTransfer, payTo, sigLock } from "../../src/wallet/tx-builder.ts";
import { encodeMicroTx } from "../../src/types/tx.ts";
import { mintId, decodeMintTx } from "../../src/types/mint.ts";
import { dispatch, type RpcResponse } from "../../src/rpc/jsonrpc.ts";
import { nodeRpcMethods } from "../../src/node/rpc-methods.ts";
import { verifyPayoutProof } from "../../src/consensus/payout.ts";
import { fromHex } from "../../src/crypto/bytes.ts";
import { TestNet, applied, minedHeader, stopAll, until, type TestNode } from "./harness.ts";

const nets: TestNet[] = [];
afterAll(() => nets.forEach((n) => n.cleanup()));

function network(label: string): TestNet {
  const net = new TestNet({ k: 4, devnetLabel: label, initialTargetBits: 8, maturityAnchors: 8n });
  nets.push(net);
  return net;
}

describe("validator nodes", () => {
  test("agree on every anchor, mine, mature and spend a coin, and recover after a restart", async () => {
    const net = network("node-test");
    const { genesis } = net;
    const nodes: TestNode[] = [0, 1, 2, 3].map((i) => net.node(i));
    for (const n of nodes) await n.node.start();
    try {
      await until(() => nodes.every((n) => n.node.ready()));
      await until(() => nodes.every((n) => applied(n) >= 5n));

      // Mine one coin to a wallet through node 0 (the miner's path: template, PoW, submit).
      const wallet = accountFromSeed(new Uint8Array(32).fill(7));
      const header = await minedHeader(nodes[0]!.store, genesis, wallet.lockCommitment);
      const { mintId: id } = nodes[0]!.node.submitMint(header);
      expect(toHex(id)).toBe(toHex(mintId(decodeMintTx(header))));
      await until(() => nodes.every((n) => n.store.mintTip().nextHeight === 1n));
      const reward = nodes[0]!.store.getUtxo(id, 0);
      expect(reward?.amount).toBe(genesis.emission.initialRewardUnits);

      // Spend it once mature; the transfer is applied on every node.
      const bob = accountFromSeed(new Uint8Array(32).fill(9));
      const tx = buildTransfer({ keyPair: wallet.keyPair, spend: [{ outpoint: { txid: id, index: 0 }, amount: reward!.amount }], to: [payTo(sigLock(bob.keyPair.publicKey), 1_000_000_000n)], fee: 10_000n });
      await until(() => applied(nodes[1]!) >= reward!.createdAt + genesis.emission.maturityAnchors);
      const [res] = nodes[1]!.node.submitTxs([encodeMicroTx(tx)]);
      expect(res!.ok).toBe(true);
      await until(() => nodes.every((n) => n.store.getUtxo(id, 0) === undefined && n.store.utxosByLock(bob.lockCommitment, 10).length === 1));
      // It was carried once: no node voided a duplicate of it.
      for (const n of nodes) expect(n.store.db.query("SELECT COUNT(*) AS n FROM voided").get()).toEqual({ n: 0n });

      // Its fee is paid out to the validators k·D_max anchors later, identically on every node,
      // with a payout proof (chain_payouts) that verifies against the committed root.
      if (!res!.ok) throw new Error("transfer refused");
      const at = nodes[1]!.node.txLife.status(res!.txid, nodes[1]!.node.mempool, nodes[1]!.node.index).anchorIndex!;
      const settlesAt = at + BigInt(genesis.k * genesis.fees.dMax);
      await until(() => nodes.every((n) => applied(n) >= settlesAt));
      const roots = new Set<string>();
      for (const n of nodes) {
        const settled = n.store.settlementOf(at)!;
        expect(settled.feesUnits).toBe(10_000n);
        expect(settled.settledAt).toBe(settlesAt);
        roots.add(toHex(settled.root));
        const paid = settled.entries.filter((e) => e.amount > 0n).map((e) => n.store.getUtxo(settled.txid, e.index)!.amount);
        expect(paid.reduce((a, b) => a + b, 0n)).toBe(10_000n);
      }
      expect(roots.size).toBe(1);
      const rpc = (await dispatch(nodeRpcMethods(nodes[2]!.node, nodes[2]!.store, genesis), JSON.stringify({ jsonrpc: "2.0", id: 1, method: "chain_payouts", params: { index: at.toString() } })) as RpcResponse).result as {
        root: string; payouts: { index: number; recipient: string; amount: string; proof: { leafCount: number; siblings: string[] } }[];
      };
      expect(rpc.payouts).toHaveLength(genesis.k);
      for (const p of rpc.payouts) {
        const entry = { index: p.index, recipient: fromHex(p.recipient), amount: BigInt(p.amount) };
        expect(verifyPayoutProof(fromHex(rpc.root), entry, { index: p.index, leafCount: p.proof.leafCount, siblings: p.proof.siblings.map((h) => fromHex(h)) })).toBe(true);
      }
      // The validator's payout address shows the payout as rewards (the only fee paid so far).
      const paidOut = rpc.payouts.find((p) => BigInt(p.amount) > 0n) as unknown as { address: string; amount: string };
      const info = (await dispatch(nodeRpcMethods(nodes[2]!.node, nodes[2]!.store, genesis), JSON.stringify({ jsonrpc: "2.0", id: 2, method: "address_get", params: { address: paidOut.address } })) as RpcResponse).result;
      expect(info).toMatchObject({ balanceUnits: paidOut.amount, rewardsUnits: paidOut.amount, utxos: [{ payout: true, amount: paidOut.amount }] });

      // Every node recorded the same state root at every anchor index.
      const upTo = nodes.reduce((m, n) => (applied(n) < m ? applied(n) : m), applied(nodes[0]!));
      for (let a = 0n; a <= upTo; a++) expect(new Set(nodes.map((n) => toHex(n.store.commitmentAt(a)!))).size).toBe(1);

      // Restart node 3 from its store: it replays, rejoins and keeps agreeing.
      await stopAll([nodes[3]!]);
      const before = applied(nodes[3]!);
      nodes[3] = net.node(3, nodes[3]!.dir);
      expect(applied(nodes[3]!)).toBe(before);
      await nodes[3]!.node.start();
      await until(() => applied(nodes[3]!) >= before + 5n);
      const check = applied(nodes[3]!);
      await until(() => applied(nodes[0]!) >= check);
      expect(toHex(nodes[3]!.store.commitmentAt(check)!)).toBe(toHex(nodes[0]!.store.commitmentAt(check)!));
    } finally {
      await stopAll(nodes);
    }
  }, 180_000);

  test("a validator restarted on an empty store catches up on its own events before signing new ones", async () => {
    const net = network("empty-store-test");
    const nodes: TestNode[] = [0, 1, 2, 3].map((i) => net.node(i));
    for (const n of nodes) await n.node.start();
    try {
      await until(() => nodes.every((n) => applied(n) >= 10n));
      await stopAll([nodes[2]!]);
      const ownSeq = nodes[0]!.node.engine.highestSeq()[2]!;
      expect(ownSeq).toBeGreaterThan(0);
      nodes[2] = net.node(2); // a new, empty folder
      // Cut off at first, as a node that boots before its network is up: it must not
      // start a new chain of its own at seq 0 meanwhile.
      const address = net.genesis.validators[2]!.address;
      net.net.down.add(address);
      await nodes[2]!.node.start();
      await Bun.sleep(300);
      expect(nodes[2]!.node.engine.highestSeq()[2]).toBe(-1);
      net.net.down.delete(address);
      // It signs new events again (its seq moves past the old ones)...
      await until(() => (nodes[0]!.node.engine.highestSeq()[2] ?? -1) > ownSeq + 3);
      const target = applied(nodes[0]!) + 10n;
      await until(() => nodes.every((n) => applied(n) >= target));
      // ...and nobody ever saw it sign two events with one seq.
      for (const n of nodes) {
        expect(n.store.db.query("SELECT COUNT(*) AS n FROM evidence").get()).toEqual({ n: 0n });
        const evidence = (await n.registry.getMetricsAsJSON()).find((m) => m.name === "pc_node_evidence_total");
        expect(evidence?.values.reduce((s, v) => s + v.value, 0) ?? 0).toBe(0);
      }
      expect(toHex(nodes[2]!.store.commitmentAt(target)!)).toBe(toHex(nodes[0]!.store.commitmentAt(target)!));
    } finally {
      await stopAll(nodes);
    }
  }, 180_000);

  test("a committee of one finalizes on its own: a mint submitted to it is applied", async () => {
    const net = new TestNet({ k: 1, devnetLabel: "k1-test", initialTargetBits: 8, maturityAnchors: 8n });
    nets.push(net);
    const solo = net.node(0);
    await solo.node.start();
    try {
      await until(() => solo.node.ready() && applied(solo) >= 0n);
      const wallet = accountFromSeed(new Uint8Array(32).fill(5));
      solo.node.submitMint(await minedHeader(solo.store, net.genesis, wallet.lockCommitment));
      await until(() => solo.store.mintTip().nextHeight === 1n);
      const settled = applied(solo);
      // With nothing more to carry it keeps deciding rounds (no other validator brings news).
      await until(() => applied(solo) >= settled + 3n);
    } finally {
      await stopAll([solo]);
    }
  }, 120_000);

  test("a mint whose validator goes down before carrying it is carried by the others", async () => {
    const net = network("mint-takeover-test");
    const nodes: TestNode[] = [0, 1, 2, 3].map((i) => net.node(i));
    for (const n of nodes) await n.node.start();
    try {
      await until(() => nodes.every((n) => applied(n) >= 5n));
      const wallet = accountFromSeed(new Uint8Array(32).fill(11));
      const header = await minedHeader(nodes[3]!.store, net.genesis, wallet.lockCommitment);
      // Validator 3 takes the mint, relays it, and stops before its next event.
      const { mintId: id } = nodes[3]!.node.submitMint(header);
      await Bun.sleep(0);
      await stopAll([nodes[3]!]);
      const alive = nodes.slice(0, 3);
      await until(() => alive.every((n) => n.store.getUtxo(id, 0) !== undefined));
      expect(alive.every((n) => n.store.mintTip().nextHeight === 1n)).toBe(true);
    } finally {
      await stopAll(nodes);
    }
  }, 120_000);
});
