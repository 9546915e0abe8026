/** Shared test fixtures: deterministic committees and instant-delivery DAG growth. */
import { keyPairFromSeed, type Ed25519KeyPair } from "../../src/crypto/ed25519.ts";
import { blake3_32 } from "../../src/crypto/hash.ts";
import { ConsensusEngine, buildEventHeader, type EngineConfig, type FinalizedEvent } from "../../src/consensus/engine.ts";
import { signEvent, type SignedEvent } from "../../src/types/event.ts";

export interface TestCommittee {
  keys: Ed25519KeyPair[];
  config: EngineConfig;
}

export function makeCommittee(k: number, opts: Partial<EngineConfig> = {}, stakes?: bigint[]): TestCommittee {
  const keys = Array.from({ length: k }, (_, i) => keyPairFromSeed(blake3_32(new TextEncoder().encode(`phantom test validator ${i}`))));
  const config: EngineConfig = {
    committee: { publicKeys: keys.map((kp) => kp.publicKey), stakes: stakes ?? keys.map(() => 100n) },
    coinRoundInterval: 8,
    parentsMax: 4,
    shard: 0,
    ...opts,
  };
  return { keys, config };
}

export function digest(label: string): Uint8Array {
  return blake3_32(new TextEncoder().encode(label));
}

/** Small seeded PRNG (xorshift32) for tests; never Math.random. */
export function prng(seed: number): () => number {
  let s = (seed >>> 0) || 0x9e3779b9;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 0x100000000;
  };
}

/**
 * Grows a DAG on one engine with instant delivery: each step a pseudo-randomly chosen
 * creator makes an event. Returns every event in creation (topological) order.
 */
export function growDag(tc: TestCommittee, count: number, seed: number): { engine: ConsensusEngine; events: SignedEvent[]; finalized: FinalizedEvent[] } {
  const engine = new ConsensusEngine(tc.config);
  const k = tc.keys.length;
  const rand = prng(seed);
  const events: SignedEvent[] = [];
  const finalized: FinalizedEvent[] = [];
  for (let c = 0; c < k; c++) events.push(engine.createEvent(c, tc.keys[c]!.secretKey, digest(`e${c}`)));
  while (events.length < count) {
    const c = Math.floor(rand() * k);
    events.push(engine.createEvent(c, tc.keys[c]!.secretKey, digest(`e${events.length}`)));
    if (events.length % 16 === 0) finalized.push(...engine.addEvents([]).finalized);
  }
  finalized.push(...engine.addEvents([]).finalized);
  return { engine, events, finalized };
}

/**
 * Rounds for hand-built events: an engine fed every event as it is built (trusted) tells
 * each one's round, which a child's header claims for it. Unknown (rejected) events: 0.
 */
export class RoundOracle {
  private readonly engine: ConsensusEngine;
  constructor(config: EngineConfig) {
    this.engine = new ConsensusEngine({ ...config, horizonRounds: 1 << 20 });
  }
  round(e: SignedEvent): number {
    return this.engine.describe(e.id)?.round ?? 0;
  }
  add(e: SignedEvent): void {
    this.engine.addEvents([e]);
  }
  /** A parent reference for buildEventHeader. */
  ref(e: SignedEvent): { id: Uint8Array; lamport: number; round: number } {
    return { id: e.id, lamport: e.header.lamport, round: this.round(e) };
  }
}

/**
 * A fork of `e`: another event by its creator at the same seq with the same parents and
 * another payload (equivocation), signed with `secretKey`.
 */
export function forkTwin(engine: ConsensusEngine, e: SignedEvent, secretKey: Uint8Array, label: string): SignedEvent {
  const h = buildEventHeader({
    shard: 0, creator: e.header.creator, seq: e.header.seq, payloadDigest: digest(label),
    parents: e.header.parents.map((id, i) => ({ id, lamport: engine.getEvent(id)?.header.lamport ?? 0, round: e.header.parentRounds[i]! })),
  });
  return signEvent(h, secretKey);
}
