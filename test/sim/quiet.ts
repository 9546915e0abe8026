/**
 * Quiet-when-idle simulator (SPEC_CONSENSUS §15). k honest validators, each with its own
 * ConsensusEngine, on a seeded virtual network (random delays and reordering, no loss: the
 * node's links are reliable streams, and a validator back from a pause fetches what it
 * missed). Each validator follows the creation rule of §15 exactly: an event when it has a
 * payload to carry; otherwise only after news (an event of another creator since its own
 * last one), and then while the engine holds a payload event not yet ordered, or when its
 * idle heartbeat is due. Bursts of payloads are separated by quiet periods many heartbeats
 * long; a validator may be paused (offline) through a quiet period, or through a quiet
 * period and the next burst.
 *
 * Checks: every payload is finalized by every validator; the orders agree (prefixes); after
 * each burst the network goes quiet (nothing pending anywhere) and a quiet period costs at
 * most one heartbeat per validator per heartbeat interval; no validator that was only quiet,
 * or offline only while the network was quiet, is ever treated as stalled or tainted (no
 * rejoin, no CONSENSUS_REJOIN_WAIT); one that missed a burst may rejoin (SPEC_CONSENSUS §12),
 * and every validator has events final everywhere after the last burst. Nothing here reads
 * a clock or Math.random.
 */
import { ConsensusEngine, type EngineConfig, type FinalizedEvent } from "../../src/consensus/engine.ts";
import type { SignedEvent } from "../../src/types/event.ts";
import { keyPairFromSeed, type Ed25519KeyPair } from "../../src/crypto/ed25519.ts";
import { blake3_32 } from "../../src/crypto/hash.ts";
import { isPhantomError } from "../../src/errors.ts";
import { EMPTY_PAYLOAD_BYTES } from "../../src/types/payload.ts";
import { effectiveParents } from "../../src/consensus/ancient.ts";
import { Prng, memoVerifier } from "./sim.ts";

const EMPTY_DIGEST = blake3_32(EMPTY_PAYLOAD_BYTES);
const SYNC_INTERVAL_TICKS = 5;
const SYNC_EVENTS_MAX = 256;

export interface QuietOptions {
  seed: number;
  k: number;
  /** Idle heartbeat, in ticks (one tick = one event interval). */
  heartbeatTicks: number;
  /** Quiet period between bursts, in heartbeats. */
  quietHeartbeats: number;
  bursts: number;
  /** Delivery delay bound in ticks. */
  delayTicksMax: number;
  /** Chance that a validator's timer fires in a tick (jitter). */
  tickChance: number;
  horizonRounds: number;
}

export function quietOptions(p: Partial<QuietOptions> & { seed: number; k: number }): QuietOptions {
  return { heartbeatTicks: 100, quietHeartbeats: 20, bursts: 4, delayTicksMax: 6, tickChance: 0.7, horizonRounds: 16, ...p };
}

export interface QuietReport {
  ok: boolean;
  failures: string[];
  /** Events created during quiet periods, and the bound the heartbeat allows. */
  quietEvents: number;
  quietEventsBound: number;
  /** Validators back from a pause short enough that they must not rejoin (and did not, if ok). */
  cleanResumes: number;
  /** Most rounds decided during one quiet period (heartbeats alone advance rounds, slowly). */
  quietRoundsMax: number;
  /** Ticks from a burst's first payload until nothing is pending anywhere (max). */
  burstTicksMax: number;
  /** Events created while payloads were pending (per burst, max). */
  burstEventsMax: number;
  rejoins: number;
  finalizedMin: number;
  repro: string;
}

interface V {
  index: number;
  keys: Ed25519KeyPair;
  engine: ConsensusEngine;
  store: SignedEvent[];
  log: FinalizedEvent[];
  news: number;
  lastOwnTick: number;
  toCarry: number;
  paused: boolean;
  /**
   * Whether it may have to rejoin (§12): it was offline through a burst, or while the others
   * decided more than horizon/2 − 2 rounds (heartbeats advance rounds too, slowly).
   */
  mayRejoin: boolean;
  /** The highest decided round when it went offline. */
  decidedAtPause: number;
  rejoins: number;
  /** Its highest seq when it last resumed: a later event must end final everywhere. */
  seqAtResume: number;
}

export class QuietSimulation {
  private readonly rng: Prng;
  private readonly vs: V[];
  private readonly inbox = new Map<number, { to: number; events: SignedEvent[] }[]>();
  private tick = 0;
  private created = 0;
  private burst = false;
  readonly failures: string[] = [];
  private readonly payloads: string[] = [];
  /** Resumes after which the validator must go on without a rejoin. */
  private cleanResumes = 0;

  constructor(readonly o: QuietOptions) {
    this.rng = new Prng(o.seed);
    const keys = Array.from({ length: o.k }, (_, i) => keyPairFromSeed(blake3_32(new TextEncoder().encode(`phantom quiet sim ${i}`))));
    const config: EngineConfig = {
      committee: { publicKeys: keys.map((kp) => kp.publicKey), stakes: keys.map(() => 1000n) },
      coinRoundInterval: 4, parentsMax: 4, shard: 0, horizonRounds: o.horizonRounds, orphanEventsMax: 50 * o.k, verifyBatch: memoVerifier(),
    };
    this.vs = keys.map((kp, index) => ({
      index, keys: kp, engine: new ConsensusEngine(config), store: [], log: [], news: 0, lastOwnTick: -Infinity, toCarry: 0,
      paused: false, mayRejoin: false, decidedAtPause: 0, rejoins: 0, seqAtResume: -1,
    }));
  }

  private send(to: V, events: SignedEvent[]): void {
    if (to.paused) return; // offline: it fetches what it missed when it resumes
    const at = this.tick + 1 + this.rng.int(this.o.delayTicksMax);
    const list = this.inbox.get(at) ?? [];
    list.push({ to: to.index, events });
    this.inbox.set(at, list);
  }

  private feed(v: V, events: SignedEvent[]): void {
    const r = v.engine.addEvents(events);
    v.store.push(...r.accepted);
    v.log.push(...r.finalized);
    v.news += r.accepted.filter((e) => e.header.creator !== v.index).length;
    for (const x of r.rejected) if (x.code !== "EVENT_DUPLICATE") this.failures.push(`validator ${v.index}: rejected ${x.code}: ${x.message}`);
  }

  private deliver(): void {
    const due = this.inbox.get(this.tick);
    if (due === undefined) return;
    this.inbox.delete(this.tick);
    for (const m of due) {
      const v = this.vs[m.to]!;
      if (!v.paused) this.feed(v, m.events);
    }
  }

  /** The creation rule of SPEC_CONSENSUS §15; null: nothing to do now. */
  private reason(v: V): "payload" | "pending" | "heartbeat" | null {
    if (v.toCarry > 0) return "payload";
    if (v.engine.highestSeq()[v.index] === -1) return "heartbeat";
    if (v.news === 0 && this.o.k > 1) return null;
    if (v.engine.pendingPayloadEvents(EMPTY_DIGEST) > 0) return "pending";
    if (this.tick - v.lastOwnTick >= this.o.heartbeatTicks) return "heartbeat";
    return null;
  }

  private act(v: V): void {
    const why = this.reason(v);
    if (why === null) return;
    const stalled = v.engine.chainStalled(v.index);
    if (stalled && !v.mayRejoin) this.failures.push(`tick ${this.tick}: validator ${v.index} looks stalled or tainted after only being quiet`);
    const digest = why === "payload" ? blake3_32(new TextEncoder().encode(`payload ${this.o.seed} ${v.index} ${this.created}`)) : EMPTY_DIGEST;
    let e: SignedEvent;
    try {
      e = v.engine.createEvent(v.index, v.keys.secretKey, digest, { reroot: stalled });
    } catch (err) {
      if (isPhantomError(err) && err.code === "CONSENSUS_NO_CROSS_LINK") return;
      if (isPhantomError(err) && err.code === "CONSENSUS_REJOIN_WAIT" && v.mayRejoin) return;
      throw err;
    }
    if (e.header.seq > 0 && !effectiveParents(e.header)[0]) v.rejoins++;
    if (why === "payload") {
      v.toCarry--;
      this.payloads.push(Buffer.from(e.id).toString("hex"));
    }
    this.created++;
    v.news = 0;
    v.lastOwnTick = this.tick;
    v.store.push(e);
    v.log.push(...v.engine.addEvents([]).finalized);
    for (const to of this.vs) if (to !== v) this.send(to, [e]);
  }

  private step(): void {
    this.tick++;
    this.deliver();
    for (const v of this.vs) if (!v.paused && this.rng.chance(this.o.tickChance)) this.act(v);
    if (this.tick % SYNC_INTERVAL_TICKS === 0) this.sync();
  }

  /**
   * What a node's sync does for one behind (after a pause, events sent meanwhile were lost):
   * events above its highest seqs from a peer's memory, from its store when orphans show
   * the gap is larger, and missing parents by id.
   */
  private sync(): void {
    for (const v of this.vs) {
      if (v.paused) continue;
      const peer = this.vs[this.rng.int(this.o.k)]!;
      if (peer === v || peer.paused) continue;
      const have = v.engine.highestSeq();
      const events = peer.engine.eventsAfter(have, SYNC_EVENTS_MAX);
      if (v.engine.stats().orphans > 0) events.push(...peer.store.filter((e) => e.header.seq > (have[e.header.creator] ?? -1)).slice(0, SYNC_EVENTS_MAX));
      for (const id of v.engine.missingParents(SYNC_EVENTS_MAX)) {
        const e = peer.engine.getEvent(id);
        if (e !== undefined) events.push(e);
      }
      if (events.length > 0) this.feed(v, events);
    }
  }

  private decidedMax(): number {
    return Math.max(...this.vs.map((v) => v.engine.stats().lastDecidedRound));
  }

  private pending(): boolean {
    return this.vs.some((v) => !v.paused && (v.toCarry > 0 || v.engine.pendingPayloadEvents(EMPTY_DIGEST) > 0)) || this.inbox.size > 0;
  }

  private finalizedEverywhere(ids: readonly string[]): boolean {
    return this.vs.every((v) => {
      const have = new Set(v.log.map((f) => Buffer.from(f.event.id).toString("hex")));
      return ids.every((id) => have.has(id));
    });
  }

  private pause(v: V): void {
    v.paused = true;
    v.decidedAtPause = this.decidedMax();
  }

  /** Back online: fetches every event it missed from a peer's store, in that store's order (as sync does). */
  private resume(v: V): void {
    v.paused = false;
    if (this.decidedMax() - v.decidedAtPause > this.o.horizonRounds / 2 - 2) v.mayRejoin = true;
    else this.cleanResumes++;
    const peer = this.vs.find((p) => p !== v && !p.paused)!;
    this.feed(v, peer.store.filter((e) => e.header.seq > (v.engine.highestSeq()[e.header.creator] ?? -1)));
    v.seqAtResume = v.engine.highestSeq()[v.index]!;
  }

  private checkAgreement(): void {
    const longest = this.vs.reduce((a, b) => (b.log.length > a.log.length ? b : a));
    for (const v of this.vs) {
      for (let i = 0; i < v.log.length; i++) {
        if (v.log[i]!.anchorIndex !== BigInt(i) || !Buffer.from(v.log[i]!.event.id).equals(Buffer.from(longest.log[i]!.event.id))) {
          this.failures.push(`agreement: validators ${v.index} and ${longest.index} differ at anchor ${i}`);
          break;
        }
      }
    }
  }

  run(): QuietReport {
    const H = this.o.heartbeatTicks;
    const quietTicks = this.o.quietHeartbeats * H;
    let quietEvents = 0;
    let quietEventsBound = 0;
    let burstEventsMax = 0;
    let quietRoundsMax = 0;
    let burstTicksMax = 0;
    // Start-up: every validator's first event.
    for (let i = 0; i < 20 * this.o.delayTicksMax && this.vs.some((v) => v.engine.highestSeq()[v.index] === -1); i++) this.step();
    for (let b = 0; b < this.o.bursts; b++) {
      // A quiet period. Sometimes one validator is offline: for a fifth of it, for all of it, or
      // for all of it and the next burst.
      const kinds = ["none", "short", "quiet", "burst"] as const;
      const kind = this.o.k >= 4 ? kinds[this.rng.int(kinds.length)]! : "none";
      const paused = kind === "none" ? undefined : this.vs[this.rng.int(this.o.k)]!;
      const [pauseAt, resumeAt] = kind === "short" ? [Math.floor(quietTicks / 4), Math.floor(quietTicks / 4) + Math.floor(quietTicks / 5)] : [0, quietTicks];
      const quietFrom = this.created;
      const decidedFrom = this.decidedMax();
      for (let t = 0; t < quietTicks; t++) {
        if (paused && t === pauseAt) this.pause(paused);
        if (paused && t === resumeAt && kind === "short") this.resume(paused);
        this.step();
      }
      quietEvents += this.created - quietFrom;
      quietRoundsMax = Math.max(quietRoundsMax, this.decidedMax() - decidedFrom);
      // One heartbeat per validator per interval, plus one each for a heartbeat already due.
      quietEventsBound += this.o.k * (this.o.quietHeartbeats + 1);
      if (paused && kind === "quiet") this.resume(paused);
      if (paused && kind === "burst") paused.mayRejoin = true;
      // A burst: 1–3 payloads at random online validators, a few ticks apart.
      const burstFrom = this.created;
      const burstTick = this.tick;
      const firstPayload = this.payloads.length;
      const count = 1 + this.rng.int(3);
      for (let i = 0; i < count; i++) {
        const online = this.vs.filter((v) => !v.paused);
        online[this.rng.int(online.length)]!.toCarry++;
        for (let t = 0; t < 1 + this.rng.int(2 * this.o.delayTicksMax); t++) this.step();
      }
      const bound = 400 * this.o.k;
      while (this.pending() && this.created - burstFrom < bound) this.step();
      const ids = this.payloads.slice(firstPayload);
      const onlineFinal = this.vs.filter((v) => !v.paused).every((v) => ids.every((id) => v.log.some((f) => Buffer.from(f.event.id).toString("hex") === id)));
      if (this.pending() || !onlineFinal) this.failures.push(`burst ${b}: payloads not finalized by every online validator within ${bound} events (decided rounds ${this.vs.map((v) => v.engine.stats().lastDecidedRound).join(",")})`);
      burstEventsMax = Math.max(burstEventsMax, this.created - burstFrom);
      burstTicksMax = Math.max(burstTicksMax, this.tick - burstTick);
      if (paused && kind === "burst") this.resume(paused);
    }
    // A last burst with everyone online: every validator's events after its resume end final everywhere.
    const tail = this.created;
    for (const v of this.vs) v.toCarry++;
    const finalAgain = (): boolean => this.vs.every((v) => this.vs.every((w) => w.log.some((f) => f.event.header.creator === v.index && f.event.header.seq > v.seqAtResume)));
    while ((this.pending() || !finalAgain()) && this.created - tail < 800 * this.o.k) this.step();
    if (!finalAgain()) this.failures.push(`rejoin: some validator has no event after its resume that every validator finalized`);
    if (!this.finalizedEverywhere(this.payloads)) this.failures.push("validity: some payload was never finalized by every validator");
    // Pending work, not the heartbeat, drives finality: a burst settles well within one heartbeat.
    if (burstTicksMax >= H) this.failures.push(`finality: a burst took ${burstTicksMax} ticks to settle, not less than one heartbeat (${H})`);
    if (quietEvents > quietEventsBound) this.failures.push(`quiet: ${quietEvents} events in quiet periods, more than the heartbeat bound ${quietEventsBound}`);
    this.checkAgreement();
    const rejoins = this.vs.reduce((s, v) => s + v.rejoins, 0);
    for (const v of this.vs) if (v.rejoins > 0 && !v.mayRejoin) this.failures.push(`validator ${v.index} rejoined although it missed only ${this.o.horizonRounds / 2 - 2} decided rounds or fewer of quiet time`);
    return {
      ok: this.failures.length === 0, failures: this.failures, quietEvents, quietRoundsMax, cleanResumes: this.cleanResumes, burstTicksMax, quietEventsBound, burstEventsMax, rejoins,
      finalizedMin: Math.min(...this.vs.map((v) => v.log.length)),
      repro: `runQuietSimulation(quietOptions(${JSON.stringify(this.o)}))`,
    };
  }
}

export function runQuietSimulation(o: QuietOptions): QuietReport {
  return new QuietSimulation(o).run();
}
