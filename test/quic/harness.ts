/** In-memory pair of connections in virtual time, for connection tests (no sockets); and `until` for the socket tests. */
import { keyPairFromSeed } from "../../src/crypto/ed25519.ts";
import { Connection, type ConnectionEvent, type ConnectionOptions } from "../../src/net/quic/connection.ts";
import { parsePacketHeader } from "../../src/net/quic/packet-header.ts";
import type { QuicConnection } from "../../src/net/quic/endpoint.ts";
import { concatBytes } from "../../src/crypto/bytes.ts";
import { expect } from "bun:test";
import { seededBytes } from "./lossy-proxy.ts";

export const clientIdentity = keyPairFromSeed(new Uint8Array(32).fill(11));
export const serverIdentity = keyPairFromSeed(new Uint8Array(32).fill(22));

export interface Pair {
  client: Connection;
  server: Connection;
  nowMs: number;
  clientEvents: ConnectionEvent[];
  serverEvents: ConnectionEvent[];
  /** Return false to drop a datagram (direction "c2s" or "s2c"). */
  filter: (dir: "c2s" | "s2c", d: Uint8Array, index: number) => boolean;
  sent: { c2s: number; s2c: number };
  latencyMs: number;
  /**
   * Set: datagrams due at the same instant for the same side are handed over
   * together through `receiveMany` (as the endpoint does per event-loop turn),
   * in the order this returns (it may reorder, drop or duplicate).
   */
  batch?: (datagrams: Uint8Array[]) => Uint8Array[];
}

export function makePair(opts: Partial<ConnectionOptions> = {}, serverOpts: Partial<ConnectionOptions> = {}): Pair {
  const client = Connection.client({ identity: clientIdentity, verifyPeer: () => true, ...opts });
  const pair: Pair = {
    client, server: null as unknown as Connection, nowMs: 1000, clientEvents: [], serverEvents: [],
    filter: () => true, sent: { c2s: 0, s2c: 0 }, latencyMs: 1,
  };
  return pair;
}

interface InFlight { at: number; to: "client" | "server"; data: Uint8Array }

/** Runs until quiet or `untilMs` of virtual time passes; delivers with `latencyMs` delay. */
export function run(p: Pair, untilMs = p.nowMs + 5000, serverOpts: Partial<ConnectionOptions> = {}, stop?: () => boolean): void {
  const queue: InFlight[] = [];
  const flush = (from: "client" | "server") => {
    const conn = from === "client" ? p.client : p.server;
    if (!conn) return;
    for (const d of conn.send(p.nowMs)) {
      const dir = from === "client" ? "c2s" : "s2c";
      const idx = p.sent[dir]++;
      if (!p.filter(dir, d, idx)) continue;
      queue.push({ at: p.nowMs + p.latencyMs, to: from === "client" ? "server" : "client", data: d });
    }
  };
  for (let steps = 0; steps < 200_000; steps++) {
    flush("client");
    flush("server");
    p.clientEvents.push(...p.client.pollEvents());
    if (p.server) p.serverEvents.push(...p.server.pollEvents());
    if (stop?.()) return;
    const nextTimer = Math.min(p.client.nextTimerMs(), p.server?.nextTimerMs() ?? Infinity);
    // Constant latency keeps the queue in delivery order (no sort needed).
    const nextDelivery = queue.length ? queue[0]!.at : Infinity;
    const next = Math.min(nextTimer, nextDelivery);
    if (next === Infinity || next > untilMs) {
      p.nowMs = Math.max(p.nowMs, Math.min(untilMs, next));
      return;
    }
    p.nowMs = Math.max(p.nowMs, next);
    if (nextDelivery <= nextTimer) {
      const item = queue.shift()!;
      if (p.batch && p.server) {
        const group = [item.data];
        while (queue.length && queue[0]!.at === item.at && queue[0]!.to === item.to) group.push(queue.shift()!.data);
        (item.to === "server" ? p.server : p.client).receiveMany(p.batch(group), p.nowMs);
        continue;
      }
      if (item.to === "server") {
        if (!p.server) {
          const h = parsePacketHeader(item.data, 0, 8);
          if (h.form !== "long") continue;
          p.server = Connection.server({ identity: serverIdentity, verifyPeer: () => true, ...serverOpts }, h.dcid, h.scid);
        }
        p.server.receive(item.data, p.nowMs);
      } else p.client.receive(item.data, p.nowMs);
    } else {
      if (p.client.nextTimerMs() <= p.nowMs) p.client.onTimer(p.nowMs);
      if (p.server && p.server.nextTimerMs() <= p.nowMs) p.server.onTimer(p.nowMs);
    }
  }
  throw new Error("harness step bound reached");
}

export function streamBytes(events: ConnectionEvent[], streamId: number): { data: Uint8Array; fin: boolean } {
  const parts: Uint8Array[] = [];
  let fin = false;
  for (const e of events) if (e.type === "stream_data" && e.streamId === streamId) { parts.push(e.data); fin ||= e.fin; }
  return { data: new Uint8Array(Buffer.concat(parts)), fin };
}

/** Polls `cond` on the event loop until it holds; throws after `timeoutMs` (a liveness bound, not a timing assertion). */
/** Runs the pair until both sides are established, and asserts they are. */
export function establish(p: Pair, serverOpts: Partial<ConnectionOptions> = {}): void {
  run(p, p.nowMs + 5000, serverOpts, () => p.client.isEstablished && !!p.server?.isEstablished);
  expect(p.client.isEstablished).toBe(true);
  expect(p.server.isEstablished).toBe(true);
}

/** Transfers `n` seeded bytes each way on one bidi stream; returns what was sent and what each side received. */
export function exchange(p: Pair, n: number, untilMs = 60_000) {
  const a = seededBytes(n, 1);
  const b = seededBytes(n, 2);
  const id = p.client.openStream();
  p.client.writeStream(id, a, true);
  let replied = false;
  run(p, p.nowMs + untilMs, {}, () => {
    if (!replied && streamBytes(p.serverEvents, id).fin) {
      replied = true;
      p.server.writeStream(id, b, true);
    }
    return replied && streamBytes(p.clientEvents, id).fin;
  });
  return { a, b, atServer: streamBytes(p.serverEvents, id), atClient: streamBytes(p.clientEvents, id) };
}

export async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(2);
  }
}

/** Makes `c` echo each stream back once it ended (FIN): what the socket tests' servers do. */
export function echoStreams(c: QuicConnection): void {
  const buffers = new Map<number, Uint8Array[]>();
  c.onData((id, data, fin) => {
    const parts = buffers.get(id) ?? [];
    parts.push(Uint8Array.from(data));
    buffers.set(id, parts);
    if (fin) {
      buffers.delete(id);
      c.write(id, concatBytes(...parts), true);
    }
  });
}

/** Sends each payload on its own stream and resolves with what came back per stream. */
export function echoRoundTrip(conn: QuicConnection, payloads: Uint8Array[], timeoutMs = 40_000): Promise<Map<number, Uint8Array>> {
  const ids = payloads.map(() => conn.openStream(true));
  const received = new Map<number, Uint8Array[]>();
  const done = new Map<number, Uint8Array>();
  const result = new Promise<Map<number, Uint8Array>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`echo timed out: ${done.size}/${ids.length} streams done`)), timeoutMs);
    conn.onData((id, data, fin) => {
      const parts = received.get(id) ?? [];
      parts.push(Uint8Array.from(data));
      received.set(id, parts);
      if (fin) {
        done.set(id, concatBytes(...parts));
        if (done.size === ids.length) {
          clearTimeout(timer);
          resolve(done);
        }
      }
    });
  });
  payloads.forEach((p, i) => conn.write(ids[i]!, p, true));
  return result.then((m) => new Map(ids.map((id) => [id, m.get(id)!])));
}
