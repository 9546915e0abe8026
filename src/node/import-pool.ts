/**
 * Import claims (docs/SPEC_SHARDING.md §8) waiting to be put on this shard's chain, like
 * the mint pool (mint-pool.ts). A claim reaches every validator of the destination shard
 * (the relay submits it to one, which gossips it in a `txs` message), and all of them
 * could carry it; a second copy would only be void (IMPORT_DUPLICATE). So one validator
 * carries it first, the one with index = export_id mod k (`designated`), and the others
 * only once it has waited `importGraceTicks` without being applied or seen in an event
 * (that validator may be down). A claim an event carries waits for finality; if it is not
 * applied within `importCarriedTicksMax` (the event went stale) it may be carried again.
 * Claims past `importPendingTicksMax` are dropped: the relay resubmits until the import is
 * applied. Ages count node ticks (I/O scheduling, never consensus).
 */
import { PhantomError } from "../errors.ts";
import type { ImportClaim } from "../ledger/cross-shard.ts";

export const importPoolMax = 4_096;
/** Ticks a claim waits for its designated validator before any validator carries it. */
export const importGraceTicks = 25;
/** Ticks a carried claim may wait to be applied before it is carried again. */
export const importCarriedTicksMax = 150;
/** Ticks a claim may wait in all before it is dropped (the relay submits it again). */
export const importPendingTicksMax = 3_000;

export interface PendingImport {
  /** export_id, hex: the pool key (one claim per export). */
  id: string;
  claim: ImportClaim;
  /** The tick from which this validator may carry it. */
  carryFrom: number;
  /** The tick an event (ours or another's) last carried it; null: not carried. */
  carriedAt: number | null;
  sinceTick: number;
}

/** The validator that carries an import first: export_id (first 4 bytes, little-endian) mod k. */
export function designatedCarrier(exportId: Uint8Array, k: number): number {
  const v = (exportId[0]! | (exportId[1]! << 8) | (exportId[2]! << 16)) + exportId[3]! * 2 ** 24;
  return v % k;
}

export class ImportPool {
  private readonly pending = new Map<string, PendingImport>();

  get size(): number {
    return this.pending.size;
  }

  has(id: string): boolean {
    return this.pending.has(id);
  }

  /** Adds a pre-checked claim; false when it is pending already. Throws IMPORT_POOL_FULL at the bound. */
  add(id: string, claim: ImportClaim, designated: boolean, nowTick: number): boolean {
    if (this.pending.has(id)) return false;
    if (this.pending.size >= importPoolMax) throw new PhantomError("IMPORT_POOL_FULL", `${importPoolMax} import claims already wait for inclusion; the relay will submit it again`);
    this.pending.set(id, { id, claim, carryFrom: designated ? nowTick : nowTick + importGraceTicks, carriedAt: null, sinceTick: nowTick });
    return true;
  }

  /** Claims our next event should carry (at most `max`), oldest first. */
  toCarry(nowTick: number, max: number): PendingImport[] {
    const out: PendingImport[] = [];
    for (const p of this.pending.values()) {
      if (out.length >= max) break;
      if (p.carriedAt === null && nowTick >= p.carryFrom) out.push(p);
    }
    return out;
  }

  /** An event (ours, or another validator's we accepted) carries these export ids. */
  markCarried(ids: readonly string[], nowTick: number): void {
    for (const id of ids) {
      const p = this.pending.get(id);
      if (p) p.carriedAt = nowTick;
    }
  }

  /** The finalized order applied (or voided) these claims: they leave. */
  remove(ids: readonly string[]): void {
    for (const id of ids) this.pending.delete(id);
  }

  /** Carried claims not applied in time may be carried again; claims past their deadline leave. */
  age(nowTick: number): void {
    for (const [id, p] of this.pending) {
      if (nowTick - p.sinceTick >= importPendingTicksMax) this.pending.delete(id);
      else if (p.carriedAt !== null && nowTick - p.carriedAt >= importCarriedTicksMax) {
        p.carriedAt = null;
        p.carryFrom = nowTick;
      }
    }
  }
}
