/** Prometheus scrape endpoint: GET /metrics on its own HTTP listener. */
import type { Registry } from "prom-client";
import { PhantomError } from "../errors.ts";

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

export function serveMetrics(registry: Registry, addr: string): MetricsServer {
  const { host, port } = parseHostPort(addr, "--metrics_addr");
  const server = Bun.serve({
    hostname: host,
    port,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/metrics") return new Response(await registry.metrics(), { headers: { "content-type": registry.contentType } });
      if (path === "/health") return Response.json({ ok: true });
      return new Response("not found; scrape /metrics\n", { status: 404 });
    },
  });
  return { url: `http://${host}:${server.port}/metrics`, stop: () => server.stop(true) };
}
