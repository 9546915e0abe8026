/** `phantom P2pMetricsServe --addr 127.0.0.1:9100`: a standalone metrics endpoint (process metrics). */
import { formatLogLine } from "../log-line.ts";
import type { Command } from "../command.ts";
import { createRegistry, createNodeMetrics } from "../../metrics/registry.ts";
import { serveMetrics } from "../../metrics/server.ts";

export const command: Command = {
  name: "P2pMetricsServe",
  aliases: ["p2p-metrics-serve", "metrics-serve"],
  summary: "serve Prometheus metrics on a dedicated HTTP endpoint until stopped",
  usage: "phantom P2pMetricsServe --addr 127.0.0.1:9100",
  flags: [{ name: "addr", type: "string", help: "listen address host:port", default: "127.0.0.1:9100" }],
  async run(ctx) {
    const registry = createRegistry({ component: "metrics-serve" });
    createNodeMetrics(registry).up.set(1);
    const server = serveMetrics(registry, ctx.flags.addr as string);
    ctx.out(formatLogLine("json", { type: "metrics_listening", url: server.url }));
    await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
    server.stop();
    return 0;
  },
};
