/**
 * A QUIC endpoint: one Bun.udpSocket, many connections demultiplexed by
 * destination connection ID. It is the only QUIC file doing I/O: it feeds
 * datagrams to Connection objects, sends what they produce (batched with
 * sendMany) and drives their timers from an injectable clock.
 */
import { createHmac, randomBytes } from "node:crypto";
import { PhantomError } from "../../errors.ts";
import { CONNECTION_ID_BYTES, Connection, DATAGRAMS_PER_SEND_MAX, INITIAL_DATAGRAM_BYTES_MIN, type ConnectionEvent, type ConnectionOptions } from "./connection.ts";
import { QUIC_VERSION_1 } from "./initial-keys.ts";
import { transportErrorName } from "./errors.ts";
import { PACKET_TYPE_INITIAL, parsePacketHeader, writeRetry, writeVersionNegotiation } from "./packet-header.ts";
import { certificateDer } from "./tls/certificate.ts";
import type { QuicGaugeSource, QuicMetrics } from "./metrics.ts";
import { ByteArena } from "./byte-arena.ts";
import { kernelDrops, setDontFragment, setSocketBuffers, setUdpSegment, socketBufferBytesDefault, socketInode, type SocketBufferSizes } from "./socket-buffers.ts";

/** Time source and timers; tests inject a virtual one. */
export interface Clock {
  nowMs(): number;
  setTimer(cb: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

export const realClock: Clock = {
  nowMs: () => performance.now(),
  setTimer: (cb, delayMs) => setTimeout(cb, Math.max(0, delayMs)),
  clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface EndpointStats {
  datagramsReceived: number;
  /** Unroutable, malformed or refused datagrams. */
  datagramsDropped: number;
  /** Packets inside routed datagrams that connections dropped (bad protection, duplicates, no keys). */
  packetsDropped: number;
  socketErrors: number;
  /** Datagrams the kernel refused to send (EMSGSIZE: larger than the path MTU it knows, with don't-fragment set); dropped. */
  datagramsRefused: number;
  versionNegotiationsSent: number;
  statelessResetsSent: number;
  retriesSent: number;
  connectionsAccepted: number;
  /** Initials refused because `halfOpenMax` server handshakes were already in progress. */
  halfOpenRefused: number;
  /** Server handshakes dropped because they did not complete within `handshakeTimeoutMs`. */
  halfOpenTimedOut: number;
  /** Connections closed with a transport error, by RFC 9000 error name (CRYPTO_ERROR covers TLS alerts). */
  connectionErrors: Record<string, number>;
}

export class QuicEndpointError extends PhantomError<"QUIC_HANDSHAKE_FAILED" | "QUIC_ENDPOINT_CLOSED" | "QUIC_CONNECT_TIMEOUT"> {}

/** Connections tracked at most by one endpoint (new clients beyond it are ignored). */
export const CONNECTIONS_MAX = 10_000;
/** Datagrams a stateless reset answers per second, at most. */
const STATELESS_RESETS_PER_SECOND = 100;
const STATELESS_RESET_BYTES = 43;
/** Smallest reset: 5 bytes of unpredictable header and payload, then the 16-byte token. */
const STATELESS_RESET_BYTES_MIN = 21;
const CONNECT_TIMEOUT_MS_DEFAULT = 10_000;
/** How long a Retry token stays valid. */
export const RETRY_TOKEN_LIFETIME_MS = 10_000;
const RETRY_TOKEN_MAC_BYTES = 16;
/**
 * Half-open (accepted, handshake not complete) server connections above which a
 * token-less Initial is answered with a stateless Retry instead of new state. A
 * legitimate handshake costs one extra round trip only while the server is loaded.
 */
export const RETRY_HALF_OPEN_THRESHOLD_DEFAULT = 64;
/** Half-open server connections kept at most; Initials beyond it are dropped even with a valid token. */
export const HALF_OPEN_MAX_DEFAULT = 1024;
/** A server handshake not complete after this long is dropped silently (its state is freed). */
export const HANDSHAKE_TIMEOUT_MS_DEFAULT = 10_000;
/** `quic_peer_rejected` log lines per minute at most; the next line counts the ones left out. */
export const PEER_REJECTED_LOGS_PER_MINUTE = 10;
const LOG_WINDOW_MS = 60_000;

export type EndpointOptions = Omit<ConnectionOptions, "resetKey" | "random" | "serverName"> & {
  clock?: Clock;
  /** Server: always validate client addresses with a Retry round trip before keeping any state (RFC 9000 §8.1.2). */
  retry?: boolean;
  /** Server: Retry every token-less Initial once this many handshakes are half-open (default RETRY_HALF_OPEN_THRESHOLD_DEFAULT; 0 = always). */
  retryHalfOpenThreshold?: number;
  /** Server: half-open handshakes kept at most (default HALF_OPEN_MAX_DEFAULT). */
  halfOpenMax?: number;
  /** Server: drop a handshake not complete after this long (default HANDSHAKE_TIMEOUT_MS_DEFAULT). */
  handshakeTimeoutMs?: number;
  /** Called for each connection accepted by a listening endpoint, once its handshake is done. */
  onConnection?: (conn: QuicConnection) => void;
  /** Metrics to report into (createQuicMetrics on the node's registry). */
  metrics?: QuicMetrics;
  /**
   * UDP receive and send buffer to ask the kernel for (SO_RCVBUF / SO_SNDBUF; default
   * 7 MiB, capped by the OS); 0 leaves the system default. See socket-buffers.ts.
   */
  socketBufferBytes?: number;
  /**
   * Send runs of equal-size datagrams as one system call with UDP segmentation
   * offload where the kernel has it (Linux; default true). See `sendRaw`.
   */
  gso?: boolean;
  /** Log sink for operator-visible events (peers refused by verifyPeer; rate-limited). */
  log?: (line: Record<string, unknown>) => void;
  /**
   * Static key for stateless reset tokens and Retry MACs (32 bytes; default: random per
   * endpoint). A key that survives a restart lets the restarted endpoint reset the
   * connections its peers still hold to the old process (RFC 9000 §10.3.2), so they
   * notice at their next packet instead of at their idle timeout.
   */
  statelessResetKey?: Uint8Array;
};

type HandshakeOutcome = "pending" | "completed" | "failed";

type UdpSocket = import("bun").udp.Socket<"uint8array">;

/** Application view of one connection. */
export class QuicConnection {
  private dataCb: ((streamId: number, data: Uint8Array, fin: boolean) => void) | null = null;
  /** The application calls consume() itself instead of data counting as consumed when dataCb returns. */
  private manualConsume = false;
  private datagramCb: ((data: Uint8Array) => void) | null = null;
  private closeCb: ((errorCode: number, reason: string) => void) | null = null;
  private resetCb: ((streamId: number, errorCode: number) => void) | null = null;
  /** Events that arrived before a handler was set. */
  private backlog: ConnectionEvent[] = [];
  closed = false;
  closeInfo: { errorCode: number; reason: string; remote: boolean } | null = null;
  timer: unknown = null;
  /** Keys under which the endpoint routes to this connection. */
  readonly cidKeys = new Set<string>();
  timerAt = Infinity;
  /** @internal 1-RTT datagrams received this event-loop turn, opened together when the endpoint next services the connection. */
  rx: Uint8Array[] = [];
  /** Server side: timer that drops the connection if its handshake stalls. */
  handshakeTimer: unknown = null;
  handshakeWaiters: { resolve: (c: QuicConnection) => void; reject: (e: Error) => void } | null = null;
  private drainWaiters: { streamId: number; lowWaterBytes: number; resolve: () => void }[] = [];

  /** @internal Handshake bookkeeping for metrics: outcome, a reason set before the close, counters already reported. */
  handshakeOutcome: HandshakeOutcome = "pending";
  failReason: string | null = null;
  reported = { rttSamples: 0, packetsLost: 0, spuriousLosses: 0, congestionUndos: 0, keyUpdates: 0, pmtuProbesAcked: 0, pmtuProbesLost: 0, pmtuBlackHoles: 0 };

  constructor(readonly endpoint: QuicEndpoint, readonly conn: Connection, readonly remoteHost: string, readonly remotePort: number) {}

  get role(): "client" | "server" {
    return this.conn.isClient ? "client" : "server";
  }

  get peerPublicKey(): Uint8Array | null {
    return this.conn.peerPublicKey;
  }
  get remote(): string {
    return `${this.remoteHost}:${this.remotePort}`;
  }

  openStream(bidi = true): number {
    return this.conn.openStream(bidi);
  }
  write(streamId: number, data: Uint8Array, fin = false): void {
    this.conn.writeStream(streamId, data, fin);
    this.endpoint.kick(this);
  }
  bufferedBytes(streamId: number): number {
    return this.conn.streamBufferedBytes(streamId);
  }
  /**
   * Resolves once the stream's unacknowledged bytes drop to `lowWaterBytes` or
   * below (or the connection closes): backpressure for writers.
   */
  drained(streamId: number, lowWaterBytes: number): Promise<void> {
    if (this.closed || this.conn.streamBufferedBytes(streamId) <= lowWaterBytes) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push({ streamId, lowWaterBytes, resolve }));
  }

  /** @internal Called by the endpoint after each service pass. */
  checkDrained(): void {
    if (this.drainWaiters.length === 0) return;
    const keep: typeof this.drainWaiters = [];
    for (const w of this.drainWaiters) {
      if (this.closed || this.conn.streamBufferedBytes(w.streamId) <= w.lowWaterBytes) w.resolve();
      else keep.push(w);
    }
    this.drainWaiters = keep;
  }

  resetStream(streamId: number, errorCode: number): void {
    this.conn.resetStream(streamId, errorCode);
    this.endpoint.kick(this);
  }
  stopSending(streamId: number, errorCode: number): void {
    this.conn.stopSending(streamId, errorCode);
    this.endpoint.kick(this);
  }
  sendDatagram(data: Uint8Array): boolean {
    const ok = this.conn.sendDatagram(data);
    if (ok) this.endpoint.kick(this);
    return ok;
  }
  ping(): void {
    this.conn.ping();
    this.endpoint.kick(this);
  }
  close(errorCode = 0, reason = ""): void {
    this.conn.close(errorCode, reason);
    this.endpoint.kick(this);
  }

  /**
   * Sets the stream data handler. Flow credit is re-granted for data only once it is
   * consumed: when `cb` returns, or with `{ manualConsume: true }` when the
   * application calls `consume(streamId, bytes)`. Until then the peer is held back
   * by flow control; data that arrives before a handler is set is kept (within the
   * same limits) and handed over here.
   */
  onData(cb: (streamId: number, data: Uint8Array, fin: boolean) => void, opts: { manualConsume?: boolean } = {}): void {
    this.dataCb = cb;
    this.manualConsume = opts.manualConsume ?? false;
    this.replay();
  }

  /** With `manualConsume`: the application is done with `bytes` more bytes of `streamId`. */
  consume(streamId: number, bytes: number): void {
    this.conn.consumeStream(streamId, bytes);
    this.endpoint.kick(this);
  }

  /** Stream bytes delivered and not yet consumed (bounded by the connection's receive buffer). */
  get unconsumedBytes(): number {
    return this.conn.unconsumedBytes;
  }
  onDatagram(cb: (data: Uint8Array) => void): void {
    this.datagramCb = cb;
    this.replay();
  }
  onStreamReset(cb: (streamId: number, errorCode: number) => void): void {
    this.resetCb = cb;
    this.replay();
  }
  onClose(cb: (errorCode: number, reason: string) => void): void {
    this.closeCb = cb;
    if (this.closeInfo) cb(this.closeInfo.errorCode, this.closeInfo.reason);
  }

  private replay(): void {
    const events = this.backlog;
    if (events.length === 0) return;
    this.backlog = [];
    for (const e of events) this.dispatch(e);
    this.endpoint.kick(this); // consumed backlog may re-grant credit
  }

  /** @internal */
  dispatch(e: ConnectionEvent): void {
    switch (e.type) {
      case "stream_data":
        if (!this.dataCb) this.backlog.push(e);
        else {
          this.dataCb(e.streamId, e.data, e.fin);
          if (!this.manualConsume) this.conn.consumeStream(e.streamId, e.data.length);
        }
        return;
      case "datagram":
        if (this.datagramCb) this.datagramCb(e.data);
        else this.backlog.push(e);
        return;
      case "stream_reset":
      case "stop_sending":
        if (this.resetCb) this.resetCb(e.streamId, e.errorCode);
        return;
      case "closed":
        if (this.closed) return;
        this.closed = true;
        this.closeInfo = { errorCode: e.errorCode, reason: e.reason, remote: e.remote };
        this.handshakeWaiters?.reject(new QuicEndpointError("QUIC_HANDSHAKE_FAILED", `connection closed during handshake: ${e.reason} (0x${e.errorCode.toString(16)})`));
        this.handshakeWaiters = null;
        this.closeCb?.(e.errorCode, e.reason);
        this.checkDrained();
        return;
      default:
        return;
    }
  }
}

export class QuicEndpoint implements QuicGaugeSource {
  private readonly byCid = new Map<string, QuicConnection>();
  private readonly connections = new Set<QuicConnection>();
  private readonly dirty = new Set<QuicConnection>();
  /** Accepted server connections whose handshake is not complete yet (bounded by halfOpenMax). */
  private readonly halfOpen = new Set<QuicConnection>();
  private flushScheduled = false;
  private readonly clock: Clock;
  private readonly resetKey: Uint8Array;
  private readonly certificate: Uint8Array;
  private pendingOut: (Uint8Array | number | string)[] = [];
  /** The connection the last 1-RTT datagram was routed to, and its CID (bytes and map key). */
  private lastShort: { qc: QuicConnection; key: string } | null = null;
  private readonly lastShortCid = new Uint8Array(CONNECTION_ID_BYTES);
  /** Every connection of this endpoint seals its datagrams here; reset when nothing sent is still queued. */
  private readonly sendArena = new ByteArena({ reusable: true });
  private resetBudget = STATELESS_RESETS_PER_SECOND;
  private resetBudgetAt = 0;
  private closedEndpoint = false;
  private readonly metrics: QuicMetrics | undefined;
  private rejectLogWindowAt = -Infinity;
  private rejectLogsInWindow = 0;
  private rejectLogsSuppressed = 0;
  /** Counters for metrics (bad input is dropped and counted, never thrown). */
  readonly stats: EndpointStats = {
    datagramsReceived: 0,
    datagramsDropped: 0,
    packetsDropped: 0,
    socketErrors: 0,
    datagramsRefused: 0,
    versionNegotiationsSent: 0,
    statelessResetsSent: 0,
    retriesSent: 0,
    connectionsAccepted: 0,
    halfOpenRefused: 0,
    halfOpenTimedOut: 0,
    connectionErrors: {},
  };

  private constructor(private readonly socket: UdpSocket, private readonly opts: EndpointOptions, private readonly listening: boolean) {
    this.clock = opts.clock ?? realClock;
    this.certificate = opts.certificate ?? certificateDer(opts.identity);
    if (opts.statelessResetKey !== undefined && opts.statelessResetKey.length !== 32) throw new RangeError("statelessResetKey must be 32 bytes");
    this.resetKey = opts.statelessResetKey ?? new Uint8Array(randomBytes(32));
    this.metrics = opts.metrics;
    this.metrics?.sources.add(this);
  }

  /** Binds a UDP socket on `port` (0 = any) that accepts connections. */
  static async listen(port: number, opts: EndpointOptions, hostname = "127.0.0.1"): Promise<QuicEndpoint> {
    return QuicEndpoint.bind(port, hostname, opts, true);
  }

  /** Binds a client-only endpoint on an ephemeral port. */
  static async client(opts: EndpointOptions, hostname = "127.0.0.1"): Promise<QuicEndpoint> {
    return QuicEndpoint.bind(0, hostname, opts, false);
  }

  private static async bind(port: number, hostname: string, opts: EndpointOptions, listening: boolean): Promise<QuicEndpoint> {
    let ep: QuicEndpoint | null = null;
    const socket: UdpSocket = await Bun.udpSocket({
      binaryType: "uint8array",
      port,
      hostname,
      socket: {
        data: (_s, buf, rport, raddr) => ep?.onDatagram(buf, rport, raddr),
        drain: () => ep?.drainPending(),
        // ICMP errors (e.g. port unreachable after a peer exits) are not fatal: timers handle them.
        error: () => {
          if (ep) ep.stats.socketErrors++;
        },
      },
    });
    ep = new QuicEndpoint(socket, opts, listening);
    const bufferBytes = opts.socketBufferBytes ?? socketBufferBytesDefault;
    if (bufferBytes > 0) ep.socketBuffers = setSocketBuffers(socket, bufferBytes);
    ep.dontFragment = setDontFragment(socket);
    // Setting 0 (off) is the probe: it succeeds only where the kernel has the option.
    if (opts.gso !== false && setUdpSegment(socket, 0)) ep.gsoSegmentBytes = 0;
    ep.socketInode = socketInode(socket);
    return ep;
  }

  /** Receive and send buffer sizes the kernel reports after our request (undefined: not set, or not settable here). */
  socketBuffers: SocketBufferSizes | undefined;
  /** UDP_SEGMENT size currently set on the socket: 0 = off, -1 = not available (segmentation offload unused). */
  private gsoSegmentBytes = -1;
  /** Segmented sends waiting for `drain` (with segmentation offload; `pendingOut` without). */
  private pendingGso: GsoSend[] = [];
  /** Whether sends use UDP segmentation offload (Linux UDP_SEGMENT). */
  get segmentationOffload(): boolean {
    return this.gsoSegmentBytes >= 0;
  }
  /** Whether the socket was set never to fragment (RFC 9000 §14); undefined where it could not be set. */
  dontFragment: boolean | undefined;
  private socketInode: number | undefined;

  /** Datagrams the kernel dropped on this endpoint's socket (receive buffer full); undefined where not observable (not Linux). */
  kernelDrops(): number | undefined {
    return this.socketInode === undefined || this.closedEndpoint ? undefined : kernelDrops(this.socketInode);
  }

  /** Same as stats.datagramsDropped. */
  get droppedDatagrams(): number {
    return this.stats.datagramsDropped;
  }

  get port(): number {
    return this.socket.port;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Accepted server connections whose handshake has not completed. */
  get halfOpenCount(): number {
    return this.halfOpen.size;
  }

  /** Connects to a server and resolves once the handshake (with peer verification) completes. */
  connect(host: string, port: number, overrides: Partial<ConnectionOptions> = {}, timeoutMs = CONNECT_TIMEOUT_MS_DEFAULT): Promise<QuicConnection> {
    if (this.closedEndpoint) return Promise.reject(new QuicEndpointError("QUIC_ENDPOINT_CLOSED", "endpoint is closed"));
    const target = { qc: null as QuicConnection | null };
    const verify = overrides.verifyPeer ?? this.opts.verifyPeer;
    const conn = Connection.client({ ...this.connOptions(), serverName: "localhost", ...overrides, verifyPeer: (pk) => this.verifyPeer(target.qc, verify, pk) });
    const qc = new QuicConnection(this, conn, host, port);
    target.qc = qc;
    this.register(qc);
    this.metrics?.handshakesStarted.inc({ role: "client" });
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimer(() => {
        if (qc.handshakeWaiters) {
          qc.handshakeWaiters = null;
          qc.failReason ??= "timeout";
          qc.close(0, "connect timeout");
          reject(new QuicEndpointError("QUIC_CONNECT_TIMEOUT", `handshake with ${host}:${port} timed out`));
        }
      }, timeoutMs);
      qc.handshakeWaiters = {
        resolve: (c) => { this.clock.clearTimer(timer); resolve(c); },
        reject: (e) => { this.clock.clearTimer(timer); reject(e); },
      };
      this.kick(qc);
    });
  }

  /**
   * Runs the application's verifyPeer; a refusal is counted and logged (rate-limited),
   * and names the handshake's failure reason.
   */
  private verifyPeer(qc: QuicConnection | null, verify: (pk: Uint8Array) => boolean, publicKey: Uint8Array): boolean {
    if (verify(publicKey)) return true;
    const role = qc?.role ?? "server";
    if (qc) qc.failReason = "peer_rejected";
    this.metrics?.peersRejected.inc({ role });
    this.logPeerRejected(role, qc?.remote ?? "", publicKey);
    return false;
  }

  private logPeerRejected(role: string, remote: string, publicKey: Uint8Array): void {
    const log = this.opts.log;
    if (!log) return;
    const now = this.clock.nowMs();
    if (now - this.rejectLogWindowAt >= LOG_WINDOW_MS) {
      this.rejectLogWindowAt = now;
      this.rejectLogsInWindow = 0;
    }
    if (this.rejectLogsInWindow >= PEER_REJECTED_LOGS_PER_MINUTE) {
      this.rejectLogsSuppressed++;
      return;
    }
    this.rejectLogsInWindow++;
    const suppressed = this.rejectLogsSuppressed;
    this.rejectLogsSuppressed = 0;
    log({ type: "quic_peer_rejected", role, remote, publicKey: Buffer.from(publicKey).toString("hex"), ...(suppressed > 0 ? { suppressed } : {}) });
  }

  private connOptions(): ConnectionOptions {
    const { clock: _c, onConnection: _o, retry: _r, retryHalfOpenThreshold: _t, halfOpenMax: _m, handshakeTimeoutMs: _h, metrics: _x, log: _l, statelessResetKey: _k, gso: _g, ...rest } = this.opts;
    // Credit follows the application's consumption (QuicConnection.onData / consume).
    return { ...rest, certificate: this.certificate, resetKey: this.resetKey, consumeOnDelivery: false, datagramArena: this.sendArena };
  }

  private register(qc: QuicConnection): void {
    this.connections.add(qc);
    for (const cid of qc.conn.localConnectionIds) this.route(cidKey(cid), qc);
  }

  private route(key: string, qc: QuicConnection): void {
    this.byCid.set(key, qc);
    qc.cidKeys.add(key);
  }

  private onDatagram(buf: Uint8Array, port: number, addr: string): void {
    this.stats.datagramsReceived++;
    if (buf.length === 0) return;
    const long = (buf[0]! & 0x80) !== 0;
    // Bulk data arrives as runs of 1-RTT datagrams for one connection: compare the
    // destination CID with the last one routed before building a map key for it.
    const last = this.lastShort;
    if (!long && last !== null && buf.length >= 1 + CONNECTION_ID_BYTES && sameCid(buf, this.lastShortCid) && this.byCid.get(last.key) === last.qc) {
      if (last.qc.rx.push(buf) === 1) this.kick(last.qc);
      return;
    }
    let key: string;
    if (long) {
      if (buf.length < 6 || buf[5]! > 20 || buf.length < 6 + buf[5]!) { this.stats.datagramsDropped++; return; }
      key = cidKey(buf, 6, buf[5]!);
    } else {
      if (buf.length < 1 + CONNECTION_ID_BYTES) { this.stats.datagramsDropped++; return; }
      key = cidKey(buf, 1, CONNECTION_ID_BYTES);
    }
    let qc = this.byCid.get(key);
    if (qc && !long) {
      this.lastShort = { qc, key };
      for (let i = 0; i < CONNECTION_ID_BYTES; i++) this.lastShortCid[i] = buf[1 + i]!; // no view of buf: see cidKey
      // Held until the end of this turn's reads (the same setImmediate that sends), so
      // that the turn's 1-RTT datagrams are opened in one native call (receiveMany).
      if (qc.rx.push(buf) === 1) this.kick(qc);
      return;
    }
    if (qc && qc.rx.length) this.receiveQueued(qc, this.clock.nowMs()); // keep arrival order
    let fresh = false;
    if (!qc) {
      if (long) qc = this.accept(buf, port, addr, key) ?? undefined;
      else this.statelessReset(buf, port, addr);
      if (!qc) return;
      fresh = true;
    }
    const droppedBefore = qc.conn.packetsDropped;
    qc.conn.receive(buf, this.clock.nowMs());
    this.stats.packetsDropped += qc.conn.packetsDropped - droppedBefore;
    if (fresh && !qc.conn.hasAuthenticatedPacket) {
      // Keep no state for an Initial that fails packet protection (RFC 9001 §5.5).
      this.discard(qc);
      this.stats.datagramsDropped++;
      return;
    }
    if (fresh) {
      this.stats.connectionsAccepted++;
      this.metrics?.handshakesStarted.inc({ role: "server" });
      this.trackHalfOpen(qc);
    }
    this.kick(qc);
  }

  /** Feeds a connection the 1-RTT datagrams queued for it by onDatagram. */
  private receiveQueued(qc: QuicConnection, now: number): void {
    const rx = qc.rx;
    qc.rx = [];
    const droppedBefore = qc.conn.packetsDropped;
    qc.conn.receiveMany(rx, now);
    this.stats.packetsDropped += qc.conn.packetsDropped - droppedBefore;
  }

  /** A new server connection for a client Initial, or null (also answers unknown versions). */
  private accept(buf: Uint8Array, port: number, addr: string, key: string): QuicConnection | null {
    let hdr;
    try {
      hdr = parsePacketHeader(buf, 0, CONNECTION_ID_BYTES);
    } catch {
      this.stats.datagramsDropped++;
      return null;
    }
    if (hdr.form !== "long" || !this.listening || this.closedEndpoint) { this.stats.datagramsDropped++; return null; }
    if (hdr.version !== QUIC_VERSION_1) {
      if (buf.length >= INITIAL_DATAGRAM_BYTES_MIN) {
        this.stats.versionNegotiationsSent++;
        this.sendRaw([writeVersionNegotiation(hdr.dcid, hdr.scid, [QUIC_VERSION_1], buf[0]!)], port, addr);
      }
      return null;
    }
    if (hdr.type !== PACKET_TYPE_INITIAL || buf.length < INITIAL_DATAGRAM_BYTES_MIN || hdr.dcid.length < 8) {
      this.stats.datagramsDropped++;
      return null;
    }
    if (this.connections.size >= CONNECTIONS_MAX) {
      this.stats.datagramsDropped++;
      this.metrics?.initialsRefused.inc({ reason: "connections_max" });
      return null;
    }
    // Under load (or always with `retry`), make the client prove its address with a
    // stateless Retry before any per-connection state exists (RFC 9000 §8.1.2).
    let retryOriginalDcid: Uint8Array | undefined;
    if (hdr.token.length === 0) {
      if (this.opts.retry || this.halfOpen.size >= (this.opts.retryHalfOpenThreshold ?? RETRY_HALF_OPEN_THRESHOLD_DEFAULT)) {
        this.sendRetry(hdr.dcid, hdr.scid, port, addr);
        return null;
      }
    } else {
      const odcid = this.openRetryToken(hdr.token, hdr.dcid, port, addr);
      if (!odcid) {
        this.stats.datagramsDropped++;
        this.metrics?.initialsRefused.inc({ reason: "invalid_token" });
        return null;
      }
      retryOriginalDcid = odcid;
    }
    if (this.halfOpen.size >= (this.opts.halfOpenMax ?? HALF_OPEN_MAX_DEFAULT)) {
      this.stats.halfOpenRefused++;
      this.stats.datagramsDropped++;
      this.metrics?.initialsRefused.inc({ reason: "half_open_max" });
      return null;
    }
    const target = { qc: null as QuicConnection | null };
    const verify = this.opts.verifyPeer;
    const conn = Connection.server({ ...this.connOptions(), verifyPeer: (pk) => this.verifyPeer(target.qc, verify, pk) }, hdr.dcid, hdr.scid, retryOriginalDcid);
    const qc = new QuicConnection(this, conn, addr, port);
    target.qc = qc;
    this.register(qc);
    this.route(key, qc);
    qc.handshakeWaiters = { resolve: (c) => this.opts.onConnection?.(c), reject: () => {} };
    return qc;
  }

  /** Counts an accepted server connection as half-open until its handshake completes or it times out. */
  private trackHalfOpen(qc: QuicConnection): void {
    this.halfOpen.add(qc);
    qc.handshakeTimer = this.clock.setTimer(() => {
      qc.handshakeTimer = null;
      if (!this.halfOpen.has(qc)) return;
      // A handshake that already failed is only finishing its closing period.
      if (qc.handshakeOutcome === "pending") this.stats.halfOpenTimedOut++;
      this.handshakeFailed(qc, "timeout");
      if (qc.timer !== null) this.clock.clearTimer(qc.timer);
      qc.timer = null;
      this.discard(qc);
    }, this.opts.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS_DEFAULT);
  }

  private untrackHalfOpen(qc: QuicConnection): void {
    if (!this.halfOpen.delete(qc)) return;
    if (qc.handshakeTimer !== null) this.clock.clearTimer(qc.handshakeTimer);
    qc.handshakeTimer = null;
  }

  /**
   * Retry (RFC 9000 §17.2.5): the token binds the client's address, the time, its
   * original DCID and the new DCID we choose: ts(8) | len(1) | odcid | mac(16).
   */
  private sendRetry(odcid: Uint8Array, clientScid: Uint8Array, port: number, addr: string): void {
    const newDcid = new Uint8Array(randomBytes(CONNECTION_ID_BYTES));
    const ts = Math.floor(this.clock.nowMs());
    const body = new Uint8Array(9 + odcid.length);
    new DataView(body.buffer).setFloat64(0, ts);
    body[8] = odcid.length;
    body.set(odcid, 9);
    const token = new Uint8Array(body.length + RETRY_TOKEN_MAC_BYTES);
    token.set(body);
    token.set(this.retryMac(body, newDcid, port, addr), body.length);
    this.stats.retriesSent++;
    this.metrics?.retriesSent.inc();
    this.sendRaw([writeRetry(odcid, clientScid, newDcid, token)], port, addr);
  }

  /** The original DCID from a valid, fresh token for this address and DCID; else null. */
  private openRetryToken(token: Uint8Array, dcid: Uint8Array, port: number, addr: string): Uint8Array | null {
    if (token.length < 9 + RETRY_TOKEN_MAC_BYTES) return null;
    const odcidLength = token[8]!;
    const bodyLength = 9 + odcidLength;
    if (odcidLength > 20 || token.length !== bodyLength + RETRY_TOKEN_MAC_BYTES) return null;
    const body = token.subarray(0, bodyLength);
    const mac = this.retryMac(body, dcid, port, addr);
    if (Buffer.compare(mac, token.subarray(bodyLength)) !== 0) return null;
    const age = this.clock.nowMs() - new DataView(body.buffer, body.byteOffset, 8).getFloat64(0);
    if (!(age >= -1 && age <= RETRY_TOKEN_LIFETIME_MS)) return null;
    return body.slice(9);
  }

  private retryMac(body: Uint8Array, dcid: Uint8Array, port: number, addr: string): Uint8Array {
    const h = createHmac("sha256", this.resetKey);
    h.update("retry token");
    h.update(`${addr}|${port}|`);
    h.update(body);
    h.update(dcid);
    return new Uint8Array(h.digest().subarray(0, RETRY_TOKEN_MAC_BYTES));
  }

  /** RFC 9000 §10.3: answer a short-header packet for an unknown connection with a stateless reset. */
  private statelessReset(buf: Uint8Array, port: number, addr: string): void {
    const now = this.clock.nowMs();
    if (now - this.resetBudgetAt >= 1000) {
      this.resetBudget = STATELESS_RESETS_PER_SECOND;
      this.resetBudgetAt = now;
    }
    // The reset is shorter than the packet that triggered it, so two endpoints cannot
    // loop (RFC 9000 §10.3.3); packets too short to allow a 21-byte reset get none.
    const len = Math.min(STATELESS_RESET_BYTES, buf.length - 1);
    if (this.resetBudget <= 0 || len < STATELESS_RESET_BYTES_MIN) { this.stats.datagramsDropped++; return; }
    this.resetBudget--;
    const out = new Uint8Array(randomBytes(len));
    out[0] = 0x40 | (out[0]! & 0x3f);
    const token = createHmac("sha256", this.resetKey).update(buf.subarray(1, 1 + CONNECTION_ID_BYTES)).digest().subarray(0, 16);
    out.set(token, len - 16);
    this.stats.statelessResetsSent++;
    this.sendRaw([out], port, addr);
  }

  /** Marks a connection for processing (events, sends, timer) at the end of this tick. */
  kick(qc: QuicConnection): void {
    this.dirty.add(qc);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // A macrotask, so every datagram read in this poll is processed before anything is sent.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const now = this.clock.nowMs();
    const batch = [...this.dirty];
    this.dirty.clear();
    for (const qc of batch) this.service(qc, now);
  }

  private service(qc: QuicConnection, now: number): void {
    if (!this.connections.has(qc)) return; // discarded or forgotten since it was kicked
    if (qc.rx.length) this.receiveQueued(qc, now);
    const conn = qc.conn;
    for (const e of conn.pollEvents()) this.onEvent(qc, e);
    const datagrams = conn.send(now);
    if (datagrams.length) {
      this.sendRaw(datagrams, qc.remotePort, qc.remoteHost);
      // The kernel has copied them all (nothing waits for drain): the arena can be reused.
      if (this.pendingGso.length === 0 && this.pendingOut.length === 0) this.sendArena.reset();
    }
    // A full batch means more may be ready: come back on the next tick.
    if (datagrams.length >= DATAGRAMS_PER_SEND_MAX) setImmediate(() => this.kick(qc));
    for (const e of conn.pollEvents()) this.onEvent(qc, e);
    if (this.metrics) this.reportConnection(qc);
    qc.checkDrained();
    if (conn.isFinished) return this.forget(qc);
    this.armTimer(qc, now);
  }

  private onEvent(qc: QuicConnection, e: ConnectionEvent): void {
    if (e.type === "handshake_done") {
      this.untrackHalfOpen(qc);
      if (qc.handshakeOutcome === "pending") {
        qc.handshakeOutcome = "completed";
        this.metrics?.handshakesCompleted.inc({ role: qc.role });
      }
      const w = qc.handshakeWaiters;
      qc.handshakeWaiters = null;
      w?.resolve(qc);
      return;
    }
    if (e.type === "connection_id_issued") {
      this.route(cidKey(e.connectionId), qc);
      return;
    }
    if (e.type === "connection_id_retired") {
      const key = cidKey(e.connectionId);
      this.byCid.delete(key);
      qc.cidKeys.delete(key);
      return;
    }
    if (e.type === "closed" && e.errorCode !== 0 && !e.application) {
      const name = transportErrorName(e.errorCode) ?? "UNKNOWN";
      this.stats.connectionErrors[name] = (this.stats.connectionErrors[name] ?? 0) + 1;
      this.metrics?.connectionErrors.inc({ error: name });
    }
    if (e.type === "closed") this.handshakeFailed(qc, closeReason(e));
    qc.dispatch(e);
  }

  /** Counts a handshake that ended before completing (once; a reason set earlier wins). */
  private handshakeFailed(qc: QuicConnection, reason: string): void {
    if (qc.handshakeOutcome !== "pending") return;
    qc.handshakeOutcome = "failed";
    this.metrics?.handshakesFailed.inc({ role: qc.role, reason: qc.failReason ?? reason });
  }

  /** Reports what changed on one connection since its last service pass (RTT sample, losses, key updates). */
  private reportConnection(qc: QuicConnection): void {
    const m = this.metrics!;
    const conn = qc.conn;
    const seen = qc.reported;
    if (conn.rttSamples !== seen.rttSamples) {
      seen.rttSamples = conn.rttSamples;
      m.rtt.observe(conn.rttMs.latest / 1000);
    }
    if (conn.packetsLost !== seen.packetsLost) {
      m.packetsLost.inc(conn.packetsLost - seen.packetsLost);
      seen.packetsLost = conn.packetsLost;
    }
    const reordering = conn.reordering;
    if (reordering.spuriousLosses !== seen.spuriousLosses) {
      m.spuriousLosses.inc(reordering.spuriousLosses - seen.spuriousLosses);
      seen.spuriousLosses = reordering.spuriousLosses;
    }
    if (reordering.congestionUndos !== seen.congestionUndos) {
      m.congestionUndos.inc(reordering.congestionUndos - seen.congestionUndos);
      seen.congestionUndos = reordering.congestionUndos;
    }
    const pmtu = conn.pmtuStats;
    if (pmtu.probesAcked !== seen.pmtuProbesAcked) {
      m.pmtuProbes.inc({ result: "acked" }, pmtu.probesAcked - seen.pmtuProbesAcked);
      seen.pmtuProbesAcked = pmtu.probesAcked;
    }
    if (pmtu.probesLost !== seen.pmtuProbesLost) {
      m.pmtuProbes.inc({ result: "lost" }, pmtu.probesLost - seen.pmtuProbesLost);
      seen.pmtuProbesLost = pmtu.probesLost;
    }
    if (pmtu.blackHoles !== seen.pmtuBlackHoles) {
      m.pmtuBlackHoles.inc(pmtu.blackHoles - seen.pmtuBlackHoles);
      seen.pmtuBlackHoles = pmtu.blackHoles;
    }
    if (conn.keyUpdates !== seen.keyUpdates) {
      m.keyUpdates.inc(conn.keyUpdates - seen.keyUpdates);
      seen.keyUpdates = conn.keyUpdates;
    }
  }

  /** QuicGaugeSource: connection counts by state (read at scrape time). */
  connectionCounts(): { established: number; handshaking: number; halfOpen: number } {
    let established = 0;
    for (const qc of this.connections) if (qc.conn.isEstablished) established++;
    return { established, handshaking: this.connections.size - established, halfOpen: this.halfOpen.size };
  }

  /** QuicGaugeSource: kernel drops on the socket, 0 where not observable (read at scrape time). */
  socketDrops(): number {
    return this.kernelDrops() ?? 0;
  }

  /** QuicGaugeSource: path figures over established connections (read at scrape time). */
  pathTotals(): { smoothedRttMsMax: number; congestionWindowBytes: number; bytesInFlight: number; datagramBytesMin: number; datagramBytesMax: number } {
    let smoothedRttMsMax = 0;
    let congestionWindowBytes = 0;
    let bytesInFlight = 0;
    let datagramBytesMin = Infinity;
    let datagramBytesMax = 0;
    for (const qc of this.connections) {
      if (!qc.conn.isEstablished) continue;
      smoothedRttMsMax = Math.max(smoothedRttMsMax, qc.conn.rttMs.smoothed);
      congestionWindowBytes += qc.conn.congestionWindowBytes;
      bytesInFlight += qc.conn.bytesInFlight;
      datagramBytesMin = Math.min(datagramBytesMin, qc.conn.datagramBytes);
      datagramBytesMax = Math.max(datagramBytesMax, qc.conn.datagramBytes);
    }
    return { smoothedRttMsMax, congestionWindowBytes, bytesInFlight, datagramBytesMin: datagramBytesMax === 0 ? 0 : datagramBytesMin, datagramBytesMax };
  }

  private armTimer(qc: QuicConnection, now: number): void {
    const at = qc.conn.nextTimerMs();
    if (at === qc.timerAt) return;
    if (qc.timer !== null) this.clock.clearTimer(qc.timer);
    qc.timer = null;
    qc.timerAt = at;
    if (at === Infinity) return;
    qc.timer = this.clock.setTimer(() => {
      qc.timer = null;
      qc.timerAt = Infinity;
      const t = this.clock.nowMs();
      // An ACK may be waiting in the queue: read it before declaring anything lost.
      if (qc.rx.length) this.receiveQueued(qc, t);
      if (qc.conn.nextTimerMs() <= t) qc.conn.onTimer(t);
      this.kick(qc);
    }, Math.max(0, at - now));
  }

  /** Drops a connection without telling anyone (it never authenticated a packet). */
  private discard(qc: QuicConnection): void {
    this.untrackHalfOpen(qc);
    qc.rx = [];
    this.dirty.delete(qc);
    this.connections.delete(qc);
    for (const k of qc.cidKeys) if (this.byCid.get(k) === qc) this.byCid.delete(k);
    qc.cidKeys.clear();
  }

  private forget(qc: QuicConnection): void {
    qc.rx = [];
    if (qc.timer !== null) this.clock.clearTimer(qc.timer);
    qc.timer = null;
    this.untrackHalfOpen(qc);
    this.connections.delete(qc);
    for (const k of qc.cidKeys) if (this.byCid.get(k) === qc) this.byCid.delete(k);
    qc.cidKeys.clear();
    this.handshakeFailed(qc, "closed");
    qc.dispatch({ type: "closed", errorCode: 0, reason: "closed", remote: false, application: false });
  }

  private sendRaw(datagrams: Uint8Array[], port: number, host: string): void {
    if (this.closedEndpoint) return;
    if (this.gsoSegmentBytes >= 0) return this.sendSegmented(datagrams, port, host);
    const flat: (Uint8Array | number | string)[] = [];
    for (const d of datagrams) flat.push(d, port, host);
    if (this.pendingOut.length) {
      this.pendingOut.push(...flat);
      return;
    }
    this.pendingOut = this.sendFlat(flat);
  }

  /**
   * Sends (datagram, port, host) triples with sendMany and returns what must wait for
   * `drain`. sendMany stops at a datagram the kernel refuses outright (EMSGSIZE: above
   * the path MTU with the don't-fragment bit set, e.g. a path MTU probe) and reports
   * fewer sent, like a full socket; the head is therefore tried alone: if it throws it
   * is dropped (loss detection treats it as lost) instead of blocking the queue for good.
   */
  private sendFlat(flat: (Uint8Array | number | string)[]): (Uint8Array | number | string)[] {
    let rest = flat;
    while (rest.length) {
      const sent = this.trySend(() => this.socket.sendMany(rest));
      if (sent === null || sent * 3 >= rest.length) return [];
      rest = rest.slice(sent * 3);
      try {
        if (!this.socket.send(rest[0] as Uint8Array, rest[1] as number, rest[2] as string)) return rest;
      } catch {
        this.stats.datagramsRefused++;
      }
      rest = rest.slice(3);
    }
    return rest;
  }

  /** Runs a socket send; a synchronous socket error counts as sent (QUIC treats it as loss). */
  private trySend<T>(fn: () => T): T | null {
    try {
      return fn();
    } catch {
      this.stats.socketErrors++;
      return null;
    }
  }

  /**
   * With segmentation offload: a run of datagrams of one size (the last may be
   * shorter) that lie back to back in one buffer — what `Connection.send` carves
   * from its arena for a burst — goes out as one send, which the kernel splits into
   * those datagrams; quic-go does the same. Per datagram this is a fraction of a
   * sendMany entry's cost. The socket's segment size is changed with setsockopt only
   * when a run's size differs from the last one; a lone datagram larger than the
   * current size (a path MTU probe) turns segmentation off first, so it is never split.
   */
  private sendSegmented(datagrams: Uint8Array[], port: number, host: string): void {
    const waiting = this.pendingGso.length > 0;
    const q = this.pendingGso;
    for (let i = 0; i < datagrams.length;) {
      const first = datagrams[i]!;
      const seg = first.length;
      const runMax = Math.min(GSO_SEGMENTS_MAX, Math.floor(GSO_BYTES_MAX / Math.max(1, seg)));
      let j = i + 1;
      let end = first.byteOffset + seg;
      while (j < datagrams.length && j - i < runMax) {
        const d = datagrams[j]!;
        if (d.buffer !== first.buffer || d.byteOffset !== end || d.length > seg || d.length === 0) break;
        end += d.length;
        j++;
        if (d.length < seg) break; // only the last segment may be shorter
      }
      const count = j - i;
      q.push({ buf: count === 1 ? first : new Uint8Array(first.buffer, first.byteOffset, end - first.byteOffset), seg: count === 1 ? 0 : seg, count, port, host });
      i = j;
    }
    if (!waiting) this.flushSegmented();
  }

  /** Sends queued segmented sends until the socket is full (then `drain` resumes). */
  private flushSegmented(): void {
    const q = this.pendingGso;
    let k = 0;
    for (; k < q.length; k++) {
      const s = q[k]!;
      const need = s.seg > 0 ? s.seg : s.buf.length > this.gsoSegmentBytes && this.gsoSegmentBytes > 0 ? 0 : this.gsoSegmentBytes;
      if (need !== this.gsoSegmentBytes) {
        if (!setUdpSegment(this.socket, need)) return this.abandonSegmentation(q.slice(k));
        this.gsoSegmentBytes = need;
      }
      let sent: boolean;
      try {
        sent = this.socket.send(s.buf, s.port, s.host);
      } catch {
        // A lone datagram the kernel refuses (EMSGSIZE, e.g. a probe above the path
        // MTU) is dropped and counted, as without offload. A refused run means the
        // kernel will not segment for us here: send datagram by datagram from now on.
        if (s.count === 1) {
          this.stats.datagramsRefused++;
          continue;
        }
        return this.abandonSegmentation(q.slice(k));
      }
      if (!sent) break;
    }
    this.pendingGso = k >= q.length ? [] : q.slice(k);
  }

  /** Stops using segmentation offload; `rest` goes out datagram by datagram. */
  private abandonSegmentation(rest: GsoSend[]): void {
    setUdpSegment(this.socket, 0);
    this.gsoSegmentBytes = -1;
    this.pendingGso = [];
    for (const s of rest) {
      const parts: Uint8Array[] = [];
      if (s.count === 1) parts.push(s.buf);
      else for (let o = 0; o < s.buf.length; o += s.seg) parts.push(s.buf.subarray(o, Math.min(s.buf.length, o + s.seg)));
      this.sendRaw(parts, s.port, s.host);
    }
  }

  private drainPending(): void {
    if (this.pendingGso.length && !this.closedEndpoint) this.flushSegmented();
    if (!this.pendingOut.length || this.closedEndpoint) return;
    const flat = this.pendingOut;
    this.pendingOut = [];
    this.pendingOut = this.sendFlat(flat);
  }

  /** Closes every connection (CONNECTION_CLOSE is sent best-effort) and the socket. */
  close(): void {
    if (this.closedEndpoint) return;
    for (const qc of this.connections) {
      qc.conn.close(0, "endpoint closing");
      for (const d of qc.conn.send(this.clock.nowMs())) this.trySend(() => this.socket.send(d, qc.remotePort, qc.remoteHost));
      if (qc.timer !== null) this.clock.clearTimer(qc.timer);
      if (qc.handshakeTimer !== null) this.clock.clearTimer(qc.handshakeTimer);
      this.handshakeFailed(qc, "endpoint_closed");
      qc.dispatch({ type: "closed", errorCode: 0, reason: "endpoint closed", remote: false, application: true });
    }
    this.metrics?.sources.delete(this);
    this.halfOpen.clear();
    this.connections.clear();
    this.byCid.clear();
    this.closedEndpoint = true;
    this.socket.close();
  }
}

/** One send with segmentation offload: `count` datagrams of `seg` bytes back to back in `buf` (seg 0: one datagram). */
interface GsoSend {
  buf: Uint8Array;
  seg: number;
  count: number;
  port: number;
  host: string;
}

/** Segments per offloaded send (the kernel's UDP_MAX_SEGMENTS is 64 before Linux 6.9, 128 after). */
const GSO_SEGMENTS_MAX = 64;
/** Bytes per offloaded send: the largest IPv4 UDP payload (45 datagrams of 1452 bytes). */
const GSO_BYTES_MAX = 65_507;

/** Whether the 8-byte destination CID of the short-header datagram `buf` is `cid`. */
function sameCid(buf: Uint8Array, cid: Uint8Array): boolean {
  return buf[1] === cid[0] && buf[2] === cid[1] && buf[3] === cid[2] && buf[4] === cid[3] &&
    buf[5] === cid[4] && buf[6] === cid[5] && buf[7] === cid[6] && buf[8] === cid[7];
}

/**
 * Map key for a connection ID (one char per byte; our own 8-byte IDs take the fast
 * path). Reads `bytes` at `at` in place: a subarray of each received datagram costs
 * the engine an extra buffer object per packet.
 */
function cidKey(buf: Uint8Array, at = 0, bytes = buf.length): string {
  if (bytes === 8) return String.fromCharCode(buf[at]!, buf[at + 1]!, buf[at + 2]!, buf[at + 3]!, buf[at + 4]!, buf[at + 5]!, buf[at + 6]!, buf[at + 7]!);
  let s = "";
  for (let i = 0; i < bytes; i++) s += String.fromCharCode(buf[at + i]!);
  return s;
}

/** Failure reason of a handshake that ended with this close: who closed, and the RFC 9000 name. */
function closeReason(e: Extract<ConnectionEvent, { type: "closed" }>): string {
  if (e.reason === "idle timeout" && !e.remote) return "idle_timeout";
  if (e.application) return e.remote ? "peer_closed" : "closed";
  const name = (transportErrorName(e.errorCode) ?? "unknown").toLowerCase();
  return e.remote ? `peer_${name}` : name;
}
