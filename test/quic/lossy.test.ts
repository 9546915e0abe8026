// QUIC end to end over real UDP on 127.0.0.1 through the lossy proxy, and datagram
// fuzzing of a live endpoint. Bounded counts and timeouts; every socket is closed.
import { afterEach, describe, expect, test } from "bun:test";
import { keyPairFromSeed } from "../../src/crypto/ed25519.ts";
import { CONNECTIONS_MAX, QuicEndpoint, type QuicConnection } from "../../src/net/quic/endpoint.ts";
import { echoRoundTrip, echoStreams } from "./harness.ts";
import { LossyProxy, seededBytes, seededRandom, type LossyProxyOptions } from "./lossy-proxy.ts";

const clientIdentity = keyPairFromSeed(new Uint8Array(32).fill(31));
const serverIdentity = keyPairFromSeed(new Uint8Array(32).fill(32));
const transferTimeoutMs = 40_000;
const cleanup: (() => void)[] = [];
/** Servers close first, while their peers' ports are still open to take CONNECTION_CLOSE. */
const closeFirst: (() => void)[] = [];
afterEach(() => {
  while (closeFirst.length) closeFirst.shift()!();
  while (cleanup.length) cleanup.pop()!();
});

/** A server that echoes every stream back once the client's FIN arrived. */
async function echoServer(opts: { idleTimeoutMs?: number } = {}): Promise<QuicEndpoint> {
  const server = await QuicEndpoint.listen(0, {
    identity: serverIdentity,
    verifyPeer: () => true,
    ...opts,
    onConnection: (c) => {
      echoStreams(c);
    },
  });
  closeFirst.push(() => server.close());
  return server;
}

async function clientEndpoint(): Promise<QuicEndpoint> {
  const client = await QuicEndpoint.client({ identity: clientIdentity, verifyPeer: () => true });
  cleanup.push(() => client.close());
  return client;
}

async function throughProxy(opts: Omit<LossyProxyOptions, "serverPort">, payloads: Uint8Array[]) {
  const server = await echoServer();
  const proxy = await LossyProxy.start({ ...opts, serverPort: server.port });
  cleanup.push(() => proxy.close());
  const client = await clientEndpoint();
  const conn = await client.connect("127.0.0.1", proxy.port, {}, transferTimeoutMs);
  const echoed = await echoRoundTrip(conn, payloads);
  return { echoed: [...echoed.values()], proxy, conn };
}

describe("QUIC through a lossy UDP proxy", () => {
  test("no impairment: streams echo back byte-identical", async () => {
    const payloads = [seededBytes(200_000, 1), seededBytes(1, 2), new Uint8Array(0)];
    const { echoed } = await throughProxy({ seed: 1 }, payloads);
    expect(echoed).toEqual(payloads);
  }, 60_000);

  test("5% loss each way plus duplication and reordering: byte-identical, and the proxy really impaired it", async () => {
    const payloads = [seededBytes(400_000, 3), seededBytes(150_000, 4), seededBytes(3000, 5)];
    const { echoed, proxy } = await throughProxy({ seed: 2024, lossRate: 0.05, duplicateRate: 0.03, reorderRate: 0.03, reorderDelayMs: 3 }, payloads);
    expect(echoed.length).toBe(payloads.length);
    payloads.forEach((p, i) => expect(Buffer.compare(echoed[i]!, p)).toBe(0));
    const c = proxy.counters();
    for (const dir of [c.toServer, c.toClient]) {
      expect(dir.dropped).toBeGreaterThan(0);
      expect(dir.duplicated).toBeGreaterThan(0);
      expect(dir.reordered).toBeGreaterThan(0);
    }
  }, 60_000);

  test("2% reordering by 5 ms and no loss: byte-identical, and the reordered packets are found to be spurious losses", async () => {
    const payloads = [seededBytes(1_000_000, 8), seededBytes(300_000, 9)];
    const { echoed, proxy, conn } = await throughProxy({ seed: 4242, reorderRate: 0.02, reorderDelayMs: 5 }, payloads);
    expect(echoed.length).toBe(payloads.length);
    payloads.forEach((p, i) => expect(Buffer.compare(echoed[i]!, p)).toBe(0));
    const c = proxy.counters();
    expect(c.toServer.dropped + c.toClient.dropped).toBe(0);
    expect(c.toServer.reordered + c.toClient.reordered).toBeGreaterThan(0);
    // Nothing was dropped, so a packet declared lost was only overtaken; the client saw
    // at least one such packet acked later (it sends 1.3 MB, ~2% of it held back).
    const reordering = conn.conn.reordering;
    expect(reordering.spuriousLosses).toBeGreaterThan(0);
  }, 60_000);

  test("handshake survives heavy loss of the first flights (20%)", async () => {
    const payloads = [seededBytes(20_000, 6)];
    const { echoed } = await throughProxy({ seed: 77, lossRate: 0.2 }, payloads);
    expect(echoed).toEqual(payloads);
  }, 60_000);
});

describe("soak (PHANTOM_SOAK=1)", () => {
  // Longer run, off by default: 8 concurrent connections x 3 streams x 500 kB at 5% loss,
  // 3% duplication, 3% reordering with 1-8 ms jitter, all echoed back byte-identical.
  test.skipIf(!process.env.PHANTOM_SOAK)("many connections through a lossy, jittery path", async () => {
    const server = await echoServer();
    const proxy = await LossyProxy.start({ seed: 99, serverPort: server.port, lossRate: 0.05, duplicateRate: 0.03, reorderRate: 0.03, reorderDelayMs: 4, delayMsMin: 1, delayMsMax: 8 });
    cleanup.push(() => proxy.close());
    const client = await clientEndpoint();
    const runs = Array.from({ length: 8 }, async (_, c) => {
      const conn = await client.connect("127.0.0.1", proxy.port, {}, transferTimeoutMs);
      const payloads = [0, 1, 2].map((i) => seededBytes(500_000, 1000 + c * 10 + i));
      const echoed = [...(await echoRoundTrip(conn, payloads)).values()];
      payloads.forEach((p, i) => expect(Buffer.compare(echoed[i]!, p)).toBe(0));
    });
    await Promise.all(runs);
    console.log(JSON.stringify({ soak: proxy.counters() }));
  }, 300_000);
});

describe("a peer that vanishes", () => {
  // Regression: Bun's UDP socket queues ICMP port-unreachable after a peer's port closes; the
  // next send throws ECONNREFUSED and a recv error event fires, which, unhandled, exits the
  // process with code 1. The endpoint must absorb both.
  test("the server keeps running when its peer's port closes mid-transfer (ICMP port unreachable)", async () => {
    const server = await echoServer({ idleTimeoutMs: 3000 });
    const proxy = await LossyProxy.start({ seed: 11, serverPort: server.port });
    const client = await clientEndpoint();
    const conn = await client.connect("127.0.0.1", proxy.port);
    const echo = echoRoundTrip(conn, [seededBytes(2_000_000, 12)], 2000).catch(() => undefined); // cannot finish
    await Bun.sleep(30);
    proxy.close(); // the server's peer address (the proxy's upstream socket) is gone
    await Bun.sleep(500); // the server retransmits into the closed port meanwhile
    client.close();
    await echo;
    const fresh = await (await clientEndpoint()).connect("127.0.0.1", server.port);
    const payload = seededBytes(10_000, 13);
    expect([...(await echoRoundTrip(fresh, [payload])).values()]).toEqual([payload]);
  }, 30_000);
});

describe("connection lifecycle", () => {
  // Regression: Connection.close() once stamped the closing deadline with Date.now() against
  // the endpoint's performance.now() clock, so closed connections never finished and their
  // timer re-fired every 1 ms. RFC 9000 §10.2: closing lasts about 3 PTO.
  test("a connection closed by the application is forgotten by both endpoints", async () => {
    const server = await echoServer();
    const client = await clientEndpoint();
    const conn = await client.connect("127.0.0.1", server.port);
    conn.close(0, "done");
    // 3 PTO with a loopback RTT is well under a second; allow 5 s before calling it a leak.
    for (let waited = 0; waited < 5000 && client.connectionCount + server.connectionCount > 0; waited += 100) await Bun.sleep(100);
    expect(client.connectionCount).toBe(0);
    expect(server.connectionCount).toBe(0);
  }, 10_000);
});

describe("state from unauthenticated Initials", () => {
  // Regression: about 8% of random 1200-byte datagrams shaped like a v1 Initial once left a
  // server connection behind until its idle timeout; at ~350 datagrams/s that would keep
  // CONNECTIONS_MAX full and lock out real clients. Packets that fail Initial protection are
  // discarded without state (RFC 9001 §5.5).
  test("random Initial-shaped datagrams leave no connections behind", async () => {
    const fuzzer = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
    cleanup.push(() => fuzzer.close());
    const server = await echoServer();
    const random = seededRandom(4242);
    for (let i = 0; i < 500; i++) {
      const d = Uint8Array.from({ length: 1200 }, () => (random() * 256) | 0);
      d[0] = 0xc0 | (d[0]! & 0x0f); // long header, Initial
      d.set([0, 0, 0, 1], 1); // version 1
      d[5] = 8; // DCID length
      d[14] = 8; // SCID length
      fuzzer.send(d, server.port, "127.0.0.1");
      if (i % 50 === 49) await Bun.sleep(1);
    }
    await Bun.sleep(300);
    expect(server.connectionCount).toBe(0);
  });
});

describe("datagram fuzzing of a live endpoint", () => {
  test("random and mutated datagrams never crash it; connections stay bounded; it keeps serving", async () => {
    // Opened first so it is closed last: the server's close sends CONNECTION_CLOSE to it.
    const fuzzer = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
    cleanup.push(() => fuzzer.close());
    const server = await echoServer({ idleTimeoutMs: 2000 });
    // Record a real session through a transparent proxy, for mutation material.
    const recorded: Uint8Array[] = [];
    const recordedToClient: Uint8Array[] = [];
    const proxy = await LossyProxy.start({
      seed: 5,
      serverPort: server.port,
      tap: (dir, d) => {
        const into = dir === "toServer" ? recorded : recordedToClient;
        if (into.length < 200) into.push(Uint8Array.from(d));
      },
    });
    cleanup.push(() => proxy.close());
    const client = await clientEndpoint();
    const live = await client.connect("127.0.0.1", proxy.port);
    const first = seededBytes(30_000, 8);
    expect([...(await echoRoundTrip(live, [first])).values()]).toEqual([first]);
    expect(recorded.length).toBeGreaterThan(3);

    const random = seededRandom(99);
    const int = (n: number) => Math.floor(random() * n);
    const randomBytes = (n: number) => Uint8Array.from({ length: n }, () => int(256));
    const heapBefore = (Bun.gc(true), process.memoryUsage().heapUsed);
    const fuzzCount = Number(process.env.PHANTOM_FUZZ_DATAGRAMS ?? 3000);
    for (let i = 0; i < fuzzCount; i++) {
      let d: Uint8Array;
      switch (i % 4) {
        case 0: // pure noise
          d = randomBytes(int(1500));
          break;
        case 1: { // an Initial-looking long header (version 1, random CIDs) padded to 1200
          d = randomBytes(1200 + int(100));
          d[0] = 0xc0 | (d[0]! & 0x0f);
          d.set([0, 0, 0, 1], 1);
          d[5] = 8 + int(13);
          break;
        }
        default: { // a recorded datagram with flips, truncation or a splice
          d = Uint8Array.from(recorded[int(recorded.length)]!);
          const flips = int(4);
          for (let f = 0; f < flips; f++) d[int(d.length)] = int(256);
          if (random() < 0.3) d = d.subarray(0, int(d.length + 1));
          if (random() < 0.1) d = Uint8Array.from([...d, ...randomBytes(int(50))]);
        }
      }
      fuzzer.send(d, server.port, "127.0.0.1");
      if (i % 4 === 3) fuzzer.send(recorded[int(recorded.length)]!, server.port, "127.0.0.1"); // unmodified replays
      if (i % 50 === 49) {
        await Bun.sleep(1);
        expect(server.connectionCount).toBeLessThanOrEqual(CONNECTIONS_MAX);
      }
    }
    // The client endpoint gets noise and replays of what the server sent it, too.
    for (let i = 0; i < fuzzCount / 4; i++) {
      const d = i % 2 ? randomBytes(int(1500)) : Uint8Array.from(recordedToClient[int(recordedToClient.length)] ?? randomBytes(50));
      if (i % 2 === 0 && d.length) d[int(d.length)] = int(256);
      fuzzer.send(d, client.port, "127.0.0.1");
      if (i % 50 === 49) await Bun.sleep(1);
    }
    await Bun.sleep(200);
    // Garbage does not accumulate connections forever: count is bounded now and drains on idle.
    const afterFuzz = server.connectionCount;
    expect(afterFuzz).toBeLessThanOrEqual(CONNECTIONS_MAX);
    // The live connection still works, and new clients are still served.
    const second = seededBytes(10_000, 9);
    expect([...(await echoRoundTrip(live, [second])).values()]).toEqual([second]);
    const fresh = await (await clientEndpoint()).connect("127.0.0.1", server.port);
    const third = seededBytes(5_000, 10);
    expect([...(await echoRoundTrip(fresh, [third])).values()]).toEqual([third]);
    Bun.gc(true);
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    console.log(JSON.stringify({ fuzzDatagrams: fuzzCount, connectionsAfterFuzz: afterFuzz, droppedDatagrams: server.droppedDatagrams, heapGrowthBytes: heapGrowth }));
    expect(heapGrowth).toBeLessThan(64 * 1024 * 1024);
  }, 60_000);
});
