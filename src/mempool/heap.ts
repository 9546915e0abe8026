/**
 * Binary min-heaps. `BinaryHeap` is the plain one (built in O(n) from an array);
 * `IndexedHeap` keeps each item's position on the item so any item can be removed
 * in O(log n) (the mempool's eviction order).
 */
export type Less<T> = (a: T, b: T) => boolean;

export class BinaryHeap<T> {
  private readonly items: T[];
  constructor(private readonly less: Less<T>, items: T[] = []) {
    this.items = items;
    for (let i = (items.length >> 1) - 1; i >= 0; i--) this.down(i);
  }
  get size(): number {
    return this.items.length;
  }
  peek(): T | undefined {
    return this.items[0];
  }
  push(item: T): void {
    this.items.push(item);
    this.up(this.items.length - 1);
  }
  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      this.down(0);
    }
    return top;
  }
  private up(i: number): void {
    const items = this.items;
    const item = items[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(item, items[p]!)) break;
      items[i] = items[p]!;
      i = p;
    }
    items[i] = item;
  }
  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const item = items[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.less(items[c + 1]!, items[c]!)) c++;
      if (!this.less(items[c]!, item)) break;
      items[i] = items[c]!;
      i = c;
    }
    items[i] = item;
  }
}

export interface HeapSlot {
  /** Position in the IndexedHeap, -1 when not in it. */
  heapIndex: number;
}

export class IndexedHeap<T extends HeapSlot> {
  private readonly items: T[] = [];
  constructor(private readonly less: Less<T>) {}
  get size(): number {
    return this.items.length;
  }
  peek(): T | undefined {
    return this.items[0];
  }
  push(item: T): void {
    this.items.push(item);
    item.heapIndex = this.items.length - 1;
    this.up(item.heapIndex);
  }
  /** The item at array position `i` (heap order, not sorted order): for `HeapWalker`. */
  at(i: number): T | undefined {
    return this.items[i];
  }
  pop(): T | undefined {
    const top = this.items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }
  /** Restores the heap order after `item`'s key changed. */
  update(item: T): void {
    const i = item.heapIndex;
    if (i < 0 || this.items[i] !== item) return;
    this.down(i);
    this.up(item.heapIndex);
  }
  remove(item: T): void {
    const i = item.heapIndex;
    if (i < 0 || this.items[i] !== item) return;
    const last = this.items.pop()!;
    item.heapIndex = -1;
    if (last === item) return;
    this.items[i] = last;
    last.heapIndex = i;
    this.down(i);
    this.up(last.heapIndex);
  }
  private place(item: T, i: number): void {
    this.items[i] = item;
    item.heapIndex = i;
  }
  private up(i: number): void {
    const item = this.items[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(item, this.items[p]!)) break;
      this.place(this.items[p]!, i);
      i = p;
    }
    this.place(item, i);
  }
  private down(i: number): void {
    const n = this.items.length;
    const item = this.items[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.less(this.items[c + 1]!, this.items[c]!)) c++;
      if (!this.less(this.items[c]!, item)) break;
      this.place(this.items[c]!, i);
      i = c;
    }
    this.place(item, i);
  }
}

/**
 * Visits an IndexedHeap's items in ascending order without modifying it: a frontier
 * heap of array positions starts at the root, and visiting a position adds its two
 * children. Costs O(log k) per item visited, k = items visited so far. The heap must
 * not change while a walker is in use.
 */
export class HeapWalker<T extends HeapSlot> {
  private readonly frontier: BinaryHeap<number>;
  constructor(private readonly heap: IndexedHeap<T>, less: Less<T>) {
    this.frontier = new BinaryHeap<number>((i, j) => less(heap.at(i)!, heap.at(j)!), heap.size > 0 ? [0] : []);
  }
  peek(): T | undefined {
    const i = this.frontier.peek();
    return i === undefined ? undefined : this.heap.at(i);
  }
  advance(): void {
    const i = this.frontier.pop();
    if (i === undefined) return;
    const left = 2 * i + 1;
    if (left < this.heap.size) this.frontier.push(left);
    if (left + 1 < this.heap.size) this.frontier.push(left + 1);
  }
}
