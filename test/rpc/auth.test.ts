// Bearer-token auth of the RPC listener: where the token comes from (loopback open,
// cookie 0600 in the store dir, token file), and a real server that refuses requests
// without it with a typed 401 and a metric.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bearerMatches, isLoopbackHost, planRpcAuth, readTokenFile, rpcTokenFromPlan, writeCookie } from "../../src/rpc/auth.ts";
import { startRpcServer, type RpcServer } from "../../src/rpc/server.ts";
import { createRegistry, createNodeMetrics } from "../../src/metrics/registry.ts";
import { rpcCall, rpcEndpoint, withRpcToken } from "../../src/rpc/client.ts";
import { rawRequest } from "./raw-http.ts";

const dir = mkdtempSync(join(tmpdir(), "phantom-rpc-auth-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return "ok";
  } catch (e) {
    return (e as { code?: string }).code ?? "untyped";
  }
};

describe("planning", () => {
  test("loopback is open; anything else needs a token; none on a reachable address is refused", () => {
    for (const h of ["127.0.0.1", "127.5.6.7", "::1", "localhost", "::ffff:127.0.0.1"]) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ["0.0.0.0", "::", "192.168.1.2", "10.0.0.1", "fe80::1", "127.0.0.1.example"]) expect(isLoopbackHost(h)).toBe(false);
    const base = { tokenFile: null, storeDir: dir };
    expect(planRpcAuth({ ...base, host: "127.0.0.1", mode: "auto" })).toEqual({ kind: "open" });
    expect(planRpcAuth({ ...base, host: "0.0.0.0", mode: "auto" })).toEqual({ kind: "cookie", path: join(dir, ".cookie") });
    expect(planRpcAuth({ ...base, host: "127.0.0.1", mode: "cookie" })).toEqual({ kind: "cookie", path: join(dir, ".cookie") });
    expect(codeOf(() => planRpcAuth({ ...base, host: "0.0.0.0", mode: "none" }))).toBe("RPC_AUTH_REQUIRED");
    expect(planRpcAuth({ ...base, tokenFile: "/t", host: "0.0.0.0", mode: "none" })).toEqual({ kind: "token_file", path: "/t" });
  });

  test("the cookie is a fresh 0600 file at every start, even over a loose old one", () => {
    const path = join(dir, ".cookie");
    writeFileSync(path, "old\n", { mode: 0o644 });
    const a = writeCookie(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, "utf8")).toBe(a + "\n");
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    const b = rpcTokenFromPlan({ kind: "cookie", path });
    expect(b).not.toBe(a);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  test("token files: first line, long enough, typed errors otherwise", () => {
    const good = join(dir, "token");
    writeFileSync(good, "s3cret-token-0123456789\nignored\n", { mode: 0o600 });
    expect(readTokenFile(good)).toBe("s3cret-token-0123456789");
    const short = join(dir, "short");
    writeFileSync(short, "abc\n", { mode: 0o600 });
    expect(codeOf(() => readTokenFile(short))).toBe("RPC_TOKEN_FILE_BAD");
    expect(codeOf(() => readTokenFile(join(dir, "missing")))).toBe("RPC_TOKEN_FILE_UNREADABLE");
  });

  test("bearer check", () => {
    expect(bearerMatches("Bearer abc", "abc")).toBe(true);
    expect(bearerMatches("bearer   abc ", "abc")).toBe(true);
    for (const h of [null, "", "Bearer", "Bearer abd", "Bearer abcd", "Basic abc", "Bearer abc extra"]) expect(bearerMatches(h, "abc")).toBe(false);
  });
});

describe("a server with a token", () => {
  const token = "t".repeat(40);
  let server: RpcServer;
  const registry = createRegistry();
  beforeAll(() => {
    server = startRpcServer({ addr: "127.0.0.1:0", registry, metrics: createNodeMetrics(registry), rest: { echo: "test_echo" }, methods: { test_echo: () => "hi" }, ready: () => true, token });
  });
  afterAll(() => server.stop());
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "test_echo" });

  test("refuses requests without the right token with a typed 401, counted", async () => {
    const port = Number(new URL(server.url).port);
    const none = await rawRequest(port, `POST /rpc HTTP/1.0\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    expect(none.status).toBe(401);
    expect(none.headers.toLowerCase()).toContain("www-authenticate: bearer");
    expect(JSON.parse(none.body).error.data.code).toBe("RPC_UNAUTHORIZED");
    for (const path of ["/api/echo", "/metrics", "/ws", "/nope"]) {
      const r = await fetch(server.url + path, { headers: { authorization: "Bearer wrong-token-wrong-token" } });
      expect(`${path}:${r.status}`).toBe(`${path}:401`);
    }
    expect(await registry.getSingleMetricAsString("pc_rpc_unauthorized_total")).toMatch(/ 5$/m);
    await expect(rpcCall(server.url, "test_echo")).rejects.toMatchObject({ code: "RPC_UNAUTHORIZED" });
  }, 10_000);

  test("serves requests with it; probes and the explorer page stay open", async () => {
    expect(await rpcCall<string>(server.url, "test_echo", {}, undefined, token)).toBe("hi");
    expect((await fetch(`${server.url}/api/echo`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    for (const path of ["/health", "/ready", "/"]) expect((await fetch(server.url + path)).status).toBe(200);
    const ws = new WebSocket(server.url.replace("http", "ws") + "/ws", { headers: { authorization: `Bearer ${token}` } } as never);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("upgrade refused"));
    });
    ws.close();
  }, 10_000);
});

describe("client URLs", () => {
  test("a token rides in the URL's password and is sent as a bearer token, never in messages", async () => {
    expect(rpcEndpoint("http://127.0.0.1:8645")).toEqual({ endpoint: "http://127.0.0.1:8645/rpc", token: undefined });
    expect(rpcEndpoint("http://:s3cret%2Fx@127.0.0.1:8645/rpc")).toEqual({ endpoint: "http://127.0.0.1:8645/rpc", token: "s3cret/x" });
    const url = withRpcToken("http://127.0.0.1:1", "tok/en-0123456789abcdef");
    expect(rpcEndpoint(url).token).toBe("tok/en-0123456789abcdef");
    const err = await rpcCall(url, "x").catch((e: Error) => e.message);
    expect(err).toContain("http://127.0.0.1:1/rpc");
    expect(err).not.toContain("tok");
  }, 10_000);
});
