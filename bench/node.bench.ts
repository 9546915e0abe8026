/**
 * End-to-end node benchmark: four validators in one process (real engines, SQLite
 * stores with fsync off, the in-memory transport), transfers submitted to one node,
 * relayed, proposed, ordered by consensus and applied by every ledger.
 *
 *  - node_finalized_tx_rate: transfers applied on all four nodes per second of wall time;
 *  - node_tx_latency_p50_ms / _p99_ms: submit to applied on the node it was submitted to;
 *  - verify_batch_reference: raw verifyBatch of the same signatures in the same run.
 *    Four nodes in one process each verify every transfer once natively (at admission;
 *    finalization is answered by the verified-signature cache, sig_cache_* in params),
 *    so the ratio shows how much of the signature budget is left for the rest of the node.
 *
 * The transfers go in as tx_submit puts them (submitTxsAsync: signatures verified on the
 * native pool, then admitted in order; the calls overlap like concurrent RPC requests);
 * `--sync_submit` uses the synchronous submitTxs instead (relayed txs are always
 * admitted asynchronously), for a same-checkout comparison.
 *
 * Usage: bun run bench/node.bench.ts [--transfers 2000] [--sync_submit]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir, loadavg } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { emit, percentile } from "./lib.ts";
import { createGenesis } from "../src/genesis/create.ts";
import { parseGenesis, type Genesis } from "../src/genesis/genesis.ts";
import { keyPairFromSeed, verifyBatch, toHex } from "../src/crypto/index.ts";
import { SqliteStore } from "../src/store/sqlite-store.ts";
import { PhantomNode } from "../src/node/node.ts";
import type { AdmitResult } from "../src/mempool/mempool.ts";
import { MemoryNetwork } from "../src/node/transport.ts";
import { mintTemplate } from "../src/ledger/emission.ts";
import { buildMicroTx, payTo, sigLock, sigSolution } from "../src/wallet/tx-builder.ts";
import { digestMicroTx, encodeMicroTx, type MicroTx, type Outpoint } from "../src/types/tx.ts";
import { mintId, decodeMintTx } from "../src/types/mint.ts";
import { lockCommitment } from "../src/types/lock.ts";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const TRANSFERS = flag("transfers", 2_000);
const SYNC_SUBMIT = args.includes("--sync_submit");
const FANOUT = 64;
const SUBMIT_BATCH = 256;
const WAIT_MS_MAX = 120_000;
const dirs: string[] = [];

function genesisText(): { genesis: Genesis; seeds: Uint8Array[] } {
  const created = createGenesis({ k: 4, devnetLabel: "node-bench", initialTargetBits: 8, maturityAnchors: 0n });
  // Difficulty 0: every nonce is a valid mint, so funding needs no search.
  const toml = created.toml.replace("initial_target_bits = 8", "initial_target_bits = 0").replace("min_target_bits = 8", "min_target_bits = 0");
  return { genesis: parseGenesis(toml), seeds: created.seeds };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + WAIT_MS_MAX;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`bench: ${what} not reached within ${WAIT_MS_MAX} ms`);
    await Bun.sleep(5);
  }
}

const { genesis, seeds } = genesisText();
const net = new MemoryNetwork();
const applied = new Map<string, number>();
const nodes = seeds.map((seed, i) => {
  const dir = mkdtempSync(join(tmpdir(), `phantom-node-bench-${i}-`));
  dirs.push(dir);
  const keyPair = keyPairFromSeed(seed);
  const store = new SqliteStore({ storeDir: dir, emission: genesis.emission, fsync: false, genesisCommitment: genesis.commitment });
  const node = new PhantomNode({
    genesis, identity: { index: i, keyPair }, store, transport: net.transport(genesis.validators[i]!.address, keyPair.publicKey),
    registry: new Registry(), eventIntervalMs: 10, txProposer: true, txProposerIntervalMs: 10, txsPerPayload: 1024, payloadBudgetBytes: 1 << 20,
    now: () => performance.now(), log: () => {},
    onAnchor: i === 0 ? (info) => {
      const now = performance.now();
      for (const o of info.diff.outcomes) if (o.kind === "micro" && o.applied) applied.set(toHex(o.id), now);
    } : undefined,
  });
  return { node, store };
});

const wallet = keyPairFromSeed(new Uint8Array(32).fill(41));
const walletLock = sigLock(wallet.publicKey);
const payee = payTo(sigLock(keyPairFromSeed(new Uint8Array(32).fill(42)).publicKey), 1_000n);

/** Splits `input` into `count` equal outputs back to the wallet. */
function split(input: { outpoint: Outpoint; amount: bigint }, count: number): MicroTx {
  const each = (input.amount - 10_000n) / BigInt(count);
  return buildMicroTx({ inputs: [{ outpoint: input.outpoint, lock: walletLock, solution: sigSolution(wallet) }], outputs: Array.from({ length: count }, () => payTo(walletLock, each)) });
}

async function submitAndWait(txs: MicroTx[]): Promise<void> {
  for (let i = 0; i < txs.length; i += SUBMIT_BATCH) {
    const results = nodes[0]!.node.submitTxs(txs.slice(i, i + SUBMIT_BATCH).map(encodeMicroTx));
    const bad = results.find((r) => !r.ok);
    if (bad && !bad.ok) throw new Error(`bench: funding tx refused: ${bad.error.code}`);
  }
  const ids = txs.map((t) => toHex(digestMicroTx(t)));
  await until(() => ids.every((id) => applied.has(id)), "funding txs applied");
}

try {
  for (const n of nodes) await n.node.start();
  await until(() => nodes.every((n) => n.node.ready()), "nodes ready");
  // Fund: one mint, then two levels of fan-out.
  const template = mintTemplate(nodes[0]!.store, genesis.emission, lockCommitment(walletLock));
  const { mintId: coin } = nodes[0]!.node.submitMint(template.header);
  await until(() => nodes[0]!.store.getUtxo(coin, 0) !== undefined, "mint applied");
  expectMint(template.header, coin);
  const reward = nodes[0]!.store.getUtxo(coin, 0)!.amount;
  const level1 = split({ outpoint: { txid: coin, index: 0 }, amount: reward }, Math.ceil(TRANSFERS / FANOUT));
  await submitAndWait([level1]);
  const l1id = digestMicroTx(level1);
  const level2 = level1.outputs.map((o, i) => split({ outpoint: { txid: l1id, index: i }, amount: o.amount }, FANOUT));
  await submitAndWait(level2);
  const coins = level2.flatMap((t) => t.outputs.map((o, i) => ({ outpoint: { txid: digestMicroTx(t), index: i }, amount: o.amount })));

  // The measured part: TRANSFERS single-input, single-signature transfers.
  const transfers = coins.slice(0, TRANSFERS).map((c) => buildMicroTx({
    inputs: [{ outpoint: c.outpoint, lock: walletLock, solution: sigSolution(wallet) }],
    outputs: [payee, payTo(walletLock, c.amount - payee.amount - 2_000n)],
  }));
  const ids = transfers.map((t) => toHex(digestMicroTx(t)));
  const submitted = new Map<string, number>();
  const admissions: Promise<AdmitResult[]>[] = [];
  const started = performance.now();
  for (let i = 0; i < transfers.length; i += SUBMIT_BATCH) {
    const now = performance.now();
    for (const id of ids.slice(i, i + SUBMIT_BATCH)) submitted.set(id, now);
    const batch = transfers.slice(i, i + SUBMIT_BATCH).map(encodeMicroTx);
    if (SYNC_SUBMIT) nodes[0]!.node.submitTxs(batch);
    else admissions.push(nodes[0]!.node.submitTxsAsync(batch));
    await Bun.sleep(0);
  }
  for (const results of await Promise.all(admissions)) {
    const bad = results.find((r) => !r.ok);
    if (bad && !bad.ok) throw new Error(`bench: transfer refused: ${bad.error.code}`);
  }
  const lastSpent = transfers.map((t) => t.inputs[0]!);
  await until(() => nodes.every((n) => lastSpent.every((op) => n.store.getUtxo(op.txid, op.index) === undefined)), "transfers applied on every node");
  const elapsedS = (performance.now() - started) / 1000;
  const latencies = ids.map((id) => applied.get(id)! - submitted.get(id)!);

  // Reference: the same signatures through one verifyBatch call per 1024.
  const items = transfers.map((t, i) => ({ signature: (t.witnesses[0]!.witness as { signature: Uint8Array }).signature, message: digestMicroTx(t), publicKey: wallet.publicKey }));
  const vStart = performance.now();
  for (let i = 0; i < items.length; i += 1024) verifyBatch(items.slice(i, i + 1024));
  const verifyRate = items.length / ((performance.now() - vStart) / 1000);
  const rate = TRANSFERS / elapsedS;
  const cache = nodes.reduce((a, n) => ({ hits: a.hits + n.node.sigCache.stats.hits, misses: a.misses + n.node.sigCache.stats.misses }), { hits: 0, misses: 0 });
  const params = { validators: 4, transfers: TRANSFERS, fsync: false, transport: "memory", submit: SYNC_SUBMIT ? "sync" : "async", load_avg_1m: Number(loadavg()[0]!.toFixed(2)), sig_cache_hits: cache.hits, sig_cache_misses: cache.misses };
  emit({ suite: "node", name: "node_finalized_tx_rate", value: Math.round(rate), unit: "tx/s", higher_is_better: true, params });
  emit({ suite: "node", name: "node_tx_latency_p50", value: Number(percentile(latencies, 50).toFixed(1)), unit: "ms", higher_is_better: false, params });
  emit({ suite: "node", name: "node_tx_latency_p99", value: Number(percentile(latencies, 99).toFixed(1)), unit: "ms", higher_is_better: false, params });
  emit({ suite: "node", name: "verify_batch_reference", value: Math.round(verifyRate), unit: "sig/s", higher_is_better: true, params });
  emit({ suite: "node", name: "node_vs_verify_ratio", value: Number((rate / verifyRate).toFixed(3)), unit: "ratio", higher_is_better: true, params });
} finally {
  for (const n of nodes) {
    await n.node.stop();
    n.store.close();
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

function expectMint(header: Uint8Array, id: Uint8Array): void {
  if (toHex(mintId(decodeMintTx(header))) !== toHex(id)) throw new Error("bench: mint id mismatch");
}
