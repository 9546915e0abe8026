// Heaps used by the mempool (eviction order, groups) and the proposer (ordered walks).
import { expect, test } from "bun:test";
import fc from "fast-check";
import { BinaryHeap, IndexedHeap, HeapWalker } from "../../src/mempool/heap.ts";

interface Item {
  key: number;
  id: number;
  heapIndex: number;
}
const less = (a: Item, b: Item) => a.key < b.key || (a.key === b.key && a.id < b.id);
const byKey = (a: Item, b: Item) => (less(a, b) ? -1 : less(b, a) ? 1 : 0);

test("IndexedHeap with pushes, removals and key updates matches a sorted list; walks are ordered and non-destructive", () => {
  const opArb = fc.oneof(
    fc.record({ kind: fc.constant("push" as const), key: fc.integer({ min: 0, max: 20 }) }),
    fc.record({ kind: fc.constant("remove" as const), pick: fc.nat() }),
    fc.record({ kind: fc.constant("update" as const), pick: fc.nat(), key: fc.integer({ min: 0, max: 20 }) }),
    fc.record({ kind: fc.constant("pop" as const) }),
  );
  fc.assert(fc.property(fc.array(opArb, { maxLength: 80 }), (ops) => {
    const heap = new IndexedHeap<Item>(less);
    let model: Item[] = [];
    let nextId = 0;
    for (const op of ops) {
      if (op.kind === "push") {
        const it = { key: op.key, id: nextId++, heapIndex: -1 };
        heap.push(it);
        model.push(it);
      } else if (op.kind === "pop") {
        const top = heap.pop();
        const expected = [...model].sort(byKey)[0];
        expect(top).toBe(expected);
        model = model.filter((m) => m !== top);
      } else if (model.length > 0) {
        const it = model[op.pick % model.length]!;
        if (op.kind === "remove") {
          heap.remove(it);
          expect(it.heapIndex).toBe(-1);
          model = model.filter((m) => m !== it);
        } else {
          it.key = op.key;
          heap.update(it);
        }
      }
      expect(heap.size).toBe(model.length);
      const walker = new HeapWalker(heap, less);
      const walked: Item[] = [];
      for (let x = walker.peek(); x !== undefined; x = walker.peek()) {
        walked.push(x);
        walker.advance();
      }
      expect(walked).toEqual([...model].sort(byKey));
      expect(heap.peek()).toBe(walked[0]);
    }
  }), { numRuns: 300 });
});

test("BinaryHeap built from an array pops in order", () => {
  fc.assert(fc.property(fc.array(fc.integer()), (xs) => {
    const h = new BinaryHeap<number>((a, b) => a < b, [...xs]);
    const out: number[] = [];
    for (let x = h.pop(); x !== undefined; x = h.pop()) out.push(x);
    expect(out).toEqual([...xs].sort((a, b) => a - b));
  }));
});
