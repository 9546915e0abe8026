/**
 * When the node writes consensus snapshots and which one it starts from (docs/STORAGE.md
 * "Snapshots"). Start-up takes the newest snapshot that is intact, decodes under this
 * genesis and is not ahead of the ledger; each one passed over is logged as a
 * `snapshot_ignored` warning with a typed code, and without one the node replays the
 * whole store as before.
 */
import { ConsensusEngine, type EngineConfig } from "../consensus/engine.ts";
import { PhantomError, isPhantomError } from "../errors.ts";
import type { Genesis } from "../genesis/genesis.ts";
import { SnapshotStore } from "../store/snapshot-store.ts";
import type { SqliteStore } from "../store/sqlite-store.ts";
import { stakesAfterAnchors } from "./stake-feed.ts";

/** Anchors between two snapshots by default (a restart replays at most about this many anchors' events). */
export const SNAPSHOT_INTERVAL_ANCHORS_DEFAULT = 1_000;

export type SnapshotErrorCode = "SNAPSHOT_CHECKSUM" | "SNAPSHOT_STAKE_MISMATCH" | "SNAPSHOT_AHEAD_OF_LEDGER" | "SNAPSHOT_AHEAD_OF_STORE" | "SNAPSHOT_BEFORE_PRUNED" | "SNAPSHOT_REQUIRED";

export class SnapshotError extends PhantomError<SnapshotErrorCode> {
  constructor(code: SnapshotErrorCode, message: string) {
    super(code, message);
    this.name = "SnapshotError";
  }
}

export function engineConfigFromGenesis(g: Genesis): EngineConfig {
  return {
    committee: { publicKeys: g.validators.map((v) => v.publicKey), stakes: g.validators.map((v) => v.stake) },
    coinRoundInterval: g.coinRoundInterval,
    parentsMax: g.parentsMax,
    // The DAG of the node's shard (genesisForShard view); 0 on a single-shard network.
    shard: g.shardView?.shard ?? 0,
    horizonRounds: g.horizonRounds,
    // L = horizonRounds (SPEC_CONSENSUS §1a): the span the engine already keeps in memory.
    stakeLagRounds: g.horizonRounds,
  };
}

export interface LoadedSnapshot {
  engine: ConsensusEngine;
  anchorCount: bigint;
  /** Replay the stored events after this position. */
  eventSeqNo: bigint;
}

export class NodeSnapshots {
  readonly rows: SnapshotStore;
  private lastAnchorCount = 0n;

  constructor(
    private readonly store: SqliteStore,
    private readonly cfg: EngineConfig,
    /** 0: only on clean shutdown. */
    private readonly intervalAnchors: number,
    private readonly log: (line: Record<string, unknown>) => void,
  ) {
    this.rows = new SnapshotStore(store);
  }

  /** The stake table after `anchorCount` anchors, from the genesis stakes and the stored slash records. */
  private stakesAfter(anchorCount: bigint): bigint[] {
    return stakesAfterAnchors(this.cfg.committee.stakes, this.store.slashedByAnchor(), anchorCount);
  }

  /**
   * The newest usable snapshot, or null (full replay). `ledgerNextAnchor`: the ledger's next
   * anchor index; `prunedThrough`: the store position through which events were pruned
   * (a snapshot must cover it, and without one the store cannot be replayed: SNAPSHOT_REQUIRED).
   */
  load(ledgerNextAnchor: bigint, prunedThrough = 0n): LoadedSnapshot | null {
    const lastSeqNo = this.rows.lastEventSeqNo();
    for (const s of this.rows.list()) {
      try {
        if (!s.intact) throw new SnapshotError("SNAPSHOT_CHECKSUM", "snapshot row does not match its checksum (damaged)");
        if (s.anchorCount > ledgerNextAnchor) {
          throw new SnapshotError("SNAPSHOT_AHEAD_OF_LEDGER", `snapshot covers ${s.anchorCount} anchors, the ledger has applied ${ledgerNextAnchor}`);
        }
        if (s.eventSeqNo > lastSeqNo) throw new SnapshotError("SNAPSHOT_AHEAD_OF_STORE", `snapshot covers store position ${s.eventSeqNo}, the store ends at ${lastSeqNo}`);
        if (s.eventSeqNo < prunedThrough) throw new SnapshotError("SNAPSHOT_BEFORE_PRUNED", `snapshot covers store position ${s.eventSeqNo}, events were pruned through ${prunedThrough}`);
        const engine = ConsensusEngine.fromState(this.cfg, s.engineState);
        if (engine.stats().finalizedCount !== s.anchorCount) {
          throw new SnapshotError("SNAPSHOT_CHECKSUM", `snapshot row says ${s.anchorCount} anchors, its engine state ${engine.stats().finalizedCount}`);
        }
        // Its weights must be those a full replay of this store reports (SPEC_CONSENSUS §1a).
        const expected = this.stakesAfter(s.anchorCount);
        if (!engine.reportedStakes().every((x, i) => x === expected[i])) {
          throw new SnapshotError("SNAPSHOT_STAKE_MISMATCH", `snapshot's consensus stake table after ${s.anchorCount} anchors differs from the one the store's slash records give`);
        }
        this.lastAnchorCount = s.anchorCount;
        return { engine, anchorCount: s.anchorCount, eventSeqNo: s.eventSeqNo };
      } catch (e) {
        if (!isPhantomError(e)) throw e;
        this.log({ type: "snapshot_ignored", level: "warning", code: e.code, anchorCount: s.anchorCount.toString(), message: e.message });
      }
    }
    if (prunedThrough > 0n) {
      throw new SnapshotError("SNAPSHOT_REQUIRED", `the store was pruned through position ${prunedThrough} and holds no usable snapshot, so it cannot be replayed; restore one with \`phantom snapshot restore\` (docs/OPERATIONS.md §7)`);
    }
    return null;
  }

  /** After anchors were applied: writes a snapshot when `intervalAnchors` have passed since the last one; its store position, or undefined. */
  afterAnchors(engine: ConsensusEngine): bigint | undefined {
    if (this.intervalAnchors <= 0) return undefined;
    const count = engine.stats().finalizedCount;
    return count - this.lastAnchorCount >= BigInt(this.intervalAnchors) ? this.write(engine) : undefined;
  }

  /**
   * Writes the engine's state now. The caller guarantees every event in the engine is
   * stored and every stored event is in the engine (the node calls this between event
   * batches, after their store write), and that the ledger applied every final anchor.
   */
  write(engine: ConsensusEngine): bigint {
    const anchorCount = engine.stats().finalizedCount;
    const eventSeqNo = this.rows.lastEventSeqNo();
    this.rows.write({ anchorCount, eventSeqNo, engineState: engine.exportState() });
    this.lastAnchorCount = anchorCount;
    return eventSeqNo;
  }

  /** Store positions covered by the stored, intact snapshots. */
  coveredSeqNos(): bigint[] {
    return this.rows.list().filter((s) => s.intact).map((s) => s.eventSeqNo);
  }
}
