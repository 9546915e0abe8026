// The explorer on a validator of a two-shard network, in headless Chromium: four
// in-process validators (real engines, SQLite stores) serve the shard-0 view of a genesis
// with shard_count = 2 (this committee, S = 2, as the node runs on genesisForShard), behind
// the real RPC server. The page shows "shard 0 of 2", an address of shard 1 marked as not
// held by this node, a transfer's output to shard 1 marked cross-shard, and the
// cross-shard section passing on the node's refusal of shard_exports (the node under the
// view runs one shard). A single-shard page hides that section (test/e2e/explorer.test.ts).
import { afterAll, describe, expect, test } from "bun:test";
import { toHex } from "../../src/crypto/bytes.ts";
import { accountFromSeed } from "../../src/wallet/keys.ts";
import { shardOfAddress } from "../../src/wallet/address.ts";
import { buildTransfer, payTo, sigLock } from "../../src/wallet/tx-builder.ts";
import { digestMicroTx, encodeMicroTx } from "../../src/types/tx.ts";
import { nodeRpcMethods, NODE_REST_ROUTES } from "../../src/node/rpc-methods.ts";
import { startRpcServer } from "../../src/rpc/server.ts";
import { createRegistry } from "../../src/metrics/registry.ts";
import type { Genesis } from "../../src/genesis/genesis.ts";
import { TestNet, applied, minedHeader, stopAll, until } from "../node/harness.ts";

const chromium = [process.env.PHANTOM_CHROMIUM ?? "", "chromium", "chromium-browser", "google-chrome"].filter((c) => c.length > 0).map((c) => Bun.which(c)).find((p): p is string => p !== null);

/** The page's DOM after its scripts ran; spawned asynchronously, since the server answering it runs in this process. */
async function dumpDom(url: string): Promise<string> {
  if (!chromium) throw new Error("chromium is not installed: run scripts/setup-browser (apt-get install -y chromium) or set PHANTOM_CHROMIUM");
  const p = Bun.spawn([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--virtual-time-budget=5000", "--window-size=1280,900", "--dump-dom", url],
    { stdout: "pipe", stderr: "pipe", timeout: 40_000 });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`chromium exited ${code}: ${err.slice(-500)}`);
  return out;
}

/** The rendered search result (the script's own source also holds these strings). */
const resultView = (dom: string): string => /<div id="result-view">([\s\S]*?)<\/div><details>/.exec(dom)?.[1] ?? "";

/** The first account from seed `from` on `shard` of 2. */
function accountOnShard(shard: number, from: number) {
  for (let i = from; i < from + 64; i++) {
    const a = accountFromSeed(new Uint8Array(32).fill(i));
    if (shardOfAddress(a.address, 2) === shard) return a;
  }
  throw new Error(`no seed account on shard ${shard}`);
}

const net = new TestNet({ k: 4, devnetLabel: "explorer-shards-test", initialTargetBits: 8, maturityAnchors: 4n });
afterAll(() => net.cleanup());

describe("explorer on a node of a two-shard network", () => {
  test("shard 0 of 2, an address of shard 1, a cross-shard output, and the node's refusal of cross-shard status", async () => {
    // The shard-0 view: these four validators are shard 0's committee (their `shard` is 0), S = 2.
    const view: Genesis = { ...net.genesis, shardCount: 2, shardRootInterval: 8n };
    const nodes = [0, 1, 2, 3].map((i) => net.node(i));
    for (const n of nodes) await n.node.start();
    const n = nodes[0]!;
    const server = startRpcServer({ addr: "127.0.0.1:0", registry: createRegistry(), rest: NODE_REST_ROUTES, methods: nodeRpcMethods(n.node, n.store, view), ready: () => true });
    try {
      // A coin on shard 0, mature, paid partly to an address of shard 1 (change stays on shard 0).
      const payer = accountOnShard(0, 60);
      const payee = accountOnShard(1, 60);
      const { mintId } = n.node.submitMint(await minedHeader(n.store, net.genesis, payer.lockCommitment));
      await until(() => nodes.every((x) => x.store.mintTip().nextHeight === 1n));
      const coin = n.store.getUtxo(mintId, 0)!;
      await until(() => nodes.every((x) => applied(x) >= coin.createdAt + net.genesis.emission.maturityAnchors));
      const tx = buildTransfer({ keyPair: payer.keyPair, spend: [{ outpoint: { txid: mintId, index: 0 }, amount: coin.amount }], to: [payTo(sigLock(payee.keyPair.publicKey), 100_000_000n)], fee: 10_000n });
      const txid = toHex(digestMicroTx(tx));
      expect(n.node.submitTxs([encodeMicroTx(tx)])[0]!.ok).toBe(true);

      const home = await dumpDom(server.url + "/");
      expect(home).toMatch(/<div class="card" data-key="shard"[^>]*><span>shard<\/span><b>0 of 2<\/b><\/div>/);
      // The cross-shard section is shown (S = 2); the one-shard node under the view refuses shard_exports, said as its error.
      expect(home).toMatch(/<section id="xshard">/);
      expect(home).toMatch(/<div id="xshard-info"><span class="err">[^<]*this network has one shard[^<]*<\/span><\/div>/);
      expect(home).toContain('<small id="xshard-meta">shard 0 of 2 · 8 anchors per epoch</small>');

      const other = resultView(await dumpDom(`${server.url}/?q=${payee.address}`));
      expect(other).toContain(`<h3>Address ${payee.address}</h3>`);
      expect(other).toContain('<span data-shard="1">1 of 2</span> <span class="err">this node serves shard 0: it holds none of the outputs of this address; ask a node of shard 1</span>');
      const own = resultView(await dumpDom(`${server.url}/?q=${payer.address}`));
      expect(own).toContain('<td>shard</td><td><span data-shard="0">0 of 2</span></td>');
      expect(own).not.toContain("this node serves shard");

      const page = resultView(await dumpDom(`${server.url}/?q=${txid}`));
      expect(page).toContain(`<h3>Transaction ${txid}`);
      expect(page).toContain("<th>shard</th>");
      // Output 0 goes to shard 1: cross-shard; output 1 (change) stays on shard 0.
      expect(page).toContain('<td><span data-export="1">1, cross-shard from 0</span></td>');
      expect(page.match(/data-export=/g)).toHaveLength(1);
    } finally {
      server.stop();
      await stopAll(nodes);
    }
  }, 150_000);
});
