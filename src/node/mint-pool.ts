/**
 * Mints submitted to this validator or relayed to it, waiting for finality. One mint
 * per height waits at a time (a second could only be void once the first is final).
 * A mint is carried on chain once: by the validator it was submitted to, or, when that
 * validator has not carried it within the grace period (it may be down), by whoever
 * notices. A mint still not final at its deadline is dropped, so the height is free
 * again and its miner resubmits. Ages count node ticks (I/O scheduling, never consensus).
 */
import { PhantomError } from "../errors.ts";
import { equalBytes, toHex } from "../crypto/bytes.ts";
import type { MintTx } from "../types/mint.ts";

/** Mints waiting at once. */
export const mintPoolMax = 64;
/** Ticks a relayed mint waits for the validator it was submitted to before we carry it. */
export const mintRelayGraceTicks = 25;
/** Ticks a pending mint may wait for finality before it is dropped. */
export const mintPendingTicksMax = 600;

export interface PendingMint {
  mint: MintTx;
  /** Ours to put in our next event. */
  carry: boolean;
  /** An event of ours carries it already. */
  carried: boolean;
  sinceTick: number;
}

export class MintPool {
  private readonly pending = new Map<string, PendingMint>();

  get size(): number {
    return this.pending.size;
  }

  /**
   * Adds a pre-checked mint (`relayed`: it came from a peer, not from a miner of ours).
   * Returns false when it was already pending; throws MINT_ALREADY_PENDING when another
   * mint of its height waits, MINT_POOL_FULL at the bound.
   */
  add(id: Uint8Array, mint: MintTx, relayed: boolean, nowTick: number): boolean {
    const key = toHex(id);
    if (this.pending.has(key)) return false;
    for (const { mint: m } of this.pending.values()) {
      if (m.height === mint.height) throw new PhantomError("MINT_ALREADY_PENDING", `a mint for height ${m.height} already waits for finality`);
    }
    if (this.pending.size >= mintPoolMax) throw new PhantomError("MINT_POOL_FULL", `${mintPoolMax} mints already wait for inclusion`);
    this.pending.set(key, { mint, carry: !relayed, carried: false, sinceTick: nowTick });
    return true;
  }

  /** Mints our next event should carry. */
  toCarry(): PendingMint[] {
    return [...this.pending.values()].filter((m) => m.carry);
  }

  /** Our event with these mints exists: one copy on chain; a second could only be void. */
  markCarried(mints: readonly PendingMint[]): void {
    for (const m of mints) {
      m.carry = false;
      m.carried = true;
    }
  }

  /** Takes over relayed mints past the grace period; drops mints past their deadline. */
  age(nowTick: number): void {
    for (const [key, m] of this.pending) {
      const age = nowTick - m.sinceTick;
      if (age >= mintPendingTicksMax) this.pending.delete(key);
      else if (!m.carry && !m.carried && age >= mintRelayGraceTicks) m.carry = true;
    }
  }

  /** After an anchor is applied: final mints leave, and so do mints no longer on the tip (they can never apply). */
  onApplied(finalIds: readonly Uint8Array[], tipId: Uint8Array): void {
    for (const id of finalIds) this.pending.delete(toHex(id));
    for (const [key, m] of this.pending) if (!equalBytes(m.mint.prevMint, tipId)) this.pending.delete(key);
  }
}
