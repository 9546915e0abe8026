/**
 * Half-open handshakes under load on real loopback sockets: a raw UDP socket floods
 * the server with genuine client Initials it never follows up; beyond the threshold
 * the server answers with stateless Retry, the half-open count stays bounded, and a
 * real client still connects (through a Retry).
 */
import { describe, expect, test } from "bun:test";
import { Connection } from "../../src/net/quic/connection.ts";
import { QuicEndpoint } from "../../src/net/quic/endpoint.ts";
import { PACKET_TYPE_RETRY } from "../../src/net/quic/packet-header.ts";
import { certificateDer } from "../../src/net/quic/tls/certificate.ts";
import { clientIdentity, serverIdentity, until } from "./harness.ts";

const FLOOD_INITIALS = 3000;
/** Initials per burst: small enough for the server's socket receive buffer. */
const BATCH = 20;
const clientCertificate = certificateDer(clientIdentity);

/** A genuine client Initial datagram for a fresh connection (never continued). */
function freshInitial(): Uint8Array {
  const d = Connection.client({ identity: clientIdentity, certificate: clientCertificate, verifyPeer: () => true }).send(0)[0]!;
  return d.slice();
}

/** A raw socket that counts the Retry packets it receives. */
async function floodSocket() {
  const seen = { retries: 0, other: 0 };
  const sock = await Bun.udpSocket({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data: (_s, d) => {
        const b = new Uint8Array(d);
        if ((b[0]! & 0x80) !== 0 && ((b[0]! >> 4) & 0x3) === PACKET_TYPE_RETRY) seen.retries++;
        else seen.other++;
      },
    },
  });
  return { sock, seen };
}

/** Sends `count` Initials in batches, waiting for the server to read each batch (bounded). */
async function flood(sock: { send(d: Uint8Array, port: number, host: string): boolean }, server: QuicEndpoint, count: number): Promise<void> {
  const base = server.stats.datagramsReceived;
  for (let sent = 0; sent < count; ) {
    const n = Math.min(BATCH, count - sent);
    for (let i = 0; i < n; i++) if (!sock.send(freshInitial(), server.port, "127.0.0.1")) throw new Error("raw send refused");
    sent += n;
    await until(() => server.stats.datagramsReceived >= base + sent, `server to read ${sent} Initials`, 10_000);
  }
}

async function echoClient(server: QuicEndpoint): Promise<number[]> {
  const client = await QuicEndpoint.client({ identity: clientIdentity, verifyPeer: () => true });
  try {
    const conn = await client.connect("127.0.0.1", server.port);
    const sid = conn.openStream();
    const echoed = await new Promise<Uint8Array>((resolve) => {
      conn.onData((_s, d) => resolve(d));
      conn.write(sid, new Uint8Array([7, 8, 9]), true);
    });
    return [...echoed];
  } finally {
    client.close();
  }
}

describe("half-open handshakes", () => {
  test("beyond the threshold token-less Initials get Retry, state stays bounded, a real client connects", async () => {
    const threshold = 32;
    const server = await QuicEndpoint.listen(0, {
      identity: serverIdentity, verifyPeer: () => true, retryHalfOpenThreshold: threshold,
      onConnection: (c) => c.onData((sid, d, fin) => c.write(sid, d, fin)),
    });
    const { sock, seen } = await floodSocket();
    try {
      await flood(sock, server, FLOOD_INITIALS);
      expect(server.halfOpenCount).toBe(threshold);
      expect(server.connectionCount).toBe(threshold);
      expect(server.stats.retriesSent).toBe(FLOOD_INITIALS - threshold);
      await until(() => seen.retries >= FLOOD_INITIALS - threshold, "Retry packets at the flooding socket");
      // The real client is asked for a Retry round trip too, then completes.
      expect(await echoClient(server)).toEqual([7, 8, 9]);
      expect(server.stats.retriesSent).toBe(FLOOD_INITIALS - threshold + 1);
      expect(server.halfOpenCount).toBe(threshold);
    } finally {
      sock.close();
      server.close();
    }
  }, 60_000);

  test("without Retry the half-open state is capped by halfOpenMax and expires after handshakeTimeoutMs", async () => {
    const server = await QuicEndpoint.listen(0, {
      identity: serverIdentity, verifyPeer: () => true, retryHalfOpenThreshold: 10_000, halfOpenMax: 16, handshakeTimeoutMs: 300,
      onConnection: (c) => c.onData((sid, d, fin) => c.write(sid, d, fin)),
    });
    const { sock } = await floodSocket();
    try {
      await flood(sock, server, 100);
      expect(server.halfOpenCount).toBe(16);
      expect(server.stats.halfOpenRefused).toBe(84);
      expect(server.stats.retriesSent).toBe(0);
      await until(() => server.halfOpenCount === 0, "half-open handshakes to time out");
      expect(server.stats.halfOpenTimedOut).toBe(16);
      expect(server.connectionCount).toBe(0);
      expect(await echoClient(server)).toEqual([7, 8, 9]);
    } finally {
      sock.close();
      server.close();
    }
  }, 30_000);
});
