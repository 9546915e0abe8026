/**
 * Events of ours and of others that wait for finality, each with what to release
 * when it is final (a proposer batch, held txs), or when the engine reports it stale
 * (never to be ordered, SPEC_CONSENSUS §10). Every entry also has a deadline in ticks,
 * a backstop for an event the engine never saw finalized nor stale (released as if final).
 */
export class InFlight {
  private readonly entries = new Map<string, { expiresAtTick: number; release: () => void }>();

  get size(): number {
    return this.entries.size;
  }

  add(key: string, nowTick: number, ttlTicks: number, release: () => void = () => {}): void {
    if (!this.entries.has(key)) this.entries.set(key, { expiresAtTick: nowTick + ttlTicks, release });
  }

  /** The event is final: release what it held. */
  settle(key: string): boolean {
    const e = this.entries.get(key);
    if (!e) return false;
    this.entries.delete(key);
    e.release();
    return true;
  }

  /** Releases every entry past its deadline; returns how many. Entries are in insertion order, so deadlines grow. */
  expire(nowTick: number): number {
    let n = 0;
    for (const [key, e] of this.entries) {
      if (e.expiresAtTick > nowTick) break;
      this.entries.delete(key);
      e.release();
      n++;
    }
    return n;
  }
}
