// Property: for random committees, random creation schedules with forks and random delivery
// orders, every engine finalizes the same stream, and fork evidence appears once per pair.
import { expect, test } from "bun:test";
import fc from "fast-check";
import { ConsensusEngine, type FinalizedEvent } from "../../src/consensus/engine.ts";
import type { SignedEvent } from "../../src/types/event.ts";
import { makeCommittee, digest, prng, forkTwin } from "./helpers.ts";

function fingerprint(fin: FinalizedEvent[]): string[] {
  return fin.map((f) => `${f.anchorIndex}:${Buffer.from(f.event.id).toString("hex")}`);
}

/** Events from one "world" engine; creator `forker` sometimes signs a twin with the same seq and parents. */
function world(k: number, count: number, seed: number, forker: number): { events: SignedEvent[]; twins: number } {
  const tc = makeCommittee(k);
  const engine = new ConsensusEngine(tc.config);
  const rand = prng(seed);
  const events: SignedEvent[] = [];
  let twins = 0;
  for (let c = 0; c < k; c++) events.push(engine.createEvent(c, tc.keys[c]!.secretKey, digest(`w${seed} ${c}`)));
  while (events.length < count) {
    const c = Math.floor(rand() * k);
    const e = engine.createEvent(c, tc.keys[c]!.secretKey, digest(`w${seed} ${events.length}`));
    events.push(e);
    if (c === forker && e.header.seq > 0 && rand() < 0.2) {
      const twin = forkTwin(engine, e, tc.keys[c]!.secretKey, `twin ${events.length}`);
      engine.addEvents([twin]);
      events.push(twin);
      twins++;
    }
  }
  return { events, twins };
}

test("random DAGs with forks: any delivery order gives the same finalized stream", () => {
  fc.assert(
    fc.property(fc.integer({ min: 4, max: 7 }), fc.integer({ min: 1, max: 1 << 30 }), fc.integer({ min: 1, max: 1 << 30 }), (k, seed, orderSeed) => {
      const { events, twins } = world(k, 40 * k, seed, k - 1);
      const cfg = makeCommittee(k).config;
      const reference = new ConsensusEngine(cfg).addEvents(events);
      expect(reference.evidence.filter((e) => e.kind === "equivocation").length).toBe(twins);
      const rand = prng(orderSeed);
      const perm = [...events];
      for (let i = perm.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [perm[i], perm[j]] = [perm[j]!, perm[i]!];
      }
      const engine = new ConsensusEngine(cfg);
      const fin: FinalizedEvent[] = [];
      for (const e of perm) fin.push(...engine.addEvents([e]).finalized);
      expect(fingerprint(fin)).toEqual(fingerprint(reference.finalized));
      expect(reference.finalized.length).toBeGreaterThan(events.length / 3);
    }),
    { numRuns: 25, seed: 20261125 },
  );
});
