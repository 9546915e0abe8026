// Consensus cases drawn as pictures (test/consensus/picture.ts describes the language).
import { describe, expect, test } from "bun:test";
import { ConsensusEngine, type FinalizedEvent } from "../../src/consensus/engine.ts";
import type { SignedEvent } from "../../src/types/event.ts";
import { makeCommittee } from "./helpers.ts";
import { parsePicture, meshLayers, type Picture } from "./picture.ts";

const tc = makeCommittee(4);

function names(pic: Picture, fin: FinalizedEvent[]): string[] {
  return fin.map((f) => pic.name(f.event));
}

function runEach(events: SignedEvent[]): FinalizedEvent[] {
  const engine = new ConsensusEngine(tc.config);
  return events.flatMap((e) => engine.addEvents([e]).finalized);
}

describe("full mesh", () => {
  // Every event sees the whole previous layer: a round needs two layers to strongly see.
  const pic = parsePicture(meshLayers("abcd", 9), tc);

  test("rounds advance every two layers; witnesses are each creator's first event of a round", () => {
    const engine = new ConsensusEngine(tc.config);
    engine.addEvents(pic.events);
    for (let layer = 0; layer < 9; layer++) {
      const info = engine.describe(pic.byName.get(`b${layer}`)!.id)!;
      expect(info.round).toBe(Math.floor(layer / 2));
      expect(info.witness).toBe(layer % 2 === 0);
    }
  });

  test("round 1 is received by layers 0-1; order is (median lamport, lamport, id), identical per event and at once", () => {
    const once = new ConsensusEngine(tc.config).addEvents(pic.events).finalized;
    // Rounds 0..2 are decided (round 2 by the layer-8 witnesses); round 0 receives nothing
    // (no event is an ancestor of all four parentless judges).
    expect(once.length).toBe(16);
    expect(names(pic, once).slice(0, 4).every((n) => n.endsWith("0"))).toBe(true);
    expect(names(pic, once).slice(4, 8).every((n) => n.endsWith("1"))).toBe(true);
    expect(once.map((f) => f.roundReceived)).toEqual([...Array(8).fill(1), ...Array(8).fill(2)]);
    expect(once.map((f) => f.anchorIndex)).toEqual(once.map((_, i) => BigInt(i)));
    expect(names(pic, runEach(pic.events))).toEqual(names(pic, once));
  });
});

describe("fork", () => {
  // d equivocates at seq 1: a and c build on d1, b builds on d1'. Events of round 2 see
  // both branches, so d is excluded from their strongly-see; a, b, c (300 of 400 > q = 267)
  // keep rounds moving.
  const text = `
    a0 ; b0 ; c0 ; d0
    a1 <- a0 b0 c0 d0 ; b1 <- b0 a0 c0 d0 ; c1 <- c0 a0 b0 d0 ; d1 <- d0 a0 b0 c0 ; d1' <- d0 a0 b0
    a2 <- a1 b1 c1 d1 ; b2 <- b1 a1 c1 d1' ; c2 <- c1 a1 b1 d1
    a3 <- a2 b2 c2 ; b3 <- b2 a2 c2 ; c3 <- c2 a2 b2
    a4 <- a3 b3 c3 ; b4 <- b3 a3 c3 ; c4 <- c3 a3 b3
    a5 <- a4 b4 c4 ; b5 <- b4 a4 c4 ; c5 <- c4 a4 b4
    a6 <- a5 b5 c5 ; b6 <- b5 a5 c5 ; c6 <- c5 a5 b5
    a7 <- a6 b6 c6 ; b7 <- b6 a6 c6 ; c7 <- c6 a6 b6
    a8 <- a7 b7 c7 ; b8 <- b7 a7 c7 ; c8 <- c7 a7 b7
  `;
  const pic = parsePicture(text, tc);

  test("evidence once per pair; the fork bit is set in descendants that see both branches", () => {
    const engine = new ConsensusEngine(tc.config);
    const r = engine.addEvents(pic.events);
    const eq = r.evidence.filter((e) => e.kind === "equivocation");
    expect(eq.length).toBe(1);
    expect(engine.addEvents([]).evidence.length).toBe(0);
    expect(engine.describe(pic.byName.get("a2")!.id)!.forkLo & 8).toBe(0);
    expect(engine.describe(pic.byName.get("a3")!.id)!.forkLo & 8).toBe(8);
    expect(r.finalized.length).toBeGreaterThan(0);
  });

  test("validators that saw the branches in different orders agree byte for byte", () => {
    const d1 = pic.byName.get("d1")!;
    const d1b = pic.byName.get("d1'")!;
    const orderA = pic.events.filter((e) => e !== d1b);
    const orderB = pic.events.filter((e) => e !== d1);
    const idx = orderA.indexOf(d1);
    const first = [...orderA.slice(0, idx + 1), d1b, ...orderA.slice(idx + 1)];
    const second = [...orderB.slice(0, orderB.indexOf(d1b) + 1), d1, ...orderB.slice(orderB.indexOf(d1b) + 1)];
    const a = runEach(first);
    const b = runEach([...second].reverse());
    const c = new ConsensusEngine(tc.config).addEvents(second).finalized;
    expect(a.length).toBeGreaterThan(8);
    expect(names(pic, b)).toEqual(names(pic, a));
    expect(names(pic, c)).toEqual(names(pic, a));
    expect(new Set(names(pic, a)).size).toBe(a.length);
  });
});

describe("late witness", () => {
  // a, b, c run ahead; d's round-1 witness d2 (built on d1 and a2) only arrives after the
  // rounds above it are decided. Its fame follows from the votes (round-2 witnesses do not
  // see it), not from its arrival time, so it is not famous either way.
  const text = `
    a0 ; b0 ; c0 ; d0
    a1 <- a0 b0 c0 d0 ; b1 <- b0 a0 c0 d0 ; c1 <- c0 a0 b0 d0 ; d1 <- d0 a0 b0 c0
    a2 <- a1 b1 c1 d1 ; b2 <- b1 a1 c1 d1 ; c2 <- c1 a1 b1 d1
    a3 <- a2 b2 c2 ; b3 <- b2 a2 c2 ; c3 <- c2 a2 b2
    a4 <- a3 b3 c3 ; b4 <- b3 a3 c3 ; c4 <- c3 a3 b3
    a5 <- a4 b4 c4 ; b5 <- b4 a4 c4 ; c5 <- c4 a4 b4
    a6 <- a5 b5 c5 ; b6 <- b5 a5 c5 ; c6 <- c5 a5 b5
    a7 <- a6 b6 c6 ; b7 <- b6 a6 c6 ; c7 <- c6 a6 b6
    a8 <- a7 b7 c7 ; b8 <- b7 a7 c7 ; c8 <- c7 a7 b7
    d2 <- d1 a2                         # late: a round-1 witness nobody builds on yet
    a9 <- a8 b8 c8 d2 ; b9 <- b8 a8 c8 d2 ; c9 <- c8 a8 b8 d2
    a10 <- a9 b9 c9 ; b10 <- b9 a9 c9 ; c10 <- c9 a9 b9
    a11 <- a10 b10 c10 ; b11 <- b10 a10 c10 ; c11 <- c10 a10 b10
    a12 <- a11 b11 c11 ; b12 <- b11 a11 c11 ; c12 <- c11 a11 b11
    a13 <- a12 b12 c12 ; b13 <- b12 a12 c12 ; c13 <- c12 a12 b12
    a14 <- a13 b13 c13 ; b14 <- b13 a13 c13 ; c14 <- c13 a13 b13
    a15 <- a14 b14 c14 ; b15 <- b14 a14 c14 ; c15 <- c14 a14 b14
  `;
  const pic = parsePicture(text, tc);

  test("the late witness is a witness of an already decided round, decided not famous", () => {
    const engine = new ConsensusEngine(tc.config);
    const before = pic.events.slice(0, pic.events.indexOf(pic.byName.get("d2")!));
    engine.addEvents(before);
    const decided = engine.stats().lastDecidedRound;
    engine.addEvents(pic.events.slice(before.length));
    const d2 = engine.describe(pic.byName.get("d2")!.id)!;
    expect(d2.witness).toBe(true);
    expect(d2.round).toBeLessThanOrEqual(decided);
    const all = new ConsensusEngine(tc.config);
    all.addEvents(pic.events);
    expect(all.describe(pic.byName.get("d2")!.id)!.fame).toBe(0);
  });

  test("describe() reports the late witness's fame, round received and median Lamport the same for every batching", () => {
    const d2 = pic.byName.get("d2")!;
    const cut = pic.events.indexOf(d2);
    const batchings: SignedEvent[][][] = [
      [pic.events], // all at once: d2 is voted on (not famous)
      pic.events.map((e) => [e]), // one by one: d2 arrives after round 1 is decided
      [pic.events.slice(0, cut), pic.events.slice(cut)], // everything before it, then the rest
      [pic.events.slice(0, cut), [d2], pic.events.slice(cut + 1)],
    ];
    const facts = batchings.map((batches) => {
      const engine = new ConsensusEngine(tc.config);
      const fin = batches.flatMap((b) => engine.addEvents(b).finalized);
      const f = fin.find((x) => x.event === d2)!;
      const d = engine.describe(d2.id)!;
      // describe() exposes the consensus time the finalized stream carries.
      expect([d.roundReceived, d.medianLamport]).toEqual([f.roundReceived, f.consensusTime.medianLamport]);
      return pic.events.map((e) => {
        const x = engine.describe(e.id)!;
        return { name: pic.name(e), fame: x.fame, roundReceived: x.roundReceived, medianLamport: x.medianLamport };
      });
    });
    expect(facts[0]!.find((f) => f.name === "d2")!.fame).toBe(0);
    for (const f of facts.slice(1)) expect(f).toEqual(facts[0]!);
  });

  test("finalized order is the same with the late witness seen early or late", () => {
    const once = new ConsensusEngine(tc.config).addEvents(pic.events).finalized;
    const each = runEach(pic.events);
    expect(names(pic, each)).toEqual(names(pic, once));
    expect(names(pic, once)).toContain("d2");
    // d2 comes after its ancestors (linear extension).
    const n = names(pic, once);
    expect(n.indexOf("d2")).toBeGreaterThan(n.indexOf("d1"));
    expect(n.indexOf("d2")).toBeGreaterThan(n.indexOf("a2"));
  });
});

describe("coin rounds", () => {
  test("distance 2 is never a coin round; multiples of c from 3 on are", async () => {
    const { isCoinRound } = await import("../../src/consensus/fame.ts");
    expect([1, 2, 3, 4, 5, 6, 8].map((d) => isCoinRound(d, 2))).toEqual([false, false, false, true, false, true, true]);
    expect([2, 7, 8, 16, 17].map((d) => isCoinRound(d, 8))).toEqual([false, false, true, true, false]);
  });
});
