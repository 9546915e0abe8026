// DESIGN principle 3: the same events in any delivery order, with consensus run after every
// event, per batch or once at the end, give the same finalized order byte for byte.
import { expect, test } from "bun:test";
import { ConsensusEngine, type FinalizedEvent } from "../../src/consensus/engine.ts";
import type { SignedEvent } from "../../src/types/event.ts";
import { simulatedEvents, simOptions, Prng } from "../sim/sim.ts";

function fingerprint(fin: FinalizedEvent[]): string {
  return fin.map((f) => `${f.anchorIndex}:${Buffer.from(f.event.id).toString("hex")}:${f.roundReceived}:${f.consensusTime.medianLamport}`).join("\n");
}

function shuffle<T>(items: readonly T[], rng: Prng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const cases = [
  { seed: 3, k: 4, faults: ["equivocate" as const] },
  { seed: 5, k: 7, faults: ["equivocate" as const, "invalid" as const] },
  { seed: 8, k: 10, faults: ["equivocate" as const, "lag" as const, "crash" as const] },
];

for (const c of cases) {
  test(`k=${c.k} seed=${c.seed} (${c.faults.join(",")}): permutations, per event vs batches vs once`, () => {
    const { events, config, report } = simulatedEvents(simOptions({ ...c, events: 30 * c.k }));
    expect(report.ok).toBe(true);
    // Two distinct events with one (creator, seq) exist: the set really holds forks.
    const slots = new Set(events.map((e) => `${e.header.creator}/${e.header.seq}`));
    expect(slots.size).toBeLessThan(events.length);
    const cfg = { ...config, orphanEventsMax: events.length + 1 };
    const reference = fingerprint(new ConsensusEngine(cfg).addEvents(events).finalized);
    expect(reference.split("\n").length).toBeGreaterThan(events.length / 2);
    const rng = new Prng(c.seed);
    for (let p = 0; p < 6; p++) {
      const perm = shuffle(events, rng);
      const each = new ConsensusEngine(cfg);
      const fin: FinalizedEvent[] = [];
      for (const e of perm) fin.push(...each.addEvents([e]).finalized);
      expect(fingerprint(fin)).toBe(reference);
      const batched = new ConsensusEngine(cfg);
      const finB: FinalizedEvent[] = [];
      for (let i = 0; i < perm.length; ) {
        const n = 1 + rng.int(40);
        finB.push(...batched.addEvents(perm.slice(i, i + n) as SignedEvent[]).finalized);
        i += n;
      }
      expect(fingerprint(finB)).toBe(reference);
      expect(fingerprint(new ConsensusEngine(cfg).addEvents(perm).finalized)).toBe(reference);
    }
  });
}
