/**
 * A bump allocator for per-packet byte buffers (sealed datagrams). One array per
 * packet showed in bulk-transfer profiles: the engine
 * allocates small typed arrays on its GC heap and must move each one to a real
 * ArrayBuffer the first time it is sliced, which every packet is. Carving packets
 * from shared 64 KiB blocks makes both costs per block instead.
 *
 * A region is handed out once and never reused, so a caller may keep it as long
 * as it likes (the block stays alive while any region of it does).
 */
export const BYTE_ARENA_BLOCK_BYTES = 64 * 1024;

export class ByteArena {
  private block = new Uint8Array(0);
  private used = 0;

  /** A fresh, zero-filled region of `bytes` bytes. */
  take(bytes: number): Uint8Array {
    if (this.used + bytes > this.block.length) {
      this.block = new Uint8Array(Math.max(BYTE_ARENA_BLOCK_BYTES, bytes));
      this.used = 0;
    }
    const out = this.block.subarray(this.used, this.used + bytes);
    this.used += bytes;
    return out;
  }

  /** A copy of `data` in a fresh region. */
  copy(data: Uint8Array): Uint8Array {
    const out = this.take(data.length);
    out.set(data);
    return out;
  }
}
