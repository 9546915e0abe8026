/**
 * Deterministic consensus simulator. N validators, each with its own ConsensusEngine, on a
 * seeded virtual network (random delays, loss, reordering, partitions that heal), with
 * crashed validators that restart from their stored events, paused validators that come
 * back after their peers pruned what they last saw, and Byzantine validators
 * (equivocating, withholding, sending invalid events, lagging). A safety phase with
 * faults on is followed by a liveness phase with the network healed. Same options, same
 * run: nothing here reads a clock or Math.random.
 */
import { ConsensusEngine, type EngineConfig, type FinalizedEvent, buildEventHeader } from "../../src/consensus/engine.ts";
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
    ...partial,
  };
}

export function reproCommand(o: SimOptions): string {
  return `bun run sim --seed ${o.seed} --k ${o.k} --events ${o.events} --faults ${o.faults.join(",") || "none"} --loss ${o.loss} --partition ${o.partition} --delay ${o.delayTicksMax} --horizon ${o.horizonRounds} --coin ${o.coinRoundInterval}`;
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
function memoVerifier(): (items: readonly VerifyItem[]) => boolean[] {
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
    const r = v.engine.addEvents(events);
    v.store.push(...r.accepted);
    v.log.push(...r.finalized);
    this.ancientDropped += r.rejected.filter((x) => x.code === "EVENT_ANCIENT").length;
    for (const ev of r.evidence) {
      if (ev.kind === "equivocation") this.evidenceEquivocation++;
      else if (ev.kind === "invalid_event") this.evidenceInvalid++;
    }
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
    const payload = blake3_32(new TextEncoder().encode(`payload ${v.index} ${this.created}`));
    let e: SignedEvent;
    // An honest validator whose events others stopped seeing re-roots, as the node does.
    const reroot = this.honest(v) && v.engine.chainStalled(v.index);
    try {
      e = v.engine.createEvent(v.index, v.keys.secretKey, payload, { reroot });
    } catch (err) {
      if (isPhantomError(err) && (err.code === "CONSENSUS_NO_CROSS_LINK" || err.code === "CONSENSUS_REJOIN_WAIT")) return;
      throw err;
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
    const engine = new ConsensusEngine(this.config);
    const r = engine.addEvents([...v.store], { trusted: true });
    if (r.rejected.length > 0) this.failures.push(`validator ${v.index}: stored event rejected on restart (${r.rejected[0]!.code})`);
    const fresh = r.finalized;
    const n = Math.min(fresh.length, v.log.length);
    for (let i = 0; i < n; i++) {
      if (hexId(fresh[i]!.event) !== hexId(v.log[i]!.event) || fresh[i]!.anchorIndex !== v.log[i]!.anchorIndex) {
        this.failures.push(`validator ${v.index}: restart re-derived a different order at anchor ${i}`);
        break;
      }
    }
    if (fresh.length < v.log.length) this.failures.push(`validator ${v.index}: restart finalized ${fresh.length} < ${v.log.length} before the crash`);
    v.engine = engine;
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
