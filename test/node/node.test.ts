// Four validators in one process: real engines, real SQLite stores, real timers,
// joined by the in-memory transport (the QUIC transport has its own tests, and the
// localnet test runs real processes over QUIC). Checks that the nodes agree on every
// anchor's state root, that a mined coin matures and can be spent, and that a node
// restarted from its store rejoins with the same state.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { createGenesis } from "../../src/genesis/create.ts";
import { parseGenesis, type Genesis } from "../../src/genesis/genesis.ts";
import { keyPairFromSeed } from "../../src/crypto/ed25519.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { powSearch } from "../../src/crypto/pow.ts";
import { SqliteStore } from "../../src/store/sqlite-store.ts";
import { PhantomNode } from "../../src/node/node.ts";
import { MemoryNetwork } from "../../src/node/transport.ts";
import { mintTemplate } from "../../src/ledger/emission.ts";
import { accountFromSeed } from "../../src/wallet/keys.ts";
import { buildTransfer, payTo, sigLock } from "../../src/wallet/tx-builder.ts";
import { encodeMicroTx } from "../../src/types/tx.ts";
import { mintId, decodeMintTx } from "../../src/types/mint.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Running {
  node: PhantomNode;
  store: SqliteStore;
  dir: string;
}

function startNode(genesis: Genesis, seeds: Uint8Array[], i: number, net: MemoryNetwork, dir: string): Running {
  const store = new SqliteStore({ storeDir: dir, emission: genesis.emission, fsync: false, genesisCommitment: genesis.commitment });
  const keyPair = keyPairFromSeed(seeds[i]!);
  const node = new PhantomNode({
    genesis, identity: { index: i, keyPair }, store, transport: net.transport(genesis.validators[i]!.address, keyPair.publicKey),
    registry: new Registry(), eventIntervalMs: 15, txProposer: true, txProposerIntervalMs: 20, txsPerPayload: 64, payloadBudgetBytes: 65536,
    now: () => performance.now(), log: () => {},
  });
  return { node, store, dir };
}

/** Polls `cond` every 20 ms, at most `limitMs` (a bound, not an assertion on time). */
async function until(cond: () => boolean, limitMs = 60_000): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error("condition not reached within the bound");
    await Bun.sleep(20);
  }
}

const applied = (r: Running) => r.store.lastApplied()?.anchorIndex ?? -1n;

describe("validator nodes", () => {
  test("agree on every anchor, mine, mature and spend a coin, and recover after a restart", async () => {
    const created = createGenesis({ k: 4, devnetLabel: "node-test", initialTargetBits: 8, maturityAnchors: 8n });
    const genesis = parseGenesis(created.toml);
    const net = new MemoryNetwork();
    const nodes = [0, 1, 2, 3].map((i) => {
      const dir = mkdtempSync(join(tmpdir(), `phantom-node-${i}-`));
      dirs.push(dir);
      return startNode(genesis, created.seeds, i, net, dir);
    });
    for (const n of nodes) await n.node.start();
    try {
      await until(() => nodes.every((n) => n.node.ready()));
      await until(() => nodes.every((n) => applied(n) >= 5n));

      // Mine one coin to a wallet through node 0 (the miner's path: template, PoW, submit).
      const wallet = accountFromSeed(new Uint8Array(32).fill(7));
      const template = mintTemplate(nodes[0]!.store, genesis.emission, wallet.lockCommitment);
      const found = await powSearch(template.header, { nonceOffset: template.nonceOffset, targetBits: template.targetBits, maxIters: 1n << 24n, threads: 1 });
      expect(found.outcome).toBe("found");
      const header = template.header.slice();
      new DataView(header.buffer).setBigUint64(template.nonceOffset, found.nonce!, true);
      const { mintId: id } = nodes[0]!.node.submitMint(header);
      expect(toHex(id)).toBe(toHex(mintId(decodeMintTx(header))));
      await until(() => nodes.every((n) => n.store.mintTip().nextHeight === 1n));
      const reward = nodes[0]!.store.getUtxo(id, 0);
      expect(reward?.amount).toBe(genesis.emission.initialRewardUnits);

      // Spend it once mature; a second spend of the same output is refused by the mempool.
      const bob = accountFromSeed(new Uint8Array(32).fill(9));
      const tx = buildTransfer({ keyPair: wallet.keyPair, spend: [{ outpoint: { txid: id, index: 0 }, amount: reward!.amount }], to: [payTo(sigLock(bob.keyPair.publicKey), 1_000_000_000n)], fee: 10_000n });
      await until(() => applied(nodes[1]!) >= reward!.createdAt + genesis.emission.maturityAnchors);
      const [res] = nodes[1]!.node.submitTxs([encodeMicroTx(tx)]);
      expect(res!.ok).toBe(true);
      await until(() => nodes.every((n) => n.store.getUtxo(id, 0) === undefined && n.store.utxosByLock(bob.lockCommitment, 10).length === 1));

      // Every node recorded the same state root at every anchor index.
      const upTo = nodes.reduce((m, n) => (applied(n) < m ? applied(n) : m), applied(nodes[0]!));
      for (let a = 0n; a <= upTo; a++) {
        const roots = nodes.map((n) => toHex(n.store.commitmentAt(a)!));
        expect(new Set(roots).size).toBe(1);
      }

      // Restart node 3 from its store: it replays, rejoins and keeps agreeing.
      await nodes[3]!.node.stop();
      nodes[3]!.store.close();
      const before = applied(nodes[3]!);
      nodes[3] = startNode(genesis, created.seeds, 3, net, nodes[3]!.dir);
      expect(applied(nodes[3]!)).toBe(before);
      await nodes[3]!.node.start();
      await until(() => applied(nodes[3]!) >= before + 5n);
      const check = applied(nodes[3]!);
      await until(() => applied(nodes[0]!) >= check);
      expect(toHex(nodes[3]!.store.commitmentAt(check)!)).toBe(toHex(nodes[0]!.store.commitmentAt(check)!));
    } finally {
      for (const n of nodes) {
        await n.node.stop();
        n.store.close();
      }
    }
  }, 180_000);
});
