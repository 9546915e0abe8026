/**
 * A cache of signatures already verified valid, so a transaction checked at mempool
 * admission is not verified again when its anchor is applied (Bitcoin's sigcache
 * idea). Only valid results are kept: verification is a pure function, so answering
 * "valid" from the cache gives exactly the answer `verifyBatch` would, and anything not
 * cached is verified in one native batch as before. Bounded; oldest entries go first.
 *
 * `verifyAsync` verifies the misses on the native pool (startVerifyBatch) while the event
 * loop runs. Until its answers arrive, its signatures are "in flight": another call asking
 * for one of them, asynchronous or not, takes that batch's answer (a synchronous call
 * waits for the pool to finish the batch) instead of verifying it a second time.
 */
import { blake3Batch } from "./hash.ts";
import { startVerifyBatch, verifyBatch, type PendingVerify, type VerifyItem } from "./ed25519.ts";

export const SIGNATURE_CACHE_ENTRIES_DEFAULT = 262_144;

export type BatchVerifier = (items: readonly VerifyItem[]) => boolean[];
export type AsyncBatchVerifier = (items: readonly VerifyItem[]) => Promise<boolean[]>;
/** Starts a batch on the native pool (startVerifyBatch). */
export type BatchStarter = (items: readonly VerifyItem[]) => PendingVerify;

export interface SignatureCacheStats {
  /** Answered without a native check of this call: cached valid, or in flight in another batch. */
  hits: number;
  /** Verified natively. */
  misses: number;
}

/** A signature some started batch is verifying: the batch and its place in it. */
interface InFlight {
  pending: PendingVerify;
  index: number;
}

/** Where each item's answer comes from. */
interface Lookup {
  keys: string[];
  result: boolean[];
  /** Items another batch is verifying, with that batch. */
  joined: { item: number; from: InFlight }[];
  /** Items to verify now (one per distinct key), and the later repeats of those keys. */
  fresh: number[];
  repeats: { item: number; freshIndex: number }[];
}

export class SignatureCache {
  private readonly valid = new Set<string>();
  private readonly inFlight = new Map<string, InFlight>();
  readonly stats: SignatureCacheStats = { hits: 0, misses: 0 };

  constructor(
    private readonly capacity = SIGNATURE_CACHE_ENTRIES_DEFAULT,
    private readonly inner: BatchVerifier = verifyBatch,
    private readonly start: BatchStarter = (items) => startVerifyBatch(items),
  ) {}

  get size(): number {
    return this.valid.size;
  }

  /** Same answers as `verifyBatch(items)`; cached or in-flight signatures skip the native check. */
  readonly verify: BatchVerifier = (items) => {
    if (items.length === 0) return [];
    const l = this.lookup(items);
    for (const { item, from } of l.joined) l.result[item] = from.pending.wait()[from.index]!;
    if (l.fresh.length > 0) {
      const checked = this.inner(l.fresh.map((i) => items[i]!));
      this.answer(l, checked);
      l.fresh.forEach((i, j) => checked[j] && this.remember(l.keys[i]!));
    }
    return l.result;
  };

  /** `verify` with the misses checked on the native verification pool while the event loop runs. */
  readonly verifyAsync: AsyncBatchVerifier = async (items) => {
    if (items.length === 0) return [];
    const l = this.lookup(items);
    const waits: Promise<unknown>[] = l.joined.map(({ item, from }) => from.pending.answers.then((a) => (l.result[item] = a[from.index]!)));
    if (l.fresh.length > 0) {
      const pending = this.start(l.fresh.map((i) => items[i]!));
      l.fresh.forEach((i, j) => this.inFlight.set(l.keys[i]!, { pending, index: j }));
      waits.push(pending.answers.then((checked) => {
        this.answer(l, checked);
        l.fresh.forEach((i, j) => {
          const key = l.keys[i]!;
          if (this.inFlight.get(key)?.pending === pending) this.inFlight.delete(key);
          if (checked[j]) this.remember(key);
        });
      }));
    }
    await Promise.all(waits);
    return l.result;
  };

  private lookup(items: readonly VerifyItem[]): Lookup {
    // sig || pk || msg: signatures and keys have fixed lengths, so the encoding is unambiguous.
    const keys = blake3Batch(items.map((it) => concat3(it.signature, it.publicKey, it.message))).map((d) => Buffer.from(d).toString("latin1"));
    const l: Lookup = { keys, result: new Array(items.length), joined: [], fresh: [], repeats: [] };
    const freshByKey = new Map<string, number>();
    for (let i = 0; i < items.length; i++) {
      const key = keys[i]!;
      const from = this.inFlight.get(key);
      const again = freshByKey.get(key);
      if (this.valid.has(key)) l.result[i] = true;
      else if (from !== undefined) l.joined.push({ item: i, from });
      else if (again !== undefined) l.repeats.push({ item: i, freshIndex: again });
      else freshByKey.set(key, l.fresh.push(i) - 1);
    }
    this.stats.hits += items.length - l.fresh.length;
    this.stats.misses += l.fresh.length;
    return l;
  }

  private answer(l: Lookup, checked: readonly boolean[]): void {
    l.fresh.forEach((i, j) => (l.result[i] = checked[j]!));
    for (const r of l.repeats) l.result[r.item] = checked[r.freshIndex]!;
  }

  private remember(key: string): void {
    if (this.valid.has(key)) return;
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
