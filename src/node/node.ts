/**
 * The composition root of a validator: consensus engine, SQLite store, ledger,
 * mempool, proposer, mint pool and P2P sessions over an injected transport. The
 * consensus engine and the ledger are pure; this class owns every timer and all I/O,
 * and feeds them from bounded queues.
 */
import type { Registry } from "prom-client";
import { ConsensusEngine, type AddResult } from "../consensus/engine.ts";
import type { Genesis } from "../genesis/genesis.ts";
import { ledgerParamsFromGenesis, type LedgerParams } from "../ledger/apply.ts";
import { precheckMintSubmission } from "../ledger/emission.ts";
import type { SigCheck, ValidationContext } from "../ledger/validate.ts";
import { Mempool, outpointKey, offerSignatureChecks, preparedTxids, prepareEncodedOffers, type AdmitResult, type PreparedOffers } from "../mempool/mempool.ts";
import { Proposer } from "../mempool/proposer.ts";
import { PeerManager, PENALTY, type Peer } from "../net/p2p/peers.ts";
import { createP2pMetrics } from "../net/p2p/metrics.ts";
import { eventsPerMessageMax, type P2pMessage, type ServedEvent } from "../net/p2p/messages.ts";
import type { Link } from "../net/p2p/link.ts";
import type { SqliteStore } from "../store/sqlite-store.ts";
import { ChainIndex } from "../store/chain-index.ts";
import { decodeSignedEvent, type SignedEvent } from "../types/event.ts";
import { decodeAnchorPayload, encodeAnchorPayload, EMPTY_PAYLOAD_BYTES, type PayloadTx } from "../types/payload.ts";
import { TAG } from "../types/constants.ts";
import { encodeMintTx, mintId } from "../types/mint.ts";
import { digestMicroTx } from "../types/tx.ts";
import type { Evidence } from "../types/evidence.ts";
import { blake3_32 } from "../crypto/hash.ts";
import { SignatureCache, type BatchVerifier } from "../crypto/sig-cache.ts";
import { VERIFY_ASYNC_MIN_ITEMS, type VerifyItem } from "../crypto/ed25519.ts";
import { equalBytes, toHex } from "../crypto/bytes.ts";
import { PhantomError, invariant, isPhantomError } from "../errors.ts";
import { shardOfLock } from "../ledger/shard.ts";
import { ChainApplier, type AppliedAnchorInfo } from "./chain.ts";
import { InFlight } from "./in-flight.ts";
import { MintPool, type PendingMint } from "./mint-pool.ts";
import { TxLifecycle, mempoolAnnouncement } from "./tx-lifecycle.ts";
import { TxReceipts } from "./tx-receipts.ts";
import { TxJournalStore } from "../store/tx-journal-store.ts";
import { eventMessages, eventsByIdAnswer, syncAnswer } from "./sync.ts";
import { DataAvailabilityWatch, ServeSigner } from "./data-availability.ts";
import { createConsensusMetrics, type ConsensusMetrics } from "./metrics.ts";
import type { Transport } from "./transport.ts";
import type { ValidatorIdentity } from "./keys.ts";
import { FailStop, isFatal } from "./fail-stop.ts";
import { NodeSeries, seriesSampleMs } from "./node-series.ts";
import { NodeSnapshots, SNAPSHOT_INTERVAL_ANCHORS_DEFAULT, engineConfigFromGenesis } from "./snapshots.ts";
import { NodePruning, checkPruneKeepRounds } from "./pruning.ts";
import { settlementDelay } from "../ledger/settlement.ts";
import { StakeFeed } from "./stake-feed.ts";
import { ShardSide, relayIntervalMs } from "./shard-node.ts";
import type { PendingImport } from "./import-pool.ts";
import { SHARD_TAG } from "../ledger/export-tree.ts";

/** Events replayed from the store per engine call at start-up. */
export const replayBatchEvents = 1_024;
/** A `replay_progress` log line every this many replayed events. */
export const replayProgressEvents = 100_000;
/** Evidence items waiting to be put on chain. */
export const evidenceQueueMax = 256;
/**
 * With nothing to carry or finalize, a validator creates an event only this often (SPEC_CONSENSUS
 * §15, quiet when idle): 4 validators × 144 events/day × ~1.1 KB ≈ 0.65 MB of store per validator per day.
 */
export const IDLE_HEARTBEAT_MS_DEFAULT = 600_000;
/** Why a validator created an event (metric label; SPEC_CONSENSUS §15). */
export type EventReason = "payload" | "pending" | "heartbeat" | "rejoin";
/** Ticks an accepted event may wait for finality before what it holds is released (see InFlight). */
export const inFlightTicksMax = 3_000;
/** Proposer intervals a relayed tx waits for the validator it was submitted to (see holdRelayed). */
export const relayHoldIntervals = 5;
/** tx_submit waits this long for another validator to confirm it holds a new tx. */
export const txReceiptWaitMsDefault = 2000;
/** Seqs a validator skips when it rejoins from a wiped or old store: events it may have signed that no peer reported. */
export const rejoinSeqGap = 65_536;
/** While a peer answered a sync with a full message this recently, more history is coming: do not sign yet. */
export const catchUpQuietMs = 1_000;
/**
 * A tick this late (in event intervals, and at least `pausedTickMsMin`) means the process
 * was paused (SIGSTOP, suspend): catch up first. The floor keeps a busy event loop (a long
 * consensus run while catching up) from looking like a pause.
 */
export const pausedTickIntervals = 10;
export const pausedTickMsMin = 5_000;
/** A validator dials one with a lower index only after missing it this long (see redial). */
export const redialLowerAfterMs = 750;
/** Re-dial missing validators this often (I/O scheduling only). */
export const redialIntervalMs = 250;
/** A sync request unanswered this long no longer blocks the next one to that peer. */
export const syncAnswerWaitMs = 10_000;

export interface NodeOptions {
  genesis: Genesis;
  identity: ValidatorIdentity;
  store: SqliteStore;
  transport: Transport;
  registry: Registry;
  eventIntervalMs: number;
  txProposer: boolean;
  txProposerIntervalMs: number;
  txsPerPayload: number;
  payloadBudgetBytes: number;
  mempoolLimits?: { txsMax: number; bytesMax: number };
  /** Monotonic milliseconds; drives rate limits and bans, never consensus. */
  now(): number;
  log(line: Record<string, unknown>): void;
  /** How long tx_submit waits for another validator's receipt (default txReceiptWaitMsDefault). */
  txReceiptWaitMs?: number;
  /** Called for every applied anchor (RPC WebSocket subscribers). */
  onAnchor?(info: AppliedAnchorInfo): void;
  /** Where fatal errors go (the CLI's exits the process); by default the node only stops itself. */
  failStop?: FailStop;
  /** Anchors between consensus snapshots (0: only at clean shutdown); default SNAPSHOT_INTERVAL_ANCHORS_DEFAULT. */
  snapshotIntervalAnchors?: number;
  /** Prune stored events of rounds more than this many below the last decided round (0: keep all; docs/STORAGE.md "Pruning"). */
  pruneKeepRounds?: number;
  /** With nothing pending, create an event only this often (ms; default IDLE_HEARTBEAT_MS_DEFAULT; SPEC_CONSENSUS §15). */
  idleHeartbeatMs?: number;
  /** Sharded network: destination shard -> RPC URL of one of its nodes, for the relay (`--shard_rpc`). */
  shardRpc?: ReadonlyMap<number, string>;
}

export class PhantomNode {
  /** Replaced once, at start-up, by the engine restored from a snapshot. */
  private engineNow: ConsensusEngine;
  /** Consensus snapshots: written every N anchors and at clean shutdown, loaded at start-up. */
  readonly snapshots: NodeSnapshots;
  /** Deletes old events and payloads after snapshots (--prune_keep_rounds). */
  readonly pruning: NodePruning;
  readonly mempool: Mempool;
  /** Persists the mempool and records what became of each accepted tx (tx_status). */
  readonly txLife: TxLifecycle;
  readonly proposer: Proposer;
  readonly peers: PeerManager;
  readonly metrics: ConsensusMetrics;
  readonly index: ChainIndex;
  private readonly chain: ChainApplier;
  /** The ledger's stake table per decided round, for the engine's weights (SPEC_CONSENSUS §1a). */
  private readonly stakeFeed: StakeFeed;
  readonly ledgerParams: LedgerParams;
  readonly sigCache: SignatureCache;
  /** Every timer and connection callback runs through it (see fail-stop.ts). */
  readonly failStop: FailStop;
  /** What the explorer charts (TPS, finality latency, mempool, peers), sampled on a timer. */
  readonly series: NodeSeries;
  /** Payloads built by the proposer, waiting for an event to carry them (digest -> bytes). */
  private readonly readyPayloads: { bytes: Uint8Array; proposerDigest: Uint8Array }[] = [];
  private readonly mintPool = new MintPool();
  /** Root signatures, certificates, import pool and relay; null on a single-shard network. */
  readonly shardSide: ShardSide | null;
  private readonly txReceipts = new TxReceipts();
  private evidenceQueue: Evidence[] = [];
  /** Signs the payloads we serve; checks those served to us (conflicting-DA evidence). */
  private readonly serveSigner: ServeSigner;
  private readonly daWatch: DataAvailabilityWatch;
  /** Accepted events of other creators since our last event. */
  private news = 0;
  /** Accepted, not yet finalized events whose payload is not empty, and what each holds. */
  private readonly inFlight = new InFlight();
  private tickCount = 0;
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private replayed = false;
  private stopped = false;

  constructor(private readonly opts: NodeOptions) {
    const g = opts.genesis;
    this.failStop = opts.failStop ?? new FailStop(opts.log);
    this.failStop.onFail(() => void this.stop());
    this.sigCache = new SignatureCache();
    this.series = new NodeSeries(opts.now);
    this.serveSigner = new ServeSigner(opts.identity.keyPair.secretKey);
    this.daWatch = new DataAvailabilityWatch({ publicKeys: g.validators.map((v) => v.publicKey), shardCount: g.shardCount, parentsMax: g.parentsMax });
    // Mempool admission fills the cache, so applying a finalized anchor rarely verifies again.
    this.ledgerParams = { ...ledgerParamsFromGenesis(g), verify: this.sigCache.verify };
    // stakeLagRounds L = horizonRounds (SPEC_CONSENSUS §1a): the span the engine already keeps in memory.
    const engineConfig = engineConfigFromGenesis(g);
    this.engineNow = new ConsensusEngine(engineConfig);
    this.stakeFeed = new StakeFeed(g.validators.map((v) => v.stake), opts.store.slashedByAnchor());
    this.snapshots = new NodeSnapshots(opts.store, engineConfig, opts.snapshotIntervalAnchors ?? SNAPSHOT_INTERVAL_ANCHORS_DEFAULT, opts.log);
    checkPruneKeepRounds(opts.pruneKeepRounds ?? 0, g.horizonRounds);
    // The ledger reads the events of the fee settlement window back from the store after a restart.
    const keepAnchors = (this.ledgerParams.economics ? settlementDelay(this.ledgerParams.economics) : 0n) + 16n;
    this.pruning = new NodePruning(opts.store, opts.pruneKeepRounds ?? 0, g.k, keepAnchors, opts.log);
    this.metrics = createConsensusMetrics(opts.registry, this.sigCache, () => this.admissionsQueued);
    this.index = new ChainIndex(opts.store);
    this.chain = new ChainApplier(opts.store, this.index, this.ledgerParams, this.metrics);
    this.txLife = new TxLifecycle(new TxJournalStore(opts.store.db), opts.registry);
    this.mempool = new Mempool({ view: opts.store, registry: opts.registry, limits: opts.mempoolLimits, journal: this.txLife, minRelayFeePerByte: g.minRelayFeePerByte });
    this.proposer = new Proposer({ txsPerPayload: opts.txsPerPayload, payloadBudgetBytes: opts.payloadBudgetBytes, registry: opts.registry });
    this.peers = new PeerManager({
      commitment: g.commitment,
      myValidator: opts.identity.index,
      committee: g.validators.map((v) => v.publicKey),
      highestSeq: () => this.engine.highestSeq(),
      onMessage: (peer, m) => this.onMessage(peer, m),
      onPeerReady: (peer) => this.onPeerReady(peer),
      now: opts.now,
      metrics: createP2pMetrics(opts.registry),
      log: opts.log,
      boundary: (where, close, fn) => this.failStop.connection(where, close, fn),
    });
    const sharding = this.ledgerParams.sharding;
    this.shardSide = sharding !== undefined && sharding.shardCount > 1
      ? new ShardSide({
        genesis: g, sharding, store: opts.store, myIndex: opts.identity.index, secretKey: opts.identity.keyPair.secretKey, registry: opts.registry,
        endpoints: opts.shardRpc ?? new Map(), verify: this.sigCache.verify, log: opts.log, now: opts.now,
        broadcast: (m, except) => this.peers.broadcast(m, except),
        misbehaved: (peer, code) => this.peers.misbehaved(peer, PENALTY.invalidEvent, code),
      })
      : null;
  }

  get engine(): ConsensusEngine {
    return this.engineNow;
  }

  get validator(): number {
    return this.opts.identity.index;
  }

  /** Replays the store into the engine, starts listening, dialing and the timers. */
  async start(): Promise<void> {
    this.pruning.prepare();
    this.replay();
    this.opts.log({ type: "mempool_restored", ...this.txLife.restore(this.mempool, this.opts.store, this.validationContext()) });
    await this.opts.transport.listen((link) => this.attach(link));
    this.redial();
    const guard = this.failStop.guard.bind(this.failStop);
    this.timers.push(setInterval(guard("redial", () => this.redial()), redialIntervalMs));
    this.timers.push(setInterval(guard("tick", () => this.tick()), this.opts.eventIntervalMs));
    if (this.opts.txProposer) this.timers.push(setInterval(guard("propose", () => this.propose()), this.opts.txProposerIntervalMs));
    const shardSide = this.shardSide;
    if (shardSide) this.timers.push(setInterval(guard("relay", () => void shardSide.relayPass()), relayIntervalMs));
    this.timers.push(setInterval(guard("series", () => this.series.sample({ mempool: this.mempool.size, peers: this.peers.readyPeers().length, lastDecidedRound: this.engine.stats().lastDecidedRound })), seriesSampleMs));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    // A clean shutdown leaves a snapshot, so the next start replays (almost) nothing.
    if (this.replayed && !this.failStop.failed) {
      try {
        this.snapshots.write(this.engine);
      } catch (e) {
        if (!isPhantomError(e)) throw e;
        this.opts.log({ type: "snapshot_write_failed", code: e.code, message: e.message });
      }
    }
    this.peers.closeAll("shutdown");
    await this.opts.transport.close();
  }

  /**
   * Ready: store replayed and connected to enough validators to reach a quorum of the
   * stake the ledger holds now (slashed stake no longer counts).
   */
  ready(): boolean {
    if (!this.replayed || this.failStop.failed) return false;
    const table = this.opts.store.stakeTable(); // empty before the first anchor: the genesis stakes
    const stakes = table.length > 0 ? table.map((e) => e.stakeUnits) : this.opts.genesis.validators.map((v) => v.stake);
    const total = stakes.reduce((a, b) => a + b, 0n);
    let stake = stakes[this.validator] ?? 0n;
    for (const p of this.peers.readyPeers()) stake += stakes[p.validator] ?? 0n;
    return total > 0n && stake * 3n > total * 2n;
  }

  // ---------------------------------------------------------------- start-up

  /**
   * Restores the engine from the newest usable snapshot (or starts empty) and replays the
   * events stored after it, in store order (docs/STORAGE.md "Snapshots").
   */
  private replay(): void {
    const snapshot = this.snapshots.load(this.chain.nextAnchorIndex(), this.pruning.store.prunedThrough());
    const from = snapshot?.eventSeqNo ?? 0n;
    if (snapshot !== null) {
      this.engineNow = snapshot.engine;
      // The restored engine holds the stake reports of the anchors it covers (checked by load).
      this.stakeFeed.resume(snapshot.anchorCount);
      this.pruning.noteSnapshot(snapshot.eventSeqNo, snapshot.engine.stats().maxRound);
      this.holdRestored();
      this.opts.log({ type: "snapshot_loaded", anchorCount: snapshot.anchorCount.toString(), eventSeqNo: snapshot.eventSeqNo.toString(), dagEvents: snapshot.engine.stats().events });
    }
    const total = this.opts.store.eventCountAfter(from);
    let done = 0;
    let batch: SignedEvent[] = [];
    const flush = () => {
      this.afterAdd(this.engine.addEvents(batch, { trusted: true }), null);
      const before = done;
      done += batch.length;
      batch = [];
      if (Math.floor(done / replayProgressEvents) > Math.floor(before / replayProgressEvents)) {
        this.opts.log({ type: "replay_progress", events: done, of: total, nextAnchor: this.chain.nextAnchorIndex().toString() });
      }
    };
    for (const e of this.opts.store.allEventsInInsertOrder(from)) {
      batch.push(e);
      if (batch.length >= replayBatchEvents) flush();
    }
    flush();
    this.replayed = true;
    this.opts.log({
      type: "store_replayed", events: this.opts.store.eventCount(), replayedEvents: done, fromSnapshot: snapshot !== null,
      nextAnchor: this.chain.nextAnchorIndex().toString(), highestSeq: this.engine.highestSeq(),
    });
  }

  /**
   * The events a snapshot put in memory were not "accepted" in this process: what those of
   * other validators carry and that is not final yet is held as a full replay would hold it.
   */
  private holdRestored(): void {
    const all = this.engine.highestSeq().map(() => -1);
    for (const e of this.engine.eventsAfter(all, Number.MAX_SAFE_INTEGER)) {
      if (e.header.creator === this.validator || equalBytes(e.header.payloadDigest, EMPTY_DIGEST)) continue;
      if (this.index.anchorOfEvent(e.id) === undefined) this.holdCarried(e);
    }
  }

  // ---------------------------------------------------------------- peers

  private attach(link: Link): void {
    if (this.stopped) return link.close("shutdown");
    this.failStop.connection("p2p_attach", (reason) => link.close(reason), () => this.peers.attach(link));
  }

  /**
   * The lower index dials the higher one, so each pair normally has one link. A
   * validator that restarted is not known to be gone by the lower ones until their old
   * connection times out, so the higher index also dials a lower one it has missed for
   * `redialLowerAfterMs`; the new, authenticated session replaces the dead one.
   */
  private redial(): void {
    const g = this.opts.genesis;
    const now = this.opts.now();
    for (let j = 0; j < g.k; j++) {
      if (j === this.validator) continue;
      if (this.peers.isConnected(j)) {
        this.missingSince.delete(j);
        continue;
      }
      if (!this.missingSince.has(j)) this.missingSince.set(j, now);
      if (j < this.validator && now - this.missingSince.get(j)! < redialLowerAfterMs) continue;
      if (this.dialing.has(j)) continue;
      this.dialing.add(j);
      this.opts.transport.dial(g.validators[j]!.address, g.validators[j]!.publicKey)
        .then((link) => this.attach(link))
        .catch(() => {}) // unreachable for now; the next redial tries again
        .finally(() => this.dialing.delete(j));
    }
  }
  private readonly dialing = new Set<number>();
  /** When we noticed each validator was not connected (monotonic ms). */
  private readonly missingSince = new Map<number, number>();

  private onPeerReady(peer: Peer): void {
    const ownSeqHere = this.engine.highestSeq()[this.validator] ?? -1;
    const ownSeqThere = peer.highestSeq[this.validator] ?? -1;
    this.ownSeqSeenByPeers = Math.max(this.ownSeqSeenByPeers, ownSeqThere);
    // A peer holds an event of ours that we do not: our store was wiped or restored from an
    // old copy. The next event must rejoin past everything we may have signed (SPEC_CONSENSUS §12).
    if (ownSeqThere > ownSeqHere && !this.rejoinFromOldStore) {
      this.rejoinFromOldStore = true;
      this.opts.log({ type: "rejoin_old_store", ownSeqHere, ownSeqThere });
    }
    const mine = this.engine.highestSeq();
    if (peer.highestSeq.some((s, c) => s > (mine[c] ?? -1))) this.requestSync(peer);
    for (const m of mempoolAnnouncement(this.mempool)) peer.send(m); // what it may have missed, e.g. while we were down
    this.shardSide?.onPeerReady(peer);
  }

  private onMessage(peer: Peer, m: P2pMessage): void {
    try {
      switch (m.kind) {
        case "events":
          return this.onEvents(peer, m.items);
        case "sync_request":
          return syncAnswer(this.opts.store, m.highestSeq, this.signServe, this.pruning.prunedSeqs()).forEach((r) => peer.send(r));
        case "txs":
          return this.onTxs(peer, m.txs);
        case "get_payload":
          return this.answerGetPayload(peer, m.eventId);
        case "get_events":
          return eventsByIdAnswer(this.opts.store, m.ids, this.signServe).forEach((r) => peer.send(r));
        case "payload": {
          // Payloads travel with their events; this answer only matters when its bytes do not match.
          const e = this.opts.store.getEvent(m.eventId);
          if (e) this.servedMismatch(peer, e, m.payload, m.serveSignature);
          return;
        }
        case "txs_held":
          return this.txReceipts.held(m.txids.map(toHex));
        case "sync_end":
          return this.onSyncEnd(peer, m.more);
        case "history_pruned":
          return this.onHistoryPruned(peer, m.prunedSeqs);
        case "root_signature":
          // Only validators of a sharded network send these.
          if (this.shardSide) return this.shardSide.onRootSignature(peer, m);
          return this.peers.misbehaved(peer, PENALTY.protocol, "P2P_UNEXPECTED_MESSAGE");
        case "hello":
          return this.peers.misbehaved(peer, PENALTY.protocol, "P2P_DUPLICATE_HELLO");
      }
    } catch (e) {
      if (!isPhantomError(e) || isFatal(e)) throw e; // our own fault, not the peer's: the boundary handles it
      this.peers.misbehaved(peer, PENALTY.malformed, e.code);
    }
  }

  /**
   * A peer pruned history we lack: it cannot bring us up from there (an empty or old store
   * needs `phantom snapshot restore`, docs/OPERATIONS.md §7). Logged once per peer.
   */
  private onHistoryPruned(peer: Peer, prunedSeqs: readonly number[]): void {
    this.metrics.eventsRejected.inc({ code: "P2P_HISTORY_PRUNED" });
    if (this.historyPrunedBy.has(peer.validator)) return;
    this.historyPrunedBy.add(peer.validator);
    this.opts.log({ type: "peer_history_pruned", level: "warning", code: "P2P_HISTORY_PRUNED", validator: peer.validator, prunedSeqs, highestSeq: this.engine.highestSeq() });
  }
  private readonly historyPrunedBy = new Set<number>();

  // ---------------------------------------------------------------- events

  private onEvents(peer: Peer, items: ServedEvent[]): void {
    const events: SignedEvent[] = [];
    for (const it of items) {
      let e: SignedEvent;
      try {
        e = decodeSignedEvent(it.event);
      } catch (err) {
        if (!isPhantomError(err)) throw err;
        this.metrics.eventsRejected.inc({ code: err.code });
        this.peers.misbehaved(peer, PENALTY.malformed, err.code);
        continue;
      }
      peer.noteServed(e.id); // times a get_events request for it (pc_p2p_request_latency_seconds)
      if (this.servedMismatch(peer, e, it.payload, it.serveSignature)) continue;
      if (this.opts.store.hasEvent(e.id)) continue;
      this.opts.store.putPayload(it.payload, e.header.payloadDigest); // just checked to be its digest
      events.push(e);
    }
    // A full message means the peer had more: history is still arriving (see mayCreateEvents).
    if (items.length >= eventsPerMessageMax) this.lastFullSyncAt = this.opts.now();
    if (events.length === 0) return;
    // History answering our sync request: the other peers have it already, so it is not relayed.
    const result = this.addToEngine(events, peer, !this.syncSentAt.has(peer));
    if (result.orphaned > 0) this.requestSync(peer);
    // Sync by seq never returns the other side of a fork: ask for missing parents by id.
    const missing = this.engine.missingParents(eventsPerMessageMax);
    if (missing.length > 0) peer.send({ kind: "get_events", ids: missing });
  }


  /**
   * Asks `peer` for what we lack, keeping one request in flight per peer: a request made
   * while one is outstanding is sent when its `sync_end` arrives. (Asking again on every
   * full message of an answer multiplied the requests while far behind.)
   */
  private requestSync(peer: Peer): void {
    const sentAt = this.syncSentAt.get(peer);
    if (sentAt !== undefined && this.opts.now() - sentAt < syncAnswerWaitMs) {
      this.syncWanted.add(peer);
      return;
    }
    this.syncSentAt.set(peer, this.opts.now());
    this.syncWanted.delete(peer);
    peer.send({ kind: "sync_request", highestSeq: this.engine.highestSeq() });
  }
  private readonly syncSentAt = new WeakMap<Peer, number>();
  private readonly syncWanted = new WeakSet<Peer>();

  private onSyncEnd(peer: Peer, more: boolean): void {
    this.syncSentAt.delete(peer);
    // More history is coming: hold signing meanwhile (see mayCreateEvents).
    if (more) this.lastFullSyncAt = this.opts.now();
    if (more || this.syncWanted.has(peer)) this.requestSync(peer);
  }

  private addToEngine(events: SignedEvent[], from: Peer | null, relay = true): AddResult {
    const started = performance.now();
    const result = this.engine.addEvents(events);
    this.metrics.consensusSeconds.observe((performance.now() - started) / 1000);
    this.afterAdd(result, from, relay);
    return result;
  }

  /** Persists accepted events, relays them (unless `relay` is false), applies what became final. */
  private afterAdd(result: AddResult, from: Peer | null, relay = true): void {
    const replaying = !this.replayed;
    if (!replaying && result.accepted.length > 0) {
      this.opts.store.putEvents(result.accepted.map((event) => ({ event })));
      if (relay) this.relay(result.accepted, from);
    }
    for (const e of result.accepted) {
      this.metrics.eventsAccepted.inc();
      if (e.header.creator !== this.validator) this.news++;
      if (equalBytes(e.header.payloadDigest, EMPTY_DIGEST) || e.header.creator === this.validator) continue;
      this.holdCarried(e);
    }
    for (const r of result.rejected) {
      this.metrics.eventsRejected.inc({ code: r.code });
      // Duplicates, late events below our pruning and evicted orphans are what honest relays produce.
      if (from && !HARMLESS_REJECTIONS.has(r.code)) this.peers.misbehaved(from, PENALTY.invalidEvent, r.code);
    }
    for (const ev of result.evidence) this.queueEvidence(ev);
    const stats = this.engine.stats();
    this.metrics.orphans.set(stats.orphans);
    this.metrics.dagEvents.set(stats.events);
    this.metrics.lastDecidedRound.set(stats.lastDecidedRound);
    // A stale event is never ordered: what it carried (ours or held from others) is free again.
    for (const e of result.stale) this.inFlight.settle(toHex(e.id));
    if (result.finalized.length > 0) this.onFinalized(result);
    this.feedStake();
    if (result.finalized.length > 0) this.afterAnchorsApplied();
  }

  /**
   * Every accepted event is stored by now, the ledger applied every final anchor and the
   * engine holds the stake table of every decided round: a snapshot taken here restores
   * with the weights a full replay would give (StakeFeed.resume).
   */
  private afterAnchorsApplied(): void {
    if (!this.replayed || this.stopped) return;
    const written = this.snapshots.afterAnchors(this.engine);
    if (written === undefined) return;
    const stats = this.engine.stats();
    this.pruning.noteSnapshot(written, stats.maxRound);
    this.pruning.run(stats.lastDecidedRound, this.snapshots.coveredSeqNos(), this.chain.nextAnchorIndex());
  }

  /**
   * Reports the stake table of every round decided so far to the engine; when that makes
   * the weights of more rounds known and events wait for them, places them now (bounded:
   * each pass needs newly decided rounds).
   */
  private feedStake(): void {
    const knownBefore = this.engine.stats().weightsKnownRoundMax;
    this.stakeFeed.report(this.engine);
    const s = this.engine.stats();
    this.metrics.weightWaiting.set(s.weightWaiting);
    if (s.weightWaiting > 0 && s.weightsKnownRoundMax > knownBefore) this.afterAdd(this.engine.addEvents([]), null);
  }

  private onFinalized(result: AddResult): void {
    for (const f of result.finalized) this.inFlight.settle(toHex(f.event.id));
    const applied = this.chain.apply(result.finalized);
    const slashesAt = new Map(applied.map((info) => [info.finalized.anchorIndex, info.diff.slashes]));
    for (const f of result.finalized) this.stakeFeed.noteAnchor(f, slashesAt.get(f.anchorIndex));
    this.checkStakeFeed();
    for (const info of applied) {
      this.shardSide?.afterAnchor(info.diff);
      this.txLife.afterAnchor(info.diff, this.mempool, (e) => this.proposer.isPending(e.txid));
      this.mintPool.onApplied(info.diff.mints.map((m) => m.id), this.opts.store.mintTip().tipId);
      this.series.noteApplied(info.finalized.event.id, info.diff.outcomes.filter((o) => o.applied && (o.kind === "micro" || o.kind === "mint")).length);
      this.opts.onAnchor?.(info);
    }
  }

  /** Once the ledger has applied everything the engine finalized, both must hold one stake table. */
  private checkStakeFeed(): void {
    const ledger = this.opts.store.stakeTable();
    if (ledger.length === 0 || this.chain.nextAnchorIndex() !== this.engine.stats().finalizedCount) return;
    const fed = this.stakeFeed.current();
    invariant(ledger.every((e, i) => e.stakeUnits === fed[i]), "the stake table fed to consensus differs from the ledger's");
  }

  /**
   * The txs another validator's accepted event carries are in flight: proposing them
   * too could only add a void duplicate, so the proposer skips them until that event
   * is final (then they are applied, or back in play if they were void).
   */
  private holdCarried(e: SignedEvent): void {
    const id = toHex(e.id);
    const key = `event:${id}`;
    this.inFlight.add(id, this.tickCount, inFlightTicksMax, () => this.proposer.unhold(key));
    const bytes = this.opts.store.getPayload(e.header.payloadDigest);
    if (!bytes) return;
    let txs: PayloadTx[];
    try {
      txs = decodeAnchorPayload(bytes).txs;
    } catch {
      return; // applies as empty when final (SPEC_POW §9); nothing to hold
    }
    const micro = txs.flatMap((t) => (t.kind === "micro" ? [t.tx] : []));
    this.proposer.hold(key, micro.map((tx) => toHex(digestMicroTx(tx))), micro.flatMap((tx) => tx.inputs.map(outpointKey)));
    this.shardSide?.carried(txs.flatMap((t) => (t.kind === "import" ? [t.tx] : [])), this.tickCount);
  }

  private relay(events: SignedEvent[], except: Peer | null): void {
    for (const chunk of eventMessages(this.opts.store, events, this.signServe)) this.peers.broadcast(chunk, except ?? undefined);
  }

  private readonly signServe = (eventId: Uint8Array, payloadDigest: Uint8Array): Uint8Array => this.serveSigner.sign(eventId, payloadDigest);

  private queueEvidence(ev: Evidence): void {
    this.metrics.evidence.inc({ kind: ev.kind });
    if (this.evidenceQueue.length < evidenceQueueMax) this.evidenceQueue.push(ev);
  }

  /**
   * Payload bytes a peer served for `e` that do not match its signed digest are refused and
   * scored; under the server's valid signature they are conflicting-DA evidence (SPEC_SLASHING §3).
   */
  private servedMismatch(peer: Peer, e: SignedEvent, payload: Uint8Array, serveSignature: Uint8Array): boolean {
    const found = this.daWatch.check(e, payload, serveSignature, peer.validator);
    if (found === "match") return false;
    this.metrics.eventsRejected.inc({ code: "EVENT_PAYLOAD_MISMATCH" });
    this.peers.misbehaved(peer, PENALTY.invalidEvent, "EVENT_PAYLOAD_MISMATCH");
    if (typeof found === "object") this.queueEvidence(found);
    return true;
  }

  private answerGetPayload(peer: Peer, eventId: Uint8Array): void {
    const e = this.opts.store.getEvent(eventId);
    const payload = e && this.opts.store.getPayload(e.header.payloadDigest);
    if (!e || !payload) return;
    const digest = blake3_32(payload); // what we sign is what we send (see eventMessages)
    if (equalBytes(digest, e.header.payloadDigest)) peer.send({ kind: "payload", eventId, payload, serveSignature: this.signServe(eventId, digest) });
  }



  // ---------------------------------------------------------------- creating events

  /**
   * Signing an event at a seq we already used is equivocation (slashed 100%). A node
   * that lost its store, or restored an old one, must first learn its own newest
   * event: it creates nothing until it has met a quorum of stake once, and while any
   * peer's hello showed a higher own seq than the engine holds (sync brings them).
   */
  private mayCreateEvents(): boolean {
    if (!this.metQuorum) this.metQuorum = this.ready();
    const catchingUp = this.opts.now() - this.lastFullSyncAt < catchUpQuietMs;
    const may = this.metQuorum && !catchingUp && (this.engine.highestSeq()[this.validator] ?? -1) >= this.ownSeqSeenByPeers;
    this.metrics.rejoinWaiting.set(may ? 0 : 1);
    return may;
  }
  private metQuorum = false;
  private ownSeqSeenByPeers = -1;
  /** Set when peers know events of ours the store lacks; cleared by the rejoin event. */
  private rejoinFromOldStore = false;
  private lastFullSyncAt = Number.NEGATIVE_INFINITY;
  private lastTickAt = Number.NaN;

  /**
   * After a pause (SIGSTOP, a suspended VM) the first timer fires late: ask every peer for
   * what we missed, and hold signing while it arrives, so the next event links to the present.
   */
  private noticePause(): void {
    const now = this.opts.now();
    const gapMs = now - this.lastTickAt;
    this.lastTickAt = now;
    if (Number.isNaN(gapMs) || gapMs <= Math.max(pausedTickIntervals * this.opts.eventIntervalMs, pausedTickMsMin)) return;
    this.lastFullSyncAt = now;
    this.opts.log({ type: "pause_detected", gapMs: Math.round(gapMs) });
    for (const p of this.peers.readyPeers()) this.requestSync(p);
  }

  private tick(): void {
    if (this.stopped) return;
    this.noticePause();
    this.tickCount++;
    this.inFlight.expire(this.tickCount);
    this.mintPool.age(this.tickCount);
    this.shardSide?.tick(this.tickCount);
    if (!this.mayCreateEvents()) return;
    const plan = this.planPayload();
    const reason = this.eventReason(plan);
    if (reason !== null) this.createOwnEvent(plan, reason);
  }

  /**
   * Quiet when idle (SPEC_CONSENSUS §15): an event when there is something to carry; else,
   * once another validator's event arrived since our last one, while work is pending (a
   * payload event not ordered yet, fees not settled yet) or a rejoin is due, and otherwise
   * only every `idleHeartbeatMs`. Null: create nothing now.
   */
  private eventReason(plan: PayloadPlan | null): EventReason | null {
    if (plan !== null) return "payload";
    if (this.engine.highestSeq()[this.validator] === -1) return "heartbeat"; // our first event
    const pending = this.engine.pendingPayloadEvents(EMPTY_DIGEST);
    this.metrics.pendingWork.set(pending);
    // A committee of one never hears news: its own events are what decide rounds.
    if (this.news === 0 && this.opts.genesis.k > 1) return null;
    if (this.rejoinFromOldStore) return "rejoin";
    if (pending > 0 || this.opts.store.pendingFees().length > 0 || this.mintMaturing() || this.exportsAwaitRoot()) return "pending";
    if (this.opts.now() - this.lastOwnEventAt >= (this.opts.idleHeartbeatMs ?? IDLE_HEARTBEAT_MS_DEFAULT)) return "heartbeat";
    return null;
  }
  /**
   * Fewer anchors than a mint needs have passed since the newest mint (SPEC_CONSENSUS §15):
   * its output is spendable after `maturity_anchors` (SPEC_POW §8), and the difficulty
   * retarget (SPEC_POW §7) expects `target_anchors_per_mint` anchors per mint; an idle
   * network would otherwise reach either only by heartbeats, and a network whose only
   * activity is mining would see too few anchors per mint and raise the difficulty forever.
   */
  private mintMaturing(): boolean {
    const mintAnchor = this.opts.store.lastMintAnchor();
    if (mintAnchor === undefined) return false;
    const { maturityAnchors, targetAnchorsPerMint } = this.opts.genesis.emission;
    const last = this.opts.store.lastApplied()?.anchorIndex ?? -1n;
    return last + 1n < mintAnchor + (maturityAnchors > targetAnchorsPerMint ? maturityAnchors : targetAnchorsPerMint);
  }
  /**
   * Sharded: the current epoch holds exports, so its root (and the certificate the
   * destination waits for) needs the epoch's remaining anchors (SPEC_SHARDING §11).
   */
  private exportsAwaitRoot(): boolean {
    const sharding = this.ledgerParams.sharding;
    if (!this.shardSide || !sharding) return false;
    return this.opts.store.exportsOfEpoch(this.chain.nextAnchorIndex() / sharding.rootInterval).length > 0;
  }
  /** When we last created an event; −∞ until then, so a restarted validator heartbeats on its first news. */
  private lastOwnEventAt = Number.NEGATIVE_INFINITY;

  /**
   * What our next event would carry: the oldest proposer batch plus mints submitted to
   * us and evidence. Nothing is taken from the queues here: `createOwnEvent` commits the
   * plan only once the event exists, so a failed attempt loses no mint or evidence.
   */
  private planPayload(): PayloadPlan | null {
    const ready = this.readyPayloads[0];
    const mints = this.mintPool.toCarry();
    const evidence = this.evidenceQueue.slice();
    const imports = this.shardSide?.toCarry(this.tickCount) ?? [];
    if (!ready && mints.length === 0 && evidence.length === 0 && imports.length === 0) return null;
    if (mints.length === 0 && evidence.length === 0 && imports.length === 0) return { bytes: ready!.bytes, ready: ready!, mints, evidenceCount: 0, imports };
    const txs: PayloadTx[] = [
      ...(ready ? decodeAnchorPayload(ready.bytes).txs : []),
      ...mints.map((m): PayloadTx => ({ kind: "mint", tx: m.mint })),
      ...evidence.map((ev): PayloadTx => ({ kind: "evidence", tx: ev })),
      ...imports.map((i): PayloadTx => ({ kind: "import", tx: i.claim })),
    ];
    return { bytes: encodeAnchorPayload({ txs }), ready: ready ?? null, mints, evidenceCount: evidence.length, imports };
  }

  private createOwnEvent(wanted: PayloadPlan | null, reason: EventReason): void {
    // Rejoin (SPEC_CONSENSUS §12): after an old or wiped store, or when the others stopped
    // seeing our events (we were paused, partitioned or behind), link past our old events.
    const stalled = this.engine.chainStalled(this.validator);
    const reroot = this.rejoinFromOldStore || stalled;
    // A rejoin event carries nothing: it may come while we still catch up, and the plan
    // stays queued for the next event.
    const plan = reroot ? null : wanted;
    const bytes = plan?.bytes ?? EMPTY_PAYLOAD_BYTES;
    const digest = this.opts.store.putPayload(bytes);
    let event: SignedEvent;
    try {
      event = this.engine.createEvent(this.validator, this.opts.identity.keyPair.secretKey, digest, {
        reroot, rejoinSeqGap: this.rejoinFromOldStore ? rejoinSeqGap : 0,
      });
    } catch (e) {
      // No event by another validator yet: a cross-link is impossible until one arrives.
      // Rejoining: wait until our newest event is ancient next to the present.
      if (isPhantomError(e) && e.code === "CONSENSUS_NO_CROSS_LINK") return;
      if (isPhantomError(e) && e.code === "CONSENSUS_REJOIN_WAIT") return void this.metrics.rejoinWaiting.set(1);
      // Decisions lag more than L rounds: wait for the ledger to report the weights.
      if (isPhantomError(e) && e.code === "CONSENSUS_STAKE_WAIT") return void this.metrics.stakeWaits.inc();
      throw e;
    }
    if (reroot) {
      this.metrics.rejoins.inc({ cause: this.rejoinFromOldStore ? "old_store" : "stalled" });
      this.opts.log({ type: "rejoined", cause: this.rejoinFromOldStore ? "old_store" : "stalled", seq: event.header.seq });
      this.rejoinFromOldStore = false;
    }
    const proposerDigest = plan?.ready?.proposerDigest;
    if (plan) {
      if (plan.ready) {
        this.readyPayloads.shift();
        this.proposeSoon(); // what arrived since that payload was built rides the next event
      }
      this.mintPool.markCarried(plan.mints);
      this.evidenceQueue.splice(0, plan.evidenceCount);
      this.shardSide?.carried(plan.imports.map((i) => i.claim), this.tickCount);
    }
    this.metrics.eventsCreated.inc({ reason: reroot ? "rejoin" : reason });
    this.series.noteCreated(event.id);
    this.news = 0;
    this.lastOwnEventAt = this.opts.now();
    this.opts.store.putEvents([{ event, payload: bytes }]);
    this.metrics.eventsAccepted.inc();
    // Once final (or past its deadline, if it is never ordered) its txs may be proposed again.
    if (!equalBytes(digest, EMPTY_DIGEST)) this.inFlight.add(toHex(event.id), this.tickCount, inFlightTicksMax, () => proposerDigest && this.proposer.release(proposerDigest));
    this.relay([event], null);
    // createEvent inserted it; consensus runs (and evidence found meanwhile is flushed) here.
    this.afterAdd(this.engine.addEvents([]), null);
  }

  /**
   * Proposing follows what is pending: once no built payload waits for an event and
   * transactions do, the next payload is built at once (coalesced into one build per turn
   * of the event loop) rather than at the next proposer interval, which stays as the
   * fallback for txs that become eligible later (released holds, void duplicates).
   */
  private proposeSoon(): void {
    if (!this.opts.txProposer || this.proposeQueued || this.stopped || this.readyPayloads.length > 0 || this.mempool.size === 0) return;
    this.proposeQueued = true;
    setTimeout(this.failStop.guard("propose", () => {
      this.proposeQueued = false;
      if (this.readyPayloads.length === 0) this.propose();
    }), 0);
  }
  private proposeQueued = false;

  private propose(): void {
    if (this.stopped || this.mempool.size === 0) return;
    try {
      const built = this.proposer.build(this.mempool.candidates);
      if (built) this.readyPayloads.push({ bytes: built.bytes, proposerDigest: built.digest });
    } catch (e) {
      if (!isPhantomError(e)) throw e;
      this.opts.log({ type: "proposer_error", code: e.code, message: e.message });
    }
  }

  // ---------------------------------------------------------------- transactions and mints

  /**
   * Admits encoded MicroTxs (RPC or peers); relays the accepted ones. A peer's txs get a
   * receipt (`txs_held`) for those we now hold; a resubmission over RPC of a tx we hold
   * already is relayed again, so its receipt can come (see acknowledged()).
   */
  submitTxs(encoded: Uint8Array[], from: Peer | null = null): AdmitResult[] {
    return this.admitAndRelay(prepareEncodedOffers(encoded), encoded, from, this.validationContext());
  }

  /**
   * `submitTxs` without blocking the event loop on signatures: the batch's signature
   * checks are verified first on the native verification pool (sigCache.verifyAsync,
   * which caches the valid ones as before), while consensus, P2P and RPC go on; then the
   * batch is admitted exactly as submitTxs would, its signatures answered from that
   * verification. Admissions happen in the order the batches arrived, whatever order
   * their verifications finish in. A tx already held or already being verified for an
   * earlier batch is not verified again (it is a duplicate by the time its turn comes).
   */
  submitTxsAsync(encoded: Uint8Array[], from: Peer | null = null): Promise<AdmitResult[]> {
    const prepared = prepareEncodedOffers(encoded);
    const txids = preparedTxids(prepared);
    const checks = offerSignatureChecks(prepared, this.chain.nextAnchorIndex(), (id) => this.pendingAdmission.has(id) || this.mempool.hasHex(id));
    for (const id of txids) this.pendingAdmission.set(id, (this.pendingAdmission.get(id) ?? 0) + 1);
    const verified = this.preverify(checks);
    this.admissionsQueued++;
    const turn = this.admissionTail.then(() => verified).then((answers) => {
      if (this.stopped) throw new PhantomError("NODE_STOPPED", "the node stopped before these transactions were admitted; submit them again");
      const ctx = this.validationContext();
      return this.admitAndRelay(prepared, encoded, from, answers === null ? ctx : { ...ctx, verify: answeredFirst(answers, this.sigCache.verify) });
    }).finally(() => {
      this.admissionsQueued--;
      for (const id of txids) {
        const left = this.pendingAdmission.get(id)! - 1;
        if (left === 0) this.pendingAdmission.delete(id);
        else this.pendingAdmission.set(id, left);
      }
    });
    this.admissionTail = turn.then(noop, noop);
    return turn;
  }
  /** Admissions (submitTxsAsync) not yet done; each waits for the ones before it. */
  private admissionTail: Promise<void> = Promise.resolve();
  private admissionsQueued = 0;
  /** Txids (hex) of the queued admissions, with how many of them carry each. */
  private readonly pendingAdmission = new Map<string, number>();

  /**
   * Verifies `checks` on the native pool (through the cache). Null when there is nothing
   * worth sending there (admission then verifies synchronously, as submitTxs does) or the
   * pool could not take the batch.
   */
  private async preverify(checks: SigCheck[]): Promise<Answers | null> {
    if (checks.length < VERIFY_ASYNC_MIN_ITEMS) return null;
    const started = this.opts.now();
    let valid: boolean[];
    try {
      valid = await this.sigCache.verifyAsync(checks);
    } catch (e) {
      if (!isPhantomError(e)) throw e;
      this.metrics.verifyAsyncBatches.inc({ outcome: e.code });
      return null;
    }
    this.metrics.verifyAsyncBatches.inc({ outcome: "verified" });
    this.metrics.verifyAsyncSeconds.observe((this.opts.now() - started) / 1000);
    const answers: Answers = new Map();
    checks.forEach((c, i) => answers.set(c.signature, { publicKey: c.publicKey, message: c.message, valid: valid[i]! }));
    return answers;
  }

  /** Admits prepared txs with `ctx`, relays the accepted ones and answers a peer with its receipt. */
  private admitAndRelay(prepared: PreparedOffers, encoded: Uint8Array[], from: Peer | null, ctx: ValidationContext): AdmitResult[] {
    const results = this.mempool.admitPrepared(prepared, ctx);
    const relay = encoded.filter((_, i) => (from === null ? holdsTx(results[i]!) : results[i]!.ok));
    if (relay.length > 0) this.peers.broadcast({ kind: "txs", txs: relay }, from ?? undefined);
    // Submitted to us: we propose them first (peers hold what we relay, see holdRelayed).
    if (from === null && results.some((r) => r.ok)) this.proposeSoon();
    if (from !== null) {
      const txids = results.flatMap((r) => (holdsTx(r) && r.txid ? [r.txid] : []));
      if (txids.length > 0) from.send({ kind: "txs_held", txids });
      this.holdRelayed(results);
    }
    return results;
  }

  /**
   * Of these txids (hex), the ones another validator confirmed holding within
   * `txReceiptWaitMs`. A committee of one has nobody to ask: all of them.
   */
  async acknowledged(txids: string[]): Promise<Set<string>> {
    if (txids.length === 0 || this.opts.genesis.validators.length === 1) return new Set(txids);
    const outcome = (held: Set<string>, missed: string) => {
      this.metrics.txReceipts.inc({ outcome: "held" }, held.size);
      if (txids.length > held.size) this.metrics.txReceipts.inc({ outcome: missed }, txids.length - held.size);
      return held;
    };
    if (this.peers.readyPeers().length === 0) return outcome(new Set(), "no_peers");
    return outcome(await this.txReceipts.wait(txids, this.opts.txReceiptWaitMs ?? txReceiptWaitMsDefault), "timeout");
  }

  /**
   * Txs relayed to us are proposed first by the validator they were submitted to; we
   * hold them for `relayHoldIntervals` proposer intervals and take them only if that
   * validator did not (it may be down). Its event, once accepted, holds them instead.
   */
  private holdRelayed(results: ReturnType<Mempool["admitEncoded"]>): void {
    const entries = results.flatMap((r) => (r.ok ? [this.mempool.get(r.txid)] : [])).filter((e) => e !== undefined);
    if (entries.length === 0) return;
    const key = `relay:${this.relayHolds++}`;
    this.proposer.hold(key, entries.map((e) => e.txidHex), entries.flatMap((e) => e.inputKeys));
    const t = setTimeout(this.failStop.guard("relay_hold", () => this.proposer.unhold(key)), relayHoldIntervals * this.opts.txProposerIntervalMs);
    t.unref?.();
  }
  private relayHolds = 0;

  /** Pre-checks a mined header against the tip and queues it for our next payload. */
  submitMint(header: Uint8Array, from: Peer | null = null): { mintId: Uint8Array } {
    let checked: ReturnType<typeof precheckMintSubmission>;
    try {
      checked = precheckMintSubmission(this.opts.store, this.ledgerParams.emission, header);
      this.checkMintShard(checked.mint.recipient);
    } catch (e) {
      this.metrics.mintsSubmitted.inc({ outcome: isPhantomError(e) ? e.code : "error" });
      throw e;
    }
    const id = mintId(checked.mint);
    if (this.mintPool.add(id, checked.mint, from !== null, this.tickCount)) {
      this.metrics.mintsSubmitted.inc({ outcome: "queued" });
      const tx = encodeMintTx(checked.mint);
      this.peers.broadcast({ kind: "txs", txs: [tx] }, from ?? undefined);
    }
    return { mintId: id };
  }

  /**
   * Sharded: the mint chain lives on shard 0 and pays only a lock on shard 0 (SPEC_SHARDING
   * §9); any other mint could only be void, so it is refused at the door with the same code.
   */
  checkMintShard(recipient: Uint8Array): void {
    const sharding = this.ledgerParams.sharding;
    if (!this.shardSide || !sharding) return;
    if (sharding.shard !== 0) throw new PhantomError("MINT_WRONG_SHARD", `this node serves shard ${sharding.shard}; mints go to a node of shard 0 (the mint chain lives there)`);
    const lockShard = shardOfLock(recipient, sharding.shardCount);
    if (lockShard !== 0) throw new PhantomError("MINT_WRONG_SHARD", `the reward lock is on shard ${lockShard}; a mint pays only a lock on shard 0 (mine to an address of shard 0)`);
  }

  private onTxs(peer: Peer, txs: Uint8Array[]): void {
    const micro: Uint8Array[] = [];
    const claims: Uint8Array[] = [];
    for (const t of txs) {
      if (t[0] === SHARD_TAG.importClaim && this.shardSide) claims.push(t);
      else if (t[0] === TAG.mintTx) {
        try {
          this.submitMint(t, peer);
        } catch (e) {
          if (!isPhantomError(e)) throw e; // a stale or losing mint is normal, not misbehavior
        }
      } else micro.push(t);
    }
    if (claims.length > 0) this.submitImportClaims(claims, peer);
    if (micro.length === 0) return;
    // Admitted later, once verified: inside the peer's boundary again (a throw closes its session).
    this.submitTxsAsync(micro, peer).catch((e: unknown) => {
      if (isPhantomError(e) && e.code === "NODE_STOPPED") return;
      this.peers.runHandler(peer, "p2p_txs_admit", () => {
        throw e;
      });
    });
  }

  /** Import claims for this shard (RPC `shard_importSubmit`, or a peer's `txs`); see ShardSide.submitClaims. */
  submitImportClaims(encoded: Uint8Array[], from: Peer | null = null) {
    invariant(this.shardSide !== null, "import claims are submitted only on a sharded network");
    return this.shardSide.submitClaims(encoded, this.tickCount, from);
  }

  validationContext(): ValidationContext {
    return { anchorIndex: this.chain.nextAnchorIndex(), maturityAnchors: this.ledgerParams.emission.maturityAnchors, verify: this.sigCache.verify };
  }
}

const EMPTY_DIGEST = blake3_32(EMPTY_PAYLOAD_BYTES);

const noop = (): void => {};

/** Signature answers of a verified batch, by the signature array of each check (see answeredFirst). */
type Answers = Map<Uint8Array, { publicKey: Uint8Array; message: Uint8Array; valid: boolean }>;

/**
 * A verifier that answers the checks `answers` holds (the very same signature, key and
 * message arrays: verification is a pure function, so the answer is the one `verifyBatch`
 * would give now) and passes the rest to `rest` in one call.
 */
function answeredFirst(answers: Answers, rest: BatchVerifier): BatchVerifier {
  return (items: readonly VerifyItem[]) => {
    const result: boolean[] = new Array(items.length);
    const missIndex: number[] = [];
    items.forEach((it, i) => {
      const a = answers.get(it.signature);
      if (a !== undefined && a.publicKey === it.publicKey && a.message === it.message) result[i] = a.valid;
      else missIndex.push(i);
    });
    if (missIndex.length > 0) {
      const checked = rest(missIndex.map((i) => items[i]!));
      missIndex.forEach((i, j) => (result[i] = checked[j]!));
    }
    return result;
  };
}

/** The admission left the tx in our mempool: admitted now, or held already. */
export const holdsTx = (r: AdmitResult): boolean => r.ok || r.error.code === "MEMPOOL_DUPLICATE";

/** Rejections an honest peer's relay can cause: never scored as misbehaviour. */
const HARMLESS_REJECTIONS = new Set(["EVENT_DUPLICATE", "EVENT_ANCIENT", "EVENT_ORPHAN_EVICTED"]);


interface PayloadPlan {
  bytes: Uint8Array;
  /** The proposer batch it includes (first of `readyPayloads`), if any. */
  ready: { bytes: Uint8Array; proposerDigest: Uint8Array } | null;
  mints: PendingMint[];
  evidenceCount: number;
  /** Import claims from the shard's import pool (sharded networks only). */
  imports: PendingImport[];
}
