/**
 * Feeds the ledger's stake table to the consensus engine (SPEC_CONSENSUS §1a): the table
 * after each finalized anchor, keyed by the round that received it. The anchors of a
 * round are finalized in one engine call, so after the node has applied a call's anchors
 * every decided round is complete and can be reported. On a restart the engine re-derives
 * the order from the store; anchors the ledger applied before the restart are not applied
 * again, and their penalties come from the store's slash records instead.
 */
import type { ConsensusEngine, FinalizedEvent } from "../consensus/engine.ts";
import type { SlashRecord } from "../ledger/stake.ts";
import { invariant } from "../errors.ts";

export interface SlashedUnits {
  anchorIndex: bigint;
  offender: number;
  slashedUnits: bigint;
}

/** Takes out of `before` (and returns) the penalties of anchors below `anchorCount`. */
function stakesSlashedBefore(before: Map<bigint, SlashedUnits[]>, anchorCount: bigint): SlashedUnits[] {
  const out: SlashedUnits[] = [];
  // Sorted: the table does not depend on the order, but the invariant message should not either.
  for (const a of [...before.keys()].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))) {
    if (a >= anchorCount) break;
    out.push(...before.get(a)!);
    before.delete(a);
  }
  return out;
}

/** The stake table after the first `anchorCount` anchors, from genesis and the store's slash records. */
export function stakesAfterAnchors(genesisStakes: readonly bigint[], storedSlashes: readonly SlashedUnits[], anchorCount: bigint): bigint[] {
  const stakes = [...genesisStakes];
  for (const s of storedSlashes) {
    if (s.anchorIndex >= anchorCount) continue;
    stakes[s.offender] = (stakes[s.offender] ?? 0n) - s.slashedUnits;
  }
  return stakes;
}

export class StakeFeed {
  /** The stake table after the last anchor noted (starts at genesis: the engine starts at anchor 0). */
  private readonly stakes: bigint[];
  /** Penalties of anchors applied before this process started, by anchor index. */
  private readonly before = new Map<bigint, SlashedUnits[]>();
  /** Rounds whose anchors changed the table, with the table after them, not yet reported. */
  private changes: { round: number; stakes: bigint[] }[] = [];

  constructor(genesisStakes: readonly bigint[], storedSlashes: readonly SlashedUnits[]) {
    this.stakes = [...genesisStakes];
    for (const s of storedSlashes) {
      const list = this.before.get(s.anchorIndex);
      if (list === undefined) this.before.set(s.anchorIndex, [s]);
      else list.push(s);
    }
  }

  /**
   * Start-up from a consensus snapshot covering the first `anchorCount` anchors: the engine
   * restored there holds their stake reports already (a snapshot is written once every
   * finalized anchor's table is reported), so their penalties move this table without
   * being reported again. Returns the table after them.
   */
  resume(anchorCount: bigint): readonly bigint[] {
    for (const s of stakesSlashedBefore(this.before, anchorCount)) {
      const have = this.stakes[s.offender];
      invariant(have !== undefined && have >= s.slashedUnits, `slash of ${s.slashedUnits} units from validator ${s.offender} exceeds its stake`);
      this.stakes[s.offender] = have - s.slashedUnits;
    }
    return this.stakes;
  }

  /**
   * One finalized anchor, in order. `applied`: the penalties its application made now, or
   * undefined when the ledger had applied it before this process started.
   */
  noteAnchor(f: FinalizedEvent, applied: readonly SlashRecord[] | undefined): void {
    const slashes = applied ?? this.before.get(f.anchorIndex) ?? [];
    this.before.delete(f.anchorIndex);
    let changed = false;
    for (const s of slashes) {
      if (s.slashedUnits === 0n) continue;
      const have = this.stakes[s.offender];
      invariant(have !== undefined && have >= s.slashedUnits, `slash of ${s.slashedUnits} units from validator ${s.offender} exceeds its stake`);
      this.stakes[s.offender] = have - s.slashedUnits;
      changed = true;
    }
    if (!changed) return;
    const last = this.changes[this.changes.length - 1];
    if (last !== undefined && last.round === f.roundReceived) last.stakes = [...this.stakes];
    else this.changes.push({ round: f.roundReceived, stakes: [...this.stakes] });
  }

  /** Reports the noted changes, then the decided round, to the engine. */
  report(engine: ConsensusEngine): void {
    const decided = engine.stats().lastDecidedRound;
    for (const c of this.changes) engine.recordStake(c.round, c.stakes);
    this.changes = [];
    if (decided >= 0) engine.recordStake(decided, this.stakes);
  }

  current(): readonly bigint[] {
    return this.stakes;
  }
}
