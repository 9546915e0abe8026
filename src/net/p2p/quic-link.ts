/**
 * The P2P `Link` over QUIC: one bidirectional stream per connection (the
 * client's first one, stream 0), the peer's key taken from its verified TLS
 * certificate. `connectLink` dials; `listenLinks` accepts.
 */
import type { ConnectionOptions } from "../quic/connection.ts";
import { QuicEndpoint, type EndpointOptions, type QuicConnection } from "../quic/endpoint.ts";
import type { Link } from "./link.ts";

/** The stream carrying the link: the client's first bidirectional stream. */
export const LINK_STREAM_ID = 0;
/** Bytes a link buffers before its stream exists (server side, before the client's first byte). */
export const LINK_PENDING_BYTES_MAX = 16 * 1024 * 1024;
/** Unacknowledged bytes a link may hold for a slow peer before it is dropped. */
export const LINK_SEND_BUFFER_BYTES_MAX = 64 * 1024 * 1024;
/** PING after this much send silence keeps an idle link under the idle timeout. */
export const LINK_KEEPALIVE_MS = 10_000;
/** Application error code used when a link is closed (the reason travels as text). */
export const LINK_CLOSE_CODE = 0;

export class QuicLink implements Link {
  private dataCb: ((bytes: Uint8Array) => void) | null = null;
  private closeCb: ((reason: string) => void) | null = null;
  private readonly early: Uint8Array[] = [];
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private streamOpen: boolean;
  private closed = false;
  private closeReason: string | null = null;

  constructor(readonly connection: QuicConnection, isClient: boolean) {
    this.streamOpen = isClient;
    connection.onData((streamId, data, fin) => {
      // Data the connection delivers after we closed the link (same batch of packets)
      // belongs to a finished session: never hand it to the P2P layer.
      if (streamId !== LINK_STREAM_ID || this.closed) return;
      if (!this.streamOpen) this.openServerSide();
      if (data.length) {
        if (this.dataCb) this.dataCb(data);
        else this.early.push(data);
      }
      if (fin) this.close("peer finished the link stream");
    });
    connection.onClose((code, reason) => this.finish(reason || `closed (0x${code.toString(16)})`));
  }

  get peerPublicKey(): Uint8Array | null {
    return this.connection.peerPublicKey;
  }
  get remote(): string {
    return this.connection.remote;
  }

  bufferedBytes(): number {
    return this.pendingBytes + (this.streamOpen ? this.connection.bufferedBytes(LINK_STREAM_ID) : 0);
  }

  rttSample(): { count: number; latestMs: number } {
    return { count: this.connection.conn.rttSamples, latestMs: this.connection.conn.rttMs.latest };
  }

  send(bytes: Uint8Array): void {
    if (this.closed) return;
    const copy = bytes.slice();
    if (this.streamOpen) {
      if (this.connection.bufferedBytes(LINK_STREAM_ID) + copy.length > LINK_SEND_BUFFER_BYTES_MAX) return this.close("link send buffer overflow");
      this.connection.write(LINK_STREAM_ID, copy);
      return;
    }
    this.pendingBytes += copy.length;
    if (this.pendingBytes > LINK_PENDING_BYTES_MAX) return this.close("link send buffer overflow");
    this.pending.push(copy);
  }

  private openServerSide(): void {
    this.streamOpen = true;
    for (const b of this.pending) this.connection.write(LINK_STREAM_ID, b);
    this.pending = [];
    this.pendingBytes = 0;
  }

  close(reason: string): void {
    if (this.closed) return;
    this.connection.close(LINK_CLOSE_CODE, reason);
    this.finish(reason);
  }

  private finish(reason: string): void {
    if (this.closeReason !== null) return;
    this.closed = true;
    this.closeReason = reason;
    this.closeCb?.(reason);
  }

  onData(cb: (bytes: Uint8Array) => void): void {
    this.dataCb = cb;
    for (const b of this.early.splice(0)) cb(b);
  }

  onClose(cb: (reason: string) => void): void {
    this.closeCb = cb;
    if (this.closeReason !== null) cb(this.closeReason);
  }
}

/** Dials `host:port` from `endpoint` and returns the link once the peer is verified. */
export async function connectLink(endpoint: QuicEndpoint, host: string, port: number, overrides: Partial<ConnectionOptions> = {}): Promise<QuicLink> {
  const conn = await endpoint.connect(host, port, { keepAliveMs: LINK_KEEPALIVE_MS, ...overrides });
  const streamId = conn.openStream(true);
  if (streamId !== LINK_STREAM_ID) throw new Error(`link stream must be ${LINK_STREAM_ID}, got ${streamId}`);
  return new QuicLink(conn, true);
}

/** Listens on `port` (0 = ephemeral) and hands each verified incoming connection to `onLink`. */
export async function listenLinks(port: number, opts: Omit<EndpointOptions, "onConnection">, onLink: (link: QuicLink) => void, hostname = "127.0.0.1"): Promise<QuicEndpoint> {
  return QuicEndpoint.listen(port, { keepAliveMs: LINK_KEEPALIVE_MS, ...opts, onConnection: (c) => onLink(new QuicLink(c, false)) }, hostname);
}
