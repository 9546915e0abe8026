/** Prometheus scrape endpoint: GET /metrics on its own HTTP listener. */
import type { Registry } from "prom-client";
import { describeOsError, PhantomError } from "../errors.ts";
import { httpError, jsonResponse, productionServe, requestTarget } from "../rpc/http.ts";

export interface MetricsServer {
  url: string;
  stop(): void;
}

export function parseHostPort(addr: string, flag: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(addr);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new PhantomError("CLI_BAD_VALUE", `${flag} must be host:port, got "${addr}"`);
  return { host: m[1]!.replace(/^\[|\]$/g, ""), port };
}

/** `extra` appends exposition text of other families (P2pMetricsServe's relayed node metrics). */
export function serveMetrics(registry: Registry, addr: string, extra?: () => Promise<string>): MetricsServer {
  const { host, port } = parseHostPort(addr, "--metrics_addr");
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = serve();
  } catch (e) {
    throw new PhantomError("METRICS_LISTEN_FAILED", `cannot listen on --metrics_addr ${addr}: ${describeOsError(e)}`);
  }
  return { url: `http://${host.includes(":") ? `[${host}]` : host}:${server.port}/metrics`, stop: () => server.stop(true) };

  function serve() {
    return Bun.serve({
      hostname: host,
      port,
      ...productionServe(() => {}),
      async fetch(req) {
        const path = requestTarget(req)?.path;
        if (path === "/metrics") {
          // The extra text first: fetching it may move this registry's counters (relay failures).
          const more = extra ? await extra() : "";
          return new Response((await registry.metrics()) + more, { headers: { "content-type": registry.contentType } });
        }
        if (path === "/health") return jsonResponse(JSON.stringify({ ok: true }));
        if (path === undefined) return httpError(400, "HTTP_BAD_REQUEST", "request target is not a path");
        return httpError(404, "HTTP_NOT_FOUND", "not found; scrape /metrics");
      },
    });
  }
}
