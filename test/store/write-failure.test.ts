// Store writes that SQLite refuses: SQLite itself returns SQLITE_FULL (max_page_count,
// and a really full tmpfs where this machine lets the test mount one). Every refusal is
// one STORE_WRITE_FAILED error with SQLite's code, counted and reported to the hook;
// nothing that was not committed is served afterwards, and the database stays sound.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { Registry } from "prom-client";
import { SqliteStore, STORE_FILE_NAME } from "../../src/store/sqlite-store.ts";
import { StoreError } from "../../src/store/errors.ts";
import { createStoreMetrics } from "../../src/store/metrics.ts";
import { applyAnchor } from "../../src/ledger/apply.ts";
import { decodeAnchorPayload, payloadDigest } from "../../src/types/payload.ts";
import { signEvent, type EventHeader } from "../../src/types/event.ts";
import { blake3_32 } from "../../src/crypto/hash.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { generateStream } from "../ledger/stream.ts";
import { committee, prng, testEmission } from "../ledger/fixtures.ts";

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "phantom-writefail-"));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const stream = generateStream(60, 3);

function caught(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (e) {
    if (e instanceof StoreError) return e;
    throw e;
  }
  throw new Error("the write did not fail");
}

const integrity = (path: string): string => {
  const db = new Database(path, { readonly: true });
  try {
    return String((db.query("PRAGMA integrity_check").get() as { integrity_check: string }).integrity_check);
  } finally {
    db.close();
  }
};

function openWithHook(dir: string) {
  const registry = new Registry();
  const reported: StoreError[] = [];
  const store = new SqliteStore({ storeDir: dir, emission: testEmission, fsync: false, metrics: createStoreMetrics(registry), onWriteFailed: (e) => reported.push(e) });
  return { store, registry, reported };
}

test("SQLITE_FULL on an anchor commit, an event batch and a payload: typed, counted, rolled back, and writable again once there is room", async () => {
  const dir = tempDir();
  const { store, registry, reported } = openWithHook(dir);
  for (let i = 0; i < 20; i++) store.commitAnchor(applyAnchor(store, stream.params, BigInt(i), decodeAnchorPayload(stream.payloads[i]!)));
  const pages = Number((store.db.query("PRAGMA page_count").get() as { page_count: bigint }).page_count);
  store.db.run(`PRAGMA max_page_count = ${pages}`); // the disk is full from here on

  // The anchor stream grows the UTXO set, so the next commits need new pages (bounded: the stream's length).
  let failedAt = -1;
  let error: StoreError | undefined;
  for (let i = 20; i < stream.payloads.length && error === undefined; i++) {
    const diff = applyAnchor(store, stream.params, BigInt(i), decodeAnchorPayload(stream.payloads[i]!));
    try {
      store.commitAnchor(diff);
    } catch (e) {
      if (!(e instanceof StoreError)) throw e;
      [failedAt, error] = [i, e];
      // Nothing of the failed diff is served: not its commitment, not its new outputs.
      expect(store.lastApplied()!.anchorIndex).toBe(BigInt(i - 1));
      expect(store.commitmentAt(BigInt(i))).toBeUndefined();
      for (const c of diff.created) expect(store.getUtxo(c.txid, c.index)).toBeUndefined();
    }
  }
  expect(error?.code).toBe("STORE_WRITE_FAILED");
  expect(error?.details).toEqual({ reason: "SQLITE_FULL", errno: 13, operation: "commitAnchor" });
  expect(error?.message).toContain("database or disk is full");

  const big = new Uint8Array(64 * 1024).fill(7);
  const payloadError = caught(() => store.putPayload(big));
  expect(payloadError.details?.operation).toBe("putPayload");
  expect(store.getPayload(blake3_32(big))).toBeUndefined();
  const header: EventHeader = { shard: 0, creator: 0, seq: 0, parents: [], parentRounds: [], lamport: 0, payloadDigest: payloadDigest(big) };
  const ev = signEvent(header, committee[0]!.secretKey);
  expect(caught(() => store.putEvents([{ event: ev, payload: big }])).details?.operation).toBe("putEvents");
  expect(store.hasEvent(ev.id)).toBe(false);

  expect(reported.map((e) => e.details?.operation)).toEqual(["commitAnchor", "putPayload", "putEvents"]);
  expect(await registry.getSingleMetricAsString("pc_node_store_write_failures_total")).toContain('pc_node_store_write_failures_total{reason="SQLITE_FULL"} 3');

  // Room again: the refused anchor commits and matches the reference commitment.
  store.db.run("PRAGMA max_page_count = 1073741823");
  for (let i = failedAt; i < stream.payloads.length; i++) store.commitAnchor(applyAnchor(store, stream.params, BigInt(i), decodeAnchorPayload(stream.payloads[i]!)));
  expect(toHex(store.lastApplied()!.commitment)).toBe(toHex(stream.commitments[stream.payloads.length - 1]!));
  store.close();
  expect(integrity(join(dir, STORE_FILE_NAME))).toBe("ok");
}, 30_000);

// A real full disk needs a small tmpfs: mounting one needs root (or CAP_SYS_ADMIN).
const mountPoint = mkdtempSync(join(tmpdir(), "phantom-tmpfs-"));
const mounted = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mountPoint], { stdout: "pipe", stderr: "pipe" });
const tmpfsReason = mounted.exitCode === 0 ? "" : `cannot mount a tmpfs here (${mounted.stderr.toString().trim() || `exit ${mounted.exitCode}`})`;
if (tmpfsReason) console.log(`skipping the full-tmpfs store test: ${tmpfsReason}`);
afterAll(() => {
  if (!tmpfsReason) Bun.spawnSync(["umount", mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

test.skipIf(tmpfsReason !== "")("a really full disk (1 MiB tmpfs): STORE_WRITE_FAILED with SQLite's code; every committed payload is there after reopening", () => {
  // Another file takes part of the disk; deleting it later is the operator freeing space.
  const filler = join(mountPoint, "filler");
  writeFileSync(filler, new Uint8Array(256 * 1024));
  const dir = join(mountPoint, "store");
  mkdirSync(dir);
  const { store, reported } = openWithHook(dir);
  const rand = prng(11);
  const committed: Uint8Array[] = [];
  let error: StoreError | undefined;
  // 1 MiB holds fewer than 256 payloads of 4 KiB: the loop ends on the full disk.
  for (let i = 0; i < 256 && error === undefined; i++) {
    const payload = Uint8Array.from({ length: 4096 }, () => Math.floor(rand() * 256));
    try {
      committed.push(blake3_32(payload));
      store.putPayload(payload);
    } catch (e) {
      if (!(e instanceof StoreError)) throw e;
      committed.pop();
      error = e;
    }
  }
  expect(error?.code).toBe("STORE_WRITE_FAILED");
  expect(error?.details?.reason).toBe("SQLITE_FULL");
  expect(reported.length).toBe(1);
  expect(committed.length).toBeGreaterThan(10);
  store.close();
  rmSync(filler);
  expect(integrity(join(dir, STORE_FILE_NAME))).toBe("ok");
  const reopened = new SqliteStore({ storeDir: dir, emission: testEmission, fsync: false });
  for (const d of committed) expect(reopened.getPayload(d)).toBeDefined();
  reopened.close();
}, 30_000);
