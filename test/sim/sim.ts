/**
 * Deterministic consensus simulator. N validators, each with its own ConsensusEngine, on a
 * seeded virtual network (random delays, loss, reordering, partitions that heal), with
 * crashed validators that restart from their stored events, paused validators that come
 * back after their peers pruned what they last saw, and Byzantine validators
 * (equivocating, withholding, sending invalid events, lagging). With `slashing`, the
 * engines' weights follow a stake table derived from the finalized order (SPEC_CONSENSUS
 * §1a): equivocation evidence travels in payloads, and the first finalized one slashes the
 * offender to zero, as the ledger does (SPEC_SLASHING §6). A safety phase with
 * faults on is followed by a liveness phase with the network healed. Same options, same
 * run: nothing here reads a clock or Math.random.
 */
import { ConsensusEngine, type AddResult, type EngineConfig, type FinalizedEvent, buildEventHeader } from "../../src/consensus/engine.ts";
import { type SignedEvent, signEvent } from "../../src/types/event.ts";
import { keyPairFromSeed, verifyBatch, type Ed25519KeyPair, type VerifyItem } from "../../src/crypto/ed25519.ts";
import { blake3_32 } from "../../src/crypto/hash.ts";
import { isPhantomError } from "../../src/errors.ts";
import { effectiveParents } from "../../src/consensus/ancient.ts";
import { ANCIENT_ROUNDS } from "../../src/types/constants.ts";

export type FaultKind = "equivocate" | "withhold" | "invalid" | "lag" | "crash" | "pause";
export const FAULT_KINDS: readonly FaultKind[] = ["equivocate", "withhold", "invalid", "lag", "crash", "pause"];

export interface SimOptions {
  seed: number;
  k: number;
  /** Events created in the safety phase. */
  events: number;
  /** Faulty validators, by kind (at most floor((k-1)/3) in total). */
  faults: FaultKind[];
  /** Loss probability per message in the safety phase. */
  loss: number;
  /** Whether the safety phase has a network partition (healed before the liveness phase). */
  partition: boolean;
  /** Delivery delay bound in ticks. */
  delayTicksMax: number;
  horizonRounds: number;
  coinRoundInterval: number;
  /** Liveness phase bound, in events created after the heal. */
  livenessEventsMax: number;
  /** Weights follow stake (stakeLagRounds = horizonRounds) and finalized equivocation evidence slashes to 0. */
  slashing: boolean;
  /** Slashing runs: the stake lag L (default horizonRounds, as the node uses). */
  stakeLagRounds?: number;
}

/** A penalty as every validator derives it from its finalized order. */
export interface SimSlash {
  offender: number;
  anchorIndex: bigint;
  roundReceived: number;
}

export interface SimReport {
  options: SimOptions;
  ok: boolean;
  failures: string[];
  /** Shortest finalized log among honest validators. */
  finalizedMin: number;
  ticks: number;
  evidence: { equivocation: number; invalid: number };
  /** Events dropped as EVENT_ANCIENT (parents below a node's pruning) and honest events whose self-parent reference was ancient (rejoins). */
  ancient: { dropped: number; rejoins: number };
  /** Slashing runs: the penalties (from the longest honest log), the highest (max round − decided round) any engine reached, events held for weights. */
  stake: { slashes: SimSlash[]; decisionLagMax: number; weightWaitMax: number; stakeWaits: number };
  repro: string;
}

export function defaultFaults(k: number, seed: number): FaultKind[] {
  const f = Math.floor((k - 1) / 3);
  return Array.from({ length: f }, (_, i) => FAULT_KINDS[(i + seed) % FAULT_KINDS.length]!);
}

export function simOptions(partial: Partial<SimOptions> & { seed: number; k: number }): SimOptions {
  const events = partial.events ?? 40 * partial.k;
  return {
    events,
    faults: partial.faults ?? defaultFaults(partial.k, partial.seed),
    loss: 0.05,
    partition: true,
    delayTicksMax: 6,
    horizonRounds: 16,
    coinRoundInterval: 4,
    livenessEventsMax: Math.max(400, 60 * partial.k),
    slashing: false,
    ...partial,
  };
}

export function reproCommand(o: SimOptions): string {
  return `bun run sim --seed ${o.seed} --k ${o.k} --events ${o.events} --faults ${o.faults.join(",") || "none"} --loss ${o.loss} --partition ${o.partition} --delay ${o.delayTicksMax} --horizon ${o.horizonRounds} --coin ${o.coinRoundInterval}${o.slashing ? ` --slashing true${o.stakeLagRounds === undefined ? "" : ` --stake_lag ${o.stakeLagRounds}`}` : ""}`;
}

/** xorshift128+ style PRNG on 32-bit halves; deterministic and local to one run. */
export class Prng {
  private a: number;
  private b: number;
  constructor(seed: number) {
    this.a = (seed ^ 0x9e3779b9) >>> 0 || 1;
    this.b = (Math.imul(seed, 0x85ebca6b) ^ 0xc2b2ae35) >>> 0 || 2;
    for (let i = 0; i < 8; i++) this.next();
  }
  next(): number {
    let x = this.a;
    const y = this.b;
    this.a = y;
    x ^= x << 23;
    x ^= x >>> 17;
    x ^= y ^ (y >>> 26);
    this.b = x >>> 0;
    return ((this.a + this.b) >>> 0) / 0x100000000;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

interface Validator {
  index: number;
  fault: FaultKind | "honest";
  keys: Ed25519KeyPair;
  engine: ConsensusEngine;
  /** Every event this validator accepted, in acceptance order (its durable store). */
  store: SignedEvent[];
  log: FinalizedEvent[];
  crashed: boolean;
  /** Paused (SIGSTOP): keeps its state, receives and sends nothing; `pausedAtRound` = its decided round then. */
  paused: boolean;
  pausedAtRound: number;
  /** Woken from a pause and still placing what it missed: signs nothing yet, as the node holds off while history arrives. */
  catchingUp: boolean;
  withheld: SignedEvent[];
  group: number;
  /** Slashing runs: stake table after its finalized log, penalties in log order, evidence to carry. */
  stakes: bigint[];
  slashes: SimSlash[];
  evidenceToCarry: number[];
}

interface Message {
  to: number;
  events: SignedEvent[];
}

const SYNC_INTERVAL_TICKS = 5;
const SYNC_EVENTS_MAX = 256;
const WITHHOLD_TICKS = 12;
const LAG_INBOUND_DELAY_TICKS = 25;
const TICKS_MAX_FACTOR = 40;
const PARTITION_FROM = 0.25;
const PARTITION_UNTIL = 0.6;
const PAUSE_FROM = 0.15;
/** A pause lasts until the others decided this many rounds past the paused one: beyond their pruning. */
const PAUSE_ROUNDS = (horizon: number): number => horizon + ANCIENT_ROUNDS + 4;

function hexId(e: SignedEvent): string {
  return Buffer.from(e.id).toString("hex");
}

/** One signature check per distinct (id, signature, key) across all simulated validators. */
export function memoVerifier(): (items: readonly VerifyItem[]) => boolean[] {
  const cache = new Map<string, boolean>();
  return (items) => {
    const keys = items.map((it) => Buffer.from(it.message).toString("latin1") + Buffer.from(it.signature).toString("latin1") + Buffer.from(it.publicKey).toString("latin1"));
    const missing: number[] = [];
    keys.forEach((key, i) => {
      if (!cache.has(key)) missing.push(i);
    });
    if (missing.length > 0) {
      const res = verifyBatch(missing.map((i) => items[i]!));
      missing.forEach((i, j) => cache.set(keys[i]!, res[j]!));
    }
    return keys.map((key) => cache.get(key)!);
  };
}

export class Simulation {
  readonly o: SimOptions;
  private readonly rng: Prng;
  private readonly validators: Validator[];
  private readonly config: EngineConfig;
  private readonly inbox = new Map<number, Message[]>();
  private tick = 0;
  private healed = false;
  private created = 0;
  private readonly honestCreated: string[] = [];
  private readonly faultyIds = new Set<string>();
  /** Events of paused validators from before their rejoin: legitimately stale when peers pruned their parents. */
  private readonly mayBeStale = new Set<string>();
  /** Per validator: its highest seq at the heal; a later one must be finalized everywhere (nobody is excluded). */
  private readonly seqAtHeal = new Map<number, number>();
  readonly failures: string[] = [];
  private evidenceEquivocation = 0;
  private evidenceInvalid = 0;
  private ancientDropped = 0;
  private rejoins = 0;
  /** Payload digest (hex) -> offender, for payloads that carry equivocation evidence (what any node can fetch). */
  private readonly evidencePayloads = new Map<string, number>();
  private decisionLagMax = 0;
  private weightWaitMax = 0;
  private stakeWaits = 0;

  constructor(options: SimOptions) {
    this.o = options;
    this.rng = new Prng(options.seed);
    const keys = Array.from({ length: options.k }, (_, i) => keyPairFromSeed(blake3_32(new TextEncoder().encode(`phantom sim validator ${i}`))));
    this.config = {
      committee: { publicKeys: keys.map((kp) => kp.publicKey), stakes: keys.map(() => 1000n) },
      coinRoundInterval: options.coinRoundInterval,
      parentsMax: 4,
      shard: 0,
      horizonRounds: options.horizonRounds,
      ...(options.slashing ? { stakeLagRounds: options.stakeLagRounds ?? options.horizonRounds } : {}),
      orphanEventsMax: 50 * options.k,
      verifyBatch: memoVerifier(),
    };
    // Faulty validators take the highest indices; groups split validators for the partition.
    const firstFaulty = options.k - options.faults.length;
    this.validators = keys.map((kp, i) => ({
      index: i,
      fault: i >= firstFaulty ? options.faults[i - firstFaulty]! : "honest",
      keys: kp,
      engine: new ConsensusEngine(this.config),
      store: [],
      log: [],
      crashed: false,
      paused: false,
      pausedAtRound: 0,
      catchingUp: false,
      withheld: [],
      group: this.rng.int(2),
      stakes: [...this.config.committee.stakes],
      slashes: [],
      evidenceToCarry: [],
    }));
  }

  private honest(v: Validator): boolean {
    return v.fault === "honest" || v.fault === "crash" || v.fault === "pause";
  }

  private reachable(from: Validator, to: Validator): boolean {
    if (to.crashed || from.crashed || to.paused || from.paused) return false;
    return !this.partitioned() || from.group === to.group;
  }

  /** The partition covers the middle of the safety phase (by events created), then heals. */
  private partitioned(): boolean {
    if (this.healed || !this.o.partition) return false;
    return this.created >= PARTITION_FROM * this.o.events && this.created < PARTITION_UNTIL * this.o.events;
  }

  private send(from: Validator, to: Validator, events: SignedEvent[]): void {
    if (!this.reachable(from, to)) return;
    if (!this.healed && this.rng.chance(this.o.loss)) return;
    let delay = 1 + this.rng.int(this.o.delayTicksMax);
    if (to.fault === "lag") delay += LAG_INBOUND_DELAY_TICKS;
    const at = this.tick + delay;
    const list = this.inbox.get(at);
    if (list === undefined) this.inbox.set(at, [{ to: to.index, events }]);
    else list.push({ to: to.index, events });
  }

  private broadcast(from: Validator, events: SignedEvent[]): void {
    for (const to of this.validators) if (to !== from) this.send(from, to, events);
  }

  private feed(v: Validator, events: SignedEvent[]): void {
    if (v.crashed || v.paused || events.length === 0) return;
    this.settle(v, v.engine.addEvents(events), (r) => {
      v.store.push(...r.accepted);
      this.ancientDropped += r.rejected.filter((x) => x.code === "EVENT_ANCIENT").length;
      for (const ev of r.evidence) {
        if (ev.kind === "equivocation") {
          this.evidenceEquivocation++;
          if (this.o.slashing && this.honest(v) && !v.evidenceToCarry.includes(ev.a.header.creator)) v.evidenceToCarry.push(ev.a.header.creator);
        } else if (ev.kind === "invalid_event") this.evidenceInvalid++;
      }
    });
  }

  /**
   * Takes an engine result: `absorb` first, then the finalized events into the log and the
   * stake table (slashing runs), whose changes and decided round are reported to the engine;
   * events that waited for those weights are placed by another call, as the node does.
   */
  private settle(v: Validator, first: AddResult, absorb: (r: AddResult) => void): void {
    let r = first;
    for (let pass = 0; pass < 100_000; pass++) {
      absorb(r);
      v.log.push(...r.finalized);
      if (!this.o.slashing) return;
      const known = v.slashes.length;
      for (const f of r.finalized) this.slashFromOrder(v, f);
      const before = v.engine.stats().weightsKnownRoundMax;
      for (const x of v.slashes.slice(known)) v.engine.recordStake(x.roundReceived, this.stakesAfter(v, x.roundReceived));
      const stats = v.engine.stats();
      if (stats.lastDecidedRound >= 0) v.engine.recordStake(stats.lastDecidedRound, v.stakes);
      const after = v.engine.stats();
      this.decisionLagMax = Math.max(this.decisionLagMax, after.maxRound - after.lastDecidedRound);
      this.weightWaitMax = Math.max(this.weightWaitMax, after.weightWaiting);
      if (!(after.weightWaiting > 0 && after.weightsKnownRoundMax > before)) return;
      r = v.engine.addEvents([]);
    }
    this.failures.push(`validator ${v.index}: placing events that waited for weights did not end`);
  }

  /** The first finalized equivocation evidence against a validator with stake slashes it to 0 (SPEC_SLASHING §4, §6). */
  private slashFromOrder(v: Validator, f: FinalizedEvent): void {
    const offender = this.evidencePayloads.get(Buffer.from(f.event.header.payloadDigest).toString("hex"));
    if (offender === undefined || v.stakes[offender] === 0n) return;
    v.stakes[offender] = 0n;
    v.slashes.push({ offender, anchorIndex: f.anchorIndex, roundReceived: f.roundReceived });
  }

  /** The stake table after every penalty of rounds <= round. */
  private stakesAfter(v: Validator, round: number): bigint[] {
    const out = [...this.config.committee.stakes];
    for (const x of v.slashes) if (x.roundReceived <= round) out[x.offender] = 0n;
    return out;
  }

  private deliver(): void {
    const due = this.inbox.get(this.tick);
    if (due === undefined) return;
    this.inbox.delete(this.tick);
    const perNode = new Map<number, SignedEvent[]>();
    for (const m of due) {
      const list = perNode.get(m.to);
      if (list === undefined) perNode.set(m.to, [...m.events]);
      else list.push(...m.events);
    }
    for (const [to, events] of [...perNode.entries()].sort((a, b) => a[0] - b[0])) {
      // Reordering inside a delivery batch too.
      for (let i = events.length - 1; i > 0; i--) {
        const j = this.rng.int(i + 1);
        [events[i], events[j]] = [events[j]!, events[i]!];
      }
      this.feed(this.validators[to]!, events);
    }
  }

  private createOne(v: Validator): void {
    // Evidence this honest validator holds goes into its next payload (as the node queues it).
    const carried = this.honest(v) ? v.evidenceToCarry.slice() : [];
    const payload = blake3_32(new TextEncoder().encode(`payload ${v.index} ${this.created}${carried.length > 0 ? ` evidence ${carried[0]}` : ""}`));
    let e: SignedEvent;
    // An honest validator whose events others stopped seeing re-roots, as the node does.
    const reroot = this.honest(v) && v.engine.chainStalled(v.index);
    try {
      e = v.engine.createEvent(v.index, v.keys.secretKey, payload, { reroot });
    } catch (err) {
      if (isPhantomError(err) && (err.code === "CONSENSUS_NO_CROSS_LINK" || err.code === "CONSENSUS_REJOIN_WAIT")) return;
      if (isPhantomError(err) && err.code === "CONSENSUS_STAKE_WAIT") return void this.stakeWaits++;
      throw err;
    }
    if (carried.length > 0) {
      // One offender per payload in this model: the first; the rest go in later events.
      this.evidencePayloads.set(Buffer.from(payload).toString("hex"), carried[0]!);
      v.evidenceToCarry.shift();
    }
    this.created++;
    v.store.push(e);
    if (this.honest(v) && e.header.seq > 0 && !effectiveParents(e.header)[0]) this.rejoins++;
    // A paused validator's events from before it caught up may be stale (created with old parents).
    if (v.fault === "pause" && (!this.healed || v.catchingUp)) this.mayBeStale.add(hexId(e));
    else if (this.honest(v)) this.honestCreated.push(hexId(e));
    else this.faultyIds.add(hexId(e));
    if (v.fault === "withhold" && !this.healed) {
      v.withheld.push(e);
      return;
    }
    if (v.fault === "equivocate" && !this.healed && e.header.seq > 0 && this.rng.chance(0.3)) {
      const twin = signEvent({ ...e.header, payloadDigest: blake3_32(payload) }, v.keys.secretKey);
      this.faultyIds.add(hexId(twin));
      for (const to of this.validators) if (to !== v) this.send(v, to, [to.index % 2 === 0 ? e : twin]);
      return;
    }
    if (v.fault === "invalid" && this.rng.chance(0.3)) this.broadcast(v, [this.invalidEvent(v, e)]);
    this.broadcast(v, [e]);
  }

  /** A signed event with the same parents as `e` but a wrong Lamport (slashable, rejected). */
  private invalidEvent(v: Validator, e: SignedEvent): SignedEvent {
    const h = buildEventHeader({
      shard: 0, creator: v.index, seq: e.header.seq + 1,
      parents: [{ id: e.id, lamport: e.header.lamport, round: v.engine.describe(e.id)?.round ?? 0 }], payloadDigest: e.header.payloadDigest, lamport: e.header.lamport + 7,
    });
    return signEvent(h, v.keys.secretKey);
  }

  private sync(): void {
    for (const v of this.validators) {
      if (v.crashed || v.paused || (v.index + this.tick) % SYNC_INTERVAL_TICKS !== 0) continue;
      const peer = this.validators[this.rng.int(this.o.k)]!;
      if (peer === v || !this.reachable(v, peer) || peer.fault === "lag") continue;
      let events = peer.engine.eventsAfter(v.engine.highestSeq(), SYNC_EVENTS_MAX);
      // Behind by more than the peer keeps in memory: it serves from its store, as a node does.
      if (v.engine.stats().orphans > 0) events.push(...this.storedAfter(peer, v.engine.highestSeq(), SYNC_EVENTS_MAX));
      if (peer.fault === "withhold" && !this.healed) {
        const hidden = new Set(peer.withheld.map(hexId));
        events = events.filter((e) => !hidden.has(hexId(e)));
      }
      // Pull missing ancestors by id (a fork's other branch is never "after" our highest seq).
      for (const id of v.engine.missingParents(SYNC_EVENTS_MAX)) {
        const e = peer.engine.getEvent(id);
        if (e !== undefined && !(peer.fault === "withhold" && !this.healed && peer.withheld.includes(e))) events.push(e);
      }
      this.feed(v, events);
    }
  }

  /** The first `limit` stored events of `peer` above `highestSeq`, in its store (topological) order. */
  private storedAfter(peer: Validator, highestSeq: readonly number[], limit: number): SignedEvent[] {
    const out: SignedEvent[] = [];
    for (const e of peer.store) {
      if (e.header.seq <= (highestSeq[e.header.creator] ?? -1)) continue;
      out.push(e);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Pauses a "pause" validator early in the safety phase; it resumes once its peers pruned past it. */
  private pauseAndResume(): void {
    for (const v of this.validators) {
      if (v.fault !== "pause") continue;
      if (!v.paused && !this.healed && v.pausedAtRound === 0 && this.created >= PAUSE_FROM * this.o.events) {
        v.paused = true;
        v.pausedAtRound = Math.max(1, v.engine.stats().lastDecidedRound);
      } else if (v.paused) {
        const othersDecided = Math.max(...this.validators.filter((o) => o !== v).map((o) => o.engine.stats().lastDecidedRound));
        if (this.healed || othersDecided >= v.pausedAtRound + PAUSE_ROUNDS(this.o.horizonRounds)) {
          v.paused = false;
          v.catchingUp = true;
        }
      }
    }
  }

  private crashAndRestart(): void {
    for (const v of this.validators) {
      if (v.fault !== "crash") continue;
      if (!v.crashed && !this.healed && this.rng.chance(0.01)) v.crashed = true;
      else if (v.crashed && (this.healed || this.rng.chance(0.05))) this.restart(v);
    }
  }

  /** A fresh engine re-fed with the stored events must re-derive the same finalized prefix. */
  private restart(v: Validator): void {
    const before = { log: v.log, slashes: v.slashes };
    v.engine = new ConsensusEngine(this.config);
    v.log = [];
    v.slashes = [];
    v.stakes = [...this.config.committee.stakes];
    this.settle(v, v.engine.addEvents([...v.store], { trusted: true }), (r) => {
      if (r.rejected.length > 0) this.failures.push(`validator ${v.index}: stored event rejected on restart (${r.rejected[0]!.code})`);
    });
    const fresh = v.log;
    const sameSlashes = (a: SimSlash[], b: SimSlash[]): boolean => a.every((x, i) => i >= b.length || (x.offender === b[i]!.offender && x.anchorIndex === b[i]!.anchorIndex));
    if (!sameSlashes(v.slashes, before.slashes) || v.slashes.length < before.slashes.length) this.failures.push(`validator ${v.index}: restart re-derived different penalties`);
    v.log = before.log;
    const n = Math.min(fresh.length, v.log.length);
    for (let i = 0; i < n; i++) {
      if (hexId(fresh[i]!.event) !== hexId(v.log[i]!.event) || fresh[i]!.anchorIndex !== v.log[i]!.anchorIndex) {
        this.failures.push(`validator ${v.index}: restart re-derived a different order at anchor ${i}`);
        break;
      }
    }
    if (fresh.length < v.log.length) this.failures.push(`validator ${v.index}: restart finalized ${fresh.length} < ${v.log.length} before the crash`);
    v.log = fresh;
    v.crashed = false;
  }

  private step(): void {
    this.tick++;
    this.deliver();
    this.crashAndRestart();
    this.pauseAndResume();
    for (const v of this.validators) {
      if (v.crashed || v.paused) continue;
      if (v.catchingUp) {
        // Caught up once it decides near the others (orphans are no sign: Byzantine peers make them).
        const othersDecided = Math.max(...this.validators.filter((o) => o !== v).map((o) => o.engine.stats().lastDecidedRound));
        if (v.engine.stats().lastDecidedRound + (this.o.horizonRounds >> 1) < othersDecided) continue;
        v.catchingUp = false;
      }
      const rate = v.fault === "lag" ? 0.05 : 0.25;
      if (this.rng.chance(rate)) this.createOne(v);
    }
    for (const v of this.validators) {
      if (v.fault === "withhold" && v.withheld.length > 0 && (this.healed || this.tick % WITHHOLD_TICKS === 0)) {
        this.broadcast(v, v.withheld);
        v.withheld = [];
      }
    }
    this.sync();
  }

  private longestHonest(): Validator {
    return this.honestLogs().reduce((a, b) => (b.log.length > a.log.length ? b : a));
  }

  /**
   * Slashing runs: every equivocator with evidence is slashed, at the same anchor by every
   * honest validator; the weights switch exactly at the boundary round; and consensus
   * goes on past it with the remaining stake (runs on, within the liveness bound, until
   * every honest validator decided a few rounds past every boundary).
   */
  private checkSlashing(createdAtHeal: number): void {
    const lag = this.o.stakeLagRounds ?? this.o.horizonRounds;
    const equivocators = this.validators.filter((v) => v.fault === "equivocate").map((v) => v.index);
    const done = (): boolean =>
      this.evidenceEquivocation === 0 ||
      this.honestLogs().every((v) => equivocators.every((o) => v.slashes.some((x) => x.offender === o)) && v.slashes.every((x) => v.engine.stats().lastDecidedRound > x.roundReceived + lag + 2));
    const bound = createdAtHeal + 2 * this.o.livenessEventsMax + 40 * lag * this.o.k;
    const ticksMax = TICKS_MAX_FACTOR * (this.o.events + 2 * this.o.livenessEventsMax + 40 * lag * this.o.k);
    while (!done() && this.created < bound && this.tick < ticksMax) for (let i = 0; i < 10; i++) this.step();
    if (!done()) {
      this.failures.push(`slashing: not every honest validator slashed every equivocator and decided past the weight boundary (decided rounds ${this.honestLogs().map((v) => v.engine.stats().lastDecidedRound).join(",")})`);
      return;
    }
    const ref = this.longestHonest();
    for (const v of this.honestLogs()) {
      const same = v.slashes.length === ref.slashes.length && v.slashes.every((x, i) => x.offender === ref.slashes[i]!.offender && x.anchorIndex === ref.slashes[i]!.anchorIndex && x.roundReceived === ref.slashes[i]!.roundReceived);
      if (!same) this.failures.push(`slashing: validators ${v.index} and ${ref.index} derived different penalties`);
      for (const x of v.slashes) {
        const boundary = x.roundReceived + lag;
        const below = v.engine.weightsForRound(boundary - 1);
        const at = v.engine.weightsForRound(boundary);
        const wasSlashedBelow = v.slashes.some((y) => y.offender === x.offender && y.roundReceived < x.roundReceived);
        if (at === undefined || at.stake[x.offender] !== 0 || below === undefined || (!wasSlashedBelow && below.stake[x.offender] === 0)) {
          this.failures.push(`slashing: validator ${v.index}: weights of validator ${x.offender} do not switch to 0 exactly at round ${boundary}`);
        }
      }
    }
  }

  private honestLogs(): Validator[] {
    return this.validators.filter((v) => this.honest(v));
  }

  private allHonestFinalized(targets: readonly string[]): boolean {
    return this.honestLogs().every((v) => {
      const have = new Set(v.log.map((f) => hexId(f.event)));
      return targets.every((id) => have.has(id));
    });
  }

  run(): SimReport {
    const ticksMax = TICKS_MAX_FACTOR * (this.o.events + this.o.livenessEventsMax);
    while (this.created < this.o.events && this.tick < ticksMax) this.step();
    this.checkAgreement("safety phase");
    this.healed = true;
    const targets = [...this.honestCreated];
    const before = Math.min(...this.honestLogs().map((v) => v.log.length));
    const createdAtHeal = this.created;
    for (const v of this.validators) this.seqAtHeal.set(v.index, v.engine.highestSeq()[v.index]!);
    let finalizedAll = false;
    while (this.created - createdAtHeal < this.o.livenessEventsMax && this.tick < ticksMax) {
      this.step();
      if (this.tick % 10 === 0 && this.allHonestFinalized(targets)) {
        finalizedAll = true;
        break;
      }
    }
    finalizedAll ||= this.allHonestFinalized(targets);
    // Nobody is excluded: every honest validator's first event after the heal is final everywhere
    // (also keeps the liveness phase going until it is, within the bound).
    const finalizedAgain = (v: Validator): boolean =>
      this.honestLogs().every((w) => w.log.some((f) => f.event.header.creator === v.index && f.event.header.seq > this.seqAtHeal.get(v.index)!));
    const rejoined = (): string[] => this.honestLogs().filter((v) => !finalizedAgain(v)).map((v) => String(v.index));
    while (rejoined().length > 0 && this.created - createdAtHeal < this.o.livenessEventsMax && this.tick < ticksMax) for (let i = 0; i < 10; i++) this.step();
    const excluded = rejoined();
    if (excluded.length > 0) this.failures.push(`rejoin: validators ${excluded.join(", ")} have no event after the heal that every honest validator finalized`);
    if (this.o.slashing) this.checkSlashing(createdAtHeal);
    this.checkAgreement("liveness phase");
    const after = Math.min(...this.honestLogs().map((v) => v.log.length));
    if (!finalizedAll) this.failures.push(`validity: not every honest safety-phase event was finalized by every honest validator within ${this.o.livenessEventsMax} events after the heal`);
    if (after <= before) this.failures.push(`liveness: finality did not advance after the heal (${before} -> ${after})`);
    return {
      options: this.o,
      ok: this.failures.length === 0,
      failures: this.failures,
      finalizedMin: after,
      ticks: this.tick,
      evidence: { equivocation: this.evidenceEquivocation, invalid: this.evidenceInvalid },
      ancient: { dropped: this.ancientDropped, rejoins: this.rejoins },
      stake: { slashes: this.longestHonest().slashes, decisionLagMax: this.decisionLagMax, weightWaitMax: this.weightWaitMax, stakeWaits: this.stakeWaits },
      repro: reproCommand(this.o),
    };
  }

  storedUnion(): SignedEvent[] {
    const seen = new Set<string>();
    const out: SignedEvent[] = [];
    for (const v of this.validators) {
      for (const e of v.store) {
        const id = hexId(e);
        if (seen.has(id)) continue;
        seen.add(id);
        out.push(e);
      }
    }
    return out;
  }

  engineConfig(): EngineConfig {
    return this.config;
  }

  /** Every honest validator's finalized order, as it saw it (prefixes of one another). */
  honestOrders(): { validator: number; fault: string; order: FinalizedEvent[] }[] {
    return this.honestLogs().map((v) => ({ validator: v.index, fault: v.fault, order: v.log }));
  }

  /** Identical prefixes (ids and anchor indices), no double finalization, linear extension of the DAG. */
  private checkAgreement(phase: string): void {
    const logs = this.honestLogs().filter((v) => !v.crashed);
    const longest = logs.reduce((a, b) => (b.log.length > a.log.length ? b : a), logs[0]!);
    for (const v of logs) {
      for (let i = 0; i < v.log.length; i++) {
        const a = v.log[i]!;
        const b = longest.log[i]!;
        if (a.anchorIndex !== BigInt(i) || hexId(a.event) !== hexId(b.event) || a.anchorIndex !== b.anchorIndex) {
          this.failures.push(`${phase}: agreement: validators ${v.index} and ${longest.index} differ at anchor ${i}`);
          break;
        }
      }
    }
    const pos = new Map<string, number>();
    longest.log.forEach((f, i) => {
      const id = hexId(f.event);
      if (pos.has(id)) this.failures.push(`${phase}: event ${id.slice(0, 16)} finalized twice`);
      pos.set(id, i);
    });
    longest.log.forEach((f, i) => {
      const inPlay = effectiveParents(f.event.header);
      for (const [slot, p] of f.event.header.parents.entries()) {
        if (!inPlay[slot]) continue; // an ancient reference is out of play: no order constraint
        const at = pos.get(Buffer.from(p).toString("hex"));
        // A faulty validator's event may be stale (never ordered); so may a paused one's from
        // before it rejoined; an honest one that kept up never is.
        const pid = Buffer.from(p).toString("hex");
        const parentFaulty = at === undefined && (this.faultyIds.has(pid) || this.mayBeStale.has(pid));
        if (at !== undefined && at >= i) {
          this.failures.push(`${phase}: order is not a linear extension: anchor ${i} precedes its parent`);
          return;
        }
        if (at === undefined && !parentFaulty) {
          this.failures.push(`${phase}: anchor ${i} has an honest parent that was never ordered (stale)`);
          return;
        }
      }
    });
  }
}

/** Runs a simulation and returns every event any validator stored, deduplicated, in first-stored order. */
export function simulatedEvents(options: SimOptions): { events: SignedEvent[]; config: EngineConfig; report: SimReport; orders: ReturnType<Simulation["honestOrders"]> } {
  const sim = new Simulation(options);
  const report = sim.run();
  return { events: sim.storedUnion(), config: sim.engineConfig(), report, orders: sim.honestOrders() };
}

/**
 * The `--order_out` file (README, "Consensus tools"): the committee parameters and every
 * honest validator's finalized order with round received and consensus time, so an outside
 * implementation can recompute the order from the `--headers_out` file and compare.
 */
export function orderFileJson(sim: ReturnType<typeof simulatedEvents>): string {
  const c = sim.config;
  return JSON.stringify({
    committee: {
      k: c.committee.publicKeys.length,
      publicKeys: c.committee.publicKeys.map((pk) => Buffer.from(pk).toString("hex")),
      stakes: c.committee.stakes.map(String),
      coinRoundInterval: c.coinRoundInterval, parentsMax: c.parentsMax, shard: c.shard,
      horizonRounds: c.horizonRounds, ancientRounds: ANCIENT_ROUNDS,
      // Slashing runs: weights follow stake (SPEC_CONSENSUS §1a); each penalty sets the offender to 0.
      ...(c.stakeLagRounds === undefined ? {} : { stakeLagRounds: c.stakeLagRounds, slashes: sim.report.stake.slashes.map((x) => ({ ...x, anchorIndex: x.anchorIndex.toString() })) }),
    },
    validators: sim.orders.map((o) => ({
      validator: o.validator, fault: o.fault,
      order: o.order.map((f) => ({
        anchorIndex: f.anchorIndex.toString(), id: Buffer.from(f.event.id).toString("hex"), creator: f.event.header.creator, seq: f.event.header.seq,
        roundReceived: f.roundReceived, medianLamport: f.consensusTime.medianLamport, lamport: f.consensusTime.lamport,
      })),
    })),
  }, null, 1);
}

export function runSimulation(options: SimOptions): SimReport {
  return new Simulation(options).run();
}

/** Whether long soak runs are enabled (PHANTOM_SOAK=1). */
export const SOAK = process.env.PHANTOM_SOAK === "1";

/** Runs consecutive seeds; prints each failure with its reproduction command and returns the failures. */
export function runSeeds(k: number, seeds: number, firstSeed: number, events?: number): SimReport[] {
  const failed: SimReport[] = [];
  for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
    const report = runSimulation(simOptions({ seed, k, ...(events === undefined ? {} : { events }) }));
    if (!report.ok) {
      console.log(`sim failure (seed ${seed}, k ${k}): ${report.failures.join("; ")}\n  reproduce: ${report.repro}`);
      failed.push(report);
    }
  }
  return failed;
}
