// Ack distances: hand-drawn DAGs with known answers, an oracle on generated DAGs,
// and order independence.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ackDistances, ackWindowEndIndex, buildHeaderDag, AckDistanceError } from "../../src/consensus/ack-distance.ts";
import { generateSignedDag } from "../../src/consensus/headers-gen.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import type { SignedEvent } from "../../src/types/event.ts";
import { committeeKeys, DagBuilder, signed } from "./tools-fixtures.ts";

const KEYS = committeeKeys(5);

/** Oracle: ancestry by explicit closure sets, distances by brute force over all events. */
function oracle(events: readonly SignedEvent[], anchor: SignedEvent, k: number, dMax: number): number[] {
  const ancestors = new Map<string, Set<string>>();
  for (const e of events) {
    const set = new Set<string>([toHex(e.id)]);
    for (const p of e.header.parents) for (const a of ancestors.get(toHex(p)) ?? []) set.add(a);
    ancestors.set(toHex(e.id), set);
  }
  const out = new Array<number>(k).fill(dMax);
  for (const e of events) {
    if (!ancestors.get(toHex(e.id))!.has(toHex(anchor.id))) continue;
    const d = e.header.lamport - anchor.header.lamport;
    out[e.header.creator] = Math.min(out[e.header.creator]!, d, dMax);
  }
  return out;
}

describe("ack distance", () => {
  test("a chain of acknowledgements (picture: 0 → 1 → 2 → 3, 4 silent)", () => {
    const d = new DagBuilder(KEYS);
    const a = d.add(0); // the anchor, lamport 0
    const b = d.add(1, a); // 1 sees A one step later
    const c = d.add(2, b); // 2 sees A through 1
    d.add(3, c); // 3 sees A at distance 3
    d.add(4); // 4 never builds on A
    const r = ackDistances(buildHeaderDag(d.events), a.id, 5, 4);
    expect(r.creator).toBe(0);
    expect(r.distances.map((x) => x.distance)).toEqual([0, 1, 2, 3, 4]);
    expect(r.distances.map((x) => x.acknowledged)).toEqual([true, true, true, true, false]);
    expect(toHex(r.distances[1]!.eventId!)).toBe(toHex(b.id));
    expect(r.distances[4]!.eventId).toBeNull();
  });

  test("the earliest acknowledging event counts; distances at D_max are not acknowledgements", () => {
    const d = new DagBuilder(KEYS);
    const x = d.add(1); // lamport 0, before A
    const a = d.add(0, x); // A at lamport 1
    const y = d.add(2, x); // 2 does not see A here
    const z = d.add(2, a); // 2's next event sees A: distance 1 (lamport 2)
    const far1 = d.add(3, z); // lamport 3 → distance 2
    d.add(3, y); // a later event of 3 (distance larger), must not replace 2
    const r = ackDistances(buildHeaderDag(d.events), a.id, 5, 4);
    expect(r.distances.map((v) => v.distance)).toEqual([0, 4, 1, 2, 4]);
    expect(toHex(r.distances[3]!.eventId!)).toBe(toHex(far1.id));
    const tight = ackDistances(buildHeaderDag(d.events), a.id, 5, 2);
    expect(tight.distances.map((v) => v.distance)).toEqual([0, 2, 1, 2, 2]);
    expect(tight.distances[3]!.acknowledged).toBe(false);
  });

  test("an unknown anchor, a bad Lamport and bad params are typed errors", () => {
    const d = new DagBuilder(KEYS);
    const a = d.add(0);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as AckDistanceError).code;
      }
      return "OK";
    };
    expect(code(() => ackDistances(buildHeaderDag(d.events), new Uint8Array(32), 5, 4))).toBe("ACK_UNKNOWN_EVENT");
    const wrong = signed(KEYS, { creator: 1, parents: [a.id], lamport: 0 });
    expect(code(() => ackDistances(buildHeaderDag([a, wrong]), a.id, 5, 4))).toBe("ACK_BAD_LAMPORT");
    expect(code(() => ackDistances(buildHeaderDag(d.events), a.id, 0, 4))).toBe("ACK_BAD_PARAMS");
    expect(code(() => ackDistances(buildHeaderDag(d.events), a.id, 5, 0))).toBe("ACK_BAD_PARAMS");
    expect(code(() => ackDistances(buildHeaderDag([a, signed(KEYS, { creator: 4, parents: [a.id], lamport: 1 })]), a.id, 3, 4))).toBe("ACK_BAD_CREATOR");
  });

  test("matches a brute-force oracle on generated DAGs, for every anchor", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 8 }), fc.string({ maxLength: 8 }), (k, n, dMax, seed) => {
        const events = generateSignedDag({ secretKeys: KEYS.slice(0, k).map((x) => x.secretKey), eventCount: n, seed: new TextEncoder().encode(seed) });
        const dag = buildHeaderDag(events);
        for (const anchor of events) {
          expect(ackDistances(dag, anchor.id, k, dMax).distances.map((d) => d.distance)).toEqual(oracle(events, anchor, k, dMax));
        }
      }),
      { numRuns: 40 },
    );
  });

  test("the result does not depend on the (topological) order of the events", () => {
    const events = generateSignedDag({ secretKeys: KEYS.map((x) => x.secretKey), eventCount: 60, seed: new TextEncoder().encode("order") });
    // Another topological order: stable sort by Lamport, ties by descending id.
    const reordered = [...events].sort((x, y) => x.header.lamport - y.header.lamport || (toHex(x.id) < toHex(y.id) ? 1 : -1));
    expect(reordered.map((e) => toHex(e.id))).not.toEqual(events.map((e) => toHex(e.id)));
    for (const anchor of events.slice(0, 20)) {
      const a = ackDistances(buildHeaderDag(events), anchor.id, 5, 6);
      const b = ackDistances(buildHeaderDag(reordered), anchor.id, 5, 6);
      expect(b.distances.map((d) => [d.distance, d.eventId && toHex(d.eventId)])).toEqual(a.distances.map((d) => [d.distance, d.eventId && toHex(d.eventId)]));
    }
  });

  test("the settlement window ends k·D_max anchor indices after the anchor", () => {
    expect(ackWindowEndIndex(0n, 4, 4)).toBe(16n);
    expect(ackWindowEndIndex(1_000n, 64, 10)).toBe(1_640n);
    expect(() => ackWindowEndIndex(-1n, 4, 4)).toThrow(AckDistanceError);
    expect(() => ackWindowEndIndex(0n, 65, 4)).toThrow(AckDistanceError);
  });
});
