// The import pool (src/node/import-pool.ts): the designated validator (export_id mod k)
// carries a claim at once, the others only after the grace period; a carried claim is not
// offered again until its event had time to finalize; applied claims leave; the pool is
// bounded; old claims expire (the relay submits them again).
import { describe, expect, test } from "bun:test";
import { ImportPool, designatedCarrier, importCarriedTicksMax, importGraceTicks, importPendingTicksMax, importPoolMax } from "../../src/node/import-pool.ts";
import type { ImportClaim } from "../../src/ledger/cross-shard.ts";

// The pool never looks inside a claim: any object stands for one here.
const claim = {} as ImportClaim;

describe("import pool", () => {
  test("export_id mod k picks one carrier per export, spread over the committee", () => {
    const id = (b0: number, b3 = 0) => Uint8Array.from([b0, 0, 0, b3, ...new Array(28).fill(9)]);
    expect(designatedCarrier(id(5), 4)).toBe(1);
    expect(designatedCarrier(id(0, 1), 3)).toBe(2 ** 24 % 3);
    const hits = new Array(4).fill(0);
    for (let i = 0; i < 256; i++) hits[designatedCarrier(id(i, i), 4)]++;
    expect(hits).toEqual([64, 64, 64, 64]);
  });

  test("the designated validator carries at once, the others after the grace period; carried claims wait for finality", () => {
    const mine = new ImportPool();
    const other = new ImportPool();
    expect(mine.add("a", claim, true, 10)).toBe(true);
    expect(other.add("a", claim, false, 10)).toBe(true);
    expect(mine.add("a", claim, true, 11)).toBe(false); // pending already
    expect(mine.toCarry(10, 64).map((p) => p.id)).toEqual(["a"]);
    expect(other.toCarry(10 + importGraceTicks - 1, 64)).toEqual([]);
    // The designated validator's event carries it: the other sees that event and does not carry it.
    mine.markCarried(["a"], 11);
    other.markCarried(["a"], 12);
    expect(mine.toCarry(12, 64)).toEqual([]);
    expect(other.toCarry(10 + importGraceTicks, 64)).toEqual([]);
    // The event went stale (never finalized): after importCarriedTicksMax anyone may carry it again.
    other.age(12 + importCarriedTicksMax);
    expect(other.toCarry(12 + importCarriedTicksMax, 64).map((p) => p.id)).toEqual(["a"]);
    // Applied: it leaves.
    other.remove(["a"]);
    expect(other.size).toBe(0);
  });

  test("a claim nobody carried expires; the pool is bounded with a typed error", () => {
    const pool = new ImportPool();
    pool.add("old", claim, false, 0);
    pool.age(importPendingTicksMax);
    expect(pool.has("old")).toBe(false);
    for (let i = 0; i < importPoolMax; i++) pool.add(`c${i}`, claim, true, 0);
    expect(() => pool.add("one-more", claim, true, 0)).toThrow(expect.objectContaining({ code: "IMPORT_POOL_FULL" }));
    expect(pool.toCarry(0, 64)).toHaveLength(64);
  });
});
