/**
 * The node's HTTP edge: JSON-RPC 2.0 at POST /rpc, REST reads at GET /api/<name>
 * (the same handlers, params from the query string), /health, /ready, /metrics,
 * WebSocket subscriptions at /ws, and the block explorer at /.
 */
import type { Registry } from "prom-client";
import type { ServerWebSocket } from "bun";
import { dispatch, toJson, type DispatchObserver, type RpcMethods, type Json } from "./jsonrpc.ts";
import { parseHostPort } from "../metrics/server.ts";
import { explorerHtml } from "./explorer.ts";
import { httpError, jsonResponse, productionServe, requestTarget } from "./http.ts";
import { publishTo, subscriptionHandler, type WsData } from "./ws-subscriptions.ts";
import type { NodeMetrics } from "../metrics/registry.ts";

export const rpcBodyBytesMax = 1024 * 1024;
export const wsClientsMax = 256;
export { wsBufferedBytesMax } from "./ws-subscriptions.ts";

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
  const observe = (method: string, outcome: "ok" | "error", code?: string) => {
    opts.metrics?.rpcRequests.inc({ method: method || "(none)", outcome });
    if (code) opts.metrics?.rpcErrors.inc({ code });
  };
  const json = (body: string, status = 200) => jsonResponse(body, status);

  const server = Bun.serve<WsData>({
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
      if (path === "/rpc" && req.method === "POST") {
        const declared = Number(req.headers.get("content-length") ?? "0");
        if (declared > rpcBodyBytesMax) return httpError(413, "HTTP_BODY_TOO_LARGE", `body exceeds ${rpcBodyBytesMax} bytes`);
        const result = await dispatch(opts.methods, await req.text(), observe);
        return result === null ? new Response(null, { status: 204 }) : json(toJson(result));
      }
      if (path.startsWith("/api/") && req.method === "GET") return restCall(path.slice(5), query);
      if (path === "/health") return json(toJson({ ok: true }));
      if (path === "/ready") return opts.ready() ? json(toJson({ ready: true })) : json(toJson({ ready: false }), 503);
      if (path === "/metrics") return new Response(await opts.registry.metrics(), { headers: { "content-type": opts.registry.contentType } });
      if (path === "/ws") {
        if (clients.size >= wsClientsMax) return httpError(503, "WS_TOO_MANY_CLIENTS", `at most ${wsClientsMax} WebSocket clients`);
        return srv.upgrade(req, { data: { topics: new Set<string>(), client: srv.requestIP(req)?.address ?? "" } }) ? undefined : httpError(400, "HTTP_BAD_REQUEST", "WebSocket upgrade failed");
      }
      if (path === "/" || path === "/explorer") return new Response(explorerHtml, { headers: { "content-type": "text/html; charset=utf-8" } });
      return httpError(404, "HTTP_NOT_FOUND", `no such path: ${path.slice(0, 64)}`);
    },
    websocket: subscriptionHandler(clients, {
      topics: new Set(opts.wsTopics ?? ["anchors"]),
      observe: (code) => (code === "ok" ? observe("ws", "ok") : observe("ws", "error", code)),
      admit: () => true,
      clientsChanged: (count) => opts.metrics?.wsClients.set(count),
    }),
  });

  async function restCall(name: string, query: URLSearchParams): Promise<Response> {
    const method = opts.rest[name];
    if (!method) return httpError(404, "HTTP_NOT_FOUND", `unknown endpoint /api/${name.slice(0, 64)}`);
    const params: Record<string, Json> = {};
    for (const [k, v] of query) params[k] = v;
    const res = await dispatch(opts.methods, JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }), observe);
    const single = Array.isArray(res) ? res[0] : res;
    if (!single || single.error) return json(toJson({ error: single?.error ?? "no result" }), single?.error?.code === -32602 ? 400 : 422);
    return json(toJson(single.result));
  }

  return {
    url: `http://${host}:${server.port}`,
    publish(topic, payload) {
      publishTo(clients, topic, toJson({ topic, data: payload }));
    },
    stop: () => server.stop(true),
  };
}
