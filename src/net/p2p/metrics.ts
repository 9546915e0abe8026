/**
 * P2P metrics, created on an injected registry. The outbox is what a peer session handed
 * to its link and the peer has not acknowledged yet; latencies come from the sessions
 * (request -> answer) and from their transport's RTT samples (per peer).
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** Latency buckets, seconds: loopback to slow intercontinental answers. */
const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createP2pMetrics(registry: Registry) {
  /** Peer managers reporting here: polled at scrape time so the outbox counters are current. */
  const outboxPollers = new Set<() => void>();
  const poll = () => {
    for (const p of outboxPollers) p();
  };
  const requestLatency = new Histogram({ name: "pc_p2p_request_latency_seconds", help: "Time from a request to a peer (get_events, get_payload) until it served the event asked for, by request kind", labelNames: ["kind"] as const, buckets: LATENCY_BUCKETS_S, registers: [registry] });
  // Exported from the start: requests are rare on a healthy network (only missing parents are asked for).
  for (const kind of ["get_events", "get_payload"]) requestLatency.zero({ kind });
  return {
    outboxPollers,
    requestLatency,
    inbound: new Counter({ name: "pc_p2p_inbound_messages_total", help: "P2P messages received, by kind", labelNames: ["kind"] as const, registers: [registry] }),
    outbound: new Counter({ name: "pc_p2p_outbound_messages_total", help: "P2P messages sent, by kind", labelNames: ["kind"] as const, registers: [registry] }),
    inboundBytes: new Counter({ name: "pc_p2p_inbound_bytes_total", help: "P2P bytes received", registers: [registry] }),
    outboundBytes: new Counter({ name: "pc_p2p_outbound_bytes_total", help: "P2P bytes sent", registers: [registry] }),
    drops: new Counter({ name: "pc_p2p_drops_total", help: "P2P messages dropped, by reason", labelNames: ["reason"] as const, registers: [registry] }),
    errors: new Counter({ name: "pc_p2p_errors_total", help: "P2P protocol errors, by code", labelNames: ["code"] as const, registers: [registry] }),
    bans: new Counter({ name: "pc_p2p_bans_total", help: "Peers banned for misbehavior", registers: [registry] }),
    peers: new Gauge({ name: "pc_p2p_peers", help: "Connected, handshaken peers", registers: [registry] }),
    outboxEnqueued: new Counter({ name: "pc_p2p_outbox_enqueued_total", help: "Messages queued to peers (handed to their links)", registers: [registry], collect: poll }),
    outboxDequeued: new Counter({ name: "pc_p2p_outbox_dequeued_total", help: "Queued messages the peer acknowledged in full (left the outbox)", registers: [registry], collect: poll }),
    peerRtt: new Histogram({ name: "pc_p2p_peer_rtt_seconds", help: "Transport RTT samples per peer (validator index)", labelNames: ["validator"] as const, buckets: LATENCY_BUCKETS_S, registers: [registry] }),
  };
}

export type P2pMetrics = ReturnType<typeof createP2pMetrics>;
