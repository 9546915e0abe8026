/**
 * When the node prunes its store (docs/STORAGE.md "Pruning", `--prune_keep_rounds`). The
 * store keeps no round per event, so the node notes, at every snapshot it writes, the
 * store position it covers and the highest round of any event inserted by then: every
 * event stored up to that position lies in a round at most that high. Once that round is
 * more than `keepRounds` below the last decided round, those events are decided (ordered
 * or stale) and out of the engine's memory, and a snapshot covers them, so they can go.
 */
import { PhantomError } from "../errors.ts";
import { ANCIENT_ROUNDS } from "../types/constants.ts";
import { StorePruner } from "../store/pruning.ts";
import type { SqliteStore } from "../store/sqlite-store.ts";

/** Rounds kept beyond the engine's own memory (horizon + ancient span), so pruning never races it. */
export const PRUNE_MARGIN_ROUNDS = 16;

export function pruneKeepRoundsMin(horizonRounds: number): number {
  return horizonRounds + ANCIENT_ROUNDS + PRUNE_MARGIN_ROUNDS;
}

/** 0 (keep everything) or at least pruneKeepRoundsMin; anything else is a typed error. */
export function checkPruneKeepRounds(keepRounds: number, horizonRounds: number): void {
  const min = pruneKeepRoundsMin(horizonRounds);
  if (keepRounds !== 0 && !(Number.isSafeInteger(keepRounds) && keepRounds >= min)) {
    throw new PhantomError("CONFIG_PRUNE_KEEP_ROUNDS", `--prune_keep_rounds ${keepRounds} is below the minimum ${min} (this genesis' horizon ${horizonRounds} + ${ANCIENT_ROUNDS} ancient rounds + ${PRUNE_MARGIN_ROUNDS} margin); use 0 to keep everything`);
  }
}

interface Checkpoint {
  seqNo: bigint;
  maxRound: number;
}

export class NodePruning {
  readonly store: StorePruner;
  private checkpoints: Checkpoint[] = [];
  private seqsCache: number[];

  constructor(
    sqlite: SqliteStore,
    private readonly keepRounds: number,
    private readonly k: number,
    /** Anchors before the ledger's next one whose events the ledger may still read (fee settlement window). */
    private readonly keepAnchors: bigint,
    private readonly log: (line: Record<string, unknown>) => void,
  ) {
    this.store = new StorePruner(sqlite);
    this.seqsCache = this.store.prunedSeqs(k);
  }

  get enabled(): boolean {
    return this.keepRounds > 0;
  }

  /** At start-up: a store made before pruning existed is rewritten once so freed pages can be returned. */
  prepare(): void {
    if (!this.enabled || this.store.incrementalVacuumOn()) return;
    this.log({ type: "store_vacuum", reason: "enable incremental vacuum for pruning (one full rewrite of the database)" });
    this.store.enableIncrementalVacuum();
  }

  /** Per creator, the highest pruned seq (-1: none). */
  prunedSeqs(): readonly number[] {
    return this.seqsCache;
  }

  /** A snapshot covering store positions up to `seqNo` was written (or loaded) when the highest inserted round was `maxRound`. */
  noteSnapshot(seqNo: bigint, maxRound: number): void {
    if (!this.enabled) return;
    const last = this.checkpoints[this.checkpoints.length - 1];
    if (last !== undefined && last.seqNo >= seqNo) return;
    this.checkpoints.push({ seqNo, maxRound });
  }

  /**
   * Prunes what may go. `snapshotSeqNos`: positions covered by the stored, intact snapshots
   * (nothing a start-up might replay is deleted); `ledgerNextAnchor`: the ledger's next anchor.
   */
  run(lastDecidedRound: number, snapshotSeqNos: readonly bigint[], ledgerNextAnchor: bigint): void {
    if (!this.enabled || snapshotSeqNos.length === 0) return;
    const below = lastDecidedRound - this.keepRounds;
    let cap = snapshotSeqNos[0]!;
    for (const s of snapshotSeqNos) if (s < cap) cap = s;
    let through = 0n;
    const rest: Checkpoint[] = [];
    for (const c of this.checkpoints) {
      if (c.maxRound < below && c.seqNo <= cap) {
        if (c.seqNo > through) through = c.seqNo;
      } else rest.push(c);
    }
    this.checkpoints = rest;
    if (through === 0n) return;
    const keepFrom = ledgerNextAnchor > this.keepAnchors ? ledgerNextAnchor - this.keepAnchors : 0n;
    const r = this.store.prune(through, keepFrom, this.k);
    this.seqsCache = this.store.prunedSeqs(this.k);
    this.log({ type: "store_pruned", throughSeqNo: through.toString(), belowRound: below, events: r.events, payloads: r.payloads, pagesFreed: r.pages });
  }
}
