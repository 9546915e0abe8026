/**
 * What a node sends peers from its store (P2P.md): events with their payloads, in
 * Lamport order — a topological order, since a parent's Lamport value is always
 * smaller — split into messages within the count and byte limits.
 */
import { compareBytes } from "../crypto/bytes.ts";
import { eventsPerMessageMax, messageBytesMax, type P2pMessage } from "../net/p2p/messages.ts";
import { encodeSignedEvent, type SignedEvent } from "../types/event.ts";

/** Events answered per sync request; the peer asks again while it is behind. */
export const syncResponseEventsMax = 4_096;
/** Room left in a message for its framing. */
const messageSlackBytes = 1_024;

export interface EventSource {
  getEvent(id: Uint8Array): SignedEvent | undefined;
  getPayload(digest: Uint8Array): Uint8Array | undefined;
  eventsByCreatorFrom(creator: number, seq: number, limit: number): SignedEvent[];
}

const lamportOrder = (a: SignedEvent, b: SignedEvent): number => a.header.lamport - b.header.lamport || compareBytes(a.id, b.id);

/** `events` messages carrying `events` and their payloads (events whose payload is missing are skipped). */
export function eventMessages(store: EventSource, events: readonly SignedEvent[]): P2pMessage[] {
  const out: P2pMessage[] = [];
  let items: { event: Uint8Array; payload: Uint8Array }[] = [];
  let bytes = 0;
  for (const e of events) {
    const payload = store.getPayload(e.header.payloadDigest);
    if (!payload) continue;
    const event = encodeSignedEvent(e);
    const size = event.length + payload.length + 16;
    if (items.length > 0 && (items.length >= eventsPerMessageMax || bytes + size > messageBytesMax - messageSlackBytes)) {
      out.push({ kind: "events", items });
      items = [];
      bytes = 0;
    }
    items.push({ event, payload });
    bytes += size;
  }
  if (items.length > 0) out.push({ kind: "events", items });
  return out;
}

/** The answer to `sync_request`: every creator's events above the peer's highest seq, bounded. */
export function syncAnswer(store: EventSource, k: number, highestSeq: readonly number[]): P2pMessage[] {
  const wanted: SignedEvent[] = [];
  for (let c = 0; c < k; c++) wanted.push(...store.eventsByCreatorFrom(c, (highestSeq[c] ?? -1) + 1, Math.ceil(syncResponseEventsMax / k)));
  return eventMessages(store, wanted.sort(lamportOrder));
}

/** The answer to `get_events`: the ones we have. */
export function eventsByIdAnswer(store: EventSource, ids: readonly Uint8Array[]): P2pMessage[] {
  const found = ids.flatMap((id) => store.getEvent(id) ?? []);
  return eventMessages(store, found.sort(lamportOrder));
}
