import { expect, test } from "bun:test";
import { LruCache } from "../../src/store/lru.ts";

test("LRU evicts the least recently used entry and counts hits and misses", () => {
  const c = new LruCache<string, number>(2);
  c.set("a", 1);
  c.set("b", 2);
  expect(c.get("a")).toBe(1); // a is now the most recent
  c.set("c", 3); // evicts b
  expect(c.get("b")).toBeUndefined();
  expect(c.get("c")).toBe(3);
  expect(c.get("a")).toBe(1);
  expect(c.size).toBe(2);
  expect([c.hits, c.misses]).toEqual([3, 1]);
});

test("capacity 0 disables the cache; a bad capacity is refused", () => {
  const c = new LruCache<string, number>(0);
  c.set("a", 1);
  expect(c.get("a")).toBeUndefined();
  expect(c.misses).toBe(1);
  expect(() => new LruCache(-1)).toThrow(RangeError);
  expect(() => new LruCache(1.5)).toThrow(RangeError);
});
