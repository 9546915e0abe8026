/**
 * Peer sessions over links: hello handshake (protocol version, genesis commitment,
 * validator identity), framing, per-peer rate limits, misbehavior scores and bans.
 * What the messages mean is the node's business (the `onMessage` callback).
 */
import { isPhantomError } from "../../errors.ts";
import { equalBytes, toHex } from "../../crypto/bytes.ts";
import { FrameDecoder, decodeMessage, encodeMessage, frame, P2P_PROTOCOL_VERSION, type P2pMessage } from "./messages.ts";
import type { Link } from "./link.ts";
import type { P2pMetrics } from "./metrics.ts";

export const peerMessagesPerSecondMax = 2_000;
export const peerBurstMessagesMax = 4_000;
export const banScore = 100;
export const banDurationMs = 10 * 60 * 1000;
export const helloTimeoutMs = 10_000;
/** Unanswered requests a session remembers for the latency histogram (oldest forgotten first). */
export const pendingRequestsMax = 1_024;

export const PENALTY = {
  malformed: 25,
  invalidEvent: 20,
  rateLimited: 5,
  protocol: 50,
} as const;

export interface PeerInfo {
  validator: number;
  remote: string;
  score: number;
  highestSeq: number[];
}

/**
 * Runs one callback of a connection; if it throws, the boundary calls `close(reason)`
 * for that connection and decides what else the exception means (the node passes
 * FailStop.connection, which fail-stops on a store write failure).
 */
export type CallbackBoundary = (where: string, close: (reason: string) => void, fn: () => void) => void;

/** The close reason when a handler throws and no boundary was given. */
export const HANDLER_ERROR_CODE = "P2P_HANDLER_ERROR";
/** The `peer_dropped` code when the transport closed a ready session (the peer is gone). */
export const LINK_CLOSED_CODE = "P2P_LINK_CLOSED";

export interface PeerManagerOptions {
  commitment: Uint8Array;
  myValidator: number;
  /** Committee public keys by index (a peer must be one of them). */
  committee: readonly Uint8Array[];
  highestSeq(): number[];
  onMessage(peer: Peer, message: P2pMessage): void;
  onPeerReady?(peer: Peer): void;
  /** Monotonic milliseconds (injected; I/O scheduling only). */
  now(): number;
  /** Close a connection that has not completed the hello exchange by then (default helloTimeoutMs). */
  helloTimeoutMs?: number;
  metrics?: P2pMetrics;
  log?(line: Record<string, unknown>): void;
  /** Where frame handlers and the hello timer run (default: close the connection on any exception). */
  boundary?: CallbackBoundary;
}

export class Peer {
  validator = -1;
  score = 0;
  highestSeq: number[] = [];
  ready = false;
  /** Set once the session is closed: later frames are dropped unread and never scored. */
  closed = false;
  private tokens = peerBurstMessagesMax;
  private lastRefillMs: number;
  private readonly frames = new FrameDecoder();
  /** Outbox: end offsets (in bytes handed to the link) of messages not yet acknowledged. */
  private readonly outboxEnds: number[] = [];
  private outboxHead = 0;
  private sentBytes = 0;
  /** Requests by event id (get_payload, get_events) awaiting their answer: id (hex) -> kind and when sent (ms). */
  private readonly pendingRequests = new Map<string, { kind: "get_payload" | "get_events"; at: number }>();
  private rttSamplesSeen = 0;

  constructor(readonly link: Link, private readonly mgr: PeerManager) {
    this.lastRefillMs = mgr.opts.now();
  }

  send(message: P2pMessage): void {
    const metrics = this.mgr.opts.metrics;
    if (this.closed) return void metrics?.drops.inc({ reason: "session_closed" });
    const bytes = frame(encodeMessage(message));
    metrics?.outbound.inc({ kind: message.kind });
    metrics?.outboundBytes.inc(bytes.length);
    metrics?.outboxEnqueued.inc();
    if (message.kind === "get_payload") this.rememberRequest(toHex(message.eventId), "get_payload");
    if (message.kind === "get_events") for (const id of message.ids) this.rememberRequest(toHex(id), "get_events");
    this.link.send(bytes);
    this.sentBytes += bytes.length;
    this.outboxEnds.push(this.sentBytes);
    this.pollOutbox();
  }

  private rememberRequest(key: string, kind: "get_payload" | "get_events"): void {
    if (this.pendingRequests.has(key)) return; // a retry: the latency runs from the first ask
    if (this.pendingRequests.size >= pendingRequestsMax) this.pendingRequests.delete(this.pendingRequests.keys().next().value!);
    this.pendingRequests.set(key, { kind, at: this.mgr.opts.now() });
  }

  /**
   * The peer served event `id` (its payload, or the event in an `events` message; the node
   * calls this once it decoded the event): a request for it, if any, is answered and timed.
   */
  noteServed(id: Uint8Array): void {
    if (this.pendingRequests.size === 0) return;
    const key = toHex(id);
    const pending = this.pendingRequests.get(key);
    if (pending === undefined) return;
    this.pendingRequests.delete(key);
    this.mgr.opts.metrics?.requestLatency.observe({ kind: pending.kind }, Math.max(0, this.mgr.opts.now() - pending.at) / 1000);
  }

  /** Counts the messages whose last byte the peer acknowledged as dequeued. */
  pollOutbox(): void {
    if (this.closed) return;
    const acked = this.sentBytes - (this.link.bufferedBytes?.() ?? 0);
    const start = this.outboxHead;
    while (this.outboxHead < this.outboxEnds.length && this.outboxEnds[this.outboxHead]! <= acked) this.outboxHead++;
    if (this.outboxHead > start) this.mgr.opts.metrics?.outboxDequeued.inc(this.outboxHead - start);
    if (this.outboxHead > 1_024 && this.outboxHead * 2 > this.outboxEnds.length) {
      this.outboxEnds.splice(0, this.outboxHead);
      this.outboxHead = 0;
    }
  }

  /** Messages still in the outbox (handed to the link, not acknowledged). */
  outboxLength(): number {
    return this.outboxEnds.length - this.outboxHead;
  }

  /** Latency samples: the transport's new RTT sample for this peer, a request's answer. */
  private observeLatency(message: P2pMessage | null): void {
    const metrics = this.mgr.opts.metrics;
    if (!metrics) return;
    const rtt = this.link.rttSample?.();
    if (rtt && rtt.count !== this.rttSamplesSeen && this.ready) {
      this.rttSamplesSeen = rtt.count;
      metrics.peerRtt.observe({ validator: String(this.validator) }, rtt.latestMs / 1000);
    }
    if (message?.kind === "payload") this.noteServed(message.eventId);
  }

  /** Returns false when the peer is over its rate (the message is dropped). */
  takeToken(): boolean {
    const now = this.mgr.opts.now();
    const refill = ((now - this.lastRefillMs) / 1000) * peerMessagesPerSecondMax;
    this.tokens = Math.min(peerBurstMessagesMax, this.tokens + refill);
    this.lastRefillMs = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  receive(bytes: Uint8Array): void {
    if (this.closed) return; // bytes still in flight for a finished session: never read
    this.mgr.opts.metrics?.inboundBytes.inc(bytes.length);
    this.pollOutbox(); // acknowledgements usually arrive with the peer's data
    this.observeLatency(null);
    let frames: Uint8Array[];
    try {
      frames = this.frames.push(bytes);
    } catch (e) {
      return this.mgr.misbehaved(this, PENALTY.protocol, isPhantomError(e) ? e.code : "FRAME_ERROR", true);
    }
    for (const [i, f] of frames.entries()) {
      // A fatal close (or a handler that threw) ends the session mid-batch: the rest
      // of the batch is dropped, not scored (a restart race must never add up to a ban).
      if (this.closed) return void this.mgr.opts.metrics?.drops.inc({ reason: "session_closed" }, frames.length - i);
      let message: P2pMessage;
      try {
        message = decodeMessage(f);
      } catch (e) {
        this.mgr.misbehaved(this, PENALTY.malformed, isPhantomError(e) ? e.code : "DECODE_ERROR");
        continue;
      }
      this.mgr.opts.metrics?.inbound.inc({ kind: message.kind });
      this.observeLatency(message);
      if (!this.takeToken()) {
        this.mgr.opts.metrics?.drops.inc({ reason: "rate_limited" });
        this.mgr.misbehaved(this, PENALTY.rateLimited, "RATE_LIMITED");
        continue;
      }
      this.mgr.runHandler(this, "p2p_frame", () => {
        if (!this.ready) this.mgr.handshake(this, message);
        else this.mgr.opts.onMessage(this, message);
      });
    }
  }
}

export class PeerManager {
  private readonly sessions = new Set<Peer>();
  /** Ban list by validator index or remote address -> until (ms). */
  private readonly bans = new Map<string, number>();

  private readonly pollOutboxes = () => {
    for (const p of this.sessions) p.pollOutbox();
  };

  constructor(readonly opts: PeerManagerOptions) {
    opts.metrics?.outboxPollers.add(this.pollOutboxes);
  }

  attach(link: Link): Peer | null {
    const key = link.peerPublicKey ? toHex(link.peerPublicKey) : link.remote;
    const until = this.bans.get(key);
    if (until !== undefined && until > this.opts.now()) {
      link.close("banned");
      return null;
    }
    const peer = new Peer(link, this);
    this.sessions.add(peer);
    // Hello goes out before any buffered input is read: handling the peer's hello may
    // already send messages, and ours must be the first on the wire.
    peer.send({ kind: "hello", version: P2P_PROTOCOL_VERSION, commitment: this.opts.commitment, validator: this.opts.myValidator, highestSeq: this.opts.highestSeq() });
    link.onClose((reason) => this.detach(peer, reason));
    link.onData((b) => peer.receive(b));
    // A connection that never says hello would hold a session slot forever.
    const timer = setTimeout(() => this.runHandler(peer, "p2p_hello_timer", () => {
      if (!peer.ready && !peer.closed) this.reject(peer, "P2P_HELLO_TIMEOUT", `no hello within ${this.opts.helloTimeoutMs ?? helloTimeoutMs} ms`);
    }), this.opts.helloTimeoutMs ?? helloTimeoutMs);
    timer.unref?.();
    return peer;
  }

  /** Runs a handler of `peer`'s session inside the boundary; a throw closes that session. */
  runHandler(peer: Peer, where: string, fn: () => void): void {
    const close = (reason: string) => this.drop(peer, reason);
    if (this.opts.boundary) return this.opts.boundary(where, close, fn);
    try {
      fn();
    } catch (e) {
      close(HANDLER_ERROR_CODE);
      this.opts.log?.({ type: "handler_error", where, message: e instanceof Error ? e.message : String(e) });
    }
  }

  handshake(peer: Peer, m: P2pMessage): void {
    if (m.kind !== "hello") {
      // The transport already proved a committee key: out-of-order frames from it come
      // from a restart or reconnect race, not an attack. Close, never score (no ban).
      if (this.isCommitteeKey(peer.link.peerPublicKey)) return this.drop(peer, "P2P_EXPECTED_HELLO");
      return this.misbehaved(peer, PENALTY.protocol, "P2P_EXPECTED_HELLO", true);
    }
    if (!equalBytes(m.commitment, this.opts.commitment)) return this.reject(peer, "P2P_GENESIS_MISMATCH", "peer runs a different genesis");
    const key = this.opts.committee[m.validator];
    if (key === undefined || m.validator === this.opts.myValidator) return this.reject(peer, "P2P_NOT_A_VALIDATOR", `peer claims validator ${m.validator}`);
    if (peer.link.peerPublicKey && !equalBytes(peer.link.peerPublicKey, key)) return this.reject(peer, "P2P_IDENTITY_MISMATCH", "transport key differs from the claimed validator's key");
    // A second session with the same validator replaces the first: that validator has
    // restarted (its old connection is dead but not yet timed out), or its old path
    // broke. The newcomer proved the key in the transport handshake, so this cannot be
    // used to evict an honest peer; without a transport key it is refused instead.
    for (const other of this.sessions) {
      if (other !== peer && other.ready && other.validator === m.validator) {
        if (!peer.link.peerPublicKey) return this.reject(peer, "P2P_DUPLICATE_PEER", `already connected to validator ${m.validator}`);
        this.opts.metrics?.errors.inc({ code: "P2P_PEER_REPLACED" });
        this.opts.log?.({ type: "peer_replaced", validator: m.validator, old: other.link.remote, new: peer.link.remote });
        this.close(other, "P2P_PEER_REPLACED");
      }
    }
    peer.validator = m.validator;
    peer.highestSeq = m.highestSeq;
    peer.ready = true;
    this.opts.metrics?.peers.set(this.readyPeers().length);
    this.opts.log?.({ type: "peer_connected", validator: m.validator, remote: peer.link.remote });
    this.opts.onPeerReady?.(peer);
  }

  private reject(peer: Peer, code: string, message: string): void {
    this.opts.metrics?.errors.inc({ code });
    this.opts.log?.({ type: "peer_rejected", code, message, remote: peer.link.remote });
    this.close(peer, code);
  }

  /** Closes a session without scoring it (counted and logged as `peer_dropped`). */
  private drop(peer: Peer, code: string): void {
    if (peer.closed) return;
    this.opts.metrics?.errors.inc({ code });
    this.opts.log?.({ type: "peer_dropped", code, score: peer.score, validator: peer.validator, remote: peer.link.remote });
    this.close(peer, code);
  }

  /** Every session close goes through here: from now on its frames are dropped unread. */
  private close(peer: Peer, reason: string): void {
    peer.pollOutbox();
    peer.closed = true;
    peer.ready = false;
    peer.link.close(reason);
  }

  private isCommitteeKey(key: Uint8Array | null): boolean {
    return key !== null && this.opts.committee.some((k) => equalBytes(k, key));
  }

  /** Adds to a peer's misbehavior score; bans it at banScore. A closed session is not scored. */
  misbehaved(peer: Peer, points: number, code: string, fatal = false): void {
    if (peer.closed) return;
    this.opts.metrics?.errors.inc({ code });
    peer.score += points;
    if (peer.score >= banScore || fatal) {
      const key = peer.link.peerPublicKey ? toHex(peer.link.peerPublicKey) : peer.link.remote;
      if (peer.score >= banScore) {
        this.bans.set(key, this.opts.now() + banDurationMs);
        this.opts.metrics?.bans.inc();
      }
      this.opts.log?.({ type: "peer_dropped", code, score: peer.score, validator: peer.validator });
      this.close(peer, code);
    }
  }

  /**
   * The link closed. When the transport closed it (the peer went away: idle timeout,
   * its close, a send-buffer overflow) rather than we did, the loss is counted and
   * logged here as `peer_dropped` with code P2P_LINK_CLOSED: within the QUIC idle
   * timeout of a peer's death, not only when a later status call notices it.
   */
  private detach(peer: Peer, reason: string): void {
    if (!peer.closed && peer.ready) {
      this.opts.metrics?.errors.inc({ code: LINK_CLOSED_CODE });
      this.opts.log?.({ type: "peer_dropped", code: LINK_CLOSED_CODE, reason, validator: peer.validator, remote: peer.link.remote });
    }
    peer.pollOutbox(); // what was acknowledged before the close left the outbox
    peer.closed = true;
    peer.ready = false;
    this.sessions.delete(peer);
    const unsent = peer.outboxLength();
    if (unsent > 0) this.opts.metrics?.drops.inc({ reason: "outbox_closed" }, unsent);
    this.opts.metrics?.peers.set(this.readyPeers().length);
  }

  readyPeers(): Peer[] {
    return [...this.sessions].filter((p) => p.ready).sort((a, b) => a.validator - b.validator);
  }

  isConnected(validator: number): boolean {
    return this.readyPeers().some((p) => p.validator === validator);
  }

  broadcast(message: P2pMessage, except?: Peer): void {
    for (const p of this.readyPeers()) if (p !== except) p.send(message);
  }

  closeAll(reason: string): void {
    this.opts.metrics?.outboxPollers.delete(this.pollOutboxes);
    for (const p of [...this.sessions]) this.close(p, reason);
  }

  info(): PeerInfo[] {
    return this.readyPeers().map((p) => ({ validator: p.validator, remote: p.link.remote, score: p.score, highestSeq: p.highestSeq }));
  }
}

