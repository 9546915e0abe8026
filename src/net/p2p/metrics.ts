import { Counter, Gauge, type Registry } from "prom-client";

export function createP2pMetrics(registry: Registry) {
  return {
    inbound: new Counter({ name: "pc_p2p_inbound_messages_total", help: "P2P messages received, by kind", labelNames: ["kind"] as const, registers: [registry] }),
    outbound: new Counter({ name: "pc_p2p_outbound_messages_total", help: "P2P messages sent, by kind", labelNames: ["kind"] as const, registers: [registry] }),
    inboundBytes: new Counter({ name: "pc_p2p_inbound_bytes_total", help: "P2P bytes received", registers: [registry] }),
    outboundBytes: new Counter({ name: "pc_p2p_outbound_bytes_total", help: "P2P bytes sent", registers: [registry] }),
    drops: new Counter({ name: "pc_p2p_drops_total", help: "P2P messages dropped, by reason", labelNames: ["reason"] as const, registers: [registry] }),
    errors: new Counter({ name: "pc_p2p_errors_total", help: "P2P protocol errors, by code", labelNames: ["code"] as const, registers: [registry] }),
    bans: new Counter({ name: "pc_p2p_bans_total", help: "Peers banned for misbehavior", registers: [registry] }),
    peers: new Gauge({ name: "pc_p2p_peers", help: "Connected, handshaken peers", registers: [registry] }),
    outboxQueued: new Counter({ name: "pc_p2p_outbox_enqueued_total", help: "Messages queued to peers", registers: [registry] }),
  };
}

export type P2pMetrics = ReturnType<typeof createP2pMetrics>;
