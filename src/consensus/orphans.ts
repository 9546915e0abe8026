/**
 * Bounded buffer of events waiting for parents, keyed by the missing parent. Full buffer:
 * the oldest-buffered event is evicted (sync fetches it again later).
 */
import type { SignedEvent } from "../types/event.ts";

export const ORPHAN_EVENTS_MAX_DEFAULT = 10_000;

/** A parent an orphan waits for: its id key and the round the orphan claims for it. */
export interface MissingParent {
  key: string;
  round: number;
}

export interface Orphan {
  event: SignedEvent;
  missing: string[];
  /** Lowest claimed round among the missing parents. */
  lowestMissingRound: number;
}

export class OrphanBuffer {
  /** Insertion order matters (eviction, missingKeys); engine-state.ts keeps it. */
  readonly byKey = new Map<string, Orphan>();
  readonly waiting = new Map<string, string[]>();
  evictedCount = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.byKey.size;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /** Buffers an event; returns the events evicted to make room. */
  add(key: string, event: SignedEvent, missingParents: readonly MissingParent[]): SignedEvent[] {
    if (this.byKey.has(key)) return [];
    const missing = missingParents.map((m) => m.key);
    let lowestMissingRound = Number.MAX_SAFE_INTEGER;
    for (const m of missingParents) if (m.round < lowestMissingRound) lowestMissingRound = m.round;
    const evicted: SignedEvent[] = [];
    while (this.byKey.size >= this.capacity) {
      const oldest = this.byKey.keys().next().value as string;
      evicted.push(this.remove(oldest)!.event);
      this.evictedCount++;
    }
    this.byKey.set(key, { event, missing, lowestMissingRound });
    for (const m of missing) {
      const list = this.waiting.get(m);
      if (list === undefined) this.waiting.set(m, [key]);
      else list.push(key);
    }
    return evicted;
  }

  private remove(key: string): Orphan | undefined {
    const o = this.byKey.get(key);
    if (o === undefined) return undefined;
    this.byKey.delete(key);
    for (const m of o.missing) {
      const list = this.waiting.get(m);
      if (list === undefined) continue;
      const rest = list.filter((x) => x !== key);
      if (rest.length === 0) this.waiting.delete(m);
      else this.waiting.set(m, rest);
    }
    return o;
  }

  /** Ids (as keys) of missing parents that buffered events wait for, oldest first. */
  missingKeys(limit: number): string[] {
    const out: string[] = [];
    for (const key of this.waiting.keys()) {
      if (out.length >= limit) break;
      // A missing parent that is itself buffered waits for its own parents: ask for those.
      if (!this.byKey.has(key)) out.push(key);
    }
    return out;
  }

  /**
   * Removes and returns the orphans waiting for a parent claimed below `round`: once the
   * node has pruned that round such a parent can never be inserted here, and the orphan
   * is stale at every node (SPEC_CONSENSUS §12), so waiting for it is pointless.
   */
  dropWaitingBelow(round: number): SignedEvent[] {
    const out: SignedEvent[] = [];
    for (const [key, o] of this.byKey) {
      if (o.lowestMissingRound >= round) continue;
      this.remove(key); // deleting the current entry keeps a Map iteration valid
      out.push(o.event);
    }
    return out;
  }

  /** Removes and returns the events that were waiting for `parentKey` (to be retried). */
  release(parentKey: string): SignedEvent[] {
    const list = this.waiting.get(parentKey);
    if (list === undefined) return [];
    const out: SignedEvent[] = [];
    for (const key of [...list]) {
      const o = this.remove(key);
      if (o !== undefined) out.push(o.event);
    }
    return out;
  }
}
