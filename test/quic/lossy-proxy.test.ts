// The lossy proxy itself, with raw UDP on 127.0.0.1: an echo server behind it.
import { afterEach, describe, expect, test } from "bun:test";
import { LossyProxy, seededRandom, type LossyProxyOptions } from "./lossy-proxy.ts";

type UdpSocket = Bun.udp.Socket<"buffer">;
const cleanup: (() => void)[] = [];
afterEach(() => {
  while (cleanup.length) cleanup.pop()!();
});

async function echoServer(): Promise<{ sock: UdpSocket; received: () => number }> {
  let received = 0;
  const sock = await Bun.udpSocket({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(s, data, port, address) {
        received++;
        s.send(data, port, address);
      },
    },
  });
  cleanup.push(() => sock.close());
  return { sock, received: () => received };
}

/** Polls `cond` every 10 ms for up to 5 s (a liveness bound, not a timing assertion). */
async function waitFor(cond: () => boolean): Promise<void> {
  for (let waited = 0; waited < 5000 && !cond(); waited += 10) await Bun.sleep(10);
}

/** Sends `count` numbered datagrams through a proxy and collects the echoes until quiet. */
async function run(opts: Omit<LossyProxyOptions, "serverPort">, count: number) {
  const server = await echoServer();
  const proxy = await LossyProxy.start({ ...opts, serverPort: server.sock.port });
  cleanup.push(() => proxy.close());
  const echoes: number[] = [];
  const client = await Bun.udpSocket({
    hostname: "127.0.0.1",
    port: 0,
    socket: { data(_s, data) { echoes.push(new DataView(data.buffer, data.byteOffset).getUint32(0)); } },
  });
  cleanup.push(() => client.close());
  for (let i = 0; i < count; i++) {
    const d = new Uint8Array(100);
    new DataView(d.buffer).setUint32(0, i);
    client.send(d, proxy.port, "127.0.0.1");
    if (i % 50 === 49) await Bun.sleep(1); // let the loopback drain; no kernel drops
  }
  // Wait until nothing changed for 100 ms (bounded to 5 s).
  let last = -1;
  for (let waited = 0; waited < 5000 && last !== echoes.length; waited += 100) {
    last = echoes.length;
    await Bun.sleep(100);
  }
  return { echoes, proxy, server };
}

describe("LossyProxy (raw UDP on loopback)", () => {
  test("no impairment: every datagram goes through once, in order", async () => {
    const { echoes, proxy, server } = await run({ seed: 1 }, 300);
    expect(echoes).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(server.received()).toBe(300);
    const c = proxy.counters();
    expect([c.toServer.forwarded, c.toClient.forwarded, c.toServer.dropped]).toEqual([300, 300, 0]);
    expect(proxy.clients).toBe(1);
  });

  test("loss: drops are counted exactly and are repeatable for the same seed", async () => {
    const a = await run({ seed: 42, lossRate: 0.2 }, 400);
    const ca = a.proxy.counters();
    expect(a.server.received()).toBe(ca.toServer.forwarded);
    expect(ca.toServer.forwarded + ca.toServer.dropped).toBe(400);
    expect(a.echoes.length).toBe(ca.toClient.forwarded);
    expect(ca.toClient.received).toBe(ca.toServer.forwarded);
    // ~20% each way: the rates are applied (loose bounds, the PRNG is fixed anyway)
    expect(ca.toServer.dropped).toBeGreaterThan(40);
    expect(ca.toServer.dropped).toBeLessThan(130);
    const b = await run({ seed: 42, lossRate: 0.2 }, 400);
    expect(b.proxy.counters().toServer.dropped).toBe(ca.toServer.dropped);
    // The client->server decisions depend only on the datagram index: same survivors.
    expect(b.server.received()).toBe(a.server.received());
  });

  test("duplication doubles datagrams; reordering lets later ones overtake", async () => {
    const dup = await run({ seed: 7, duplicateRate: 1, toClient: {} }, 100);
    expect(dup.server.received()).toBe(200);
    expect(dup.echoes.length).toBe(200);
    expect(dup.proxy.counters().toServer.duplicated).toBe(100);

    const re = await run({ seed: 9, reorderRate: 0.3, reorderDelayMs: 20, toClient: {} }, 200);
    expect(re.echoes.length).toBe(200);
    expect([...re.echoes].sort((x, y) => x - y)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(re.echoes).not.toEqual([...re.echoes].sort((x, y) => x - y));
    expect(re.proxy.counters().toServer.reordered).toBeGreaterThan(0);
  });

  test("delay queue is bounded: excess is dropped as overflow", async () => {
    const { echoes, proxy } = await run({ seed: 3, delayMsMin: 50, delayMsMax: 60, queueDatagramsMax: 10, toClient: {} }, 100);
    const c = proxy.counters().toServer;
    expect(c.delayed).toBeLessThanOrEqual(100);
    expect(c.overflow).toBeGreaterThan(0);
    expect(c.forwarded + c.overflow).toBe(100);
    expect(echoes.length).toBe(c.forwarded);
  });

  test("client count is bounded", async () => {
    const server = await echoServer();
    const proxy = await LossyProxy.start({ seed: 1, serverPort: server.sock.port, clientsMax: 2 });
    cleanup.push(() => proxy.close());
    for (let i = 0; i < 4; i++) {
      const c = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
      cleanup.push(() => c.close());
      c.send(new Uint8Array([i]), proxy.port, "127.0.0.1");
      await Bun.sleep(20);
    }
    expect(proxy.clients).toBe(2);
    expect(proxy.clientsRefused).toBe(2);
  });

  test("a client that closes its port mid-stream does not take the proxy down", async () => {
    const server = await echoServer();
    const proxy = await LossyProxy.start({ seed: 1, serverPort: server.sock.port, delayMsMin: 20, delayMsMax: 20 });
    cleanup.push(() => proxy.close());
    const gone = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
    for (let i = 0; i < 20; i++) gone.send(new Uint8Array(10), proxy.port, "127.0.0.1");
    gone.close(); // echoes come back after 40 ms to a closed port
    await waitFor(() => proxy.counters().toClient.forwarded === 20);
    const { echoes } = await run({ seed: 1 }, 10); // and a new proxy/client pair still works
    expect(echoes.length).toBe(10);
    // The relayed echoes hit the closed port; the OS may report that on later sends.
    expect(proxy.counters().toClient.forwarded).toBe(20);
    for (let i = 0; i < 5; i++) {
      const again = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
      cleanup.push(() => again.close());
      again.send(new Uint8Array(10), proxy.port, "127.0.0.1");
    }
    await waitFor(() => proxy.counters().toClient.forwarded === 25);
    expect(proxy.counters().toClient.forwarded).toBe(25);
  });

  test("seeded PRNG is deterministic and in [0, 1)", () => {
    const a = seededRandom(5);
    const b = seededRandom(5);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });
  test("gate: a closed gate drops both directions; reopening lets traffic through", async () => {
    const server = await echoServer();
    let open = true;
    const proxy = await LossyProxy.start({ seed: 3, serverPort: server.sock.port, gate: () => open });
    cleanup.push(() => proxy.close());
    let echoes = 0;
    const client = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0, socket: { data() { echoes++; } } });
    cleanup.push(() => client.close());
    client.send(new Uint8Array(10), proxy.port, "127.0.0.1");
    await waitFor(() => echoes === 1);
    open = false;
    for (let i = 0; i < 5; i++) client.send(new Uint8Array(10), proxy.port, "127.0.0.1");
    await waitFor(() => proxy.gated === 5);
    expect([proxy.gated, server.received(), echoes]).toEqual([5, 1, 1]);
    open = true;
    client.send(new Uint8Array(10), proxy.port, "127.0.0.1");
    await waitFor(() => echoes === 2);
    expect([server.received(), echoes]).toEqual([2, 2]);
  });

  test("retarget: later datagrams go to the new server port", async () => {
    const first = await echoServer();
    const second = await echoServer();
    const proxy = await LossyProxy.start({ seed: 4, serverPort: first.sock.port });
    cleanup.push(() => proxy.close());
    let echoes = 0;
    const client = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0, socket: { data() { echoes++; } } });
    cleanup.push(() => client.close());
    client.send(new Uint8Array(10), proxy.port, "127.0.0.1");
    await waitFor(() => echoes === 1);
    proxy.retarget(second.sock.port);
    client.send(new Uint8Array(10), proxy.port, "127.0.0.1");
    await waitFor(() => echoes === 2);
    expect([first.received(), second.received(), echoes]).toEqual([1, 1, 2]);
  });
});
