/**
 * The batched receive path: `Connection.receiveMany` opens a turn's 1-RTT datagrams
 * with one native call (`openDatagrams`) and must behave exactly like feeding them to
 * `receive` one by one, including reordering, duplicates, damaged packets, key updates
 * in the middle of a batch and a close part-way through one.
 */
import { describe, expect, test } from "bun:test";
import { PacketKeys, TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256, openDatagrams, openPacket, sealPacket, type CipherSuite, type OpenedPacket } from "../../src/net/quic/packet-protection.ts";
import { writeShortHeader } from "../../src/net/quic/packet-header.ts";
import { type ConnectionEvent } from "../../src/net/quic/connection.ts";
import { establish, exchange, makePair } from "./harness.ts";
import { seededBytes, seededRandom } from "./lossy-proxy.ts";

const closed = (events: ConnectionEvent[]) => events.some((e) => e.type === "closed");

describe("Connection.receiveMany", () => {
  test("1 MiB each way handed over in batches arrives intact, nearly all of it opened in batches", () => {
    const p = makePair();
    p.batch = (g) => g;
    establish(p);
    const r = exchange(p, 1 << 20);
    expect(Buffer.compare(r.atServer.data, r.a)).toBe(0);
    expect(Buffer.compare(r.atClient.data, r.b)).toBe(0);
    // ~750 data packets each way; bursts of several datagrams are the common case.
    expect(p.server.packetsOpenedBatched).toBeGreaterThan(500);
    expect(p.client.packetsOpenedBatched).toBeGreaterThan(500);
    expect(p.server.packetsDropped + p.client.packetsDropped).toBe(0);
  }, 30_000);

  test("reordered, duplicated and damaged datagrams inside batches, with key updates every 40 packets", () => {
    const p = makePair({ keyUpdatePackets: 40 }, { keyUpdatePackets: 40 });
    const rnd = seededRandom(7);
    let damaged = 0;
    let duplicated = 0;
    p.batch = (g) => {
      const out: Uint8Array[] = [];
      for (const d of g) {
        const x = rnd();
        if (x < 0.03) {
          const bad = d.slice();
          bad[bad.length - 3]! ^= 0x40; // in the AEAD tag: fails authentication
          out.push(bad);
          damaged++;
        } else out.push(d);
        if (x > 0.97) { out.push(d); duplicated++; }
      }
      // Reverse a random slice of the batch.
      const i = Math.floor(rnd() * out.length);
      const j = i + Math.floor(rnd() * (out.length - i));
      return [...out.slice(0, i), ...out.slice(i, j).reverse(), ...out.slice(j)];
    };
    establish(p);
    const r = exchange(p, 512 * 1024);
    expect(Buffer.compare(r.atServer.data, r.a)).toBe(0);
    expect(Buffer.compare(r.atClient.data, r.b)).toBe(0);
    expect(closed(p.clientEvents) || closed(p.serverEvents)).toBe(false);
    // Keys rotated many times while batches were being opened.
    expect(p.server.keyUpdates + p.client.keyUpdates).toBeGreaterThan(10);
    expect(p.server.packetsOpenedBatched + p.client.packetsOpenedBatched).toBeGreaterThan(300);
    expect(damaged).toBeGreaterThan(5);
    expect(duplicated).toBeGreaterThan(5);
    // Every damaged copy and every duplicate was dropped (handshake-time ones included).
    expect(p.server.packetsDropped + p.client.packetsDropped).toBeGreaterThanOrEqual(damaged + duplicated - 4);
  }, 30_000);

  test("a close part-way through a batch: the rest of the batch is treated as received while closing", () => {
    const p = makePair();
    p.batch = (g) => g;
    establish(p);
    exchange(p, 64 * 1024);
    const id = p.client.openStream();
    p.client.writeStream(id, seededBytes(20_000, 3), false);
    p.client.close(7, "bye");
    const datagrams = p.client.send(p.nowMs);
    expect(datagrams.length).toBeGreaterThan(0);
    p.server.receiveMany(datagrams, p.nowMs);
    const events = p.server.pollEvents();
    const c = events.find((e) => e.type === "closed") as Extract<ConnectionEvent, { type: "closed" }> | undefined;
    expect(c?.errorCode).toBe(7);
    // Anything after the close in the same batch changes nothing.
    p.server.receiveMany(datagrams, p.nowMs);
    expect(p.server.pollEvents().filter((e) => e.type === "closed").length).toBe(0);
  }, 30_000);
});

describe("openDatagrams", () => {
  const secret = seededBytes(32, 9);
  for (const suite of [TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256] as CipherSuite[]) {
    test(`suite 0x${suite.toString(16)}: the same results as openPacket one by one, across several native calls`, () => {
      const keys = new PacketKeys(suite, secret);
      const dcid = seededBytes(8, 4);
      const datagrams: Uint8Array[] = [];
      for (let pn = 1000; pn < 1150; pn++) {
        const pnLength = pn % 3 === 0 ? 1 : pn % 3 === 1 ? 2 : 4;
        const d = sealPacket(keys, writeShortHeader(dcid, 0, pnLength, pn), pnLength, pn, seededBytes(20 + (pn % 50) * 23, pn));
        if (pn % 17 === 0) d[d.length - 1]! ^= 1; // fails to authenticate
        if (pn % 29 === 0) datagrams.push(d.subarray(0, 30)); // too short
        else datagrams.push(d);
      }
      const results: (OpenedPacket | null)[] = [];
      openDatagrams(keys, datagrams, 3, datagrams.length - 3, 9, 999, results);
      expect(results.length).toBe(datagrams.length - 3);
      let opened = 0;
      for (let i = 0; i < results.length; i++) {
        const one = openPacket(keys, datagrams[3 + i]!, 9, 999);
        const got = results[i]!;
        if (one === null) { expect(got).toBeNull(); continue; }
        opened++;
        expect(got).not.toBeNull();
        expect(got.pn).toBe(one.pn);
        expect(got.firstByte).toBe(one.firstByte);
        expect(Buffer.compare(got.payload, one.payload)).toBe(0);
      }
      expect(opened).toBeGreaterThan(120);
    });
  }
});
