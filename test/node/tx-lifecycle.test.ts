// No silent transaction loss, on four in-process validators (real engines, SQLite stores,
// timers): a tx whose only copy is in a validator that stops right after accepting it is
// still pending when that validator starts again, is re-announced and ends final; of a
// double-spend pair one ends final and the other void, naming the winner, in tx_status.
import type { TxStatusJson as WalletTxStatusJson } from "../../src/wallet/remote.ts";
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { toHex } from "../../src/crypto/bytes.ts";
import { accountFromSeed } from "../../src/wallet/keys.ts";
import { buildTransfer, payTo, sigLock } from "../../src/wallet/tx-builder.ts";
import { digestMicroTx, encodeMicroTx, type MicroTx } from "../../src/types/tx.ts";
import { dispatch, type RpcResponse } from "../../src/rpc/jsonrpc.ts";
import { nodeRpcMethods } from "../../src/node/rpc-methods.ts";
import { TestNet, applied, minedHeader, stopAll, until, type TestNode } from "./harness.ts";

const net = new TestNet({ k: 4, devnetLabel: "tx-lifecycle-test", initialTargetBits: 8, maturityAnchors: 8n });
afterAll(() => net.cleanup());

/** tx_status as the wallet reads it, plus the admission anchor. */
type TxStatusJson = WalletTxStatusJson & { admittedAt: string | null };

async function call(n: TestNode, params: unknown): Promise<RpcResponse> {
  return (await dispatch(nodeRpcMethods(n.node, n.store, net.genesis), JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tx_status", params }))) as RpcResponse;
}

async function txStatus(n: TestNode, tx: MicroTx): Promise<TxStatusJson> {
  const r = await call(n, { txid: toHex(digestMicroTx(tx)) });
  if (r.error) throw new Error(`tx_status failed: ${r.error.message}`);
  return r.result as unknown as TxStatusJson;
}

/** The backticked names of the `| field |` table under `### tx_status` in docs/RPC.md. */
function documentedFields(): string[] {
  const doc = readFileSync(join(import.meta.dir, "..", "..", "docs", "RPC.md"), "utf8");
  const section = doc.split("### tx_status\n")[1]!.split("\n### ")[0]!;
  const table = section.split("| field |")[1]!.split("\n\n")[0]!;
  return table.split("\n").filter((l) => l.startsWith("| `")).map((l) => /`(\w+)`/.exec(l)![1]!).sort();
}

describe("accepted transactions across restarts and conflicts", () => {
  test("a tx accepted just before its validator stops survives the restart and ends final; a double spend ends final + void naming the winner", async () => {
    const { genesis } = net;
    const nodes: TestNode[] = [0, 1, 2, 3].map((i) => net.node(i));
    for (const n of nodes) await n.node.start();
    try {
      await until(() => nodes.every((n) => n.node.ready()));
      for (const bad of [{}, { txid: "zz" }, { txid: "00".repeat(31) }]) expect((await call(nodes[0]!, bad)).error?.data?.code).toBe("RPC_BAD_PARAMS");
      const wallet = accountFromSeed(new Uint8Array(32).fill(21));
      const coins: { txid: Uint8Array; amount: bigint; createdAt: bigint }[] = [];
      for (let h = 1n; h <= 2n; h++) {
        const { mintId } = nodes[0]!.node.submitMint(await minedHeader(nodes[0]!.store, genesis, wallet.lockCommitment));
        await until(() => nodes.every((n) => n.store.mintTip().nextHeight === h));
        const u = nodes[0]!.store.getUtxo(mintId, 0)!;
        coins.push({ txid: mintId, amount: u.amount, createdAt: u.createdAt });
      }
      await until(() => nodes.every((n) => applied(n) >= coins[1]!.createdAt + genesis.emission.maturityAnchors));
      const pay = (coin: (typeof coins)[number], seed: number) => buildTransfer({
        keyPair: wallet.keyPair, spend: [{ outpoint: { txid: coin.txid, index: 0 }, amount: coin.amount }],
        to: [payTo(sigLock(accountFromSeed(new Uint8Array(32).fill(seed)).keyPair.publicKey), 1_000_000_000n)], fee: 10_000n,
      });

      // Validator 1 stops; it accepts a tx while no peer can hear it (the only copy), and stops again.
      const dir = nodes[1]!.dir;
      await stopAll([nodes[1]!]);
      nodes[1] = net.node(1, dir);
      const tx = pay(coins[0]!, 31);
      expect(nodes[1]!.node.submitTxs([encodeMicroTx(tx)])[0]!.ok).toBe(true);
      await stopAll([nodes[1]!]);
      expect(nodes.some((n, i) => i !== 1 && n.node.mempool.has(digestMicroTx(tx)))).toBe(false);

      // Restarted without a tx proposer: only the re-announcement can get the tx carried.
      nodes[1] = net.node(1, dir, { txProposer: false });
      await nodes[1]!.node.start();
      const pending = await txStatus(nodes[1]!, tx);
      expect(pending).toMatchObject({ state: "pending", reason: null });
      expect(documentedFields()).toEqual(Object.keys(pending).sort());
      // Re-announced to the peers once their sessions are ready, then finalized everywhere.
      await until(() => nodes.every((n) => n.store.getUtxo(coins[0]!.txid, 0) === undefined));
      const anchor = nodes[0]!.node.index.outputsOfTx(digestMicroTx(tx))[0]!.createdAt;
      await until(() => applied(nodes[1]!) >= anchor);
      expect(await txStatus(nodes[1]!, tx)).toMatchObject({ state: "final", reason: "INCLUDED", anchorIndex: anchor.toString() });
      expect(await txStatus(nodes[2]!, tx)).toMatchObject({ state: "final", anchorIndex: anchor.toString() });

      // Two spends of coin 1 with the same fee, submitted to validators 0 and 2 at once.
      const a = pay(coins[1]!, 41);
      const b = pay(coins[1]!, 42);
      expect(nodes[0]!.node.submitTxs([encodeMicroTx(a)])[0]!.ok).toBe(true);
      expect(nodes[2]!.node.submitTxs([encodeMicroTx(b)])[0]!.ok).toBe(true);
      await until(() => nodes.every((n) => n.store.getUtxo(coins[1]!.txid, 0) === undefined));
      const spentBy = toHex(nodes[0]!.store.getSpent(coins[1]!.txid, 0)!.spentBy);
      const [winner, loser, loserNode] = spentBy === toHex(digestMicroTx(a)) ? [a, b, nodes[2]!] : [b, a, nodes[0]!];
      expect(spentBy).toBe(toHex(digestMicroTx(winner)));
      const lost = await txStatus(loserNode, loser);
      expect(lost).toMatchObject({ state: "void", reason: "TX_DOUBLE_SPEND", by: spentBy });
      expect(lost.message).toContain(spentBy);
      expect(await txStatus(loserNode, winner)).toMatchObject({ state: "final", reason: "INCLUDED" });
      // Nothing accepted is left pending or unaccounted for.
      for (const n of nodes) expect(n.node.mempool.size).toBe(0);
    } finally {
      await stopAll(nodes);
    }
  }, 180_000);
});
