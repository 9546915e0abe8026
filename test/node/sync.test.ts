// What a node answers from its store: Lamport (parents-first) order, within the
// per-message count limit, only events whose payload it has, and only what was asked.
import { expect, test } from "bun:test";
import { generateSignedDag } from "../../src/consensus/headers-gen.ts";
import { keyPairFromSeed, verify } from "../../src/crypto/ed25519.ts";
import { blake3_32 } from "../../src/crypto/hash.ts";
import { daServeMessage } from "../../src/consensus/slashing.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { eventsPerMessageMax, type P2pMessage } from "../../src/net/p2p/messages.ts";
import { decodeSignedEvent, type SignedEvent } from "../../src/types/event.ts";
import { EMPTY_PAYLOAD_BYTES } from "../../src/types/payload.ts";
import { eventMessages, eventsByIdAnswer, syncAnswer, syncResponseEventsMax, type EventSource } from "../../src/node/sync.ts";
import { ServeSigner } from "../../src/node/data-availability.ts";

const k = 4;
const server = new ServeSigner(keyPairFromSeed(new Uint8Array(32).fill(5)).secretKey);
const signServe = (id: Uint8Array, digest: Uint8Array) => server.sign(id, digest);
const events = generateSignedDag({ secretKeys: [1, 2, 3, 4].map((i) => keyPairFromSeed(new Uint8Array(32).fill(i)).secretKey), eventCount: 1200, seed: new Uint8Array(32).fill(7) });

function source(withPayloads = true): EventSource {
  const byId = new Map(events.map((e) => [toHex(e.id), e]));
  return {
    getEvent: (id) => byId.get(toHex(id)),
    getPayload: () => (withPayloads ? EMPTY_PAYLOAD_BYTES : undefined),
    eventsAfterInStoreOrder: (highest, limit) => events.filter((e) => e.header.seq > (highest[e.header.creator] ?? -1)).slice(0, limit),
  };
}

const carried = (ms: P2pMessage[]): SignedEvent[] => ms.flatMap((m) => (m.kind === "events" ? m.items.map((it) => decodeSignedEvent(it.event)) : []));

test("a sync answer holds what the peer lacks, in store order (parents first), within the message limits", () => {
  const highest = [10, -1, 200, 5000];
  const ms = syncAnswer(source(), highest, signServe);
  expect(ms.at(-1)).toEqual({ kind: "sync_end", more: false }); // everything fit
  expect(ms.slice(0, -1).every((m) => m.kind === "events" && m.items.length <= eventsPerMessageMax)).toBe(true);
  const got = carried(ms);
  expect(got.length).toBe(events.filter((e) => e.header.seq > highest[e.header.creator]!).length);
  // The order the store holds them in (here: the order the events were made).
  const storeOrder = events.filter((e) => e.header.seq > highest[e.header.creator]!).map((e) => toHex(e.id));
  expect(got.map((e) => toHex(e.id))).toEqual(storeOrder);
  const seen = new Set<string>();
  for (const e of got) {
    for (const p of e.header.parents) if (got.some((x) => toHex(x.id) === toHex(p))) expect(seen.has(toHex(p))).toBe(true);
    seen.add(toHex(e.id));
  }
});

test("an answer cut at its size limit ends with sync_end more: the peer asks again from where it got to", () => {
  const limited: EventSource = { ...source(), eventsAfterInStoreOrder: (highest, limit) => source().eventsAfterInStoreOrder(highest, Math.min(limit, 300)) };
  // The limit is syncResponseEventsMax; a source that returns exactly that many says there may be more.
  const atLimit: EventSource = { ...source(), eventsAfterInStoreOrder: (_h, limit) => Array.from({ length: limit }, (_, i) => events[i % events.length]!) };
  expect(syncAnswer(limited, [-1, -1, -1, -1], signServe).at(-1)).toEqual({ kind: "sync_end", more: false });
  const ms = syncAnswer(atLimit, [-1, -1, -1, -1], signServe);
  expect(ms.at(-1)).toEqual({ kind: "sync_end", more: true });
  expect(carried(ms).length).toBe(syncResponseEventsMax);
});

test("events by id: only those we have, ordered; nothing without a payload", () => {
  const ids = [events[900]!.id, new Uint8Array(32).fill(9), events[3]!.id];
  expect(carried(eventsByIdAnswer(source(), ids, signServe)).map((e) => toHex(e.id))).toEqual([toHex(events[3]!.id), toHex(events[900]!.id)]);
  expect(eventMessages(source(false), events.slice(0, 10), signServe)).toEqual([]);
});

test("every served payload carries our signature over (event id, digest of the bytes sent); damaged bytes are never served", () => {
  const serverKey = keyPairFromSeed(new Uint8Array(32).fill(5)).publicKey;
  const ms = eventsByIdAnswer(source(), [events[3]!.id, events[900]!.id], signServe);
  const items = ms.flatMap((m) => (m.kind === "events" ? m.items : []));
  expect(items).toHaveLength(2);
  for (const it of items) {
    const e = decodeSignedEvent(it.event);
    expect(verify(it.serveSignature, daServeMessage(e.id, blake3_32(it.payload)), serverKey)).toBe(true);
    expect(verify(it.serveSignature, daServeMessage(e.id, blake3_32(Uint8Array.of(1))), serverKey)).toBe(false);
  }
  // A store whose bytes no longer hash to the event's digest: signing them would be a conflicting-DA statement.
  const damaged: EventSource = { ...source(), getPayload: () => Uint8Array.of(2, 1, 0, 9) };
  expect(eventsByIdAnswer(damaged, [events[3]!.id], signServe)).toEqual([]);
});
