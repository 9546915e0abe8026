/**
 * A cache of signatures already verified valid, so a transaction checked at mempool
 * admission is not verified again when its anchor is applied (Bitcoin's sigcache
 * idea). Only valid results are kept: verification is a pure function, so answering
 * "valid" from the cache gives exactly the answer `verifyBatch` would, and anything not
 * cached is verified in one native batch as before. Bounded; oldest entries go first.
 */
import { blake3Batch } from "./hash.ts";
import { verifyBatch, verifyBatchAsync, type VerifyItem } from "./ed25519.ts";

export const SIGNATURE_CACHE_ENTRIES_DEFAULT = 262_144;

export type BatchVerifier = (items: readonly VerifyItem[]) => boolean[];
export type AsyncBatchVerifier = (items: readonly VerifyItem[]) => Promise<boolean[]>;

export interface SignatureCacheStats {
  hits: number;
  misses: number;
}

export class SignatureCache {
  private readonly valid = new Set<string>();
  readonly stats: SignatureCacheStats = { hits: 0, misses: 0 };

  constructor(
    private readonly capacity = SIGNATURE_CACHE_ENTRIES_DEFAULT,
    private readonly inner: BatchVerifier = verifyBatch,
    private readonly innerAsync: AsyncBatchVerifier = verifyBatchAsync,
  ) {}

  get size(): number {
    return this.valid.size;
  }

  /** Same answers as `verifyBatch(items)`; cached valid signatures skip the native check. */
  readonly verify: BatchVerifier = (items) => {
    if (items.length === 0) return [];
    const { keys, result, missIndex } = this.lookup(items);
    if (missIndex.length > 0) this.fill(keys, result, missIndex, this.inner(missIndex.map((i) => items[i]!)));
    return result;
  };

  /**
   * `verify` with the misses checked on the native verification pool while the event
   * loop runs (verifyBatchAsync); the valid ones are cached when the answers arrive.
   */
  readonly verifyAsync: AsyncBatchVerifier = async (items) => {
    if (items.length === 0) return [];
    const { keys, result, missIndex } = this.lookup(items);
    if (missIndex.length > 0) this.fill(keys, result, missIndex, await this.innerAsync(missIndex.map((i) => items[i]!)));
    return result;
  };

  private lookup(items: readonly VerifyItem[]): { keys: string[]; result: boolean[]; missIndex: number[] } {
    // sig || pk || msg: signatures and keys have fixed lengths, so the encoding is unambiguous.
    const keys = blake3Batch(items.map((it) => concat3(it.signature, it.publicKey, it.message))).map((d) => Buffer.from(d).toString("latin1"));
    const result: boolean[] = new Array(items.length);
    const missIndex: number[] = [];
    for (let i = 0; i < items.length; i++) {
      if (this.valid.has(keys[i]!)) result[i] = true;
      else missIndex.push(i);
    }
    this.stats.hits += items.length - missIndex.length;
    this.stats.misses += missIndex.length;
    return { keys, result, missIndex };
  }

  private fill(keys: readonly string[], result: boolean[], missIndex: readonly number[], checked: readonly boolean[]): void {
    missIndex.forEach((i, j) => {
      result[i] = checked[j]!;
      if (checked[j]) this.remember(keys[i]!);
    });
  }

  private remember(key: string): void {
    if (this.valid.has(key)) return; // two overlapping verifyAsync calls checked it both
    if (this.valid.size >= this.capacity) {
      const oldest = this.valid.values().next().value;
      if (oldest !== undefined) this.valid.delete(oldest);
    }
    this.valid.add(key);
  }
}

function concat3(a: Uint8Array, b: Uint8Array, c: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length + c.length);
  out.set(a, 0);
  out.set(b, a.length);
  out.set(c, a.length + b.length);
  return out;
}
