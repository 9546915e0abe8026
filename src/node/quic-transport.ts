/**
 * The node's real transport: one QUIC endpoint (one UDP socket) that listens on the
 * validator's address and dials the others from the same socket. Every connection is
 * mutually authenticated by the validators' Ed25519 keys (TRANSPORT.md); an incoming
 * peer must hold a committee key, a dialed one exactly the key we expect.
 */
import type { Registry } from "prom-client";
import { QuicEndpoint } from "../net/quic/endpoint.ts";
import { createQuicMetrics } from "../net/quic/metrics.ts";
import { certificateDer, type Identity } from "../net/quic/tls/certificate.ts";
import { QuicLink, connectLink } from "../net/p2p/quic-link.ts";
import { parseHostPort } from "../metrics/server.ts";
import { concatBytes, equalBytes } from "../crypto/bytes.ts";
import { blake3_32 } from "../crypto/hash.ts";
import { describeOsError, PhantomError } from "../errors.ts";
import type { Transport } from "./transport.ts";

/** Idle connections close after this long; keepalive PINGs keep live peers open. */
export const peerIdleTimeoutMs = 30_000;
export const peerKeepAliveMs = 5_000;

export interface QuicTransportOptions {
  listenAddr: string;
  identity: Identity;
  committee: readonly Uint8Array[];
  /** The node's registry: QUIC handshake, rejection, RTT, congestion and loss metrics go here. */
  registry?: Registry;
  /** Log sink (peers refused by key are logged, rate-limited). */
  log?: (line: Record<string, unknown>) => void;
}

export interface QuicTransport extends Transport {
  certificateDer(): Uint8Array;
  /** The bound UDP port once listening (useful with port 0), else 0. */
  localPort(): number;
}

export function quicTransport(opts: QuicTransportOptions): QuicTransport {
  const certificate = certificateDer(opts.identity);
  const isMember = (pk: Uint8Array) => opts.committee.some((k) => equalBytes(k, pk));
  const metrics = opts.registry ? createQuicMetrics(opts.registry) : undefined;
  // Derived from the validator key, so a restarted node can reset the connections its
  // peers still hold to its previous process (they reconnect at once, not after idling out).
  const statelessResetKey = blake3_32(concatBytes(new TextEncoder().encode("phantom/quic/stateless-reset/v0"), opts.identity.secretKey));
  const base = { identity: opts.identity, certificate, verifyPeer: isMember, idleTimeoutMs: peerIdleTimeoutMs, keepAliveMs: peerKeepAliveMs, metrics, log: opts.log, statelessResetKey };
  let endpoint: QuicEndpoint | null = null;
  return {
    certificateDer: () => certificate,
    localPort: () => endpoint?.port ?? 0,
    async listen(onLink) {
      const { host, port } = parseHostPort(opts.listenAddr, "--addr");
      try {
        endpoint = await QuicEndpoint.listen(port, { ...base, onConnection: (c) => onLink(new QuicLink(c, false)) }, host);
      } catch (e) {
        throw new PhantomError("TRANSPORT_LISTEN_FAILED", `cannot listen on --addr ${opts.listenAddr} (QUIC, UDP): ${describeOsError(e)}`);
      }
    },
    async dial(address, expectedKey) {
      if (!endpoint) throw new PhantomError("TRANSPORT_NOT_LISTENING", "listen() before dialing");
      const { host, port } = parseHostPort(address, "validator address");
      return connectLink(endpoint, host, port, { verifyPeer: (pk) => equalBytes(pk, expectedKey) });
    },
    async close() {
      endpoint?.close();
      endpoint = null;
    },
  };
}
