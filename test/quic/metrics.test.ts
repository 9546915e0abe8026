/**
 * QUIC metrics on a real prom-client registry with real loopback endpoints:
 * handshakes started/completed/failed by reason, rejected peers (counted and
 * logged, rate-limited), RTT histogram and path gauges, packets lost through a
 * lossy proxy, Retry and refused Initials.
 */
import { describe, expect, test } from "bun:test";
import { Registry } from "prom-client";
import { keyPairFromSeed } from "../../src/crypto/ed25519.ts";
import { Connection } from "../../src/net/quic/connection.ts";
import { PEER_REJECTED_LOGS_PER_MINUTE, QuicEndpoint, realClock, type Clock, type QuicConnection } from "../../src/net/quic/endpoint.ts";
import { createQuicMetrics } from "../../src/net/quic/metrics.ts";
import { clientIdentity, serverIdentity, until } from "./harness.ts";
import { LossyProxy } from "./lossy-proxy.ts";

const strangerIdentity = keyPairFromSeed(new Uint8Array(32).fill(77));

async function value(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  if (!m) throw new Error(`metric ${name} missing`);
  const v = m.values.find((x) => Object.entries(labels).every(([k, l]) => (x.labels as Record<string, unknown>)[k] === l)
    && (!("metricName" in x) || x.metricName === name || x.metricName === `${name}_count`));
  return v?.value ?? 0;
}

async function histogramCount(registry: Registry, name: string): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => "metricName" in x && x.metricName === `${name}_count`);
  return v?.value ?? 0;
}

/** Real timers, and a nowMs the test can move forward (only for the log rate limit). */
class ShiftedClock implements Clock {
  shiftMs = 0;
  nowMs(): number {
    return realClock.nowMs() + this.shiftMs;
  }
  setTimer(cb: () => void, delayMs: number): unknown {
    return realClock.setTimer(cb, delayMs);
  }
  clearTimer(h: unknown): void {
    realClock.clearTimer(h);
  }
}

describe("QUIC metrics", () => {
  test("handshakes, RTT, path gauges and a peer refused by key (counted, logged, rate-limited)", async () => {
    const registry = new Registry();
    const metrics = createQuicMetrics(registry);
    const logs: Record<string, unknown>[] = [];
    const clock = new ShiftedClock();
    const isClient = (pk: Uint8Array) => Buffer.compare(pk, clientIdentity.publicKey) === 0;
    const accepted: QuicConnection[] = [];
    const server = await QuicEndpoint.listen(0, {
      identity: serverIdentity, verifyPeer: isClient, metrics, clock, log: (l) => logs.push(l),
      onConnection: (c) => {
        accepted.push(c);
        c.onData((sid, d, fin) => c.write(sid, d, fin));
      },
    });
    const client = await QuicEndpoint.client({ identity: clientIdentity, verifyPeer: () => true, metrics });
    const stranger = await QuicEndpoint.client({ identity: strangerIdentity, verifyPeer: () => true, metrics });
    try {
      const conn = await client.connect("127.0.0.1", server.port);
      const sid = conn.openStream();
      await new Promise<void>((resolve) => {
        conn.onData((_s, _d, fin) => { if (fin) resolve(); });
        conn.write(sid, new Uint8Array(50_000).fill(3), true);
      });
      expect(await value(registry, "pc_quic_handshakes_started_total", { role: "client" })).toBe(1);
      expect(await value(registry, "pc_quic_handshakes_started_total", { role: "server" })).toBe(1);
      expect(await value(registry, "pc_quic_handshakes_completed_total", { role: "client" })).toBe(1);
      expect(await value(registry, "pc_quic_handshakes_completed_total", { role: "server" })).toBe(1);
      expect(await histogramCount(registry, "pc_quic_rtt_seconds")).toBeGreaterThan(0);
      expect(await value(registry, "pc_quic_connections", { state: "established" })).toBe(2);
      expect(await value(registry, "pc_quic_smoothed_rtt_seconds")).toBeGreaterThan(0);
      expect(await value(registry, "pc_quic_congestion_window_bytes")).toBeGreaterThanOrEqual(2 * 2 * 1200);
      expect(await value(registry, "pc_quic_bytes_in_flight")).toBeGreaterThanOrEqual(0);
      // Path MTU discovery: both sides reach the 1452 ceiling on loopback, one acked probe each.
      const serverConn = () => accepted[0];
      await until(() => conn.conn.datagramBytes === 1452 && serverConn()?.conn.datagramBytes === 1452, "PMTU 1452 on both sides");
      expect(await value(registry, "pc_quic_datagram_bytes", { stat: "min" })).toBe(1452);
      expect(await value(registry, "pc_quic_datagram_bytes", { stat: "max" })).toBe(1452);
      await until(() => conn.conn.pmtuStats.probesAcked + serverConn()!.conn.pmtuStats.probesAcked === 2, "probe acks");
      // Counters move when a connection is serviced after the change: send once more.
      await new Promise<void>((resolve) => {
        conn.onData((_s, _d, fin) => { if (fin) resolve(); });
        conn.write(conn.openStream(), new Uint8Array(5_000).fill(4), true);
      });
      expect(await value(registry, "pc_quic_pmtu_probes_total", { result: "acked" })).toBe(2);
      expect(await value(registry, "pc_quic_pmtu_probes_total", { result: "lost" })).toBe(0);
      expect(await value(registry, "pc_quic_pmtu_black_holes_total")).toBe(0);
      conn.close();

      // A stranger's key is refused: counted on both sides, logged by the server.
      const attempts = PEER_REJECTED_LOGS_PER_MINUTE + 2;
      for (let i = 0; i < attempts; i++) await expect(stranger.connect("127.0.0.1", server.port)).rejects.toThrow();
      expect(await value(registry, "pc_quic_peers_rejected_total", { role: "server" })).toBe(attempts);
      expect(await value(registry, "pc_quic_handshakes_failed_total", { role: "server", reason: "peer_rejected" })).toBe(attempts);
      expect(await value(registry, "pc_quic_handshakes_failed_total", { role: "client", reason: "peer_crypto_error" })).toBe(attempts);
      const rejectedLines = () => logs.filter((l) => l.type === "quic_peer_rejected");
      expect(rejectedLines().length).toBe(PEER_REJECTED_LOGS_PER_MINUTE);
      expect(rejectedLines()[0]).toMatchObject({ role: "server", publicKey: Buffer.from(strangerIdentity.publicKey).toString("hex") });
      expect(String(rejectedLines()[0]!.remote)).toStartWith("127.0.0.1:");
      // A minute later the next line says how many were left out.
      clock.shiftMs += 60_000;
      await expect(stranger.connect("127.0.0.1", server.port)).rejects.toThrow();
      expect(rejectedLines().length).toBe(PEER_REJECTED_LOGS_PER_MINUTE + 1);
      expect(rejectedLines().at(-1)).toMatchObject({ suppressed: 2 });
    } finally {
      stranger.close();
      client.close();
      server.close();
    }
  }, 30_000);

  test("Retry, refused Initials and handshake timeouts", async () => {
    const registry = new Registry();
    const metrics = createQuicMetrics(registry);
    const server = await QuicEndpoint.listen(0, {
      identity: serverIdentity, verifyPeer: () => true, metrics, retryHalfOpenThreshold: 1, halfOpenMax: 1, handshakeTimeoutMs: 700,
    });
    const client = await QuicEndpoint.client({ identity: clientIdentity, verifyPeer: () => true, metrics });
    const raw = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
    try {
      // One half-open handshake from a raw socket (never continued) takes the only slot.
      raw.send(Connection.client({ identity: clientIdentity, verifyPeer: () => true }).send(0)[0]!.slice(), server.port, "127.0.0.1");
      await until(() => server.halfOpenCount === 1, "one half-open handshake");
      expect(await value(registry, "pc_quic_connections", { state: "half_open" })).toBe(1);
      // The real client is sent a Retry, its validated Initial is refused while the slot is
      // taken, and its retransmission gets in once the raw handshake has timed out.
      await client.connect("127.0.0.1", server.port);
      expect(await value(registry, "pc_quic_retries_sent_total")).toBeGreaterThanOrEqual(1);
      expect(await value(registry, "pc_quic_initials_refused_total", { reason: "half_open_max" })).toBeGreaterThanOrEqual(1);
      expect(await value(registry, "pc_quic_handshakes_failed_total", { role: "server", reason: "timeout" })).toBe(1);
      expect(await value(registry, "pc_quic_handshakes_completed_total", { role: "server" })).toBe(1);
    } finally {
      raw.close();
      client.close();
      server.close();
    }
  }, 30_000);

  test("packets lost through a lossy path are counted", async () => {
    const registry = new Registry();
    const metrics = createQuicMetrics(registry);
    const server = await QuicEndpoint.listen(0, {
      identity: serverIdentity, verifyPeer: () => true, metrics,
      onConnection: (c) => c.onData((sid, d, fin) => c.write(sid, d, fin)),
    });
    const proxy = await LossyProxy.start({ serverPort: server.port, seed: 7, lossRate: 0.05 });
    const client = await QuicEndpoint.client({ identity: clientIdentity, verifyPeer: () => true, metrics });
    try {
      const conn = await client.connect("127.0.0.1", proxy.port);
      const sid = conn.openStream();
      let echoed = 0;
      let fin = false;
      conn.onData((_s, d, f) => { echoed += d.length; fin ||= f; });
      conn.write(sid, new Uint8Array(400_000).fill(9), true);
      await until(() => fin, "echo through the lossy proxy", 20_000);
      expect(echoed).toBe(400_000);
      expect(await value(registry, "pc_quic_packets_lost_total")).toBeGreaterThan(0);
    } finally {
      client.close();
      proxy.close();
      server.close();
    }
  }, 30_000);
});
