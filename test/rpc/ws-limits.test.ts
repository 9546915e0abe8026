// A hostile WebSocket client against a real loopback server: topics are bounded in
// number and length, replies stay small (no echo of what the client sent or holds),
// oversize messages close the connection, and a client that stops reading is closed
// once its queue passes wsBufferedBytesMax. Other clients keep being served.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startRpcServer, type RpcServer } from "../../src/rpc/server.ts";
import { createRegistry, createNodeMetrics } from "../../src/metrics/registry.ts";
import { wsBufferedBytesMax, wsMessageBytesMax, wsRefusalsMax, wsTopicLengthMax } from "../../src/rpc/ws-subscriptions.ts";
import { clientTextFrame, rawWebSocket } from "./raw-ws.ts";

let server: RpcServer;
const registry = createRegistry();
const metrics = createNodeMetrics(registry);

beforeAll(() => {
  server = startRpcServer({ addr: "127.0.0.1:0", registry, metrics, rest: {}, methods: {}, ready: () => true, wsTopics: ["anchors", "mints"], rateLimit: { ratePerS: 0, burst: 1 } });
});
afterAll(() => server.stop());

const wsUrl = () => server.url.replace("http", "ws") + "/ws";
const gauge = async (name: string) => Number(/ (\d+)$/m.exec(await registry.getSingleMetricAsString(name))?.[1] ?? "-1");

/** A WebSocket client that records every message and its size. */
async function client() {
  const ws = new WebSocket(wsUrl());
  const received: string[] = [];
  let closed: number | null = null;
  ws.onmessage = (e) => received.push(String(e.data));
  ws.onclose = (e) => (closed = e.code);
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("ws failed"));
  });
  const waitFor = async (pred: () => boolean, limitMs = 10_000) => {
    for (const end = performance.now() + limitMs; !pred() && performance.now() < end; ) await Bun.sleep(5);
  };
  return { ws, received, closed: () => closed, waitFor };
}

describe("WebSocket subscriptions", () => {
  test(`1,000 long or unknown topics: nothing stored, small typed replies, closed (1008) after ${wsRefusalsMax} refusals`, async () => {
    const flood = await client();
    const long = (i: number) => `${i}`.padEnd(100, "x");
    for (let i = 0; i < 1_000; i++) flood.ws.send(JSON.stringify({ subscribe: i % 2 ? long(i) : `t${i}` }));
    await flood.waitFor(() => flood.closed() !== null);
    expect(flood.closed()).toBe(1008);
    // Every refusal but the last is answered; the last closes the connection.
    expect(flood.received.length).toBe(wsRefusalsMax - 1);
    const codes = flood.received.map((m) => JSON.parse(m).error?.code);
    expect(codes.every((x, i) => x === (i % 2 ? "WS_TOPIC_TOO_LONG" : "WS_UNKNOWN_TOPIC"))).toBe(true);
    expect(Math.max(...flood.received.map((m) => m.length))).toBeLessThan(200);
    expect(flood.received.some((m) => m.includes("xxxxxxxxxx"))).toBe(false);
    const errors = await registry.getSingleMetricAsString("pc_node_rpc_errors_total");
    expect(errors).toContain('code="WS_TOO_MANY_REFUSALS"} 1');
    expect(errors).toContain(`code="WS_TOPIC_TOO_LONG"} ${wsRefusalsMax / 2}`);

    // A client with a few refusals keeps its connection and its topics.
    const c = await client();
    c.ws.send(JSON.stringify({ subscribe: "nope" }));
    c.ws.send(JSON.stringify({ subscribe: "anchors" }));
    c.ws.send(JSON.stringify({ subscribe: "anchors" }));
    c.ws.send(JSON.stringify({ subscribe: "mints" }));
    c.ws.send(JSON.stringify({ unsubscribe: "mints" }));
    await c.waitFor(() => c.received.length >= 5);
    expect(c.received.map((m) => JSON.parse(m))).toEqual([
      { error: { code: "WS_UNKNOWN_TOPIC", message: "unknown topic; known: anchors, mints" } },
      { ok: true, subscribed: "anchors", topicCount: 1 },
      { ok: true, subscribed: "anchors", topicCount: 1 },
      { ok: true, subscribed: "mints", topicCount: 2 },
      { ok: true, unsubscribed: "mints", topicCount: 1 },
    ]);
    server.publish("anchors", { anchorIndex: 1n });
    server.publish("mints", { n: 1 });
    await c.waitFor(() => c.received.length >= 6);
    expect(JSON.parse(c.received.at(-1)!)).toEqual({ topic: "anchors", data: { anchorIndex: "1" } });
    expect(c.closed()).toBeNull();
    c.ws.close();
  }, 30_000);

  test(`a message over ${wsMessageBytesMax} bytes closes the connection; others are unaffected`, async () => {
    const hostile = await client();
    const bystander = await client();
    hostile.ws.send(JSON.stringify({ subscribe: "y".repeat(15 * 1024 * 1024) }));
    await hostile.waitFor(() => hostile.closed() !== null);
    expect(hostile.closed()).toBe(1009);
    expect(hostile.received).toEqual([]);
    bystander.ws.send(JSON.stringify({ subscribe: "a".repeat(wsTopicLengthMax) }));
    await bystander.waitFor(() => bystander.received.length >= 1);
    expect(JSON.parse(bystander.received[0]!).error.code).toBe("WS_UNKNOWN_TOPIC");
    bystander.ws.close();
  }, 30_000);

  test("a client that stops reading is closed once its queue passes the bound", async () => {
    // Earlier tests closed their clients; wait until the server has seen every close.
    for (let i = 0; i < 200 && (await gauge("pc_rpc_ws_clients")) !== 0; i++) await Bun.sleep(10);
    const before = await gauge("pc_rpc_ws_clients");
    expect(before).toBe(0);
    const sock = await rawWebSocket(Number(new URL(server.url).port));
    sock.write(clientTextFrame(JSON.stringify({ subscribe: "anchors" })));
    const reader = await client();
    reader.ws.send(JSON.stringify({ subscribe: "anchors" }));
    await reader.waitFor(() => reader.received.length >= 1);
    expect(await gauge("pc_rpc_ws_clients")).toBe(before + 2);
    const blob = "z".repeat(64 * 1024);
    // 4x the bound plus generous kernel socket buffers: the queue must pass the bound.
    const publishes = Math.ceil((4 * wsBufferedBytesMax + 32 * 1024 * 1024) / blob.length);
    for (let i = 0; i < publishes && (await gauge("pc_rpc_ws_clients")) > before + 1; i++) {
      server.publish("anchors", { i, blob });
      if (i % 16 === 0) await Bun.sleep(1);
    }
    await Bun.sleep(50); // lets the close reach the gauge
    expect(await gauge("pc_rpc_ws_clients")).toBe(before + 1);
    // The reading client kept up and is still subscribed.
    await reader.waitFor(() => reader.received.length >= 2);
    expect(reader.closed()).toBe(null);
    sock.destroy();
    reader.ws.close();
  }, 60_000);
});
