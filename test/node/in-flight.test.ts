import { expect, test } from "bun:test";
import { InFlight } from "../../src/node/in-flight.ts";

test("in-flight entries release once: when final, or at their deadline", () => {
  const released: string[] = [];
  const f = new InFlight();
  f.add("a", 0, 10, () => released.push("a"));
  f.add("b", 5, 10, () => released.push("b"));
  f.add("a", 7, 10, () => released.push("a-again")); // already tracked: ignored
  expect(f.size).toBe(2);
  expect(f.settle("b")).toBe(true);
  expect(f.settle("b")).toBe(false);
  expect(f.expire(9)).toBe(0);
  expect(f.expire(10)).toBe(1);
  expect(released).toEqual(["b", "a"]);
  expect(f.size).toBe(0);
});
