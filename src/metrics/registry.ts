/**
 * One prom-client registry per node (never the global default, so several nodes
 * can share a process in tests). Subsystems register their own metrics on it
 * through their `createXxxMetrics(registry)` functions.
 */
import { Registry, collectDefaultMetrics, Counter, Gauge } from "prom-client";

export function createRegistry(labels: Record<string, string> = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry, prefix: "pc_" });
  return registry;
}

/** Metrics of the node's own edges (RPC, CLI-visible errors). */
export function createNodeMetrics(registry: Registry) {
  return {
    rpcRequests: new Counter({ name: "pc_node_rpc_requests_total", help: "JSON-RPC/REST requests by method and outcome", labelNames: ["method", "outcome"] as const, registers: [registry] }),
    rpcErrors: new Counter({ name: "pc_node_rpc_errors_total", help: "RPC requests rejected, by error code", labelNames: ["code"] as const, registers: [registry] }),
    badInput: new Counter({ name: "pc_node_bad_input_total", help: "Rejected input from the network, RPC or files, by source and error code", labelNames: ["source", "code"] as const, registers: [registry] }),
    rateLimited: new Counter({ name: "pc_rpc_rate_limited_total", help: "RPC requests, calls and WebSocket messages refused by the per-client rate limit", labelNames: ["kind"] as const, registers: [registry] }),
    unauthorized: new Counter({ name: "pc_rpc_unauthorized_total", help: "RPC requests refused for a missing or wrong bearer token", registers: [registry] }),
    wsClients: new Gauge({ name: "pc_rpc_ws_clients", help: "Connected WebSocket subscribers", registers: [registry] }),
    up: new Gauge({ name: "pc_node_up", help: "1 while the node is running", registers: [registry] }),
  };
}

export type NodeMetrics = ReturnType<typeof createNodeMetrics>;
