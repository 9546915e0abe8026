/**
 * From the consensus engine's finalized stream to the ledger: each finalized event's
 * payload is applied in total order and committed in one SQLite transaction, then
 * the mempool, the proposer and the mint pool learn what was spent and mined.
 */
import type { FinalizedEvent } from "../consensus/engine.ts";
import { applyAnchorBytes, type AnchorContext, type LedgerParams } from "../ledger/apply.ts";
import { settlementDelay } from "../ledger/settlement.ts";
import type { SignedEvent } from "../types/event.ts";
import type { AnchorDiff } from "../ledger/state.ts";
import { decodeAnchorPayload } from "../types/payload.ts";
import { invariant } from "../errors.ts";
import { toHex } from "../crypto/bytes.ts";
import type { SqliteStore } from "../store/sqlite-store.ts";
import type { ChainIndex } from "../store/chain-index.ts";
import type { ConsensusMetrics } from "./metrics.ts";

export interface AppliedAnchorInfo {
  finalized: FinalizedEvent;
  diff: AnchorDiff;
}

export class ChainApplier {
  /** The last finalized events (anchor index → event), at most k·D_max + 1: the settlement window. */
  private readonly recent = new Map<bigint, SignedEvent>();

  constructor(
    private readonly store: SqliteStore,
    private readonly index: ChainIndex,
    private readonly params: LedgerParams,
    private readonly metrics: ConsensusMetrics,
  ) {}

  /** The anchor index the ledger applies next (anchors below it were applied before a restart). */
  nextAnchorIndex(): bigint {
    const last = this.store.lastApplied();
    return last === undefined ? 0n : last.anchorIndex + 1n;
  }

  /** Applies the finalized events the ledger has not seen yet, in order. */
  apply(finalized: readonly FinalizedEvent[]): AppliedAnchorInfo[] {
    // Catching up finalizes many anchors at once: one transaction for all of them.
    return finalized.length > 1 ? this.store.batchWrites("applyAnchors", () => this.applyEach(finalized)) : this.applyEach(finalized);
  }

  private applyEach(finalized: readonly FinalizedEvent[]): AppliedAnchorInfo[] {
    const out: AppliedAnchorInfo[] = [];
    for (const f of finalized) {
      const next = this.nextAnchorIndex();
      this.remember(f.anchorIndex, f.event);
      if (f.anchorIndex < next) {
        // Replayed after a restart: already in the ledger; the index row may be missing
        // if the node stopped between the two writes (only then is the payload read).
        if (!this.index.has(f.anchorIndex)) this.recordIndex(f, this.payloadTxCount(f));
        continue;
      }
      invariant(f.anchorIndex === next, `finalized anchor ${f.anchorIndex} arrived before ${next}`);
      out.push(this.applyOne(f));
    }
    return out;
  }

  private applyOne(f: FinalizedEvent): AppliedAnchorInfo {
    const started = performance.now();
    const digest = f.event.header.payloadDigest;
    const bytes = this.store.getPayload(digest);
    // Events are accepted only together with their payload bytes (P2P.md), so a finalized
    // event without one is a bug, never bad input.
    invariant(bytes !== undefined, `payload ${toHex(digest)} of finalized event ${toHex(f.event.id)} is missing`);
    // A payload that does not decode applies as empty on every node (SPEC_POW §9).
    const diff = applyAnchorBytes(this.store, this.params, f.anchorIndex, bytes, this.context(f));
    this.store.commitAnchor(diff);
    this.recordIndex(f, diff.outcomes.length);
    // Per-transaction outcomes and the anchor index are counted by the store (pc_node_ledger_*).
    if (diff.payloadError) this.metrics.payloadErrors.inc({ code: diff.payloadError });
    this.metrics.anchorsFinalized.inc();
    const tip = this.store.mintTip();
    this.metrics.supplyUnits.set(Number(tip.emittedUnits));
    this.metrics.mintHeight.set(Number(tip.nextHeight));
    this.metrics.targetBits.set(tip.targetBits);
    this.metrics.applySeconds.observe((performance.now() - started) / 1000);
    return { finalized: f, diff };
  }

  private remember(anchorIndex: bigint, event: SignedEvent): void {
    this.recent.set(anchorIndex, event);
    const keep = this.params.economics ? settlementDelay(this.params.economics) : 0n;
    this.recent.delete(anchorIndex - keep - 1n);
  }

  /**
   * The finalized headers the ledger settles fees over (SPEC_FEES §7): anchor indices
   * max(0, i − k·D_max)..i. Normally in memory; after a restart that did not replay them,
   * read back through the anchor index and the event table.
   */
  private context(f: FinalizedEvent): AnchorContext | undefined {
    if (!this.params.economics) return undefined;
    const delay = settlementDelay(this.params.economics);
    const from = f.anchorIndex > delay ? f.anchorIndex - delay : 0n;
    const window: SignedEvent[] = [];
    for (let i = from; i <= f.anchorIndex; i++) {
      let e = this.recent.get(i);
      if (e === undefined) {
        const id = this.index.anchor(i)?.eventId;
        e = id && this.store.getEvent(id);
        invariant(e !== undefined, `finalized event of anchor ${i} is not stored (needed to settle fees)`);
        this.remember(i, e);
      }
      window.push(e);
    }
    return { event: f.event, window };
  }

  private recordIndex(f: FinalizedEvent, txCount: number): void {
    this.index.record(f.anchorIndex, f.event.id, f.event.header.creator, f.roundReceived, txCount);
  }

  private payloadTxCount(f: FinalizedEvent): number {
    const bytes = this.store.getPayload(f.event.header.payloadDigest);
    try {
      return bytes ? decodeAnchorPayload(bytes).txs.length : 0;
    } catch {
      return 0;
    }
  }
}
