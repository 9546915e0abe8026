import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { Registry } from "prom-client";
import { SqliteStore, STORE_FILE_NAME, REPLAY_PAGE_ROWS } from "../../src/store/sqlite-store.ts";
import { createStoreMetrics } from "../../src/store/metrics.ts";
import { SCHEMA_VERSION } from "../../src/store/schema.ts";
import { applyAnchor } from "../../src/ledger/apply.ts";
import { decodeAnchorPayload, encodeAnchorPayload, payloadDigest } from "../../src/types/payload.ts";
import { signEvent, type EventHeader } from "../../src/types/event.ts";
import { toHex, equalBytes } from "../../src/crypto/bytes.ts";
import { generateStream } from "../ledger/stream.ts";
import { testEmission, committee } from "../ledger/fixtures.ts";

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "phantom-store-"));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const stream = generateStream(60, 7);

test("the SQLite store and the in-memory store agree on every anchor's commitment; reopening restores the tip", () => {
  const dir = tempDir();
  let store = new SqliteStore({ storeDir: dir, emission: testEmission, fsync: false });
  const half = 30;
  for (let i = 0; i < stream.payloads.length; i++) {
    if (i === half) {
      store.close();
      store = new SqliteStore({ storeDir: dir, emission: testEmission, fsync: true });
      expect(store.lastApplied()!.anchorIndex).toBe(BigInt(half - 1));
    }
    const diff = applyAnchor(store, stream.params, BigInt(i), decodeAnchorPayload(stream.payloads[i]!));
    store.commitAnchor(diff);
    expect(toHex(store.commitmentAt(BigInt(i))!)).toBe(toHex(stream.commitments[i]!));
  }
  expect(store.mintTip()).toEqual(stream.final.mintTip());
  expect(store.utxoCount()).toBe(BigInt(stream.final.utxoCount()));
  expect(store.auditAccumulator()).toBe(true);
  expect([...store.allUtxos()].map((u) => `${toHex(u.txid)}:${u.index}:${u.entry.amount}`)).toEqual(
    stream.final.allUtxos().map((u) => `${toHex(u.txid)}:${u.index}:${u.entry.amount}`),
  );
  // The stream contains deliberate double spends: they are recorded as voided with their code.
  const voided = Array.from({ length: 60 }, (_, i) => store.voidedAt(BigInt(i))).flat();
  expect(voided.length).toBeGreaterThan(0);
  expect(voided.every((v) => /^(TX|MINT|EVIDENCE)_/.test(v.code))).toBe(true);
  store.close();
  const reopened = new SqliteStore({ storeDir: dir, emission: testEmission, fsync: true });
  expect(toHex(reopened.lastApplied()!.commitment)).toBe(toHex(stream.commitments[59]!));
  expect(reopened.mintTip()).toEqual(stream.final.mintTip());
  expect(equalBytes(reopened.accumulator(), stream.final.accumulator())).toBe(true);
  reopened.close();
});

function event(creator: number, seq: number, payload: Uint8Array) {
  const header: EventHeader = { shard: 0, creator, seq, parents: [], parentRounds: [], lamport: seq, payloadDigest: payloadDigest(payload) };
  return signEvent(header, committee[creator]!.secretKey);
}

test("events and payloads: stored once, read back by id and digest, by creator from a seq, and in insert order", async () => {
  const registry = new Registry();
  const metrics = createStoreMetrics(registry);
  const dir = tempDir();
  const store = new SqliteStore({ storeDir: dir, emission: testEmission, fsync: false, cacheHeadersCap: 2, cachePayloadsCap: 2, metrics });
  const p0 = encodeAnchorPayload({ txs: [] });
  const p1 = stream.payloads[5]!;
  const evs = [event(0, 0, p0), event(1, 0, p1), event(0, 1, p1), event(0, 2, p0)];
  const twin = event(0, 1, stream.payloads[6]!); // equivocation: same creator, same seq
  store.putEvents(evs.map((e, i) => ({ event: e, ...(i === 0 ? { payload: p0 } : i === 1 ? { payload: p1 } : {}) })));
  store.putEvents([{ event: twin }, { event: evs[0]! }]); // duplicate ignored
  expect(store.eventCount()).toBe(5);
  expect(store.eventsByCreatorFrom(0, 1, 10).map((e) => e.header.seq)).toEqual([1, 1, 2]);
  expect(store.eventsByCreatorFrom(0, 0, 2).length).toBe(2);
  expect([...store.allEventsInInsertOrder()].map((e) => toHex(e.id))).toEqual([...evs, twin].map((e) => toHex(e.id)));
  expect(() => store.putEvents([{ event: evs[2]!, payload: p0 }])).toThrow(expect.objectContaining({ code: "STORE_PAYLOAD_DIGEST_MISMATCH" }));
  store.close();
  // Fresh caches after reopen: first reads miss, second reads hit.
  const again = new SqliteStore({ storeDir: dir, emission: testEmission, fsync: false, cacheHeadersCap: 2, cachePayloadsCap: 2, metrics });
  expect(toHex(again.getEvent(evs[1]!.id)!.signature)).toBe(toHex(evs[1]!.signature));
  expect(again.getEvent(evs[1]!.id)).toBeDefined();
  expect(again.getEvent(new Uint8Array(32))).toBeUndefined();
  expect(again.getPayload(payloadDigest(p1))).toEqual(p1);
  expect(again.getPayload(payloadDigest(p1))).toEqual(p1);
  expect(again.getPayload(new Uint8Array(32))).toBeUndefined();
  expect(again.hasEvent(twin.id)).toBe(true);
  expect([again.headerCache.hits, again.headerCache.misses, again.payloadCache.hits, again.payloadCache.misses]).toEqual([1, 2, 1, 2]);
  const text = await registry.metrics();
  expect(text).toContain("pc_node_cache_headers_hits_total 1");
  expect(text).toContain("pc_node_cache_payloads_misses_total 2");
  again.close();
});

test("insert-order replay pages through more events than one page", () => {
  const store = new SqliteStore({ storeDir: tempDir(), emission: testEmission, fsync: false, cacheHeadersCap: 0 });
  const p = encodeAnchorPayload({ txs: [] });
  const n = REPLAY_PAGE_ROWS + 37;
  const evs = Array.from({ length: n }, (_, i) => event(i % 4, Math.floor(i / 4), p));
  store.putEvents(evs.map((e) => ({ event: e })));
  const seen = [...store.allEventsInInsertOrder()];
  expect(seen.length).toBe(n);
  expect(toHex(seen[n - 1]!.id)).toBe(toHex(evs[n - 1]!.id));
  store.close();
});

test("a store written by a newer schema or for another genesis refuses to open", () => {
  const dir = tempDir();
  new SqliteStore({ storeDir: dir, emission: testEmission, fsync: false, genesisCommitment: new Uint8Array(32).fill(1) }).close();
  expect(() => new SqliteStore({ storeDir: dir, emission: testEmission, fsync: false, genesisCommitment: new Uint8Array(32).fill(2) })).toThrow(
    expect.objectContaining({ code: "STORE_GENESIS_MISMATCH" }),
  );
  const db = new Database(join(dir, STORE_FILE_NAME));
  db.run(`UPDATE schema_version SET version = ${SCHEMA_VERSION + 1}`);
  db.close();
  expect(() => new SqliteStore({ storeDir: dir, emission: testEmission, fsync: false })).toThrow(expect.objectContaining({ code: "STORE_SCHEMA_TOO_NEW" }));
});

test("--fsync maps to synchronous FULL / NORMAL in WAL mode", () => {
  for (const [fsync, level] of [[true, 2n], [false, 1n]] as const) {
    const store = new SqliteStore({ storeDir: tempDir(), emission: testEmission, fsync });
    expect((store.db.query(`PRAGMA synchronous`).get() as { synchronous: bigint }).synchronous).toBe(level);
    expect((store.db.query(`PRAGMA journal_mode`).get() as { journal_mode: string }).journal_mode).toBe("wal");
    store.close();
  }
});

test("a file that is not a database is a typed error, not a crash", () => {
  const dir = tempDir();
  writeFileSync(join(dir, STORE_FILE_NAME), new Uint8Array(8192).fill(0x41));
  expect(() => new SqliteStore({ storeDir: dir, emission: testEmission, fsync: false })).toThrow(expect.objectContaining({ code: "STORE_OPEN_FAILED" }));
});

test("a tampered ledger_state is detected on open", () => {
  const dir = tempDir();
  const store = new SqliteStore({ storeDir: dir, emission: testEmission, fsync: false });
  store.commitAnchor(applyAnchor(store, stream.params, 0n, decodeAnchorPayload(stream.payloads[0]!)));
  store.db.run(`UPDATE ledger_state SET commitment = ?`, [new Uint8Array(32)]);
  store.close();
  expect(() => new SqliteStore({ storeDir: dir, emission: testEmission, fsync: false })).toThrow(expect.objectContaining({ code: "STORE_CORRUPT" }));
});

test("ledger metrics count applied and voided transactions by code", async () => {
  const registry = new Registry();
  const store = new SqliteStore({ storeDir: tempDir(), emission: testEmission, fsync: false, metrics: createStoreMetrics(registry) });
  for (let i = 0; i < 30; i++) store.commitAnchor(applyAnchor(store, stream.params, BigInt(i), decodeAnchorPayload(stream.payloads[i]!)));
  const text = await registry.metrics();
  expect(text).toContain("pc_node_ledger_anchor_index 29");
  expect(text).toMatch(/pc_node_ledger_txs_total\{kind="mint",outcome="applied"\} \d+/);
  expect(text).toContain("pc_node_store_anchors_committed_total 30");
  store.close();
});

test("the UTXO cache serves only committed, unspent outputs (same answers as with the cache off)", () => {
  const on = new SqliteStore({ storeDir: tempDir(), emission: testEmission, fsync: false, cacheUtxosCap: 8 });
  const off = new SqliteStore({ storeDir: tempDir(), emission: testEmission, fsync: false, cacheUtxosCap: 0 });
  for (let i = 0; i < 40; i++) {
    const payload = decodeAnchorPayload(stream.payloads[i]!);
    const a = applyAnchor(on, stream.params, BigInt(i), payload);
    const b = applyAnchor(off, stream.params, BigInt(i), payload);
    expect(toHex(a.commitment)).toBe(toHex(b.commitment));
    on.commitAnchor(a);
    off.commitAnchor(b);
    for (const s of a.spent) expect(on.getUtxo(s.txid, s.index)).toBeUndefined();
    for (const c of a.created.slice(0, 3)) expect(on.getUtxo(c.txid, c.index)).toEqual(off.getUtxo(c.txid, c.index)!);
  }
  expect(on.utxoCache.size).toBeLessThanOrEqual(8);
  on.close();
  off.close();
});

test("eventsAfterInStoreOrder: what a peer lacks, in the order first stored, bounded", () => {
  const store = new SqliteStore({ storeDir: tempDir(), emission: testEmission, fsync: false });
  const p = encodeAnchorPayload({ txs: [] });
  // Stored out of per-creator order: creator 1's seq 5 before creator 0's seq 1.
  const order = [event(0, 0, p), event(1, 5, p), event(0, 1, p), event(2, 0, p), event(1, 6, p), event(0, 2, p)];
  for (const e of order) store.putEvents([{ event: e, payload: p }]);
  const ids = (es: { id: Uint8Array }[]) => es.map((e) => toHex(e.id));
  expect(ids(store.eventsAfterInStoreOrder([-1, -1, -1], 100))).toEqual(ids(order));
  expect(ids(store.eventsAfterInStoreOrder([0, 5, -1], 100))).toEqual(ids([order[2]!, order[3]!, order[4]!, order[5]!]));
  expect(ids(store.eventsAfterInStoreOrder([0, 5, -1], 2))).toEqual(ids([order[2]!, order[3]!]));
  expect(store.eventsAfterInStoreOrder([2, 6, 0], 100)).toEqual([]);
  store.close();
});
