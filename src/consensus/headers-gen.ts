/**
 * Deterministic generator of a valid signed DAG (for headers.bin files in tests
 * and local development). Every event follows the structural rules of
 * docs/SPEC_SLASHING.md: self-parent first, at least one cross-link when k ≥ 2,
 * Lamport = 1 + max(parents in play), seq counting up, and each parent's true round
 * (a consensus engine fed the same events computes them). The same keys, seed and options
 * always give the same events, byte for byte. Randomness comes from BLAKE3 of the
 * seed and a counter (no ambient randomness).
 */
import { blake3_32 } from "../crypto/hash.ts";
import { concatBytes } from "../crypto/bytes.ts";
import { PARENTS_MAX } from "../types/constants.ts";
import { type SignedEvent, signEvent } from "../types/event.ts";
import { ConsensusEngine } from "./engine.ts";
import { buildEventHeader } from "./header.ts";
import { EMPTY_PAYLOAD_BYTES, payloadDigest } from "../types/payload.ts";

export interface GenerateDagOptions {
  /** 64-byte Ed25519 secret keys; validator i signs with secretKeys[i] (k = length). */
  secretKeys: readonly Uint8Array[];
  /** Events to create in total (the first k are every validator's seq-0 event). */
  eventCount: number;
  /** Seed of the deterministic choice of creators and cross-links. */
  seed: Uint8Array;
  /** Parents per event, self-parent included (2..PARENTS_MAX). */
  parentsMax?: number;
  /** Probability, in percent, that a creator skips its turn (makes ack distances vary). */
  skipPercent?: number;
  shard?: number;
}

/** Bound on generated events (a file of this many events is ~150 MB). */
export const GENERATED_EVENTS_MAX = 1_000_000;

/** Above this a generator run could take unboundedly many turns. */
export const SKIP_PERCENT_MAX = 90;

class SeededChoice {
  private counter = 0;
  constructor(private readonly seed: Uint8Array) {}
  /** Uniform-enough integer in [0, n): 32 bits of BLAKE3(seed || counter) mod n. */
  below(n: number): number {
    const c = new Uint8Array(8);
    new DataView(c.buffer).setUint32(0, this.counter++, true);
    const h = blake3_32(concatBytes(this.seed, c));
    return new DataView(h.buffer).getUint32(0, true) % n;
  }
}

/** Distinct picks from `pool` (sorted result, so the parent order is canonical). */
function pickDistinct(rng: SeededChoice, pool: number[], count: number): number[] {
  const rest = [...pool];
  const out: number[] = [];
  while (out.length < count && rest.length > 0) out.push(rest.splice(rng.below(rest.length), 1)[0]!);
  return out.sort((a, b) => a - b);
}

export function generateSignedDag(opts: GenerateDagOptions): SignedEvent[] {
  const k = opts.secretKeys.length;
  const parentsMax = opts.parentsMax ?? PARENTS_MAX;
  const skipPercent = opts.skipPercent ?? 30;
  if (k < 1 || k > 64) throw new RangeError(`k must be 1..64, got ${k}`);
  if (!Number.isSafeInteger(opts.eventCount) || opts.eventCount < 0 || opts.eventCount > GENERATED_EVENTS_MAX) throw new RangeError(`eventCount must be 0..${GENERATED_EVENTS_MAX}`);
  if (!Number.isInteger(skipPercent) || skipPercent < 0 || skipPercent > SKIP_PERCENT_MAX) throw new RangeError(`skipPercent must be 0..${SKIP_PERCENT_MAX}`);
  if (parentsMax < 2 || parentsMax > PARENTS_MAX) throw new RangeError(`parentsMax must be 2..${PARENTS_MAX}`);
  const rng = new SeededChoice(opts.seed);
  // Rounds come from an engine fed each event (trusted: they are ours); it keeps every
  // creator's newest event, which is all the generator links to.
  const engine = new ConsensusEngine({
    committee: { publicKeys: opts.secretKeys.map((sk) => sk.subarray(32)), stakes: opts.secretKeys.map(() => 1n) },
    coinRoundInterval: 8, parentsMax, shard: opts.shard ?? 0,
  });
  const roundOf = (e: SignedEvent): number => engine.describe(e.id)!.round;
  const digest = payloadDigest(EMPTY_PAYLOAD_BYTES);
  const latest: (SignedEvent | undefined)[] = new Array(k).fill(undefined);
  const events: SignedEvent[] = [];
  let turn = 0;
  while (events.length < opts.eventCount) {
    const creator = turn % k;
    turn++;
    // After everyone's first event, creators skip turns at random so some lag behind.
    if (events.length >= k && rng.below(100) < skipPercent) continue;
    const self = latest[creator];
    const others = latest.flatMap((e, i) => (e !== undefined && i !== creator ? [i] : []));
    const crossCount = others.length === 0 ? 0 : 1 + rng.below(Math.min(others.length, parentsMax - 1));
    const cross = pickDistinct(rng, others, crossCount).map((i) => latest[i]!);
    const parents = self ? [self, ...cross] : cross;
    const header = buildEventHeader({
      shard: opts.shard ?? 0, creator, seq: self ? self.header.seq + 1 : 0, payloadDigest: digest,
      parents: parents.map((p) => ({ id: p.id, lamport: p.header.lamport, round: roundOf(p) })),
    });
    const event = signEvent(header, opts.secretKeys[creator]!);
    engine.addEvents([event], { trusted: true });
    events.push(event);
    latest[creator] = event;
  }
  return events;
}
