// The chaos checks must catch what they are for: a fork, a lagging store, evidence, an
// excluded or slow validator, a lost transaction, a stall, a disk full without a
// fail-stop. Also: the store reader's SQL runs against the real schema.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore, STORE_FILE_NAME } from "../../src/store/sqlite-store.ts";
import {
  checkAgreement, checkCrashes, checkDiskFull, checkEvidence, checkFinality, checkRejoins, checkTxs, readStore,
  type RejoinOutcome, type StoreView,
} from "./checks.ts";

const dir = mkdtempSync(join(tmpdir(), "phantom-chaos-checks-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const anchors = (n: number, tweak?: { at: number; eventId?: string; commitment?: string }) =>
  Array.from({ length: n }, (_, i) => ({
    eventId: i === tweak?.at && tweak.eventId !== undefined ? tweak.eventId : `e${i}`,
    commitment: i === tweak?.at && tweak.commitment !== undefined ? tweak.commitment : `r${i}`,
  }));

const view = (validator: number, list: StoreView["anchors"], extra: Partial<StoreView> = {}): StoreView => ({
  validator, anchors: list, evidence: [], voided: new Map(), finalizedSeq: new Map(), integrity: "ok", ...extra,
});

const rejoin = (r: Partial<RejoinOutcome>): RejoinOutcome => ({
  faultId: 0, validator: 1, healAtMs: 1_000, seqAtHeal: 10, finalizedAtMs: 3_000, finalizedSeq: 11, kind: "pause", endSeq: 20, ...r,
});

describe("chaos checks", () => {
  test("agreement: prefixes agree; a different event or root at one index is a fork; a long lag is not caught up", () => {
    const [agree, caught] = checkAgreement([view(0, anchors(10)), view(1, anchors(8)), view(2, anchors(10))]);
    expect([agree!.ok, caught!.ok]).toEqual([true, true]);
    const [forkEvent] = checkAgreement([view(0, anchors(10)), view(1, anchors(10, { at: 4, eventId: "x" }))]);
    expect(forkEvent!.ok).toBe(false);
    expect(forkEvent!.detail).toContain("at anchor 4");
    const [forkRoot] = checkAgreement([view(0, anchors(10)), view(1, anchors(10, { at: 7, commitment: "y" }))]);
    expect(forkRoot!.ok).toBe(false);
    // A missing event index row is compared by root only.
    const [unindexed] = checkAgreement([view(0, anchors(10)), view(1, anchors(10, { at: 3, eventId: "" }))]);
    expect(unindexed!.ok).toBe(true);
    const [, lagging] = checkAgreement([view(0, anchors(500)), view(1, anchors(250))]);
    expect(lagging!.ok).toBe(false);
  });

  test("evidence against anyone fails (every validator is honest)", () => {
    expect(checkEvidence([view(0, []), view(1, [])]).ok).toBe(true);
    const ev = { id: "aa", kind: "equivocation", offender: 2, anchor: 9 };
    const c = checkEvidence([view(0, [], { evidence: [ev] }), view(1, [], { evidence: [ev] })]);
    expect(c.ok).toBe(false);
    expect(c.detail).toBe("evidence against honest validators: equivocation v2 @9");
  });

  test("rejoin: no new finalized seq is excluded; later than the target is slow", () => {
    const [ok, fast] = checkRejoins([rejoin({})], 10_000);
    expect([ok!.ok, fast!.ok]).toEqual([true, true]);
    const [excluded] = checkRejoins([rejoin({ endSeq: 10, finalizedAtMs: null, finalizedSeq: null })], 10_000);
    expect(excluded!.ok).toBe(false);
    const [, slow] = checkRejoins([rejoin({ finalizedAtMs: 12_000 })], 10_000);
    expect(slow!.ok).toBe(false);
    // A lost store replays history first: reported beside the target, not held to it (but never excluded).
    const [, restored] = checkRejoins([rejoin({ kind: "wipe", finalizedAtMs: 12_000 })], 10_000);
    expect(restored!.ok).toBe(true);
    expect(restored!.detail).toContain("after a lost store");
    const [stillExcluded] = checkRejoins([rejoin({ kind: "wipe", endSeq: 10, finalizedAtMs: null, finalizedSeq: null })], 10_000);
    expect(stillExcluded!.ok).toBe(false);
  });

  test("transactions: any lost one fails", () => {
    const base = { acked: 5, final: 4, voided: new Map([["TX_DOUBLE_SPEND", 1]]), lost: 0, lostByValidator: new Map(), lostSample: [] };
    expect(checkTxs(base).ok).toBe(true);
    const lost = checkTxs({ ...base, final: 3, lost: 1, lostByValidator: new Map([[2, 1]]), lostSample: ["ab… via v2"] });
    expect(lost.ok).toBe(false);
    expect(lost.detail).toContain("lost 1 (via v2 1");
  });

  test("finality: a stall over the limit fails and names who had not rejoined", () => {
    expect(checkFinality(2_000, 15_000, 0, []).ok).toBe(true);
    const c = checkFinality(20_000, 15_000, 5_000, [3]);
    expect(c.ok).toBe(false);
    expect(c.detail).toContain("v3");
  });

  test("disk full: a typed exit while full is the fail-stop; over a second misses the time target; exits inside the window are not crashes", () => {
    const outcome = [{ faultId: 1, validator: 0, filledAtMs: 10_000, freedAtMs: 15_000, bytes: 1 }];
    const oks = (exits: Parameters<typeof checkDiskFull>[1]) => checkDiskFull(outcome, exits, null).map((c) => c.ok);
    expect(oks([])).toEqual([false, false]);
    const line = "error [STORE_WRITE_FAILED]: disk full (ENOSPC)";
    const typed = { validator: 0, code: 74, signal: null, atMs: 10_400, lastLine: "node_stopped", tail: [line, "node_stopped"] };
    expect(oks([typed])).toEqual([true, true]);
    expect(oks([{ ...typed, atMs: 12_000 }])).toEqual([true, false]);
    expect(oks([{ ...typed, atMs: 16_000 }])).toEqual([false, false]); // after the heal: not a fail-stop of the full disk
    expect(oks([{ ...typed, tail: ["SQLiteError: database or disk is full"] }])).toEqual([false, false]);
    expect(checkDiskFull([], [], "no tmpfs")[0]!.detail).toBe("not run: no tmpfs");
    // Judged by when the disk really was full (a fault may start late), not by the schedule.
    expect(checkCrashes([typed], outcome).ok).toBe(true);
    expect(checkCrashes([{ ...typed, validator: 2 }], outcome).ok).toBe(false);
    expect(checkCrashes([{ ...typed, atMs: 25_000 }], outcome).ok).toBe(false);
  });

  test("readStore reads a real (empty) store", () => {
    const storeDir = join(dir, "store");
    new SqliteStore({ storeDir, fsync: false }).close();
    const v = readStore(3, join(storeDir, STORE_FILE_NAME))!;
    expect(v).toMatchObject({ validator: 3, anchors: [], evidence: [], integrity: "ok" });
    expect(v.voided.size).toBe(0);
    expect(readStore(3, join(dir, "missing.sqlite"))).toBeNull();
  });
});
