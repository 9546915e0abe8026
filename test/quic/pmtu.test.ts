// Path MTU discovery (DPLPMTUD, RFC 8899 / RFC 9000 §14.3): the search state machine in
// injected time, then real UDP on 127.0.0.1, directly and through the lossy proxy
// with a datagram size limit (which drops larger datagrams, as a smaller-MTU link would).
import { afterEach, describe, expect, test } from "bun:test";
import { keyPairFromSeed } from "../../src/crypto/ed25519.ts";
import { QuicEndpoint, type QuicConnection } from "../../src/net/quic/endpoint.ts";
import {
  BASE_PLPMTU, PMTU_BLACK_HOLE_LOSSES, PMTU_BLACK_HOLE_RESEARCH_MS, PMTU_MAX_PROBES, PMTU_RAISE_INTERVAL_MS, PMTU_SEARCH_PRECISION_BYTES, PmtuDiscovery,
} from "../../src/net/quic/pmtu.ts";
import { createQuicMetrics, type QuicMetrics } from "../../src/net/quic/metrics.ts";
import { Registry } from "prom-client";
import { echoRoundTrip, echoStreams, until } from "./harness.ts";
import { LossyProxy, seededBytes } from "./lossy-proxy.ts";

/** Drives a PmtuDiscovery against a path that carries datagrams up to `limit`; returns the sizes probed. */
function search(d: PmtuDiscovery, limit: number, nowMs: number): number[] {
  const probed: number[] = [];
  for (let size = d.probeDue(nowMs); size !== undefined; size = d.probeDue(nowMs)) {
    probed.push(size);
    d.onProbeSent(size);
    if (size <= limit) d.onProbeAcked(size, nowMs);
    else d.onProbeLost(size, nowMs);
    expect(probed.length).toBeLessThan(100);
  }
  return probed;
}

describe("PmtuDiscovery (pure)", () => {
  test("probes the ceiling first; on a path that carries it, one probe settles the search", () => {
    const d = new PmtuDiscovery();
    expect(d.probeDue(0)).toBeUndefined(); // not started: no probes before the handshake
    d.start(1452, 0);
    expect(search(d, 9000, 0)).toEqual([1452]);
    expect([d.current, d.state, d.timerMs]).toEqual([1452, "complete", Infinity]);
  });

  test("a smaller path MTU: each size fails after MAX_PROBES losses, the search settles within the precision below it", () => {
    const d = new PmtuDiscovery();
    d.start(1452, 0);
    const probed = search(d, 1350, 0);
    expect(probed.slice(0, PMTU_MAX_PROBES)).toEqual(Array(PMTU_MAX_PROBES).fill(1452));
    expect(d.current).toBeLessThanOrEqual(1350);
    expect(d.current).toBeGreaterThan(1350 - PMTU_SEARCH_PRECISION_BYTES);
    expect(d.probesLost % PMTU_MAX_PROBES).toBe(0);
    // No size above the limit was ever reported acked, none at or below it lost.
    expect(d.state).toBe("complete");
    // Below the ceiling, a new search is due after the raise interval (RFC 8899 PMTU_RAISE_TIMER).
    expect(d.timerMs).toBe(PMTU_RAISE_INTERVAL_MS);
    expect(d.probeDue(PMTU_RAISE_INTERVAL_MS - 1)).toBeUndefined();
    expect(d.probeDue(PMTU_RAISE_INTERVAL_MS)).toBe(1452);
  });

  test("a path at the base size: every probe fails and the size stays 1200", () => {
    const d = new PmtuDiscovery();
    d.start(1452, 0);
    search(d, 1200, 0);
    expect(d.current).toBe(BASE_PLPMTU);
  });

  test("the first probe waits the given delay, and its timer is spent once it passed", () => {
    const d = new PmtuDiscovery();
    d.start(1452, 100, 50);
    expect(d.timerMs).toBe(150);
    expect(d.probeDue(149)).toBeUndefined();
    expect(d.probeDue(150)).toBe(1452);
    expect(d.timerMs).toBe(Infinity); // not a timer in the past while the probe waits for the window
    expect(d.probeDue(151)).toBe(1452);
  });

  test("a ceiling at the base disables discovery", () => {
    const d = new PmtuDiscovery();
    d.start(1200, 0);
    expect(d.probeDue(0)).toBeUndefined();
    expect(d.state).toBe("disabled");
  });

  test("black hole: full-size losses with none of that size acked fall back to 1200; acks of large packets reset the count", () => {
    const d = new PmtuDiscovery();
    d.start(1452, 0);
    search(d, 1452, 0);
    expect(d.current).toBe(1452);
    // Losses in ACKs that also acked large packets are congestion, not size.
    for (let i = 0; i < 10; i++) expect(d.onLargePackets(true, 5, 10, 0)).toBe(false);
    expect(d.onLargePackets(false, PMTU_BLACK_HOLE_LOSSES - 1, 20, 0)).toBe(false);
    expect(d.onLargePackets(true, 0, 30, 0)).toBe(false); // reset
    expect(d.onLargePackets(false, PMTU_BLACK_HOLE_LOSSES - 1, 40, 0)).toBe(false);
    // Enough losses, but a large packet was acked less than the quiet period (a PTO) ago.
    expect(d.onLargePackets(false, 1, 50, 100)).toBe(false);
    expect(d.onLargePackets(false, 1, 129, 100)).toBe(false);
    expect(d.onLargePackets(false, 1, 130, 100)).toBe(true);
    expect([d.current, d.blackHoles]).toEqual([BASE_PLPMTU, 1]);
    // The search starts again later and finds what the path carries now.
    expect(d.probeDue(130)).toBeUndefined();
    search(d, 1300, 130 + PMTU_BLACK_HOLE_RESEARCH_MS);
    expect(d.current).toBeLessThanOrEqual(1300);
    expect(d.current).toBeGreaterThan(1300 - PMTU_SEARCH_PRECISION_BYTES);
  });

  test("a late ack of a probe from an earlier size does not move the search", () => {
    const d = new PmtuDiscovery();
    d.start(1452, 0);
    d.onProbeSent(d.probeDue(0)!);
    d.onProbeLost(1452, 1);
    d.onProbeSent(d.probeDue(1)!);
    expect(d.onProbeAcked(1300, 2)).toBeUndefined();
    expect(d.current).toBe(BASE_PLPMTU);
  });
});

// ---------------------------------------------------------------- real UDP on loopback

const clientIdentity = keyPairFromSeed(new Uint8Array(32).fill(41));
const serverIdentity = keyPairFromSeed(new Uint8Array(32).fill(42));
const cleanup: (() => void)[] = [];
const closeFirst: (() => void)[] = [];
afterEach(() => {
  while (closeFirst.length) closeFirst.shift()!();
  while (cleanup.length) cleanup.pop()!();
});

/** Echo server: a stream comes back once the client's FIN arrived; exposes its accepted connections. */
async function echoServer(opts: { maxDatagramBytes?: number; maxReceiveDatagramBytes?: number } = {}): Promise<{ server: QuicEndpoint; accepted: QuicConnection[] }> {
  const accepted: QuicConnection[] = [];
  const server = await QuicEndpoint.listen(0, {
    identity: serverIdentity,
    verifyPeer: () => true,
    ...opts,
    onConnection: (c) => {
      accepted.push(c);
      echoStreams(c);
    },
  });
  closeFirst.push(() => server.close());
  return { server, accepted };
}

async function client(opts: { maxDatagramBytes?: number; metrics?: QuicMetrics; congestionControl?: "cubic" | "newreno" } = {}): Promise<QuicEndpoint> {
  const c = await QuicEndpoint.client({ identity: clientIdentity, verifyPeer: () => true, ...opts });
  cleanup.push(() => c.close());
  return c;
}

/** One payload on its own stream, echoed back. */
async function echo(conn: QuicConnection, payload: Uint8Array, timeoutMs = 30_000): Promise<Uint8Array> {
  return [...(await echoRoundTrip(conn, [payload], timeoutMs)).values()][0]!;
}

describe("DPLPMTUD over real UDP", () => {
  test("loopback: both sides reach the 1452 ceiling and bulk data uses it", async () => {
    const { server, accepted } = await echoServer();
    const c = await client();
    const conn = await c.connect("127.0.0.1", server.port);
    await until(() => conn.conn.datagramBytes === 1452 && accepted[0]?.conn.datagramBytes === 1452, "PMTU 1452 on both sides", 10_000);
    const payload = seededBytes(300_000, 1);
    expect(await echo(conn, payload)).toEqual(payload);
    expect(conn.conn.pmtuStats).toMatchObject({ state: "complete", datagramBytes: 1452, probesLost: 0, blackHoles: 0 });
  }, 30_000);

  test("maxDatagramBytes 1200 turns discovery off; the peer's max_udp_payload_size caps the other side's search", async () => {
    const { server, accepted } = await echoServer({ maxDatagramBytes: 1200, maxReceiveDatagramBytes: 1300 });
    // (The congestion controller is an endpoint option too: NewReno here, CUBIC on the server.)
    const c = await client({ maxDatagramBytes: 1400, congestionControl: "newreno" });
    const conn = await c.connect("127.0.0.1", server.port);
    const payload = seededBytes(50_000, 2);
    expect(await echo(conn, payload)).toEqual(payload);
    await until(() => conn.conn.pmtuStats.state === "complete", "client search complete", 10_000);
    expect(conn.conn.datagramBytes).toBe(1300);
    expect(accepted[0]!.conn.pmtuStats).toMatchObject({ state: "disabled", datagramBytes: 1200, probesSent: 0 });
    expect([conn.conn.congestionControl.name, accepted[0]!.conn.congestionControl.name]).toEqual(["newreno", "cubic"]);
  }, 30_000);

  test("through a proxy dropping datagrams above 1350: the search settles just below it and data flows", async () => {
    const { server, accepted } = await echoServer();
    const proxy = await LossyProxy.start({ serverPort: server.port, seed: 7, maxDatagramBytes: 1350 });
    cleanup.push(() => proxy.close());
    const c = await client();
    const conn = await c.connect("127.0.0.1", proxy.port);
    // Data while the search runs: probes that do not fit are lost without hurting the transfer.
    const payload = seededBytes(400_000, 3);
    expect(await echo(conn, payload)).toEqual(payload);
    const settled = (q: QuicConnection | undefined) => q?.conn.pmtuStats.state === "complete";
    // Probes go out only with traffic to carry their loss detection; keep a trickle going.
    for (let i = 0; i < 40 && !(settled(conn) && settled(accepted[0])); i++) await echo(conn, seededBytes(20_000, 100 + i));
    for (const q of [conn, accepted[0]!]) {
      const st = q.conn.pmtuStats;
      expect(st.state).toBe("complete");
      expect(st.datagramBytes).toBeLessThanOrEqual(1350);
      expect(st.datagramBytes).toBeGreaterThan(1350 - PMTU_SEARCH_PRECISION_BYTES);
      expect(st.probesLost).toBeGreaterThanOrEqual(PMTU_MAX_PROBES);
      expect(st.blackHoles).toBe(0);
    }
    const counters = proxy.counters();
    expect(counters.toServer.oversize + counters.toClient.oversize).toBe(conn.conn.pmtuStats.probesLost + accepted[0]!.conn.pmtuStats.probesLost);
    // Lost probes are not congestion: no packet loss was declared for them.
    expect(conn.conn.packetsLost).toBe(0);
  }, 60_000);

  test("black hole: the path shrinks under a flow of 1452-byte packets; the sender falls back to 1200 and the data still arrives", async () => {
    const { server } = await echoServer();
    const proxy = await LossyProxy.start({ serverPort: server.port, seed: 8 });
    cleanup.push(() => proxy.close());
    const registry = new Registry();
    const c = await client({ metrics: createQuicMetrics(registry) });
    const conn = await c.connect("127.0.0.1", proxy.port);
    await until(() => conn.conn.datagramBytes === 1452, "PMTU 1452", 10_000);
    proxy.setMaxDatagramBytes(1300);
    const payload = seededBytes(500_000, 4);
    expect(await echo(conn, payload, 45_000)).toEqual(payload);
    expect(conn.conn.pmtuStats.blackHoles).toBeGreaterThanOrEqual(1);
    const blackHoles = (await registry.getMetricsAsJSON()).find((m) => m.name === "pc_quic_pmtu_black_holes_total")?.values[0]?.value;
    expect(blackHoles).toBe(conn.conn.pmtuStats.blackHoles);
    expect(conn.conn.datagramBytes).toBeLessThanOrEqual(1300);
    // After the re-search delay, discovery finds what the path carries now.
    const researched = () => conn.conn.pmtuStats.state === "complete" && conn.conn.datagramBytes > 1200;
    for (let i = 0; i < 60 && !researched(); i++) {
      await echo(conn, seededBytes(20_000, 200 + i));
      await Bun.sleep(50);
    }
    expect(conn.conn.datagramBytes).toBeLessThanOrEqual(1300);
    expect(conn.conn.datagramBytes).toBeGreaterThan(1300 - PMTU_SEARCH_PRECISION_BYTES);
  }, 60_000);
});
