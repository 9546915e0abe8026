/**
 * A real UDP proxy on 127.0.0.1 that impairs traffic between QUIC endpoints:
 * drops, duplicates, delays and reorders datagrams at configurable rates, decided
 * by a seeded PRNG (one stream per direction, so a run is repeatable for the same
 * packet sequence). Queues are bounded; everything it does is counted.
 *
 * Topology: clients send to `proxy.port`; each client address gets its own
 * upstream socket toward the server (so the server sees one peer per client), and
 * the server's replies are relayed back through the client-facing socket.
 */

export interface ImpairmentOptions {
  /** Probability a datagram is dropped. */
  lossRate?: number;
  /** Probability a forwarded datagram is sent twice. */
  duplicateRate?: number;
  /** Probability a datagram is held back by `reorderDelayMs` so later ones overtake it. */
  reorderRate?: number;
  reorderDelayMs?: number;
  /** Uniform extra delay per datagram, [min, max] ms; 0/0 forwards synchronously. */
  delayMsMin?: number;
  delayMsMax?: number;
  /**
   * Datagrams larger than this are dropped (counted in `oversize`), like a link with a
   * smaller MTU that does not fragment; default: no limit. `LossyProxy.setMaxDatagramBytes`
   * changes it while running (a path whose MTU shrinks: a black hole for larger packets).
   */
  maxDatagramBytes?: number;
}

export interface LossyProxyOptions extends ImpairmentOptions {
  serverPort: number;
  seed: number;
  /** Datagrams waiting on a timer, per direction; beyond it they are dropped (counted as overflow). */
  queueDatagramsMax?: number;
  /** Distinct client addresses served; datagrams from more are dropped. */
  clientsMax?: number;
  /** Separate impairments for server -> client (defaults to the same as client -> server). */
  toClient?: ImpairmentOptions;
  /**
   * Decides per datagram whether traffic with this client may pass at all (both
   * directions), before impairment; a refused one is counted in `gated`. The chaos
   * harness cuts partitions with it.
   */
  gate?: (clientPort: number, clientAddress: string) => boolean;
  /** Sees every datagram as received, before impairment (e.g. to record a session for fuzzing). */
  tap?: (direction: "toServer" | "toClient", data: Uint8Array) => void;
}

export interface DirectionCounters {
  received: number;
  forwarded: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  delayed: number;
  overflow: number;
  /** Dropped for being larger than `maxDatagramBytes`. */
  oversize: number;
}

const queueDatagramsMaxDefault = 4096;
const clientsMaxDefault = 2048;
const loopback = "127.0.0.1";

/** mulberry32: a small seeded PRNG (test-only; not for keys). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` bytes from seededRandom(seed): payloads a test can regenerate to compare. */
export function seededBytes(n: number, seed: number): Uint8Array {
  const r = seededRandom(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() * 256) | 0;
  return out;
}

const newCounters = (): DirectionCounters => ({ received: 0, forwarded: 0, dropped: 0, duplicated: 0, reordered: 0, delayed: 0, overflow: 0, oversize: 0 });

type Send = (data: Uint8Array) => void;

/** One direction's impairment pipeline. */
class Direction {
  readonly counters = newCounters();
  private readonly random: () => number;
  private pending = 0;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(seed: number, private readonly opts: Required<ImpairmentOptions>, private readonly queueMax: number) {
    this.random = seededRandom(seed);
  }

  handle(data: Uint8Array, send: Send): void {
    const c = this.counters;
    c.received++;
    // Draw every decision for every datagram so the PRNG stream depends only on the datagram count.
    const dropDraw = this.random();
    const dupDraw = this.random();
    const reorderDraw = this.random();
    const delayDraw = this.random();
    if (data.length > this.opts.maxDatagramBytes) {
      c.oversize++;
      return;
    }
    if (dropDraw < this.opts.lossRate) {
      c.dropped++;
      return;
    }
    const copies = dupDraw < this.opts.duplicateRate ? 2 : 1;
    if (copies === 2) c.duplicated++;
    let delayMs = this.opts.delayMsMin + delayDraw * (this.opts.delayMsMax - this.opts.delayMsMin);
    if (reorderDraw < this.opts.reorderRate) {
      c.reordered++;
      delayMs += this.opts.reorderDelayMs;
    }
    // The payload buffer may be reused by the socket: copy before deferring.
    const copy = Uint8Array.from(data);
    for (let i = 0; i < copies; i++) this.schedule(copy, delayMs, send);
  }

  private schedule(data: Uint8Array, delayMs: number, send: Send): void {
    const c = this.counters;
    if (delayMs <= 0) {
      c.forwarded++;
      send(data);
      return;
    }
    if (this.pending >= this.queueMax) {
      c.overflow++;
      return;
    }
    this.pending++;
    c.delayed++;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.pending--;
      c.forwarded++;
      send(data);
    }, delayMs);
    this.timers.add(timer);
  }

  setMaxDatagramBytes(bytes: number): void {
    this.opts.maxDatagramBytes = bytes;
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.pending = 0;
  }
}

function fill(o: ImpairmentOptions): Required<ImpairmentOptions> {
  return {
    lossRate: o.lossRate ?? 0,
    duplicateRate: o.duplicateRate ?? 0,
    reorderRate: o.reorderRate ?? 0,
    reorderDelayMs: o.reorderDelayMs ?? 5,
    delayMsMin: o.delayMsMin ?? 0,
    delayMsMax: o.delayMsMax ?? o.delayMsMin ?? 0,
    maxDatagramBytes: o.maxDatagramBytes ?? Infinity,
  };
}

type UdpSocket = Bun.udp.Socket<"buffer">;

export class LossyProxy {
  readonly toServer: Direction;
  readonly toClient: Direction;
  private readonly upstreams = new Map<string, UdpSocket>();
  private closed = false;
  clientsRefused = 0;
  /** Sends or receives the OS refused (e.g. ICMP port unreachable after a peer closed). */
  socketErrors = 0;
  /** Datagrams the gate refused. */
  gated = 0;
  private serverPort: number;

  private constructor(private readonly front: UdpSocket, private readonly opts: LossyProxyOptions) {
    this.serverPort = opts.serverPort;
    const queueMax = opts.queueDatagramsMax ?? queueDatagramsMaxDefault;
    this.toServer = new Direction(opts.seed, fill(opts), queueMax);
    this.toClient = new Direction(opts.seed ^ 0x5bd1e995, fill(opts.toClient ?? opts), queueMax);
  }

  /** Starts a proxy on 127.0.0.1 (ephemeral port) in front of 127.0.0.1:serverPort. */
  static async start(opts: LossyProxyOptions): Promise<LossyProxy> {
    let proxy: LossyProxy | undefined;
    const front = await Bun.udpSocket({
      hostname: loopback,
      port: 0,
      socket: {
        data(_s, data, port, address) {
          proxy?.fromClient(data, port, address);
        },
        // Without an error handler, a pending ICMP error kills the process.
        error() {
          if (proxy) proxy.socketErrors++;
        },
      },
    });
    proxy = new LossyProxy(front, opts);
    return proxy;
  }

  get port(): number {
    return this.front.port;
  }

  /** Both directions drop datagrams larger than `bytes` from now on (Infinity: no limit). */
  setMaxDatagramBytes(bytes: number): void {
    this.toServer.setMaxDatagramBytes(bytes);
    this.toClient.setMaxDatagramBytes(bytes);
  }

  /** Forwards to another server port from now on (the server restarted elsewhere). */
  retarget(serverPort: number): void {
    this.serverPort = serverPort;
  }

  private passes(clientPort: number, clientAddress: string): boolean {
    if (!this.opts.gate || this.opts.gate(clientPort, clientAddress)) return true;
    this.gated++;
    return false;
  }

  counters(): { toServer: DirectionCounters; toClient: DirectionCounters } {
    return { toServer: { ...this.toServer.counters }, toClient: { ...this.toClient.counters } };
  }

  private fromClient(data: Uint8Array, port: number, address: string): void {
    if (this.closed) return;
    const key = `${address}:${port}`;
    this.opts.tap?.("toServer", data);
    if (!this.passes(port, address)) return;
    const upstream = this.upstreams.get(key);
    if (upstream) {
      this.toServer.handle(data, (d) => this.sendUp(upstream, d));
      return;
    }
    if (!this.opening.has(key) && this.upstreams.size + this.opening.size >= (this.opts.clientsMax ?? clientsMaxDefault)) {
      this.clientsRefused++;
      return;
    }
    // Open the upstream socket, then forward; datagrams arriving meanwhile queue on the promise.
    const opening = this.openUpstream(port, address);
    void opening.then((sock) => {
      if (sock) this.toServer.handle(data, (d) => this.sendUp(sock, d));
    });
  }

  private readonly opening = new Map<string, Promise<UdpSocket | undefined>>();

  private openUpstream(clientPort: number, clientAddress: string): Promise<UdpSocket | undefined> {
    const key = `${clientAddress}:${clientPort}`;
    const existing = this.opening.get(key);
    if (existing) return existing;
    const p = Bun.udpSocket({
      hostname: loopback,
      port: 0,
      socket: {
        data: (_s, data) => {
          if (this.closed) return;
          this.opts.tap?.("toClient", data);
          if (!this.passes(clientPort, clientAddress)) return;
          this.toClient.handle(data, (d) => {
            if (!this.closed) this.trySend(() => this.front.send(d, clientPort, clientAddress));
          });
        },
        error: () => {
          this.socketErrors++;
        },
      },
    }).then((sock) => {
      if (this.closed) {
        sock.close();
        return undefined;
      }
      this.upstreams.set(key, sock);
      this.opening.delete(key);
      return sock;
    });
    this.opening.set(key, p);
    return p;
  }

  private sendUp(sock: UdpSocket, data: Uint8Array): void {
    if (!this.closed && !sock.closed) this.trySend(() => sock.send(data, this.serverPort, loopback));
  }

  /** A send can throw ECONNREFUSED once the destination port closed: count it, carry on. */
  private trySend(send: () => void): void {
    try {
      send();
    } catch {
      this.socketErrors++;
    }
  }

  /** Number of client addresses with an upstream socket. */
  get clients(): number {
    return this.upstreams.size;
  }

  close(): void {
    this.closed = true;
    this.toServer.close();
    this.toClient.close();
    for (const s of this.upstreams.values()) s.close();
    this.upstreams.clear();
    this.front.close();
  }
}
