/**
 * The node's HTTP edge: JSON-RPC 2.0 at POST /rpc, REST reads at GET /api/<name>
 * (the same handlers, params from the query string), /health, /ready, /metrics,
 * WebSocket subscriptions at /ws, and the block explorer at /.
 */
import type { Registry } from "prom-client";
import type { ServerWebSocket } from "bun";
import { dispatch, toJson, RPC_ERRORS, type DispatchAdmit, type RpcMethods, type Json } from "./jsonrpc.ts";
import { parseHostPort } from "../metrics/server.ts";
import { explorerHtml } from "./explorer.ts";
import { httpError, jsonResponse, productionServe, requestTarget } from "./http.ts";
import { publishTo, subscriptionHandler, type WsData } from "./ws-subscriptions.ts";
import { TokenBuckets } from "./rate-limit.ts";
import { bearerMatches, OPEN_PATHS } from "./auth.ts";
import type { NodeMetrics } from "../metrics/registry.ts";
import { describeOsError, PhantomError } from "../errors.ts";

export const rpcBodyBytesMax = 1024 * 1024;
export const wsClientsMax = 256;
export { wsBufferedBytesMax } from "./ws-subscriptions.ts";
/** Default per-client budget: tokens regained per second and bucket size (docs/RPC.md). */
export const rpcRateDefaults = { ratePerS: 1_000, burst: 2_000 } as const;
/** Tokens every HTTP request and every WebSocket message costs; JSON-RPC calls add their method's cost. */
export const requestCost = 1;

export interface RpcServerOptions {
  addr: string;
  methods: RpcMethods;
  /** REST name -> RPC method, e.g. "status" -> "phantom_status". */
  rest: Record<string, string>;
  registry: Registry;
  metrics?: NodeMetrics;
  ready(): boolean;
  /** Topics WebSocket clients may subscribe to (default: anchors). */
  wsTopics?: readonly string[];
  /** Bearer token required on every path but OPEN_PATHS; null or absent: open (loopback). */
  token?: string | null;
  /** Per-client token buckets (default rpcRateDefaults; ratePerS 0 turns them off). */
  rateLimit?: { ratePerS: number; burst: number };
  /** Token cost of a call from its params; methods not listed cost 1. */
  costs?: Readonly<Record<string, (params: unknown) => number>>;
  /** Monotonic milliseconds for the rate limit (default performance.now). */
  now?(): number;
  /** Machine-readable descriptions served at GET /openapi.json and GET /openrpc.json (absent: 404). */
  descriptions?: { openapi: unknown; openrpc: unknown };
}

export interface RpcServer {
  url: string;
  /** Sends an event to every client subscribed to `topic`. */
  publish(topic: string, payload: unknown): void;
  stop(): void;
}

export function startRpcServer(opts: RpcServerOptions): RpcServer {
  const { host, port } = parseHostPort(opts.addr, "--rpc_addr");
  const clients = new Set<ServerWebSocket<WsData>>();
  const m = opts.metrics;
  const observe = (method: string, outcome: "ok" | "error", code?: string) => {
    m?.rpcRequests.inc({ method: method || "(none)", outcome });
    if (code) m?.rpcErrors.inc({ code });
  };
  const json = (body: string, status = 200) => jsonResponse(body, status);
  const buckets = new TokenBuckets({ ...(opts.rateLimit ?? rpcRateDefaults), now: opts.now ?? (() => performance.now()) });
  const costOf = (method: string, params: unknown): number => {
    const f = opts.costs && Object.hasOwn(opts.costs, method) ? opts.costs[method] : undefined;
    return f ? f(params) : 1;
  };
  /** The admission hook of one request's JSON-RPC calls; `refused.cost` is the last cost it could not pay. */
  const admitCalls = (client: string, refused: { cost: number }): DispatchAdmit => (method, params) => {
    const cost = costOf(method, params);
    if (buckets.take(client, cost)) return true;
    refused.cost = cost;
    m?.rateLimited.inc({ kind: "rpc" });
    return false;
  };
  const retryAfter = (client: string, cost: number) => ({ "retry-after": String(buckets.retryAfterS(client, cost)) });

  /** Rate limit, then token: the checks every request passes before its path is served. */
  function gate(req: Request, path: string, client: string): Response | null {
    if (!buckets.take(client, requestCost)) {
      m?.rateLimited.inc({ kind: "http" });
      observe("(http)", "error", "RPC_RATE_LIMITED");
      return httpError(429, "RPC_RATE_LIMITED", "rate limit exceeded; retry later", retryAfter(client, requestCost));
    }
    if (opts.token && !OPEN_PATHS.has(path) && !bearerMatches(req.headers.get("authorization"), opts.token)) {
      m?.unauthorized.inc();
      observe("(http)", "error", "RPC_UNAUTHORIZED");
      return httpError(401, "RPC_UNAUTHORIZED", "send Authorization: Bearer <token> (the node's --rpc_token_file or its store's .cookie)", { "www-authenticate": "Bearer" });
    }
    return null;
  }

  let server: ReturnType<typeof Bun.serve<WsData>>;
  try {
    server = serve();
  } catch (e) {
    throw new PhantomError("RPC_LISTEN_FAILED", `cannot listen on --rpc_addr ${opts.addr}: ${describeOsError(e)}`);
  }

  function serve() {
    return Bun.serve<WsData>({
      hostname: host,
      port,
      maxRequestBodySize: rpcBodyBytesMax,
      ...productionServe(() => observe("(http)", "error", "HTTP_INTERNAL")),
      async fetch(req, srv) {
        const target = requestTarget(req);
        if (!target) {
          observe("(http)", "error", "HTTP_BAD_REQUEST");
          return httpError(400, "HTTP_BAD_REQUEST", "request target is not a path");
        }
        const { path, query } = target;
        const client = srv.requestIP(req)?.address ?? "";
        const denied = gate(req, path, client);
        if (denied) return denied;
        if (path === "/rpc" && req.method === "POST") return rpcPost(req, client);
        if (path.startsWith("/api/") && req.method === "GET") return restCall(path.slice(5), query, client);
        if (path === "/health") return json(toJson({ ok: true }));
        if (path === "/ready") return opts.ready() ? json(toJson({ ready: true })) : json(toJson({ ready: false }), 503);
        if (path === "/metrics") return new Response(await opts.registry.metrics(), { headers: { "content-type": opts.registry.contentType } });
        if (path === "/ws") {
          if (clients.size >= wsClientsMax) return httpError(503, "WS_TOO_MANY_CLIENTS", `at most ${wsClientsMax} WebSocket clients`);
          return srv.upgrade(req, { data: { topics: new Set<string>(), client } }) ? undefined : httpError(400, "HTTP_BAD_REQUEST", "WebSocket upgrade failed");
        }
        if ((path === "/openapi.json" || path === "/openrpc.json") && opts.descriptions) {
          return json(JSON.stringify(path === "/openapi.json" ? opts.descriptions.openapi : opts.descriptions.openrpc));
        }
        if (path === "/" || path === "/explorer") return new Response(explorerHtml, { headers: { "content-type": "text/html; charset=utf-8" } });
        return httpError(404, "HTTP_NOT_FOUND", `no such path: ${path.slice(0, 64)}`);
      },
      websocket: subscriptionHandler(clients, {
        topics: new Set(opts.wsTopics ?? ["anchors"]),
        observe: (code) => (code === "ok" ? observe("ws", "ok") : observe("ws", "error", code)),
        admit: (ws) => {
          if (buckets.take(ws.data.client, requestCost)) return true;
          m?.rateLimited.inc({ kind: "ws" });
          return false;
        },
        clientsChanged: (count) => m?.wsClients.set(count),
      }),
    });
  }

  async function rpcPost(req: Request, client: string): Promise<Response> {
    const declared = Number(req.headers.get("content-length") ?? "0");
    if (declared > rpcBodyBytesMax) return httpError(413, "HTTP_BODY_TOO_LARGE", `body exceeds ${rpcBodyBytesMax} bytes`);
    const refused = { cost: 0 };
    const result = await dispatch(opts.methods, await req.text(), observe, admitCalls(client, refused));
    if (result === null) return new Response(null, { status: 204 });
    // A single call refused by the rate limit is a 429; in a batch, items fail one by one.
    const limited = !Array.isArray(result) && result.error?.data?.code === "RPC_RATE_LIMITED";
    return limited ? jsonResponse(toJson(result), 429, retryAfter(client, refused.cost)) : json(toJson(result));
  }

  async function restCall(name: string, query: URLSearchParams, client: string): Promise<Response> {
    const method = opts.rest[name];
    if (!method) return httpError(404, "HTTP_NOT_FOUND", `unknown endpoint /api/${name.slice(0, 64)}`);
    const params: Record<string, Json> = {};
    for (const [k, v] of query) params[k] = v;
    const refused = { cost: 0 };
    const res = await dispatch(opts.methods, JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }), observe, admitCalls(client, refused));
    const single = Array.isArray(res) ? res[0] : res;
    if (!single || single.error) {
      const body = toJson({ error: single?.error ?? "no result" });
      if (single?.error?.code === RPC_ERRORS.rateLimited) return jsonResponse(body, 429, retryAfter(client, refused.cost));
      return json(body, single?.error?.code === RPC_ERRORS.invalidParams ? 400 : 422);
    }
    return json(toJson(single.result));
  }

  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${server.port}`,
    publish(topic, payload) {
      publishTo(clients, topic, toJson({ topic, data: payload }));
    },
    stop: () => server.stop(true),
  };
}
