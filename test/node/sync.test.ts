// What a node answers from its store: Lamport (parents-first) order, within the
// per-message count limit, only events whose payload it has, and only what was asked.
import { expect, test } from "bun:test";
import { generateSignedDag } from "../../src/consensus/headers-gen.ts";
import { keyPairFromSeed } from "../../src/crypto/ed25519.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { eventsPerMessageMax, type P2pMessage } from "../../src/net/p2p/messages.ts";
import { decodeSignedEvent, type SignedEvent } from "../../src/types/event.ts";
import { EMPTY_PAYLOAD_BYTES } from "../../src/types/payload.ts";
import { eventMessages, eventsByIdAnswer, syncAnswer, type EventSource } from "../../src/node/sync.ts";

const k = 4;
const events = generateSignedDag({ secretKeys: [1, 2, 3, 4].map((i) => keyPairFromSeed(new Uint8Array(32).fill(i)).secretKey), eventCount: 1200, seed: new Uint8Array(32).fill(7) });

function source(withPayloads = true): EventSource {
  const byId = new Map(events.map((e) => [toHex(e.id), e]));
  return {
    getEvent: (id) => byId.get(toHex(id)),
    getPayload: () => (withPayloads ? EMPTY_PAYLOAD_BYTES : undefined),
    eventsByCreatorFrom: (c, seq, limit) => events.filter((e) => e.header.creator === c && e.header.seq >= seq).slice(0, limit),
  };
}

const carried = (ms: P2pMessage[]): SignedEvent[] => ms.flatMap((m) => (m.kind === "events" ? m.items.map((it) => decodeSignedEvent(it.event)) : []));

test("a sync answer holds what the peer lacks, parents first, within the message limits", () => {
  const highest = [10, -1, 200, 5000];
  const ms = syncAnswer(source(), k, highest);
  expect(ms.every((m) => m.kind === "events" && m.items.length <= eventsPerMessageMax)).toBe(true);
  const got = carried(ms);
  expect(got.length).toBe(events.filter((e) => e.header.seq > highest[e.header.creator]!).length);
  for (let i = 1; i < got.length; i++) expect(got[i]!.header.lamport).toBeGreaterThanOrEqual(got[i - 1]!.header.lamport);
  const seen = new Set<string>();
  for (const e of got) {
    for (const p of e.header.parents) if (got.some((x) => toHex(x.id) === toHex(p))) expect(seen.has(toHex(p))).toBe(true);
    seen.add(toHex(e.id));
  }
});

test("events by id: only those we have, ordered; nothing without a payload", () => {
  const ids = [events[900]!.id, new Uint8Array(32).fill(9), events[3]!.id];
  expect(carried(eventsByIdAnswer(source(), ids)).map((e) => toHex(e.id))).toEqual([toHex(events[3]!.id), toHex(events[900]!.id)]);
  expect(eventMessages(source(false), events.slice(0, 10))).toEqual([]);
});
