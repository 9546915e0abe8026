// Per-client token buckets: unit behaviour on an injected clock, then a real loopback
// server where a batch pays per item, a spent client gets typed 429s while another
// address is still served, and WebSocket messages draw on the same budget.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { TokenBuckets } from "../../src/rpc/rate-limit.ts";
import { startRpcServer, type RpcServer } from "../../src/rpc/server.ts";
import { createRegistry, createNodeMetrics } from "../../src/metrics/registry.ts";

describe("TokenBuckets", () => {
  test("spends, refuses without spending, refills with time up to the burst", () => {
    let now = 0;
    const b = new TokenBuckets({ ratePerS: 10, burst: 50, now: () => now });
    expect(b.take("a", 30)).toBe(true);
    expect(b.take("a", 30)).toBe(false); // 20 left: refused, nothing spent
    expect(b.take("a", 20)).toBe(true);
    expect(b.take("a", 1)).toBe(false);
    expect(b.retryAfterS("a", 5)).toBe(1);
    expect(b.take("b", 50)).toBe(true); // another client has its own bucket
    now += 1_000;
    expect(b.take("a", 10)).toBe(true);
    expect(b.take("a", 1)).toBe(false);
    now += 3_600_000;
    expect(b.take("a", 51)).toBe(false); // never more than the burst
    expect(b.take("a", 50)).toBe(true);
  });

  test("tracks a bounded number of clients, forgetting the least recently seen", () => {
    const b = new TokenBuckets({ ratePerS: 1, burst: 1, now: () => 0, clientsMax: 3 });
    for (const c of ["a", "b", "c"]) expect(b.take(c, 1)).toBe(true);
    expect(b.take("a", 1)).toBe(false); // a is now the most recent
    expect(b.take("d", 1)).toBe(true); // evicts b
    expect(b.size).toBe(3);
    expect(b.take("b", 1)).toBe(true); // b returns with a full bucket; evicts c
    expect(b.take("a", 1)).toBe(false);
  });

  test("ratePerS 0 turns limiting off", () => {
    const b = new TokenBuckets({ ratePerS: 0, burst: 1, now: () => 0 });
    for (let i = 0; i < 100; i++) expect(b.take("a", 1_000)).toBe(true);
    expect(b.size).toBe(0);
  });
});

describe("rate limits on a real server", () => {
  let server: RpcServer;
  let now = 0;
  const registry = createRegistry();
  const metrics = createNodeMetrics(registry);
  beforeAll(() => {
    server = startRpcServer({
      addr: "127.0.0.1:0", registry, metrics, rest: { page: "test_page" }, ready: () => true,
      methods: { test_page: () => "page", test_cheap: () => "cheap" },
      rateLimit: { ratePerS: 10, burst: 50 },
      costs: { test_page: () => 20 },
      now: () => now,
    });
  });
  afterAll(() => server.stop());
  const post = (body: unknown) => fetch(`${server.url}/rpc`, { method: "POST", body: JSON.stringify(body) });
  const call = (method: string, id = 1) => ({ jsonrpc: "2.0", id, method, params: {} });
  const counter = async (kind: string) => Number(new RegExp(`kind="${kind}"[^}]*\\} (\\d+)`).exec(await registry.getSingleMetricAsString("pc_rpc_rate_limited_total"))?.[1] ?? "0");

  test("a batch pays per item; the unpaid items get RPC_RATE_LIMITED", async () => {
    now += 60_000;
    const r = await post(Array.from({ length: 100 }, (_, i) => call("test_page", i)));
    expect(r.status).toBe(200);
    const items = (await r.json()) as { result?: string; error?: { code: number; data: { code: string } } }[];
    // 50 tokens: 1 for the request, 20 + 20 for two calls; the 98 others are refused unrun.
    expect(items.filter((x) => x.result === "page").length).toBe(2);
    expect(items.slice(2).every((x) => x.error?.code === -32005 && x.error.data.code === "RPC_RATE_LIMITED")).toBe(true);
    expect(await counter("rpc")).toBe(98);
  }, 10_000);

  test("a spent client gets typed 429s with Retry-After, other addresses are served, time refills", async () => {
    now += 60_000;
    expect((await post([call("test_page", 1), call("test_page", 2)])).status).toBe(200); // 41 of 50
    const single = await post(call("test_page"));
    expect(single.status).toBe(429);
    expect(single.headers.get("retry-after")).toBe("2");
    expect(((await single.json()) as { error: { data: { code: string } } }).error.data.code).toBe("RPC_RATE_LIMITED");
    expect((await fetch(`${server.url}/api/page`)).status).toBe(429);
    for (let i = 0; i < 10; i++) await fetch(`${server.url}/health`);
    const http = await fetch(`${server.url}/health`);
    expect(http.status).toBe(429);
    expect(((await http.json()) as { error: { data: { code: string } } }).error.data.code).toBe("RPC_RATE_LIMITED");
    expect(await counter("http")).toBeGreaterThan(0);
    // 127.0.0.2 is another loopback address: another client with its own bucket.
    expect(await rawStatusFrom("127.0.0.2", Number(new URL(server.url).port))).toBe(200);
    now += 5_000;
    expect((await post(call("test_page"))).status).toBe(200);
  }, 10_000);

  test("WebSocket messages draw on the same budget", async () => {
    now += 60_000;
    const ws = new WebSocket(server.url.replace("http", "ws") + "/ws");
    const got: string[] = [];
    ws.onmessage = (e) => got.push(String(e.data));
    await new Promise<void>((resolve) => (ws.onopen = () => resolve()));
    for (let i = 0; i < 60; i++) ws.send(JSON.stringify({ subscribe: "anchors" }));
    for (let i = 0; i < 500 && got.length < 60; i++) await Bun.sleep(5);
    ws.close();
    const codes = got.map((m) => (JSON.parse(m) as { error?: { code: string } }).error?.code ?? "ok");
    expect(codes.filter((c) => c === "ok").length).toBe(49); // 50 tokens, 1 spent on the upgrade request
    expect(codes.filter((c) => c === "WS_RATE_LIMITED").length).toBe(11);
    expect(await counter("ws")).toBe(11);
  }, 10_000);
});

/** GET /health from a chosen local address (fetch cannot pick one). */
function rawStatusFrom(localAddress: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: "127.0.0.1", port, localAddress }, () => sock.write("GET /health HTTP/1.0\r\n\r\n"));
    let got = "";
    sock.on("data", (d) => (got += d.toString()));
    sock.on("end", () => resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(got)?.[1] ?? "0")));
    sock.on("error", reject);
    sock.setTimeout(5_000, () => sock.destroy(new Error("timeout")));
  });
}
