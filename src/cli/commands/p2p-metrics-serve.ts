/**
 * `phantom P2pMetricsServe --addr 127.0.0.1:9100 [--sources URL,...]`: a dedicated metrics
 * endpoint. It serves its own process metrics (`pc_process_*`, `pc_nodejs_*`, `pc_node_up`)
 * and, at each scrape, the P2P and QUIC families (`pc_p2p_*`, `pc_quic_*`) of the nodes
 * whose /metrics URLs `--sources` lists, each sample labelled with its `source`.
 */
import { formatLogLine } from "../log-line.ts";
import type { Command } from "../command.ts";
import { CliError } from "../args.ts";
import { createRegistry, createNodeMetrics } from "../../metrics/registry.ts";
import { serveMetrics } from "../../metrics/server.ts";
import { metricsRelay } from "../../metrics/relay.ts";

export const command: Command = {
  name: "P2pMetricsServe",
  aliases: ["p2p-metrics-serve", "metrics-serve"],
  summary: "serve Prometheus metrics on a dedicated endpoint: this process's, and the P2P/QUIC metrics of the nodes given",
  usage: "phantom P2pMetricsServe --addr 127.0.0.1:9100 [--sources http://127.0.0.1:9101/metrics,...]",
  flags: [
    { name: "addr", type: "string", help: "listen address host:port", default: "127.0.0.1:9100" },
    { name: "sources", type: "list", help: "nodes' /metrics URLs whose pc_p2p_* and pc_quic_* families are relayed (comma-separated)", default: "" },
  ],
  async run(ctx) {
    const sources = (ctx.flags.sources as string[] | undefined) ?? [];
    for (const s of sources) {
      if (!URL.canParse(s) || !/^https?:$/.test(new URL(s).protocol)) throw new CliError("CLI_BAD_VALUE", `--sources: "${s}" is not an http(s) URL such as http://127.0.0.1:9101/metrics`);
    }
    const registry = createRegistry({ component: "metrics-serve" });
    createNodeMetrics(registry).up.set(1);
    const relay = sources.length ? metricsRelay(sources, registry) : null;
    const server = serveMetrics(registry, ctx.flags.addr as string, relay ? () => relay.text() : undefined);
    ctx.out(formatLogLine("json", { type: "metrics_listening", url: server.url, sources }));
    await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
    server.stop();
    return 0;
  },
};
