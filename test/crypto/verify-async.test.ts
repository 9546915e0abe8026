// verifyBatchAsync (libphantom's verification pool: ph_verify_start / poll / join) must
// answer exactly as verifyBatch and verify() do, item by item, for valid, invalid,
// non-canonical, small-order and wrong-sized inputs; several batches may be outstanding
// at once; the event loop keeps running while one is verified. The signature cache's
// asynchronous path answers the same and caches only what verified valid.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  keyPairFromSeed, sign, verify, verifyBatch, verifyBatchAsync, verifyBatchesInFlight, startVerifyBatch, fromHex, concatBytes, VERIFY_ASYNC_MIN_ITEMS, type VerifyItem,
} from "../../src/crypto/index.ts";
import { SignatureCache } from "../../src/crypto/sig-cache.ts";
import speccheck from "../vectors/ed25519-speccheck.json";
import { L, bigintToLe, leToBigint } from "./scalars.ts";

const SEED = 0x0a5c_2026;
const FORCE_NATIVE = 1; // syncBelow: every non-empty batch goes to the pool

function signed(seed: number, i: number, messageBytes = 40): VerifyItem {
  const kp = keyPairFromSeed(new Uint8Array(32).fill((seed + i) % 251).map((b, j) => (b + j * i) & 0xff));
  const message = new Uint8Array(messageBytes).map((_, j) => (seed + i * 7 + j) & 0xff);
  return { signature: sign(kp.secretKey, message), message, publicKey: kp.publicKey };
}

/** Valid, invalid, non-canonical, small-order and malformed items, in a fixed order. */
function edgeItems(): VerifyItem[] {
  const items: VerifyItem[] = speccheck.cases.map((c) => ({ signature: fromHex(c.signature), message: fromHex(c.message), publicKey: fromHex(c.pub_key) }));
  const good = signed(1, 0);
  items.push(good);
  // Non-canonical S: S + L, S + 2L, ... (S mod L would verify).
  const s = leToBigint(good.signature.subarray(32));
  for (let j = 1n; s + j * L < 1n << 256n; j++) items.push({ ...good, signature: concatBytes(good.signature.subarray(0, 32), bigintToLe(s + j * L, 32)) });
  // Small-order key (speccheck case 0's A) under a real signature, zero and all-ones keys and signatures.
  items.push({ ...good, publicKey: fromHex(speccheck.cases[0]!.pub_key) });
  items.push({ ...good, publicKey: new Uint8Array(32) }, { ...good, publicKey: new Uint8Array(32).fill(0xff) });
  items.push({ ...good, signature: new Uint8Array(64) }, { ...good, signature: new Uint8Array(64).fill(0xff) });
  // Wrong sizes: invalid without reaching the native check.
  items.push({ ...good, signature: good.signature.subarray(0, 63) }, { ...good, publicKey: concatBytes(good.publicKey, new Uint8Array(1)) }, { ...good, signature: new Uint8Array(0) });
  // Empty and long messages, a flipped message bit.
  const empty = signed(2, 1, 0);
  items.push(empty, { ...empty, message: new Uint8Array(1) }, signed(3, 2, 5_000));
  items.push({ ...good, message: good.message.map((b, j) => (j === 3 ? b ^ 0x10 : b)) });
  return items;
}

describe("verifyBatchAsync", () => {
  test("edge cases: the same answer per item as verify() and verifyBatch, on 1, 2 and 4 pool threads", async () => {
    const items = edgeItems();
    const single = items.map((it) => verify(it.signature, it.message, it.publicKey));
    expect(verifyBatch(items)).toEqual(single);
    expect(single.filter(Boolean).length).toBeGreaterThanOrEqual(3); // good, empty message, long message (+ speccheck's mixed-order case)
    expect(single.filter((ok) => !ok).length).toBeGreaterThanOrEqual(20);
    for (const threads of [1, 2, 4]) expect(await verifyBatchAsync(items, threads, FORCE_NATIVE)).toEqual(single);
    // Every item alone, through the pool.
    const alone = await Promise.all(items.map((it) => verifyBatchAsync([it], 2, FORCE_NATIVE)));
    expect(alone.map((a) => a[0])).toEqual(single);
  }, 60_000);

  test("small batches are answered synchronously, large ones on the pool; both equal verifyBatch", async () => {
    const items = Array.from({ length: VERIFY_ASYNC_MIN_ITEMS + 5 }, (_, i) => signed(10, i));
    items[4] = { ...items[4]!, publicKey: items[5]!.publicKey };
    expect(await verifyBatchAsync([])).toEqual([]);
    expect(await verifyBatchAsync(items.slice(0, VERIFY_ASYNC_MIN_ITEMS - 1))).toEqual(verifyBatch(items.slice(0, VERIFY_ASYNC_MIN_ITEMS - 1)));
    expect(verifyBatchesInFlight()).toBe(0);
    const pending = verifyBatchAsync(items);
    expect(verifyBatchesInFlight()).toBe(1);
    expect(await pending).toEqual(verifyBatch(items));
    expect(verifyBatchesInFlight()).toBe(0);
    await expect(verifyBatchAsync(items, 0)).rejects.toMatchObject({ code: "BAD_ARGUMENT" });
    await expect(verifyBatchAsync(items.slice(0, 2), 65)).rejects.toMatchObject({ code: "BAD_ARGUMENT" });
  }, 60_000);

  test("many batches outstanding at once, of mixed sizes and thread counts, each gets its own answers", async () => {
    const pool = Array.from({ length: 600 }, (_, i) => signed(20, i, 1 + (i % 90)));
    // Every 5th item corrupted in a different way, so each batch's answers differ.
    const items = pool.map((it, i) => (i % 5 === 0 ? { ...it, signature: it.signature.map((b, j) => (j === i % 64 ? b ^ 1 : b)) } : it));
    const slices = [[0, 600], [3, 4], [10, 26], [0, 17], [100, 400], [599, 600], [250, 251], [50, 550], [7, 70], [300, 600]] as const;
    const expected = slices.map(([a, b]) => verifyBatch(items.slice(a, b)));
    const started = slices.map(([a, b], k) => verifyBatchAsync(items.slice(a, b), 1 + (k % 3), FORCE_NATIVE));
    expect(verifyBatchesInFlight()).toBe(slices.length);
    const answers = await Promise.all(started);
    expect(answers).toEqual(expected);
    expect(verifyBatchesInFlight()).toBe(0);
    expect(expected[0]!.filter((ok) => !ok).length).toBe(120);
  }, 60_000);

  test("wait() answers at once: a batch queued behind others is finished on the calling thread, with the same answers", async () => {
    const big = Array.from({ length: 3_000 }, (_, i) => signed(70, i % 300, 48));
    const small = Array.from({ length: 40 }, (_, i) => signed(71, i));
    small[3] = { ...small[3]!, message: new Uint8Array(0) };
    const first = startVerifyBatch(big, 1, FORCE_NATIVE);
    const second = startVerifyBatch(small, 1, FORCE_NATIVE);
    const third = startVerifyBatch(small.slice(0, 20), 1, FORCE_NATIVE);
    expect(second.wait()).toEqual(verifyBatch(small));
    expect(second.settled).toBe(true);
    expect(await second.answers).toEqual(verifyBatch(small));
    expect(third.wait()).toEqual(verifyBatch(small.slice(0, 20)));
    expect(verifyBatchesInFlight()).toBeLessThanOrEqual(1);
    expect((await first.answers).every(Boolean)).toBe(true);
    expect(first.wait()).toEqual(await first.answers);
    expect(verifyBatchesInFlight()).toBe(0);
  }, 60_000);

  test("the event loop keeps running while a large batch is verified", async () => {
    const items = Array.from({ length: 4_000 }, (_, i) => signed(30, i % 200, 64));
    let turns = 0;
    let done = false;
    const spin = (): void => {
      turns++;
      if (!done) setImmediate(spin);
    };
    setImmediate(spin);
    const answers = await verifyBatchAsync(items);
    done = true;
    expect(answers.every(Boolean)).toBe(true);
    // The answers arrive from a timer callback, so at least one other turn ran before them.
    expect(turns).toBeGreaterThan(0);
  }, 60_000);

  test("random batches (sizes 0..300, random corruptions): identical to verifyBatch (150 batches, 10 outstanding at a time)", async () => {
    const base = Array.from({ length: 64 }, (_, i) => signed(40, i, i % 3 === 0 ? 0 : 32 + i));
    const batchArb = fc.array(
      fc.record({ which: fc.nat({ max: base.length - 1 }), corrupt: fc.constantFrom("none", "none", "sig", "key", "msg", "swap", "short"), bit: fc.nat({ max: 511 }) }),
      { minLength: 0, maxLength: 300, size: "max" },
    );
    const build = (spec: { which: number; corrupt: string; bit: number }[]): VerifyItem[] =>
      spec.map(({ which, corrupt, bit }) => {
        const it = base[which]!;
        const flip = (a: Uint8Array) => a.map((b, j) => (a.length > 0 && j === (bit >> 3) % a.length ? b ^ (1 << (bit & 7)) : b));
        switch (corrupt) {
          case "sig": return { ...it, signature: flip(it.signature) };
          case "key": return { ...it, publicKey: flip(it.publicKey) };
          case "msg": return { ...it, message: it.message.length ? flip(it.message) : new Uint8Array([bit & 0xff]) };
          case "swap": return { ...it, publicKey: base[(which + 1) % base.length]!.publicKey };
          case "short": return { ...it, signature: it.signature.subarray(0, bit % 64) };
          default: return it;
        }
      });
    const batches = fc.sample(batchArb, { seed: SEED, numRuns: 150 }).map(build);
    let invalid = 0;
    for (let at = 0; at < batches.length; at += 10) {
      const group = batches.slice(at, at + 10);
      const answers = await Promise.all(group.map((b, k) => verifyBatchAsync(b, 1 + (k % 2), k % 3 === 0 ? VERIFY_ASYNC_MIN_ITEMS : FORCE_NATIVE)));
      group.forEach((b, k) => {
        const sync = verifyBatch(b);
        expect(answers[k]).toEqual(sync);
        invalid += sync.filter((ok) => !ok).length;
      });
    }
    expect(invalid).toBeGreaterThan(1_000);
  }, 120_000);
});

describe("SignatureCache.verifyAsync", () => {
  function countingCache() {
    const counts = { pooled: 0, synced: 0 };
    const cache = new SignatureCache(10_000, (b) => {
      counts.synced += b.length;
      return verifyBatch(b);
    }, (b) => {
      counts.pooled += b.length;
      return startVerifyBatch(b, 2, FORCE_NATIVE);
    });
    return { cache, counts };
  }

  test("answers exactly as verifyBatch, verifies only misses on the pool and caches the valid ones", async () => {
    const { cache, counts } = countingCache();
    const good = Array.from({ length: 40 }, (_, i) => signed(50, i));
    const bad = good.slice(0, 10).map((it) => ({ ...it, message: new Uint8Array([1, 2, 3]) }));
    const mixed = [...good, ...bad];
    expect(await cache.verifyAsync(mixed)).toEqual(verifyBatch(mixed));
    expect({ ...counts, size: cache.size }).toEqual({ pooled: 50, synced: 0, size: 40 });
    // The synchronous path now answers the valid ones from the cache and checks only the invalid ones.
    expect(cache.verify([...mixed].reverse())).toEqual(verifyBatch([...mixed].reverse()));
    expect(counts).toEqual({ pooled: 50, synced: 10 });
    expect(cache.stats).toEqual({ hits: 40, misses: 60 });
    expect(await cache.verifyAsync([])).toEqual([]);
  }, 60_000);

  test("a signature in flight is never verified twice: overlapping calls, sync or async, take the running batch's answer", async () => {
    const { cache, counts } = countingCache();
    const fresh = Array.from({ length: 300 }, (_, i) => signed(60, i));
    fresh[7] = { ...fresh[7]!, publicKey: fresh[8]!.publicKey }; // one invalid
    const expected = verifyBatch(fresh);
    const first = cache.verifyAsync(fresh);
    const second = cache.verifyAsync([...fresh].reverse());
    // Applying an anchor synchronously meanwhile: joins the pool's batch instead of verifying.
    expect(cache.verify(fresh.slice(0, 20))).toEqual(expected.slice(0, 20));
    expect(await first).toEqual(expected);
    expect(await second).toEqual([...expected].reverse());
    expect(counts).toEqual({ pooled: 300, synced: 0 });
    expect(cache.stats).toEqual({ hits: 320, misses: 300 });
    expect(cache.size).toBe(299);
    // Repeats inside one batch are verified once too.
    const twice = [fresh[0]!, fresh[7]!, fresh[0]!, fresh[7]!, ...Array.from({ length: 20 }, (_, i) => signed(61, i))];
    twice.push(twice[10]!);
    expect(await cache.verifyAsync(twice)).toEqual(verifyBatch(twice));
    expect(counts.pooled).toBe(300 + 21); // the invalid fresh[7] once more (not cached), the 20 new once
  }, 60_000);
});
