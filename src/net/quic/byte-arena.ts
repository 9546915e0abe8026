/**
 * A bump allocator for per-packet byte buffers (sealed datagrams). One array per
 * packet showed in bulk-transfer profiles: the engine
 * allocates small typed arrays on its GC heap and must move each one to a real
 * ArrayBuffer the first time it is sliced, which every packet is. Carving packets
 * from shared 64 KiB blocks makes both costs per block instead.
 *
 * A region is handed out once and never reused, so a caller may keep it as long
 * as it likes (the block stays alive while any region of it does) — unless the
 * arena was made `reusable` and its owner calls `reset` (QuicEndpoint's send arena).
 */
export const BYTE_ARENA_BLOCK_BYTES = 64 * 1024;

/** Blocks a reset arena keeps for reuse (a send burst of 64 full datagrams spans two). */
const BYTE_ARENA_KEPT_BLOCKS = 4;

export class ByteArena {
  private block: Uint8Array = new Uint8Array(0);
  private used = 0;
  /** Blocks taken from since the last reset, oldest first (only kept for `reset`). */
  private readonly blocks: Uint8Array[] = [];
  private index = -1;
  private readonly keep: number;

  /** `reusable`: keep a few blocks for `reset` to hand out again. */
  constructor(opts: { reusable?: boolean } = {}) {
    this.keep = opts.reusable ? BYTE_ARENA_KEPT_BLOCKS : 0;
  }

  /** A fresh region of `bytes` bytes: zero-filled unless the arena was `reset`. */
  take(bytes: number): Uint8Array {
    if (this.used + bytes > this.block.length) this.nextBlock(bytes);
    const out = this.block.subarray(this.used, this.used + bytes);
    this.used += bytes;
    return out;
  }

  private nextBlock(bytes: number): void {
    this.used = 0;
    const next = this.blocks[this.index + 1];
    if (next !== undefined && next.length >= bytes) {
      this.index++;
      this.block = next;
      return;
    }
    this.block = new Uint8Array(Math.max(BYTE_ARENA_BLOCK_BYTES, bytes));
    if (this.index + 1 < this.keep) this.blocks[++this.index] = this.block;
  }

  /**
   * Lets the arena carve its blocks again from the start. Only for an owner that
   * knows every region taken so far is dead and that writes every byte it takes
   * (regions are then no longer zero-filled): the endpoint's send arena, once the
   * kernel has copied every datagram (see QuicEndpoint.service). Saves allocating
   * a 64 KiB block, and the garbage collector's work for it, per ~45 full datagrams.
   */
  reset(): void {
    if (this.keep === 0) throw new Error("ByteArena.reset on an arena not made reusable");
    this.index = -1;
    this.used = 0;
    this.block = new Uint8Array(0);
    const first = this.blocks[0];
    if (first !== undefined) {
      this.index = 0;
      this.block = first;
    }
  }

  /** A copy of `data` in a fresh region. */
  copy(data: Uint8Array): Uint8Array {
    const out = this.take(data.length);
    out.set(data);
    return out;
  }
}
