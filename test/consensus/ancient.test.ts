// The ancient-parent rule (SPEC_CONSENSUS §12): how an event is inserted never depends on
// what a node has pruned. Two engines see the same events: `full` keeps everything in
// memory, `pruned` keeps the minimum horizon. A validator silent far longer than that
// horizon comes back; its late event, its rejoin event and a Byzantine old link are judged
// the same way by both, and the rejoined validator's events are finalized again.
import { describe, expect, test } from "bun:test";
import { ConsensusEngine, buildEventHeader, type FinalizedEvent } from "../../src/consensus/engine.ts";
import { signEvent, type SignedEvent } from "../../src/types/event.ts";
import { ANCIENT_ROUNDS } from "../../src/types/constants.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { makeCommittee, digest } from "./helpers.ts";

const tc = makeCommittee(4);
const SILENT = 3;

function setup() {
  const full = new ConsensusEngine({ ...tc.config, horizonRounds: 1 << 20 });
  const pruned = new ConsensusEngine({ ...tc.config, horizonRounds: 4 });
  const logs = { full: [] as FinalizedEvent[], pruned: [] as FinalizedEvent[] };
  const feed = (events: SignedEvent[]) => {
    const a = full.addEvents(events);
    const b = pruned.addEvents(events);
    logs.full.push(...a.finalized);
    logs.pruned.push(...b.finalized);
    return { full: a, pruned: b };
  };
  /** Creators 0..2 create `count` events round-robin on a third engine and both engines receive them. */
  const maker = new ConsensusEngine({ ...tc.config, horizonRounds: 1 << 20 });
  let n = 0;
  const grow = (count: number, creators = [0, 1, 2]) => {
    for (let i = 0; i < count; i++) {
      const c = creators[n++ % creators.length]!;
      const e = maker.createEvent(c, tc.keys[c]!.secretKey, digest(`grow ${n}`));
      feed([e]);
    }
    feed([]);
  };
  return { full, pruned, maker, logs, feed, grow };
}

/** A header by SILENT with explicit parents and the rounds `roundOf` gives them. */
function eventBy(seq: number, parents: SignedEvent[], roundOf: (e: SignedEvent) => number, label: string): SignedEvent {
  const h = buildEventHeader({
    shard: 0, creator: SILENT, seq, payloadDigest: digest(label),
    parents: parents.map((p) => ({ id: p.id, lamport: p.header.lamport, round: roundOf(p) })),
  });
  return signEvent(h, tc.keys[SILENT]!.secretKey);
}

describe("ancient parents", () => {
  test("a late event, a rejoin event and a Byzantine old link are treated the same whatever a node pruned", () => {
    const { full, pruned, maker, logs, feed, grow } = setup();
    // Everyone is active for a while; SILENT's events come from the maker too.
    for (let i = 0; i < 40; i++) feed([maker.createEvent(i % 4, tc.keys[i % 4]!.secretKey, digest(`start ${i}`))]);
    feed([]);
    const roundOf = (e: SignedEvent) => full.describe(e.id)!.round;
    const silentTop = full.eventsAfter([Infinity, Infinity, Infinity, full.highestSeq()[SILENT]! - 1], 1)[0]!;
    const oldCross = full.eventsAfter([full.highestSeq()[0]! - 1, Infinity, Infinity, Infinity], 1)[0]!;
    // SILENT goes quiet while the others decide far more rounds than the pruned engine keeps.
    grow(400);
    const decided = pruned.stats().lastDecidedRound;
    expect(decided).toBeGreaterThan(roundOf(silentTop) + 4 + ANCIENT_ROUNDS + 2);

    // 1. A late event SILENT made before going quiet (parents from back then): the pruned
    //    engine can never place it and drops it; the full one can, but never orders it.
    const late = eventBy(silentTop.header.seq + 1, [silentTop, oldCross], roundOf, "late");
    const r1 = feed([late]);
    expect(r1.pruned.rejected.map((x) => x.code)).toEqual(["EVENT_ANCIENT"]);
    expect(r1.full.accepted.length).toBe(1);

    // 2. The rejoin event: its self-parent (the late event) is ancient next to a recent cross-link,
    //    so neither engine needs it; both insert it with the same round and witness status.
    const heads = [0, 1, 2].map((c) => full.eventsAfter([0, 1, 2, 3].map((x) => (x === c ? full.highestSeq()[c]! - 1 : Infinity)), 1)[0]!);
    const recent = heads.reduce((a, b) => (roundOf(b) > roundOf(a) ? b : a));
    const rejoin = eventBy(late.header.seq + 1, [late, recent], (e) => (e === late ? roundOf(silentTop) + 1 : roundOf(e)), "rejoin");
    const r2 = feed([rejoin]);
    expect(r2.full.accepted.length).toBe(1);
    expect(r2.pruned.accepted.length).toBe(1);
    expect(pruned.describe(rejoin.id)).toEqual(full.describe(rejoin.id)!);

    // 3. A Byzantine-style extra link to an old, pruned event next to a recent one: ancient,
    //    out of play at both engines (before this rule the pruned engine orphaned it forever).
    const byz = eventBy(rejoin.header.seq + 1, [rejoin, recent, oldCross].filter((p, i, a) => a.indexOf(p) === i), roundOf, "old link");
    const r3 = feed([byz]);
    expect(r3.full.accepted.length).toBe(1);
    expect(r3.pruned.accepted.length).toBe(1);
    expect(pruned.describe(byz.id)).toEqual(full.describe(byz.id)!);

    // SILENT is back: the others link to it, its events are finalized, identically at both.
    maker.addEvents([late, rejoin, byz]);
    grow(120, [0, 1, 2, 3]);
    const order = (log: FinalizedEvent[]) => log.map((f) => toHex(f.event.id));
    const common = Math.min(logs.full.length, logs.pruned.length);
    expect(common).toBeGreaterThan(400);
    expect(order(logs.pruned).slice(0, common)).toEqual(order(logs.full).slice(0, common));
    const finalizedIds = new Set(order(logs.pruned));
    expect(finalizedIds.has(toHex(rejoin.id))).toBe(true);
    expect(finalizedIds.has(toHex(byz.id))).toBe(true);
    expect(finalizedIds.has(toHex(late.id))).toBe(false); // stale: never ordered anywhere
  }, 60_000);

  test("a claimed round that does not match a parent in play is rejected", () => {
    const { full, maker, feed } = setup();
    for (let i = 0; i < 12; i++) feed([maker.createEvent(i % 4, tc.keys[i % 4]!.secretKey, digest(`x ${i}`))]);
    const self = full.eventsAfter([Infinity, Infinity, Infinity, full.highestSeq()[SILENT]! - 1], 1)[0]!;
    const other = full.eventsAfter([full.highestSeq()[0]! - 1, Infinity, Infinity, Infinity], 1)[0]!;
    const liar = eventBy(self.header.seq + 1, [self, other], (e) => full.describe(e.id)!.round + (e === other ? 1 : 0), "liar");
    expect(full.addEvents([liar]).rejected.map((x) => x.code)).toEqual(["EVENT_BAD_PARENT_ROUND"]);
  }, 30_000);
});

describe("stale events", () => {
  test("an event nobody orders is reported stale once, when it leaves memory, and never finalized", () => {
    const engine = new ConsensusEngine({ ...tc.config, horizonRounds: 16 });
    const maker = new ConsensusEngine({ ...tc.config, horizonRounds: 1 << 20 });
    const stale: string[] = [];
    const finalized: string[] = [];
    const feed = (events: SignedEvent[]) => {
      const r = engine.addEvents(events);
      stale.push(...r.stale.map((e) => toHex(e.id)));
      finalized.push(...r.finalized.map((f) => toHex(f.event.id)));
      return r;
    };
    let n = 0;
    const grow = (count: number, creators: number[]) => {
      for (let i = 0; i < count; i++) {
        const c = creators[n++ % creators.length]!;
        feed([maker.createEvent(c, tc.keys[c]!.secretKey, digest(`stale ${n}`))]);
      }
    };
    grow(40, [0, 1, 2, 3]);
    // SILENT signs an event the others never see (so nobody builds on it); it reaches this engine a little late.
    const top = maker.eventsAfter([Infinity, Infinity, Infinity, maker.highestSeq()[SILENT]! - 1], 1)[0]!;
    const other = maker.eventsAfter([maker.highestSeq()[0]! - 1, Infinity, Infinity, Infinity], 1)[0]!;
    const lonely = eventBy(top.header.seq + 1, [top, other], (e) => maker.describe(e.id)!.round, "lonely");
    grow(12, [0, 1, 2]);
    expect(feed([lonely]).accepted.map((e) => toHex(e.id))).toEqual([toHex(lonely.id)]);
    grow(60, [0, 1, 2]);
    // SILENT moves on past it (a rejoin: `lonely` is an ancient reference), so it is no longer
    // SILENT's newest event, which memory keeps.
    const head = maker.eventsAfter([maker.highestSeq()[0]! - 1, Infinity, Infinity, Infinity], 1)[0]!;
    const next = eventBy(lonely.header.seq + 1, [lonely, head], (e) => (e === lonely ? 0 : engine.describe(e.id)!.round), "next");
    expect(feed([next]).accepted).toHaveLength(1);
    grow(400, [0, 1, 2]);
    expect(stale.filter((id) => id === toHex(lonely.id))).toHaveLength(1);
    expect(finalized).not.toContain(toHex(lonely.id));
    // Ordered events are never reported stale.
    expect(stale.filter((id) => finalized.includes(id))).toEqual([]);
  }, 60_000);
});

describe("the staircase (SPEC_CONSENSUS §12)", () => {
  test("a node ahead drops a Byzantine staircase a node behind inserts; honest events never link to it, so the node ahead places every one and both agree", () => {
    const H = 16;
    const ahead = new ConsensusEngine({ ...tc.config, horizonRounds: H });
    const behind = new ConsensusEngine({ ...tc.config, horizonRounds: H });
    const maker = new ConsensusEngine({ ...tc.config, horizonRounds: 1 << 20 });
    const logs = { ahead: [] as FinalizedEvent[], behind: [] as FinalizedEvent[] };
    const toAhead = (es: SignedEvent[]) => {
      const r = ahead.addEvents(es);
      logs.ahead.push(...r.finalized);
      return r;
    };
    const toBehind = (es: SignedEvent[]) => {
      const r = behind.addEvents(es);
      logs.behind.push(...r.finalized);
      return r;
    };
    const stream: SignedEvent[] = [];
    for (let i = 0; i < 40; i++) stream.push(maker.createEvent(i % 4, tc.keys[i % 4]!.secretKey, digest(`st ${i}`)));
    for (let i = 0; i < 400; i++) stream.push(maker.createEvent(i % 3, tc.keys[i % 3]!.secretKey, digest(`st3 ${i}`)));
    const lag = 40; // the node behind has not received the last events yet
    toAhead(stream);
    toAhead([]);
    toBehind(stream.slice(0, -lag));
    toBehind([]);
    const prunedBelow = (e: ConsensusEngine) => e.stats().lastDecidedRound - H - ANCIENT_ROUNDS;
    const gap = ahead.stats().lastDecidedRound - behind.stats().lastDecidedRound;
    expect(gap).toBeGreaterThanOrEqual(2);
    expect(gap).toBeLessThanOrEqual(H / 2 + ANCIENT_ROUNDS);
    const roundIn = (e: ConsensusEngine) => (x: SignedEvent) => e.describe(x.id)!.round;
    // An honest event the node ahead has pruned and the node behind still holds.
    const p = stream.find((x) => x.header.creator !== SILENT && maker.describe(x.id)!.round === prunedBelow(ahead) - 1)!;
    expect(behind.describe(p.id)).toBeDefined();
    expect(ahead.describe(p.id)).toBeUndefined();

    // The staircase: SILENT links its old chain to p, then climbs at most ANCIENT_ROUNDS + 1 rounds a step.
    const silentTop = maker.eventsAfter([Infinity, Infinity, Infinity, maker.highestSeq()[SILENT]! - 1], 1)[0]!;
    let step = eventBy(silentTop.header.seq + 1, [silentTop, p], roundIn(maker), "stair 0");
    expect(toAhead([step]).rejected.map((x) => x.code)).toEqual(["EVENT_ANCIENT"]);
    expect(toBehind([step]).accepted).toHaveLength(1);
    // The node behind catches up; the staircase climbs from the step it holds.
    toBehind(stream.slice(-lag));
    toBehind([]);
    const stairs = [step];
    const honestAtBehind = stream.filter((x) => x.header.creator !== SILENT && behind.describe(x.id) !== undefined);
    for (let i = 1; i < 40 && behind.describe(step.id)!.round < behind.stats().maxRound - 1; i++) {
      const r = behind.describe(step.id)!.round;
      const h = honestAtBehind.filter((x) => behind.describe(x.id)!.round <= r + ANCIENT_ROUNDS).at(-1)!;
      step = eventBy(step.header.seq + 1, [step, h], roundIn(behind), `stair ${i}`);
      expect(toAhead([step]).accepted).toHaveLength(0); // dropped or waiting for a parent it dropped
      expect(toBehind([step]).accepted).toHaveLength(1);
      stairs.push(step);
    }
    // Its top is recent: without the taint rule it would be an honest creator's first choice.
    expect(behind.describe(step.id)!.round).toBeGreaterThanOrEqual(behind.stats().maxRound - 1);

    // Honest creators at the node behind go on; the node ahead must place every event they make.
    const stairIds = new Set(stairs.map((x) => toHex(x.id)));
    const decidedBefore = ahead.stats().lastDecidedRound;
    for (let i = 0; i < 150; i++) {
      const c = i % 3;
      const e = behind.createEvent(c, tc.keys[c]!.secretKey, digest(`after ${i}`));
      expect(e.header.parents.some((x) => stairIds.has(toHex(x)))).toBe(false);
      expect(toAhead([e]).accepted.map((x) => toHex(x.id))).toEqual([toHex(e.id)]);
      toBehind([]);
    }
    toAhead([]);
    expect(ahead.stats().lastDecidedRound).toBeGreaterThan(decidedBefore + 10);
    const order = (log: FinalizedEvent[]) => log.map((f) => toHex(f.event.id));
    const common = Math.min(logs.ahead.length, logs.behind.length);
    expect(common).toBeGreaterThan(300);
    expect(order(logs.ahead).slice(0, common)).toEqual(order(logs.behind).slice(0, common));
  }, 60_000);
});
