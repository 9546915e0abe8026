// Shared fixtures for the consensus-tools tests: devnet committee keys and a tiny
// DAG builder that fills in seq and Lamport the way an honest creator would.
import { keyPairFromSeed, type Ed25519KeyPair } from "../../src/crypto/ed25519.ts";
import { devnetSeed } from "../../src/genesis/create.ts";
import { type EventHeader, type SignedEvent, signEvent } from "../../src/types/event.ts";
import { EMPTY_PAYLOAD_BYTES, payloadDigest } from "../../src/types/payload.ts";
import { buildEventHeader } from "../../src/consensus/header.ts";
import { RoundOracle } from "./helpers.ts";

export const EMPTY_DIGEST = payloadDigest(EMPTY_PAYLOAD_BYTES);

export function committeeKeys(k: number, label = "tools-test"): Ed25519KeyPair[] {
  return Array.from({ length: k }, (_, i) => keyPairFromSeed(devnetSeed(label, i)));
}

/** Builds honest events: `add(creator, ...crossParents)` links the creator's latest event first. */
export class DagBuilder {
  readonly events: SignedEvent[] = [];
  private readonly latest = new Map<number, SignedEvent>();
  private readonly rounds: RoundOracle;
  constructor(readonly keys: readonly Ed25519KeyPair[]) {
    const k = keys.length;
    this.rounds = new RoundOracle({
      committee: { publicKeys: keys.map((kp) => kp.publicKey), stakes: keys.map(() => 1n) },
      coinRoundInterval: 8, parentsMax: Math.max(2, Math.min(4, k)), shard: 0,
    });
  }

  add(creator: number, ...cross: SignedEvent[]): SignedEvent {
    const self = this.latest.get(creator);
    const parents = self ? [self, ...cross] : cross;
    const header = buildEventHeader({ shard: 0, creator, seq: self ? self.header.seq + 1 : 0, parents: parents.map((p) => this.rounds.ref(p)), payloadDigest: EMPTY_DIGEST });
    const e = signEvent(header, this.keys[creator]!.secretKey);
    this.rounds.add(e);
    this.events.push(e);
    this.latest.set(creator, e);
    return e;
  }
}

/** Signs an arbitrary header (to build dishonest events). */
export function signed(keys: readonly Ed25519KeyPair[], h: Partial<EventHeader> & { creator: number }): SignedEvent {
  const header: EventHeader = { shard: 0, seq: 0, parents: [], lamport: 0, payloadDigest: EMPTY_DIGEST, ...h, parentRounds: h.parentRounds ?? (h.parents ?? []).map(() => 0) };
  return signEvent(header, keys[h.creator]!.secretKey);
}
