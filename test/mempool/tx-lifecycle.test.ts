// The accepted-transaction state machine over a real SQLite store: every admission is
// persisted, every removal ends in one terminal state with a reason (final, void naming the
// winner, expired, replaced, evicted), records are bounded, and a store reopened after a
// stop re-validates what was pending.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { SqliteStore } from "../../src/store/sqlite-store.ts";
import { TxJournalStore } from "../../src/store/tx-journal-store.ts";
import { ChainIndex } from "../../src/store/chain-index.ts";
import { applyAnchor, expectedAnchorIndex } from "../../src/ledger/apply.ts";
import type { AnchorDiff } from "../../src/ledger/state.ts";
import type { AnchorPayload } from "../../src/types/payload.ts";
import { lockCommitment } from "../../src/types/lock.ts";
import { digestMicroTx, type MicroTx, type Outpoint } from "../../src/types/tx.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { Mempool } from "../../src/mempool/mempool.ts";
import { TxLifecycle, mempoolAnnouncement } from "../../src/node/tx-lifecycle.ts";
import { txsPerMessageMax } from "../../src/net/p2p/messages.ts";
import { fundedView, freeTx, CTX } from "./fixtures.ts";
import { buildTransfer, payTo, sigLock } from "../../src/wallet/tx-builder.ts";
import { testEmission, testParams, mineMint, key } from "../ledger/fixtures.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const alice = key(11);
const bob = key(12);
const carol = key(13);

function openStore(dir: string): SqliteStore {
  return new SqliteStore({ storeDir: dir, emission: testEmission, fsync: false });
}

function finalize(store: SqliteStore, payload: AnchorPayload): AnchorDiff {
  const diff = applyAnchor(store, testParams(), expectedAnchorIndex(store), payload);
  store.commitAnchor(diff);
  return diff;
}

type Coin = { outpoint: Outpoint; amount: bigint };

/** A store with `n` mature mint rewards paid to alice. */
function fundedStore(n: number): { dir: string; store: SqliteStore; coins: Coin[] } {
  const dir = mkdtempSync(join(tmpdir(), "phantom-txlife-"));
  dirs.push(dir);
  const store = openStore(dir);
  const coins: Coin[] = [];
  for (let i = 0; i < n; i++) {
    const diff = finalize(store, { txs: [{ kind: "mint", tx: mineMint(store.mintTip(), lockCommitment(sigLock(alice.publicKey))) }] });
    coins.push({ outpoint: { txid: diff.mints[0]!.id, index: 0 }, amount: diff.mints[0]!.rewardUnits });
  }
  for (let i = 0n; i < testEmission.maturityAnchors; i++) finalize(store, { txs: [] });
  return { dir, store, coins };
}

const transfer = (coin: Coin, fee: bigint, to = bob): MicroTx => buildTransfer({ keyPair: alice, spend: [coin], to: [payTo(sigLock(to.publicKey), 1_000_000n)], fee });
const ctxOf = (store: SqliteStore) => ({ anchorIndex: expectedAnchorIndex(store), maturityAnchors: testEmission.maturityAnchors });
const hex = (tx: MicroTx) => toHex(digestMicroTx(tx));

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (m === undefined) throw new Error(`no metric ${name}`);
  const hit = (await m.get()).values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return hit?.value ?? 0;
}

function pendingTxids(journal: TxJournalStore): string[] {
  return [...journal.pending()].map((r) => toHex(r.txid));
}

describe("accepted transaction lifecycle", () => {
  test("each accepted tx ends final, void (winner named), replaced, evicted or expired, persisted as it happens", async () => {
    const { store, coins } = fundedStore(5);
    const registry = new Registry();
    const journal = new TxJournalStore(store.db);
    const life = new TxLifecycle(journal, registry, 6n);
    const mempool = new Mempool({ view: store, registry, journal: life, limits: { txsMax: 4 }, minRelayFeePerByte: 0n });
    const chain = new ChainIndex(store);
    const status = (tx: MicroTx) => life.status(digestMicroTx(tx), mempool, chain);
    const anchor = (payload: AnchorPayload, held: (txid: string) => boolean = () => false) => {
      const diff = finalize(store, payload);
      life.afterAnchor(diff, mempool, (e) => held(e.txidHex));
      return diff;
    };

    const a = transfer(coins[0]!, 1_000n);
    const b = transfer(coins[1]!, 1_000n);
    const c = transfer(coins[2]!, 1_000n);
    const admittedAt = ctxOf(store).anchorIndex;
    expect(mempool.admit([a, b, c], ctxOf(store)).every((r) => r.ok)).toBe(true);
    // Persisted before admit() returned, in admission order.
    expect(pendingTxids(journal)).toEqual([hex(a), hex(b), hex(c)]);
    expect(await metric(registry, "pc_node_mempool_persisted_txs")).toBe(3);
    expect(status(a)).toMatchObject({ state: "pending", admittedAt, expiresAfter: admittedAt + 6n });

    // Replace-by-fee: a2 pays more for coin 0.
    const a2 = transfer(coins[0]!, 5_000n, carol);
    expect(mempool.admit([a2], ctxOf(store))[0]!.ok).toBe(true);
    expect(status(a)).toMatchObject({ state: "replaced", reason: "MEMPOOL_RBF", by: digestMicroTx(a2) });

    anchor({ txs: [] }); // the txs below are admitted one anchor later
    // Capacity: a fifth tx with a higher fee rate than b, c evicts the lowest (newest among equals: c).
    const d = transfer(coins[3]!, 3_000n);
    expect(mempool.admit([d], ctxOf(store))[0]!.ok).toBe(true);
    expect(mempool.admit([transfer(coins[4]!, 4_000n)], ctxOf(store))[0]!.ok).toBe(true);
    expect(status(c)).toMatchObject({ state: "evicted", reason: "MEMPOOL_FULL" });
    expect(pendingTxids(journal)).toEqual([hex(b), hex(a2), hex(d), hex(transfer(coins[4]!, 4_000n))]);

    // An anchor applies b and a rival spend of coin 3 that another validator carried.
    const rival = transfer(coins[3]!, 2_000n, carol);
    const diff = anchor({ txs: [{ kind: "micro", tx: b }, { kind: "micro", tx: rival }] });
    expect(status(b)).toMatchObject({ state: "final", reason: "INCLUDED", anchorIndex: diff.anchorIndex });
    const lost = status(d);
    expect(lost).toMatchObject({ state: "void", reason: "TX_DOUBLE_SPEND", anchorIndex: diff.anchorIndex, by: digestMicroTx(rival) });
    expect(lost.message).toContain(hex(rival));
    // The rival was never in this mempool: the chain still answers for it.
    expect(status(rival)).toMatchObject({ state: "final", anchorIndex: diff.anchorIndex });

    // Expiry counts anchors applied since admission (6 here), never time; a held tx waits.
    const e4 = transfer(coins[4]!, 4_000n);
    while (expectedAnchorIndex(store) < admittedAt + 6n) anchor({ txs: [] });
    expect(status(a2).state).toBe("pending");
    anchor({ txs: [] }, (id) => id === hex(a2)); // a2 is carried by an event not final yet
    expect(status(a2).state).toBe("pending");
    expect(status(e4).state).toBe("pending"); // admitted later
    anchor({ txs: [] });
    expect(status(a2)).toMatchObject({ state: "expired", reason: "MEMPOOL_EXPIRED" });
    expect(status(a2).message).toContain("bound 6 anchors");

    // Another validator still carried the expired tx: the record turns final.
    const late = anchor({ txs: [{ kind: "micro", tx: a2 }] });
    expect(status(a2)).toMatchObject({ state: "final", anchorIndex: late.anchorIndex });
    while (mempool.size > 0) anchor({ txs: [] });
    expect(status(e4).state).toBe("expired");

    expect(pendingTxids(journal)).toEqual([]);
    expect(await metric(registry, "pc_node_mempool_persisted_txs")).toBe(0);
    const terminal = (state: string, reason: string) => metric(registry, "pc_node_mempool_tx_terminal_total", { state, reason });
    expect(await terminal("final", "INCLUDED")).toBe(1);
    expect(await terminal("void", "TX_DOUBLE_SPEND")).toBe(1);
    expect(await terminal("replaced", "MEMPOOL_RBF")).toBe(1);
    expect(await terminal("evicted", "MEMPOOL_FULL")).toBe(1);
    expect(await terminal("expired", "MEMPOOL_EXPIRED")).toBe(2);
    expect(await terminal("final", "INCLUDED_AFTER_DROP")).toBe(1);
    expect(status(transfer(coins[0]!, 7n))).toMatchObject({ state: "unknown", reason: null });
    store.close();
  }, 60_000);

  test("outcome records are bounded: the oldest beyond the retention are pruned", () => {
    const { store, coins } = fundedStore(4);
    const journal = new TxJournalStore(store.db, 2);
    const life = new TxLifecycle(journal, new Registry());
    const mempool = new Mempool({ view: store, journal: life, limits: { txsMax: 1 }, minRelayFeePerByte: 0n });
    // Each admission with a higher fee rate evicts the previous one: three evicted records.
    const txs = coins.map((c, i) => transfer(c, 1_000n * BigInt(i + 1)));
    for (const tx of txs) expect(mempool.admit([tx], ctxOf(store))[0]!.ok).toBe(true);
    expect(journal.outcomeCount()).toBe(3);
    expect(journal.prune()).toBe(1);
    const chain = new ChainIndex(store);
    expect(life.status(digestMicroTx(txs[0]!), mempool, chain).state).toBe("unknown");
    expect(life.status(digestMicroTx(txs[1]!), mempool, chain).state).toBe("evicted");
    expect(life.status(digestMicroTx(txs[3]!), mempool, chain).state).toBe("pending");
    store.close();
  }, 60_000);

  test("a restarted store reloads its pending txs, re-validated: still pending, final, or void naming the winner", async () => {
    const { dir, store, coins } = fundedStore(3);
    const life = new TxLifecycle(new TxJournalStore(store.db), new Registry());
    const mempool = new Mempool({ view: store, journal: life, minRelayFeePerByte: 0n });
    const [p1, p2, p3] = [transfer(coins[0]!, 1_000n), transfer(coins[1]!, 1_000n), transfer(coins[2]!, 1_000n)];
    const admittedAt = ctxOf(store).anchorIndex;
    expect(mempool.admit([p1, p2, p3], ctxOf(store)).every((r) => r.ok)).toBe(true);
    // Finalized while the mempool was not told (the node stopped before it was): p3
    // itself is applied, and a rival spends p2's coin.
    const rival = transfer(coins[1]!, 3_000n, carol);
    const diff = finalize(store, { txs: [{ kind: "micro", tx: p3 }, { kind: "micro", tx: rival }] });
    store.close();

    const reopened = openStore(dir);
    const registry = new Registry();
    const journal = new TxJournalStore(reopened.db);
    const life2 = new TxLifecycle(journal, registry);
    expect(await metric(registry, "pc_node_mempool_persisted_txs")).toBe(3);
    const mempool2 = new Mempool({ view: reopened, journal: life2, minRelayFeePerByte: 0n });
    expect(life2.restore(mempool2, reopened, ctxOf(reopened))).toEqual({ persisted: 3, pending: 1, final: 1, void: 1, evicted: 0, replaced: 0 });
    const chain = new ChainIndex(reopened);
    const status = (tx: MicroTx) => life2.status(digestMicroTx(tx), mempool2, chain);
    // Expiry keeps counting from the first admission.
    expect(status(p1)).toMatchObject({ state: "pending", admittedAt });
    expect(mempool2.get(digestMicroTx(p1))?.admittedAt).toBe(admittedAt);
    expect(status(p2)).toMatchObject({ state: "void", reason: "TX_DOUBLE_SPEND", anchorIndex: diff.anchorIndex, by: digestMicroTx(rival) });
    expect(status(p3)).toMatchObject({ state: "final", reason: "INCLUDED", anchorIndex: diff.anchorIndex });
    expect(pendingTxids(journal)).toEqual([hex(p1)]);
    expect(await metric(registry, "pc_node_mempool_persisted_txs")).toBe(1);
    expect(await metric(registry, "pc_node_mempool_tx_terminal_total", { state: "void", reason: "TX_DOUBLE_SPEND" })).toBe(1);
    reopened.close();
  }, 60_000);

  test("the re-announcement sends the oldest pending txs, at most the bound, in messages within the P2P limits", () => {
    const n = txsPerMessageMax + 300;
    const { view, ops } = fundedView(n);
    const mempool = new Mempool({ view, minRelayFeePerByte: 0n });
    const txs = ops.map((op) => freeTx([op], 100n));
    expect(mempool.admit(txs, CTX).every((r) => r.ok)).toBe(true);
    const all = mempoolAnnouncement(mempool, n);
    expect(all.map((m) => (m.kind === "txs" ? m.txs.length : -1))).toEqual([txsPerMessageMax, 300]);
    const some = mempoolAnnouncement(mempool, 10);
    expect(some).toHaveLength(1);
    const sent = some[0]!.kind === "txs" ? some[0]!.txs.map((b) => toHex(b)) : [];
    expect(sent).toEqual(txs.slice(0, 10).map((tx) => toHex(mempool.get(digestMicroTx(tx))!.encoded)));
  }, 30_000);
});
