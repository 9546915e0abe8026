/**
 * QUIC metrics, created on an injected prom-client registry (one set per registry;
 * endpoints report into it through `EndpointOptions.metrics`). Counters move as
 * things happen; connection-state gauges (RTT, congestion window, bytes in flight,
 * connections, half-open handshakes) are read from the attached endpoints at scrape time.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** What an endpoint exposes for the scrape-time gauges. */
export interface QuicGaugeSource {
  /** Established and in-progress connections, and the half-open (server) ones. */
  connectionCounts(): { established: number; handshaking: number; halfOpen: number };
  /**
   * Over established connections: the largest smoothed RTT (ms), summed cwnd and bytes
   * in flight, and the smallest and largest datagram size in use (path MTU discovery; 0 with none).
   */
  pathTotals(): { smoothedRttMsMax: number; congestionWindowBytes: number; bytesInFlight: number; datagramBytesMin: number; datagramBytesMax: number };
  /** Datagrams the kernel dropped on the endpoint's socket since it opened (0 where not observable). */
  socketDrops(): number;
}

/** RTT histogram buckets, seconds: loopback to intercontinental paths. */
const RTT_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export function createQuicMetrics(registry: Registry) {
  const sources = new Set<QuicGaugeSource>();
  const sum = <T>(f: (s: QuicGaugeSource) => T, pick: (t: T) => number): number => {
    let total = 0;
    for (const s of sources) total += pick(f(s));
    return total;
  };
  return {
    /** Endpoints whose connections the gauges describe (attach on open, detach on close). */
    sources,
    handshakesStarted: new Counter({ name: "pc_quic_handshakes_started_total", help: "QUIC handshakes started, by our role", labelNames: ["role"] as const, registers: [registry] }),
    handshakesCompleted: new Counter({ name: "pc_quic_handshakes_completed_total", help: "QUIC handshakes completed (peer verified), by our role", labelNames: ["role"] as const, registers: [registry] }),
    handshakesFailed: new Counter({ name: "pc_quic_handshakes_failed_total", help: "QUIC handshakes that failed, by our role and reason", labelNames: ["role", "reason"] as const, registers: [registry] }),
    peersRejected: new Counter({ name: "pc_quic_peers_rejected_total", help: "Peers whose verified key our verifyPeer refused, by our role", labelNames: ["role"] as const, registers: [registry] }),
    retriesSent: new Counter({ name: "pc_quic_retries_sent_total", help: "Retry packets sent (address validation under load)", registers: [registry] }),
    initialsRefused: new Counter({ name: "pc_quic_initials_refused_total", help: "Client Initials refused without state, by reason", labelNames: ["reason"] as const, registers: [registry] }),
    connectionErrors: new Counter({ name: "pc_quic_connection_errors_total", help: "Connections closed with a transport error, by RFC 9000 name", labelNames: ["error"] as const, registers: [registry] }),
    packetsLost: new Counter({ name: "pc_quic_packets_lost_total", help: "Packets declared lost (RFC 9002)", registers: [registry] }),
    spuriousLosses: new Counter({ name: "pc_quic_spurious_losses_total", help: "Packets acked after being declared lost (reordered, not lost)", registers: [registry] }),
    congestionUndos: new Counter({ name: "pc_quic_congestion_undos_total", help: "Congestion window reductions undone because every loss behind them was spurious", registers: [registry] }),
    pmtuProbes: new Counter({ name: "pc_quic_pmtu_probes_total", help: "Path MTU probes (PING + PADDING of a larger size), by result: acked or lost", labelNames: ["result"] as const, registers: [registry] }),
    pmtuBlackHoles: new Counter({ name: "pc_quic_pmtu_black_holes_total", help: "Connections whose full-size packets kept being lost: datagram size fell back to 1200", registers: [registry] }),
    keyUpdates: new Counter({ name: "pc_quic_key_updates_total", help: "1-RTT key updates (RFC 9001 §6), by either side", registers: [registry] }),
    rtt: new Histogram({ name: "pc_quic_rtt_seconds", help: "QUIC RTT samples (at most one per connection per event-loop turn)", buckets: RTT_BUCKETS_S, registers: [registry] }),
    connections: new Gauge({
      name: "pc_quic_connections", help: "QUIC connections: established, handshake (handshaking or closing), half_open (server handshakes in progress)", labelNames: ["state"] as const, registers: [registry],
      collect() {
        this.set({ state: "established" }, sum((s) => s.connectionCounts(), (c) => c.established));
        this.set({ state: "handshake" }, sum((s) => s.connectionCounts(), (c) => c.handshaking));
        this.set({ state: "half_open" }, sum((s) => s.connectionCounts(), (c) => c.halfOpen));
      },
    }),
    smoothedRtt: new Gauge({
      name: "pc_quic_smoothed_rtt_seconds", help: "Largest smoothed RTT over established QUIC connections", registers: [registry],
      collect() {
        let max = 0;
        for (const s of sources) max = Math.max(max, s.pathTotals().smoothedRttMsMax);
        this.set(max / 1000);
      },
    }),
    congestionWindow: new Gauge({
      name: "pc_quic_congestion_window_bytes", help: "Congestion windows summed over established QUIC connections", registers: [registry],
      collect() { this.set(sum((s) => s.pathTotals(), (t) => t.congestionWindowBytes)); },
    }),
    datagramBytes: new Gauge({
      name: "pc_quic_datagram_bytes", help: "UDP payload size in use after path MTU discovery over established QUIC connections: smallest (stat=min) and largest (stat=max); 0 with none", labelNames: ["stat"] as const, registers: [registry],
      collect() {
        let min = Infinity;
        let max = 0;
        for (const s of sources) {
          const t = s.pathTotals();
          if (t.datagramBytesMax === 0) continue;
          min = Math.min(min, t.datagramBytesMin);
          max = Math.max(max, t.datagramBytesMax);
        }
        this.set({ stat: "min" }, min === Infinity ? 0 : min);
        this.set({ stat: "max" }, max);
      },
    }),
    socketDrops: new Gauge({
      name: "pc_quic_socket_drops", help: "Datagrams the kernel dropped on open QUIC endpoints' UDP sockets (receive buffer full), summed; Linux only", registers: [registry],
      collect() { this.set(sum((s) => s.socketDrops(), (n) => n)); },
    }),
    bytesInFlight: new Gauge({
      name: "pc_quic_bytes_in_flight", help: "Bytes in flight summed over established QUIC connections", registers: [registry],
      collect() { this.set(sum((s) => s.pathTotals(), (t) => t.bytesInFlight)); },
    }),
  };
}

export type QuicMetrics = ReturnType<typeof createQuicMetrics>;
