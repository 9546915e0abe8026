// Shared fixtures for the consensus-tools tests: devnet committee keys and a tiny
// DAG builder that fills in seq and Lamport the way an honest creator would.
import { keyPairFromSeed, type Ed25519KeyPair } from "../../src/crypto/ed25519.ts";
import { devnetSeed } from "../../src/genesis/create.ts";
import { type EventHeader, type SignedEvent, signEvent } from "../../src/types/event.ts";
import { EMPTY_PAYLOAD_BYTES, payloadDigest } from "../../src/types/payload.ts";

export const EMPTY_DIGEST = payloadDigest(EMPTY_PAYLOAD_BYTES);

export function committeeKeys(k: number, label = "tools-test"): Ed25519KeyPair[] {
  return Array.from({ length: k }, (_, i) => keyPairFromSeed(devnetSeed(label, i)));
}

/** Builds honest events: `add(creator, ...crossParents)` links the creator's latest event first. */
export class DagBuilder {
  readonly events: SignedEvent[] = [];
  private readonly latest = new Map<number, SignedEvent>();
  constructor(readonly keys: readonly Ed25519KeyPair[]) {}

  add(creator: number, ...cross: SignedEvent[]): SignedEvent {
    const self = this.latest.get(creator);
    const parents = self ? [self, ...cross] : cross;
    const header: EventHeader = {
      shard: 0, creator, seq: self ? self.header.seq + 1 : 0, parents: parents.map((p) => p.id),
      lamport: parents.length ? 1 + Math.max(...parents.map((p) => p.header.lamport)) : 0, payloadDigest: EMPTY_DIGEST,
    };
    const e = signEvent(header, this.keys[creator]!.secretKey);
    this.events.push(e);
    this.latest.set(creator, e);
    return e;
  }
}

/** Signs an arbitrary header (to build dishonest events). */
export function signed(keys: readonly Ed25519KeyPair[], h: Partial<EventHeader> & { creator: number }): SignedEvent {
  const header: EventHeader = { shard: 0, seq: 0, parents: [], lamport: 0, payloadDigest: EMPTY_DIGEST, ...h };
  return signEvent(header, keys[h.creator]!.secretKey);
}
