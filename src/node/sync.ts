/**
 * What a node sends peers from its store (P2P.md): events with their payloads — sync
 * answers in the order the store first held them, events by id in Lamport order (both
 * topological) — split into messages within the count and byte limits.
 */
import { compareBytes, equalBytes } from "../crypto/bytes.ts";
import { blake3_32 } from "../crypto/hash.ts";
import { eventsPerMessageMax, messageBytesMax, type P2pMessage, type ServedEvent } from "../net/p2p/messages.ts";
import { encodeSignedEvent, type SignedEvent } from "../types/event.ts";

/** Events answered per sync request; the peer asks again while it is behind. */
export const syncResponseEventsMax = 4_096;
/** Room left in a message for its framing. */
const messageSlackBytes = 1_024;

export interface EventSource {
  getEvent(id: Uint8Array): SignedEvent | undefined;
  getPayload(digest: Uint8Array): Uint8Array | undefined;
  /** Events the peer lacks (seq above its highest per creator), in the order they were first stored. */
  eventsAfterInStoreOrder(highestSeq: readonly number[], limit: number): SignedEvent[];
}

const lamportOrder = (a: SignedEvent, b: SignedEvent): number => a.header.lamport - b.header.lamport || compareBytes(a.id, b.id);

/** Signs served payload bytes (ServeSigner.sign): the server's data-availability statement. */
export type SignServe = (eventId: Uint8Array, payloadDigest: Uint8Array) => Uint8Array;

/** `events` messages carrying `events`, their payloads and our serve signatures (events whose payload is missing are skipped). */
export function eventMessages(store: EventSource, events: readonly SignedEvent[], signServe: SignServe): P2pMessage[] {
  const out: P2pMessage[] = [];
  let items: ServedEvent[] = [];
  let bytes = 0;
  for (const e of events) {
    const payload = store.getPayload(e.header.payloadDigest);
    // We sign the digest of the bytes we send, and never send bytes that differ from the
    // signed digest: a damaged store must not make us sign a conflicting-DA statement.
    if (!payload || !equalBytes(blake3_32(payload), e.header.payloadDigest)) continue;
    const event = encodeSignedEvent(e);
    const size = event.length + payload.length + 80;
    if (items.length > 0 && (items.length >= eventsPerMessageMax || bytes + size > messageBytesMax - messageSlackBytes)) {
      out.push({ kind: "events", items });
      items = [];
      bytes = 0;
    }
    items.push({ event, payload, serveSignature: signServe(e.id, e.header.payloadDigest) });
    bytes += size;
  }
  if (items.length > 0) out.push({ kind: "events", items });
  return out;
}

/**
 * The answer to `sync_request`: the events above the peer's highest seq per creator,
 * preceded by `history_pruned` when some of them were pruned here (docs/P2P.md),
 * bounded, in the order this node stored them (a topological order), then `sync_end`. Not re-sorted: a
 * node far behind then inserts them as this node did, so it never prunes a round before
 * this node had, and never drops as ancient an event this node inserted and others built
 * on (SPEC_CONSENSUS §12).
 */
export function syncAnswer(store: EventSource, highestSeq: readonly number[], signServe: SignServe, prunedSeqs: readonly number[] = []): P2pMessage[] {
  const events = store.eventsAfterInStoreOrder(highestSeq, syncResponseEventsMax);
  // `sync_end` closes the answer, so the peer keeps one request in flight and asks again only if there is more.
  const answer: P2pMessage[] = [...eventMessages(store, events, signServe), { kind: "sync_end", more: events.length >= syncResponseEventsMax }];
  // The peer lacks events this store pruned: say so (typed) first, then send what is left.
  const behind = prunedSeqs.some((s, c) => s > (highestSeq[c] ?? -1));
  return behind ? [{ kind: "history_pruned", prunedSeqs: [...prunedSeqs] }, ...answer] : answer;
}

/** The answer to `get_events`: the ones we have. */
export function eventsByIdAnswer(store: EventSource, ids: readonly Uint8Array[], signServe: SignServe): P2pMessage[] {
  const found = ids.flatMap((id) => store.getEvent(id) ?? []);
  return eventMessages(store, found.sort(lamportOrder), signServe);
}
