/**
 * Flow control (RFC 9000 §4): credit on the send and receive side, at stream and
 * connection level, and stream-count limits. Pure: decisions take injected times.
 *
 * - `ReceiveWindow`: enforces the limit we advertised (FLOW_CONTROL_ERROR past it),
 *   decides when to send MAX_DATA / MAX_STREAM_DATA (when less than half the window
 *   is left) and optionally grows the window when updates come faster than 2 RTTs
 *   (auto-tuning, up to a named maximum).
 * - `SendWindow`: the peer's limit, how much may be sent, and when to say
 *   DATA_BLOCKED / STREAM_DATA_BLOCKED (once per limit).
 * - `PeerStreamLimit` / `LocalStreamLimit`: MAX_STREAMS accounting for streams the
 *   peer opens (STREAM_LIMIT_ERROR past it) and streams we open (STREAMS_BLOCKED).
 */
import { invariant } from "../../errors.ts";
import { QuicError } from "./errors.ts";
import { streamsCountMax } from "./frames.ts";

/** Send an update when the unused credit falls below this fraction of the window. */
export const windowUpdateThreshold = 0.5;
/** Auto-tuning doubles the window if the previous update was less than this many RTTs ago. */
export const autoTuneRttMultiple = 2;

export interface ReceiveWindowOptions {
  /** Initial window (the transport parameter we advertised). */
  windowBytes: number;
  /** Largest window auto-tuning may reach; equal to windowBytes disables it. */
  windowBytesMax?: number;
  /** "stream" or "connection": selects the frame type named in errors. */
  level: "stream" | "connection";
}

export class ReceiveWindow {
  /** The limit the peer was last told (MAX_DATA / MAX_STREAM_DATA value). */
  limit: number;
  /** Highest offset (stream) or total bytes (connection) received so far. */
  received = 0;
  /** Bytes the application has consumed. */
  consumed = 0;
  windowBytes: number;
  readonly windowBytesMax: number;
  private readonly level: "stream" | "connection";
  private lastUpdateMs: number | undefined;

  constructor(opts: ReceiveWindowOptions) {
    invariant(opts.windowBytes > 0, "receive window must be positive");
    this.windowBytes = opts.windowBytes;
    this.windowBytesMax = Math.max(opts.windowBytes, opts.windowBytesMax ?? opts.windowBytes);
    this.limit = opts.windowBytes;
    this.level = opts.level;
  }

  /**
   * Stream level: a frame reached `endOffset`. Returns how many new bytes that adds
   * (to feed the connection window). Past the limit: FLOW_CONTROL_ERROR (§4.1).
   */
  onHighestOffset(endOffset: number): number {
    if (endOffset > this.limit) this.violation(endOffset);
    const added = Math.max(0, endOffset - this.received);
    this.received += added;
    return added;
  }

  /** Connection level: `bytes` new bytes arrived (sum of stream increments). */
  onBytesReceived(bytes: number): void {
    invariant(bytes >= 0, "negative byte count");
    if (this.received + bytes > this.limit) this.violation(this.received + bytes);
    this.received += bytes;
  }

  private violation(reached: number): never {
    throw new QuicError("FLOW_CONTROL_ERROR", `${this.level} flow control limit ${this.limit} exceeded (${reached})`, {
      frameType: this.level === "stream" ? 0x08 : 0,
      details: { limit: this.limit, reached },
    });
  }

  /** The application read `bytes` bytes (or, for a reset stream, they count as read). */
  onConsumed(bytes: number): void {
    this.consumed += bytes;
    invariant(this.consumed <= this.received, "consumed more than received");
  }

  /** Whether a MAX_DATA / MAX_STREAM_DATA update should be sent now. */
  updateNeeded(): boolean {
    return this.limit - this.consumed < this.windowBytes * windowUpdateThreshold;
  }

  /**
   * If an update is needed, returns the new limit to advertise (and records it as
   * advertised); otherwise undefined. With auto-tuning, a second update within
   * 2 smoothed RTTs doubles the window (up to windowBytesMax).
   */
  takeUpdate(nowMs: number, smoothedRttMs: number): number | undefined {
    if (!this.updateNeeded()) return undefined;
    if (this.lastUpdateMs !== undefined && nowMs - this.lastUpdateMs < autoTuneRttMultiple * smoothedRttMs) {
      this.windowBytes = Math.min(this.windowBytesMax, this.windowBytes * 2);
    }
    this.lastUpdateMs = nowMs;
    this.limit = this.consumed + this.windowBytes;
    return this.limit;
  }

  /** Re-send value when the frame carrying the last update was lost. */
  get currentLimit(): number {
    return this.limit;
  }
}

export class SendWindow {
  /** Peer's limit (MAX_DATA / MAX_STREAM_DATA). */
  limit: number;
  /** Offset (stream) or total bytes (connection) sent so far. */
  sent = 0;
  private blockedReportedAt = -1;

  constructor(initialLimit: number) {
    this.limit = initialLimit;
  }

  /** Bytes that may still be sent under the peer's limit. */
  available(): number {
    return Math.max(0, this.limit - this.sent);
  }

  onSent(bytes: number): void {
    this.sent += bytes;
    invariant(this.sent <= this.limit, "sent past the peer's flow control limit");
  }

  /** MAX_DATA / MAX_STREAM_DATA from the peer; smaller values are ignored (§4.1). Returns whether it grew. */
  onMaxData(maximum: number): boolean {
    if (maximum <= this.limit) return false;
    this.limit = maximum;
    return true;
  }

  /**
   * If sending is blocked at the current limit and that was not yet reported,
   * returns the limit to put in DATA_BLOCKED / STREAM_DATA_BLOCKED (§4.1).
   */
  takeBlocked(): number | undefined {
    if (this.available() > 0 || this.blockedReportedAt === this.limit) return undefined;
    this.blockedReportedAt = this.limit;
    return this.limit;
  }

  /** The BLOCKED frame carrying `limit` was lost: allow reporting it again. */
  onBlockedLost(limit: number): void {
    if (this.blockedReportedAt === limit) this.blockedReportedAt = -1;
  }
}

/** Stream id bits (RFC 9000 §2.1). */
export function streamIndex(streamId: number): number {
  return Math.floor(streamId / 4);
}
/** The id of the `index`th stream of a kind. */
export function streamIdOf(index: number, bidi: boolean, clientInitiated: boolean): number {
  return index * 4 + (bidi ? 0 : 2) + (clientInitiated ? 0 : 1);
}

/**
 * Limit on streams the peer opens, one instance per direction (RFC 9000 §4.6).
 * Keeps `windowStreams` streams openable beyond the ones closed: each closed stream
 * lets MAX_STREAMS rise by one, sent when half the window has been used.
 */
export class PeerStreamLimit {
  /** MAX_STREAMS value advertised (count of streams the peer may open in total). */
  limit: number;
  /** Streams opened by the peer so far (highest index + 1). */
  opened = 0;
  closed = 0;

  constructor(readonly windowStreams: number) {
    invariant(windowStreams >= 0 && windowStreams <= streamsCountMax, "bad stream window");
    this.limit = windowStreams;
  }

  /**
   * A frame referenced this peer-initiated stream id. Returns the ids of streams
   * that become open (all lower unopened ones too, §3.2). Past the limit:
   * STREAM_LIMIT_ERROR (§4.6).
   */
  onPeerStream(streamId: number): number[] {
    const index = streamIndex(streamId);
    if (index >= this.limit) {
      throw new QuicError("STREAM_LIMIT_ERROR", `peer opened stream ${streamId} beyond MAX_STREAMS ${this.limit}`, { details: { streamId, limit: this.limit } });
    }
    const opened: number[] = [];
    const kindBits = streamId & 0x3;
    for (let i = this.opened; i <= index; i++) opened.push(i * 4 + kindBits);
    this.opened = Math.max(this.opened, index + 1);
    return opened;
  }

  onStreamClosed(): void {
    this.closed++;
    invariant(this.closed <= this.opened, "closed more streams than opened");
  }

  /** New MAX_STREAMS value to send, if at least half the window was consumed by closed streams. */
  takeUpdate(): number | undefined {
    const target = Math.min(streamsCountMax, this.closed + this.windowStreams);
    if (target - this.limit < Math.max(1, this.windowStreams * windowUpdateThreshold)) return undefined;
    this.limit = target;
    return target;
  }
}

/** Limit on streams we open, one instance per direction. */
export class LocalStreamLimit {
  /** Peer's MAX_STREAMS. */
  limit: number;
  opened = 0;
  private blockedReportedAt = -1;

  constructor(initialLimit: number) {
    this.limit = initialLimit;
  }

  /** MAX_STREAMS from the peer; smaller values are ignored (§4.6). */
  onMaxStreams(maximum: number): void {
    if (maximum > this.limit) this.limit = maximum;
  }

  /** The index of a new stream, or undefined when at the limit (send STREAMS_BLOCKED). */
  tryOpen(): number | undefined {
    if (this.opened >= this.limit) return undefined;
    return this.opened++;
  }

  /** Limit to report in STREAMS_BLOCKED, once per limit. */
  takeBlocked(): number | undefined {
    if (this.opened < this.limit || this.blockedReportedAt === this.limit) return undefined;
    this.blockedReportedAt = this.limit;
    return this.limit;
  }
}
