/**
 * RFC 9001 §6.6 on real loopback connections: with a small key-update threshold both
 * sides rotate their 1-RTT keys many times while data flows both ways and every byte
 * arrives intact; forged packets beyond the integrity limit close the connection with
 * AEAD_LIMIT_REACHED.
 */
import { describe, expect, test } from "bun:test";
import { QuicEndpoint, type QuicConnection } from "../../src/net/quic/endpoint.ts";
import { TransportErrorCode } from "../../src/net/quic/errors.ts";
import { writeShortHeader } from "../../src/net/quic/packet-header.ts";
import { clientIdentity, makePair, run, serverIdentity, streamBytes, until } from "./harness.ts";

const KEY_UPDATE_PACKETS = 50;
const TRANSFER_BYTES = 1024 * 1024;

function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 13 + seed + (i >> 9)) & 0xff;
  return out;
}

describe("AEAD limits and automatic key updates", () => {
  test("both sides keep working across many key updates with a small threshold", async () => {
    let serverConn: QuicConnection | null = null;
    const echoed: Uint8Array[] = [];
    let echoFin = false;
    const server = await QuicEndpoint.listen(0, {
      identity: serverIdentity, verifyPeer: () => true, keyUpdatePackets: KEY_UPDATE_PACKETS,
      onConnection: (c) => {
        serverConn = c;
        c.onData((sid, d, fin) => c.write(sid, d.slice(), fin));
      },
    });
    const client = await QuicEndpoint.client({ identity: clientIdentity, verifyPeer: () => true, keyUpdatePackets: KEY_UPDATE_PACKETS });
    try {
      const conn = await client.connect("127.0.0.1", server.port);
      const sid = conn.openStream();
      conn.onData((_s, d, fin) => {
        echoed.push(d.slice());
        echoFin ||= fin;
      });
      const payload = pattern(TRANSFER_BYTES, 5);
      conn.write(sid, payload, true);
      await until(() => echoFin, "the echo to finish", 20_000);
      expect(Buffer.compare(Buffer.concat(echoed), payload)).toBe(0);
      // ~900 packets each way at 50 per key: many rotations, started by either side.
      const peer = serverConn as QuicConnection | null;
      if (!peer) throw new Error("server connection missing");
      expect(conn.conn.keyUpdates).toBeGreaterThanOrEqual(5);
      expect(peer.conn.keyUpdates).toBeGreaterThanOrEqual(5);
      expect(conn.closed).toBe(false);
      // Still usable after the updates: a second stream round-trips too.
      const sid2 = conn.openStream();
      const small = await new Promise<Uint8Array>((resolve) => {
        conn.onData((s, d) => { if (s === sid2) resolve(d.slice()); });
        conn.write(sid2, new Uint8Array([4, 5, 6]), true);
      });
      expect([...small]).toEqual([4, 5, 6]);
    } finally {
      client.close();
      server.close();
    }
  }, 30_000);

  test("forged packets up to the integrity limit close the connection with AEAD_LIMIT_REACHED", async () => {
    const integrityLimit = 10;
    let serverConn: QuicConnection | null = null;
    const server = await QuicEndpoint.listen(0, {
      identity: serverIdentity, verifyPeer: () => true, aeadIntegrityLimit: integrityLimit,
      onConnection: (c) => { serverConn = c; },
    });
    const client = await QuicEndpoint.client({ identity: clientIdentity, verifyPeer: () => true });
    const forger = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
    try {
      const conn = await client.connect("127.0.0.1", server.port);
      let closedWith = null as number | null;
      conn.onClose((code) => { closedWith = code; });
      await until(() => serverConn !== null, "server connection");
      const peer = serverConn as QuicConnection | null;
      if (!peer) throw new Error("server connection missing");
      const dcid = peer.conn.localConnectionIds[0]!;
      for (let i = 0; i < integrityLimit - 1; i++) forger.send(forged(dcid, i), server.port, "127.0.0.1");
      await until(() => server.stats.datagramsReceived >= 3 + integrityLimit - 1 && peer.conn.packetsDropped >= integrityLimit - 1, "forged packets read");
      expect(peer.closed).toBe(false);
      forger.send(forged(dcid, integrityLimit), server.port, "127.0.0.1");
      await until(() => closedWith !== null, "client to see the close");
      expect(closedWith).toBe(TransportErrorCode.AEAD_LIMIT_REACHED);
      expect(server.stats.connectionErrors.AEAD_LIMIT_REACHED).toBe(1);
    } finally {
      forger.close();
      client.close();
      server.close();
    }
  }, 30_000);

  test("a key that cannot be updated in time closes the connection before the confidentiality limit", () => {
    // In virtual time: the client's updates need ACKs, and the server's ACKs are dropped.
    const p = makePair({ keyUpdatePackets: 5, aeadConfidentialityLimit: 30 });
    run(p);
    expect(p.client.isEstablished).toBe(true);
    p.filter = (dir) => dir === "c2s";
    const sid = p.client.openStream();
    p.client.writeStream(sid, new Uint8Array(400 * 1024), true);
    run(p, p.nowMs + 60_000);
    const closed = p.clientEvents.find((e) => e.type === "closed");
    expect(closed).toMatchObject({ type: "closed", errorCode: TransportErrorCode.AEAD_LIMIT_REACHED });
    expect(p.client.keyUpdates).toBe(1);
    expect(streamBytes(p.serverEvents, sid).data.length).toBeGreaterThan(0);
  });
});

/** A short-header packet for `dcid` with random protected bytes (fails authentication). */
function forged(dcid: Uint8Array, pn: number): Uint8Array {
  const header = writeShortHeader(dcid, 0, 2, pn + 1000);
  const out = new Uint8Array(header.length + 60);
  out.set(header);
  for (let i = header.length; i < out.length; i++) out[i] = (i * 97 + pn * 31) & 0xff;
  return out;
}

