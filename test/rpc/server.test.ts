// The HTTP edge on a real loopback socket: JSON-RPC rules, REST, limits, WebSocket.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startRpcServer, rpcBodyBytesMax, type RpcServer } from "../../src/rpc/server.ts";
import { createRegistry, createNodeMetrics } from "../../src/metrics/registry.ts";
import { PhantomError } from "../../src/errors.ts";
import { rpcCall } from "../../src/rpc/client.ts";

let server: RpcServer;
let ready = false;
const registry = createRegistry();
const metrics = createNodeMetrics(registry);

beforeAll(() => {
  server = startRpcServer({
    addr: "127.0.0.1:0",
    registry,
    metrics,
    ready: () => ready,
    rest: { echo: "test_echo", fail: "test_fail" },
    methods: {
      test_echo: (p) => ({ got: p as never, big: 12345678901234567890n as never }),
      test_fail: () => {
        throw new PhantomError("TEST_REJECTED", "rejected on purpose");
      },
      test_crash: () => {
        throw new Error("boom");
      },
    },
  });
});
afterAll(() => server.stop());

const post = (body: string) => fetch(`${server.url}/rpc`, { method: "POST", body, headers: { "content-type": "application/json" } });
// Replies are checked field by field below; the loose type keeps those checks short.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = (r: Response): Promise<any> => r.json();

describe("JSON-RPC 2.0", () => {
  test("a call returns its result; bigints become decimal strings", async () => {
    const r = await json(await post(JSON.stringify({ jsonrpc: "2.0", id: 7, method: "test_echo", params: { a: 1 } })));
    expect(r).toEqual({ jsonrpc: "2.0", id: 7, result: { got: { a: 1 }, big: "12345678901234567890" } });
  });

  test("errors follow the spec codes and carry the typed code", async () => {
    expect((await json(await post("{not json"))).error.code).toBe(-32700);
    expect((await json(await post(JSON.stringify({ id: 1, method: "x" })))).error.code).toBe(-32600);
    expect((await json(await post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "nope" })))).error.code).toBe(-32601);
    const app = await json(await post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "test_fail" })));
    expect(app.error).toEqual({ code: -32000, message: "rejected on purpose", data: { code: "TEST_REJECTED" } });
    const crash = await json(await post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "test_crash" })));
    expect(crash.error).toEqual({ code: -32603, message: "internal error" });
  });

  test("batches answer each request; notifications get no answer", async () => {
    const r = await json(await post(JSON.stringify([
      { jsonrpc: "2.0", id: 1, method: "test_echo" },
      { jsonrpc: "2.0", method: "test_echo" },
      { jsonrpc: "2.0", id: 2, method: "nope" },
    ])));
    expect(r.map((x: { id: number }) => x.id)).toEqual([1, 2]);
    const empty = await post(JSON.stringify([]));
    expect((await json(empty)).error.code).toBe(-32600);
    const onlyNotification = await post(JSON.stringify({ jsonrpc: "2.0", method: "test_echo" }));
    expect(onlyNotification.status).toBe(204);
  });

  test("oversize bodies are refused and the server keeps serving", async () => {
    const big = "x".repeat(rpcBodyBytesMax + 10);
    const r = await post(big).catch(() => null);
    expect(r === null || r.status === 413).toBe(true);
    const ok = await rpcCall<{ got: unknown }>(server.url, "test_echo", [1]);
    expect(ok.got).toEqual([1]);
  });

  test("the client surfaces typed errors", async () => {
    await expect(rpcCall(server.url, "test_fail")).rejects.toMatchObject({ code: "TEST_REJECTED" });
    // -32601 has no application code: the client names it, so a caller can tell a node without the method.
    await expect(rpcCall(server.url, "test_absent")).rejects.toMatchObject({ code: "RPC_METHOD_NOT_FOUND", message: "test_absent: method not found: test_absent" });
    await expect(rpcCall("http://127.0.0.1:1", "x")).rejects.toMatchObject({ code: "RPC_UNREACHABLE" });
  });
});

describe("HTTP endpoints", () => {
  test("REST maps onto the same handlers", async () => {
    const r = await fetch(`${server.url}/api/echo?x=1`);
    expect(r.status).toBe(200);
    expect((await json(r)).got).toEqual({ x: "1" });
    expect((await fetch(`${server.url}/api/fail`)).status).toBe(422);
    expect((await fetch(`${server.url}/api/unknown`)).status).toBe(404);
  });

  test("/health, /ready and /metrics", async () => {
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect((await fetch(`${server.url}/ready`)).status).toBe(503);
    ready = true;
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    const m = await (await fetch(`${server.url}/metrics`)).text();
    expect(m).toContain('pc_node_rpc_errors_total{code="TEST_REJECTED"}');
    expect(m).toContain("pc_node_rpc_requests_total");
  });

  test("the explorer page is served", async () => {
    const html = await (await fetch(`${server.url}/`)).text();
    expect(html).toContain("Phantom explorer");
  });

  test("WebSocket subscribers get published events; bad messages get an error", async () => {
    const ws = new WebSocket(server.url.replace("http", "ws") + "/ws");
    const messages: string[] = [];
    await new Promise<void>((resolve) => (ws.onopen = () => resolve()));
    const next = () => new Promise<string>((resolve) => (ws.onmessage = (e) => resolve(String(e.data))));
    let m = next();
    ws.send("garbage");
    messages.push(await m);
    m = next();
    ws.send(JSON.stringify({ subscribe: "anchors" }));
    messages.push(await m);
    m = next();
    server.publish("anchors", { anchorIndex: 5n });
    server.publish("other", { x: 1 });
    messages.push(await m);
    ws.close();
    expect(JSON.parse(messages[0]!).error.code).toBe("WS_BAD_MESSAGE");
    expect(JSON.parse(messages[1]!)).toEqual({ ok: true, subscribed: "anchors", topicCount: 1 });
    expect(JSON.parse(messages[2]!)).toEqual({ topic: "anchors", data: { anchorIndex: "5" } });
  });
});
