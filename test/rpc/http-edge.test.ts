// Requests no browser sends (no Host, bad Host, odd targets) over a raw TCP socket:
// the RPC and metrics listeners answer JSON errors with a typed code, never Bun's
// development page or a stack.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startRpcServer, type RpcServer } from "../../src/rpc/server.ts";
import { serveMetrics, type MetricsServer } from "../../src/metrics/server.ts";
import { createRegistry, createNodeMetrics } from "../../src/metrics/registry.ts";
import { rawRequest } from "./raw-http.ts";

let rpc: RpcServer;
let metricsServer: MetricsServer;
const registry = createRegistry();
const metrics = createNodeMetrics(registry);
const portOf = (url: string) => Number(new URL(url).port);

beforeAll(() => {
  rpc = startRpcServer({
    addr: "127.0.0.1:0", registry, metrics, rest: { echo: "test_echo" },
    methods: { test_echo: (p) => p as never },
    ready: () => {
      throw new Error("ready() failed on purpose");
    },
  });
  metricsServer = serveMetrics(registry, "127.0.0.1:0");
});
afterAll(() => {
  rpc.stop();
  metricsServer.stop();
});

function expectJsonError(body: string, code: string): void {
  expect(body).not.toContain("<html");
  expect(body).not.toContain("    at ");
  expect(JSON.parse(body).error.data.code).toBe(code);
}

describe.each([["rpc"], ["metrics"]])("%s listener", (which) => {
  const port = () => portOf(which === "rpc" ? rpc.url : metricsServer.url);

  test("HTTP/1.0 without Host gets its answer", async () => {
    const r = await rawRequest(port(), "GET /health HTTP/1.0\r\n\r\n");
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ ok: true });
  }, 10_000);

  test("a bad Host header is harmless", async () => {
    for (const host of ["a b", "[::1", "%%%", "x".repeat(300)]) {
      const r = await rawRequest(port(), `GET /health HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      // Bun's parser may refuse the header itself (400, empty body) or pass it on; never a page or a stack.
      expect([200, 400]).toContain(r.status);
      expect(r.body).not.toContain("<html");
      if (r.status === 200) expect(JSON.parse(r.body)).toEqual({ ok: true });
    }
  }, 10_000);

  test("an unknown path is a JSON 404 with a code", async () => {
    const r = await rawRequest(port(), "GET /nope HTTP/1.0\r\n\r\n");
    expect(r.status).toBe(404);
    expectJsonError(r.body, "HTTP_NOT_FOUND");
  }, 10_000);

  test("odd request targets get JSON or a bare 400 from the parser", async () => {
    for (const target of ["http://[bad/health", "*", "health", "//x/y/../../health", "/%ZZ"]) {
      const r = await rawRequest(port(), `GET ${target} HTTP/1.0\r\n\r\n`);
      expect(r.status).toBeGreaterThanOrEqual(200);
      expect(r.body).not.toContain("<html");
      if (r.body.length > 0) expect(() => JSON.parse(r.body)).not.toThrow();
    }
  }, 10_000);
});

describe("rpc listener", () => {
  test("a handler that throws outside JSON-RPC dispatch answers a JSON 500, counted, no stack", async () => {
    const r = await rawRequest(portOf(rpc.url), "GET /ready HTTP/1.0\r\n\r\n");
    expect(r.status).toBe(500);
    expectJsonError(r.body, "HTTP_INTERNAL");
    expect(r.body).not.toContain("on purpose");
    expect(await registry.getSingleMetricAsString("pc_node_rpc_errors_total")).toContain('code="HTTP_INTERNAL"} 1');
  }, 10_000);

  test("REST without Host still reaches the handler", async () => {
    const r = await rawRequest(portOf(rpc.url), "GET /api/echo?x=1 HTTP/1.0\r\n\r\n");
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ x: "1" });
  }, 10_000);

  test("unknown method names do not become metric labels", async () => {
    const r = await rawRequest(portOf(rpc.url), 'POST /rpc HTTP/1.0\r\nContent-Length: 52\r\n\r\n{"jsonrpc":"2.0","id":1,"method":"zzz_unique_name1"}');
    expect(JSON.parse(r.body).error.code).toBe(-32601);
    expect(await registry.getSingleMetricAsString("pc_node_rpc_requests_total")).not.toContain("zzz_unique_name1");
  }, 10_000);
});
