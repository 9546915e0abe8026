/**
 * Per-client token buckets for the RPC listener. A client (one remote address) holds
 * up to `burst` tokens and regains `ratePerS` per second; each request costs one token
 * and each JSON-RPC call (every item of a batch) its method's cost. The clock is an
 * injected monotonic millisecond source: it schedules admission, it decides nothing else.
 */

export interface RateLimitOptions {
  /** Tokens regained per second; 0 turns rate limiting off. */
  ratePerS: number;
  /** Bucket size: the most a client can spend at once. */
  burst: number;
  /** Monotonic milliseconds. */
  now(): number;
  /** Clients tracked at once; the least recently seen is forgotten first (it returns with a full bucket). */
  clientsMax?: number;
}

export const rateLimitClientsMax = 10_000;

interface Bucket {
  tokens: number;
  atMs: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly clientsMax: number;

  constructor(private readonly opts: RateLimitOptions) {
    if (opts.ratePerS < 0 || !(opts.burst > 0)) throw new RangeError("rate limit: ratePerS >= 0 and burst > 0");
    this.clientsMax = opts.clientsMax ?? rateLimitClientsMax;
  }

  get enabled(): boolean {
    return this.opts.ratePerS > 0;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Spends `cost` tokens of `client`; false (and nothing spent) when it has fewer. */
  take(client: string, cost: number): boolean {
    if (!this.enabled) return true;
    const bucket = this.refill(client);
    if (bucket.tokens < cost) return false;
    bucket.tokens -= cost;
    return true;
  }

  /** Whole seconds until `client` can pay `cost` again (for Retry-After). */
  retryAfterS(client: string, cost = 1): number {
    const b = this.buckets.get(client);
    if (!this.enabled || !b) return 0;
    return Math.max(1, Math.ceil((Math.min(cost, this.opts.burst) - b.tokens) / this.opts.ratePerS));
  }

  private refill(client: string): Bucket {
    const now = this.opts.now();
    let b = this.buckets.get(client);
    if (b) {
      this.buckets.delete(client); // re-inserted below: the map stays in least-recently-seen order
      b.tokens = Math.min(this.opts.burst, b.tokens + (Math.max(0, now - b.atMs) / 1000) * this.opts.ratePerS);
      b.atMs = now;
    } else {
      if (this.buckets.size >= this.clientsMax) this.buckets.delete(this.buckets.keys().next().value!);
      b = { tokens: this.opts.burst, atMs: now };
    }
    this.buckets.set(client, b);
    return b;
  }
}
