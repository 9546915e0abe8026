/**
 * Receipts from other validators for transactions this node relayed (P2P `txs_held`).
 * `tx_submit` acknowledges a transaction only once another validator holds it, so a
 * transaction acknowledged by a validator whose store is then lost (wiped, restored
 * from an old copy) still reaches the chain from the peer that holds it.
 */

interface Waiter {
  pending: Set<string>;
  held: Set<string>;
  resolve(held: Set<string>): void;
}

export class TxReceipts {
  /** txid hex → the submissions waiting for its receipt. */
  private readonly waiting = new Map<string, Waiter[]>();

  /** Resolves with the txids a peer confirmed holding, at the latest after `timeoutMs`. */
  wait(txids: readonly string[], timeoutMs: number): Promise<Set<string>> {
    if (txids.length === 0) return Promise.resolve(new Set());
    return new Promise((resolve) => {
      const w: Waiter = { pending: new Set(txids), held: new Set(), resolve: () => {} };
      const finish = () => {
        clearTimeout(timer);
        for (const id of w.pending) this.forget(id, w);
        w.pending.clear();
        resolve(w.held);
      };
      w.resolve = finish;
      const timer = setTimeout(finish, timeoutMs);
      for (const id of w.pending) {
        const list = this.waiting.get(id);
        if (list) list.push(w);
        else this.waiting.set(id, [w]);
      }
    });
  }

  /** A peer holds these txids: settles every submission waiting only for them. */
  held(txidsHex: readonly string[]): void {
    for (const id of txidsHex) {
      const list = this.waiting.get(id);
      if (!list) continue;
      this.waiting.delete(id);
      for (const w of list) {
        w.pending.delete(id);
        w.held.add(id);
        if (w.pending.size === 0) w.resolve(w.held);
      }
    }
  }

  /** Submissions still waiting (a gauge; bounded by RPC concurrency). */
  get size(): number {
    return this.waiting.size;
  }

  private forget(id: string, w: Waiter): void {
    const list = this.waiting.get(id)?.filter((x) => x !== w);
    if (!list || list.length === 0) this.waiting.delete(id);
    else this.waiting.set(id, list);
  }
}
