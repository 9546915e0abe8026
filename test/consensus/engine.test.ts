// Engine API: validation codes, evidence, orphans, sync helpers, pruning, config errors.
import { describe, expect, test } from "bun:test";
import { ConsensusEngine, buildEventHeader } from "../../src/consensus/engine.ts";
import { ConsensusConfigError, EventError } from "../../src/consensus/errors.ts";
import { signEvent, eventId, type SignedEvent, type EventHeader } from "../../src/types/event.ts";
import { encodeEvidence, decodeEvidence } from "../../src/types/evidence.ts";
import { PhantomError } from "../../src/errors.ts";
import { makeCommittee, digest, growDag } from "./helpers.ts";
import { parsePicture, meshLayers } from "./picture.ts";

const tc = makeCommittee(4, { parentsMax: 3 });

/** Layers 0..1 of a 4-creator mesh (parents: self + 2 others), inserted. */
function base(): { engine: ConsensusEngine; ev: Map<string, SignedEvent> } {
  const pic = parsePicture(`
    a0 ; b0 ; c0 ; d0
    a1 <- a0 b0 c0 ; b1 <- b0 a0 c0 ; c1 <- c0 a0 b0 ; d1 <- d0 a0 b0
  `, tc);
  const engine = new ConsensusEngine(tc.config);
  const r = engine.addEvents(pic.events);
  expect(r.accepted.length).toBe(8);
  for (const [name, e] of pic.byName) engineRounds.set(name, engine.describe(e.id)!.round);
  return { engine, ev: pic.byName };
}
/** Round of each named event of base(), for the claims of crafted children. */
const engineRounds = new Map<string, number>();

function craft(ev: Map<string, SignedEvent>, creator: number, seq: number, parents: string[], over: Partial<EventHeader> = {}): SignedEvent {
  const h = buildEventHeader({
    shard: 0, creator, seq, payloadDigest: digest(`craft ${creator} ${seq} ${parents.join()}`),
    parents: parents.map((p) => ({ id: ev.get(p)!.id, lamport: ev.get(p)!.header.lamport, round: engineRounds.get(p) ?? 0 })),
  });
  return signEvent({ ...h, ...over }, tc.keys[creator]!.secretKey);
}

describe("validation", () => {
  const cases: [string, (ev: Map<string, SignedEvent>) => SignedEvent, string | null][] = [
    ["EVENT_BAD_SEQ", (ev) => craft(ev, 0, 3, ["a1", "b1"]), "bad_seq"],
    ["EVENT_SELF_PARENT_NOT_FIRST", (ev) => craft(ev, 0, 2, ["b1", "a1"]), "bad_parents"],
    ["EVENT_BAD_PARENT", (ev) => craft(ev, 0, 2, ["a1", "a0"]), "bad_parents"],
    ["EVENT_MISSING_CROSS_LINK", (ev) => craft(ev, 0, 2, ["a1"]), "missing_cross_link"],
    ["EVENT_BAD_LAMPORT", (ev) => craft(ev, 0, 2, ["a1", "b1"], { lamport: 9 }), "bad_lamport"],
    ["EVENT_TOO_MANY_PARENTS", (ev) => craft(ev, 0, 2, ["a1", "b1", "c1", "d1"]), "bad_parents"],
    ["EVENT_DUPLICATE_PARENT", (ev) => craft(ev, 0, 2, ["a1", "b1", "b1"]), "bad_parents"],
    ["EVENT_BAD_SHARD", (ev) => craft(ev, 0, 2, ["a1", "b1"], { shard: 3 }), "bad_shard"],
    ["EVENT_BAD_SEQ", (ev) => craft(ev, 0, 0, ["a1"]), "bad_seq"],
  ];
  for (const [code, make, reason] of cases) {
    test(`${code} (${reason}) is rejected with evidence`, () => {
      const { engine, ev } = base();
      const bad = make(ev);
      const r = engine.addEvents([bad]);
      expect(r.accepted).toEqual([]);
      expect(r.rejected.map((x) => x.code)).toEqual([code]);
      expect(r.evidence.length).toBe(1);
      const e = r.evidence[0]!;
      expect(e.kind).toBe("invalid_event");
      if (e.kind === "invalid_event") expect(e.reason).toBe(reason as never);
      expect(decodeEvidence(encodeEvidence(e))).toEqual(e);
    });
  }

  test("bad signature, unknown creator, forged id and duplicates are rejected without evidence", () => {
    const { engine, ev } = base();
    const good = craft(ev, 0, 2, ["a1", "b1"]);
    const badSig = { ...craft(ev, 1, 2, ["b1", "a1"]), signature: new Uint8Array(64) };
    const wrongKey = signEvent(craft(ev, 2, 2, ["c1", "a1"]).header, tc.keys[3]!.secretKey);
    const unknown = { ...good, header: { ...good.header, creator: 9 } };
    const forged = { ...good, id: digest("forged") };
    const r = engine.addEvents([good, badSig, wrongKey, { ...unknown, id: eventId(unknown.header) }, forged, good]);
    expect(r.accepted.map((e) => e.id)).toEqual([good.id]);
    expect(r.rejected.map((x) => x.code).sort()).toEqual(
      ["EVENT_BAD_ID", "EVENT_BAD_SIGNATURE", "EVENT_BAD_SIGNATURE", "EVENT_DUPLICATE", "EVENT_UNKNOWN_CREATOR"].sort(),
    );
    expect(r.evidence).toEqual([]);
    expect(engine.addEvents([good]).rejected[0]!.code).toBe("EVENT_DUPLICATE");
  });

  test("EventError is a PhantomError with a stable code", () => {
    const e = new EventError("EVENT_BAD_LAMPORT", "x");
    expect(e).toBeInstanceOf(PhantomError);
    expect(e.code).toBe("EVENT_BAD_LAMPORT");
  });
});

describe("orphans", () => {
  test("events wait for their parents, any arrival order, and are released in one call", () => {
    const pic = parsePicture(meshLayers("abcd", 4), makeCommittee(4));
    const engine = new ConsensusEngine(makeCommittee(4).config);
    const reversed = [...pic.events].reverse();
    const r1 = engine.addEvents(reversed.slice(0, 12));
    expect(r1.accepted).toEqual([]);
    expect(r1.orphaned).toBe(12);
    expect(engine.stats().orphans).toBe(12);
    expect(engine.missingParents(100).length).toBeGreaterThan(0);
    const r2 = engine.addEvents(reversed.slice(12));
    expect(r2.accepted.length).toBe(16);
    expect(engine.stats()).toMatchObject({ orphans: 0, events: 16 });
  });

  test("the orphan buffer is bounded: the oldest is evicted and reported", () => {
    const small = makeCommittee(4, { orphanEventsMax: 3 });
    const pic = parsePicture(meshLayers("abcd", 3), small);
    const engine = new ConsensusEngine(small.config);
    const r = engine.addEvents(pic.events.slice(4));
    expect(engine.stats().orphans).toBe(3);
    expect(r.rejected.filter((x) => x.code === "EVENT_ORPHAN_EVICTED").length).toBe(5);
  });
});

describe("sync helpers and createEvent", () => {
  test("highestSeq, eventsAfter (topological, limited) and getEvent", () => {
    const c = makeCommittee(4);
    const { engine, events } = growDag(c, 60, 3);
    const hs = engine.highestSeq();
    expect(hs.reduce((a, b) => a + b + 1, 0)).toBe(60);
    const peer = new ConsensusEngine(c.config);
    const missing = engine.eventsAfter(peer.highestSeq(), 25);
    expect(missing.length).toBe(25);
    expect(peer.addEvents(missing).accepted.length).toBe(25);
    for (;;) {
      const more = engine.eventsAfter(peer.highestSeq(), 25);
      if (more.length === 0) break;
      expect(peer.addEvents(more).orphaned).toBe(0);
    }
    expect(peer.highestSeq()).toEqual(hs);
    expect(engine.getEvent(events[5]!.id)).toBe(events[5]!);
    expect(engine.getEvent(digest("nope"))).toBeUndefined();
  });

  test("pendingPayloadEvents counts payload events until they are ordered, identically on every engine holding the DAG", () => {
    const c = makeCommittee(4);
    const engine = new ConsensusEngine(c.config);
    const empty = digest("empty payload");
    const events = [0, 1, 2, 3].map((i) => engine.createEvent(i, c.keys[i]!.secretKey, empty));
    expect(engine.pendingPayloadEvents(empty)).toBe(0);
    const carried = engine.createEvent(1, c.keys[1]!.secretKey, digest("txs"));
    events.push(carried);
    expect(engine.pendingPayloadEvents(empty)).toBe(1);
    // Empty events on top, round-robin, until it is ordered: counted exactly until then.
    for (let i = 0; engine.describe(carried.id)!.roundReceived < 0; i++) {
      expect(i).toBeLessThan(200);
      expect(engine.pendingPayloadEvents(empty)).toBe(1);
      events.push(engine.createEvent(i % 4, c.keys[i % 4]!.secretKey, empty));
      engine.addEvents([]);
    }
    expect(engine.pendingPayloadEvents(empty)).toBe(0);
    // A fact of the DAG: another engine fed the same events (another order of arrival) agrees.
    const other = new ConsensusEngine(c.config);
    other.addEvents(events.slice(0, 6));
    expect(other.pendingPayloadEvents(empty)).toBe(1);
    other.addEvents(events.slice(6).reverse());
    expect(other.pendingPayloadEvents(empty)).toBe(0);
  });

  test("createEvent needs a cross-link after seq 0 and rejects bad creators", () => {
    const c = makeCommittee(4);
    const engine = new ConsensusEngine(c.config);
    const first = engine.createEvent(0, c.keys[0]!.secretKey, digest("x"));
    expect(first.header.seq).toBe(0);
    expect(() => engine.createEvent(0, c.keys[0]!.secretKey, digest("y"))).toThrow(PhantomError);
    expect(() => engine.createEvent(7, c.keys[0]!.secretKey, digest("y"))).toThrow(PhantomError);
  });

  test("config errors are typed", () => {
    const c = makeCommittee(4);
    expect(() => new ConsensusEngine({ ...c.config, coinRoundInterval: 1 })).toThrow(ConsensusConfigError);
    expect(() => new ConsensusEngine({ ...c.config, parentsMax: 9 })).toThrow(ConsensusConfigError);
    expect(() => new ConsensusEngine({ ...c.config, committee: { ...c.config.committee, stakes: [1n] } })).toThrow(ConsensusConfigError);
    expect(() => new ConsensusEngine({ ...c.config, committee: { ...c.config.committee, stakes: [2n ** 60n, 1n, 1n, 1n] } })).toThrow(ConsensusConfigError);
  });
});

describe("memory bound", () => {
  test("events in memory stay flat over a long run (pruning below the horizon)", () => {
    const c = makeCommittee(7, { horizonRounds: 6 });
    const { engine, finalized } = growDag(c, 6000, 11);
    const s = engine.stats();
    expect(s.finalizedCount).toBe(BigInt(finalized.length));
    expect(finalized.length).toBeGreaterThan(5800);
    // About (horizon + undecided rounds) × events per round, independent of the run length.
    expect(s.events).toBeLessThan(400);
    const shorter = growDag(c, 3000, 11).engine.stats();
    expect(Math.abs(s.events - shorter.events)).toBeLessThan(150);
  });
});

describe("a validator silent for longer than the horizon", () => {
  test("keeps its newest event pinned in memory and rejoins; its new events are finalized", () => {
    const c = makeCommittee(4, { horizonRounds: 4 });
    const creator = new ConsensusEngine(c.config);
    const observer = new ConsensusEngine(c.config);
    const feed: SignedEvent[] = [];
    const make = (v: number, i: number): void => {
      feed.push(creator.createEvent(v, c.keys[v]!.secretKey, digest(`silent ${i}`)));
    };
    for (let v = 0; v < 4; v++) make(v, v);
    for (let i = 0; i < 400; i++) make(i % 3, 10 + i); // validator 3 is silent
    creator.addEvents([]);
    observer.addEvents(feed);
    expect(observer.stats().lastDecidedRound).toBeGreaterThan(20);
    const back = creator.createEvent(3, c.keys[3]!.secretKey, digest("back"));
    expect(back.header.seq).toBe(1);
    const after: SignedEvent[] = [back];
    for (let i = 0; i < 60; i++) after.push(creator.createEvent(i % 4, c.keys[i % 4]!.secretKey, digest(`after ${i}`)));
    const r = observer.addEvents(after);
    expect(r.rejected).toEqual([]);
    expect(r.orphaned).toBe(0);
    expect(r.finalized.some((f) => Buffer.from(f.event.id).equals(Buffer.from(back.id)))).toBe(true);
  });
});

describe("hostile input never throws", () => {
  test("unencodable headers are EVENT_MALFORMED", () => {
    const { engine, ev } = base();
    const good = craft(ev, 0, 2, ["a1", "b1"]);
    const r = engine.addEvents([
      { ...good, header: { ...good.header, creator: 200 } },
      { ...good, header: { ...good.header, parents: [new Uint8Array(31)] } },
      { ...good, header: { ...good.header, seq: -1 } },
    ]);
    expect(r.rejected.map((x) => x.code)).toEqual(["EVENT_MALFORMED", "EVENT_MALFORMED", "EVENT_MALFORMED"]);
  });

  test("random mutations of valid events are accepted or rejected with a known code", async () => {
    const fc = (await import("fast-check")).default;
    const { EVENT_ERROR_CODES } = await import("../../src/consensus/errors.ts");
    const known = new Set<string>(EVENT_ERROR_CODES);
    fc.assert(
      fc.property(
        fc.record({
          creator: fc.integer({ min: 0, max: 6 }), seq: fc.integer({ min: 0, max: 4 }), lamport: fc.integer({ min: 0, max: 5 }),
          shard: fc.integer({ min: 0, max: 2 }), parents: fc.array(fc.constantFrom("a0", "b0", "c0", "d0", "a1", "b1", "c1", "d1", "zz"), { maxLength: 4 }),
          resign: fc.boolean(),
        }),
        (m) => {
          const { engine, ev } = base();
          const ids = m.parents.map((p) => ev.get(p)?.id ?? digest(p));
          const header = { shard: m.shard, creator: m.creator, seq: m.seq, lamport: m.lamport, parents: ids, parentRounds: ids.map(() => 0), payloadDigest: digest("m") };
          const signer = tc.keys[m.creator % 4]!.secretKey;
          const e = m.resign ? signEvent(header, signer) : { ...signEvent(header, signer), signature: new Uint8Array(64) };
          const r = engine.addEvents([e]);
          for (const x of r.rejected) expect(known.has(x.code)).toBe(true);
          expect(r.accepted.length + r.rejected.length + r.orphaned).toBe(1);
        },
      ),
      { numRuns: 200, seed: 7 },
    );
  });
});
