/**
 * Congestion control (RFC 9002 §7, Appendix B): NewReno with slow start,
 * congestion avoidance, a recovery period and persistent-congestion collapse; and
 * a token-bucket pacer (§7.7). Pure: every time is an injected ms number.
 *
 * CUBIC (RFC 9438) is offered on the same interface. Loss detection (recovery.ts) drives a controller through the
 * `CongestionController` interface, so CUBIC or others can be swapped in.
 */
import { invariant } from "../../errors.ts";

/** The maximum UDP payload QUIC assumes before path MTU discovery (RFC 9000 §14). */
export const maxDatagramBytesDefault = 1200;
/** RFC 9002 §7.2: initial window is min(10 * mds, max(14720, 2 * mds)). */
export const initialWindowPackets = 10;
export const initialWindowBytesFloor = 14_720;
/** RFC 9002 §7.2: minimum window is 2 * max_datagram_size. */
export const minimumWindowPackets = 2;
/** RFC 9002 §7.3.2: halve on a congestion event. */
export const lossReductionFactor = 0.5;
/** Unused window (in datagrams) still counted as "window-limited" (a send burst's worth). */
export const cwndLimitedSlackPackets = 3;

/**
 * RFC 9002 §7.8: the window grows only while it limits sending. It did if the bytes
 * in flight before this ACK filled it (up to a small burst), or, in slow start, more
 * than half of it. Without this check an application-limited sender's window grows
 * without bound and a later burst floods the path.
 */
export function wasCwndLimited(priorInFlight: number, congestionWindow: number, inSlowStart: boolean, maxDatagramBytes: number): boolean {
  if (priorInFlight >= congestionWindow) return true;
  if (inSlowStart && priorInFlight > congestionWindow / 2) return true;
  return congestionWindow - priorInFlight <= cwndLimitedSlackPackets * maxDatagramBytes;
}

/** What a controller needs to know about a packet that was acked, lost or discarded. */
export interface CongestionPacket {
  sentBytes: number;
  timeSentMs: number;
  inFlight: boolean;
}

/** RTT figures handed to the controller on each ACK. */
export interface RttSnapshot {
  latestRttMs: number;
  smoothedRttMs: number;
  minRttMs: number;
}

export interface CongestionController {
  readonly congestionWindow: number;
  readonly bytesInFlight: number;
  /**
   * Set by the sender when it has less to send than the window allows (RFC 9002 §7.8).
   * Controllers also detect an under-used window themselves (`wasCwndLimited`).
   */
  appLimited: boolean;
  onPacketSent(sentBytes: number, nowMs: number): void;
  onPacketsAcked(packets: readonly CongestionPacket[], nowMs: number, rtt: RttSnapshot): void;
  /** Lost packets of one detection pass; starts a recovery period if new. */
  onPacketsLost(packets: readonly CongestionPacket[], nowMs: number): void;
  /** The peer reported new ECN-CE marks for a packet sent at `timeSentMs` (RFC 9002 §7.5). */
  onEcnCongestion(timeSentMs: number, nowMs: number): void;
  /** Persistent congestion was established (RFC 9002 §7.6): collapse the window. */
  onPersistentCongestion(nowMs: number): void;
  /** Packets of a discarded packet number space leave bytes in flight silently (§6.4). */
  onPacketsDiscarded(packets: readonly CongestionPacket[]): void;
  /** Bytes that may be sent now: cwnd minus bytes in flight, never negative. */
  sendableBytes(): number;
  /**
   * Every packet whose loss reduced the window since the last undo point was acked
   * after all (a spurious loss, e.g. reordering): restore the window, ssthresh and
   * recovery period saved before the first such reduction. Returns whether there was
   * a reduction to undo.
   */
  undoCongestionEvent(): boolean;
  /** A loss since the undo point was real: the saved state can no longer be restored. */
  forgetUndo(): void;
}

/**
 * What NewReno and CUBIC share: bytes in flight, slow start, the recovery period
 * (one reduction per round trip), the minimum window and persistent-congestion
 * collapse. Subclasses decide how the window grows in congestion avoidance and
 * how far it is cut on a congestion event.
 */
abstract class WindowController<Saved> implements CongestionController {
  congestionWindow: number;
  bytesInFlight = 0;
  ssthresh = Infinity;
  appLimited = false;
  /** Packets sent at or before this time belong to the current recovery period. */
  recoveryStartTimeMs = -Infinity;
  readonly maxDatagramBytes: number;
  readonly minimumWindow: number;
  /** State before the first loss-driven reduction that may still turn out spurious. */
  private undoPoint: { congestionWindow: number; ssthresh: number; recoveryStartTimeMs: number; saved: Saved } | undefined;
  /** Reductions undone because their losses were spurious (for tests and benchmarks). */
  undoneReductions = 0;

  constructor(maxDatagramBytes = maxDatagramBytesDefault) {
    invariant(maxDatagramBytes >= 1200, "max datagram size below 1200");
    this.maxDatagramBytes = maxDatagramBytes;
    this.congestionWindow = Math.min(initialWindowPackets * maxDatagramBytes, Math.max(initialWindowBytesFloor, 2 * maxDatagramBytes));
    this.minimumWindow = minimumWindowPackets * maxDatagramBytes;
  }

  abstract onPacketsAcked(packets: readonly CongestionPacket[], nowMs: number, rtt: RttSnapshot): void;
  abstract onPersistentCongestion(nowMs: number): void;
  /** Cuts the window on a congestion event outside a recovery period (the window is still the old one). */
  protected abstract reduceWindow(): void;
  /** The subclass's own window state, saved at an undo point and restored by an undo. */
  protected abstract saveState(): Saved;
  protected abstract restoreState(saved: Saved): void;

  inRecovery(timeSentMs: number): boolean {
    return timeSentMs <= this.recoveryStartTimeMs;
  }

  get inSlowStart(): boolean {
    return this.congestionWindow < this.ssthresh;
  }

  /** Whether this ACK may grow the window (RFC 9002 §7.8), judged on the state before it. */
  protected ackMayGrow(): boolean {
    return !this.appLimited && wasCwndLimited(this.bytesInFlight, this.congestionWindow, this.inSlowStart, this.maxDatagramBytes);
  }

  onPacketSent(sentBytes: number, _nowMs: number): void {
    this.bytesInFlight += sentBytes;
  }

  onPacketsLost(packets: readonly CongestionPacket[], nowMs: number): void {
    let lastLossSentMs = -Infinity;
    for (const p of packets) {
      if (!p.inFlight) continue;
      this.removeInFlight(p.sentBytes);
      lastLossSentMs = Math.max(lastLossSentMs, p.timeSentMs);
    }
    if (lastLossSentMs !== -Infinity) this.onCongestionEvent(lastLossSentMs, nowMs, true);
  }

  /** ECN-CE counts rose (RFC 9002 §7.5): a congestion event for the packet acked last. */
  onEcnCongestion(timeSentMs: number, nowMs: number): void {
    // CE marks are never spurious: whatever reduction was pending undo stays.
    this.undoPoint = undefined;
    this.onCongestionEvent(timeSentMs, nowMs, false);
  }

  private onCongestionEvent(timeSentMs: number, nowMs: number, undoable: boolean): void {
    if (this.inRecovery(timeSentMs)) return; // one reduction per round trip
    if (undoable && this.undoPoint === undefined) {
      this.undoPoint = { congestionWindow: this.congestionWindow, ssthresh: this.ssthresh, recoveryStartTimeMs: this.recoveryStartTimeMs, saved: this.saveState() };
    }
    this.recoveryStartTimeMs = nowMs;
    this.reduceWindow();
  }

  /**
   * Like Linux's undo of a cwnd reduction (tcp_undo_cwnd_reduction): the window and
   * ssthresh go back to at least what they were, and the recovery period that the
   * spurious loss opened is closed, so packets sent since may grow the window again.
   */
  undoCongestionEvent(): boolean {
    const u = this.undoPoint;
    if (u === undefined) return false;
    this.undoPoint = undefined;
    this.congestionWindow = Math.max(this.congestionWindow, u.congestionWindow);
    this.ssthresh = Math.max(this.ssthresh, u.ssthresh);
    this.recoveryStartTimeMs = u.recoveryStartTimeMs;
    this.restoreState(u.saved);
    this.undoneReductions++;
    return true;
  }

  forgetUndo(): void {
    this.undoPoint = undefined;
  }

  /** ssthresh and the window become `factor` of the window, never below the minimum window. */
  protected cutWindow(factor: number): void {
    this.ssthresh = Math.max(Math.floor(this.congestionWindow * factor), this.minimumWindow);
    this.congestionWindow = this.ssthresh;
  }

  /** Persistent congestion (RFC 9002 §7.6): the minimum window, and no recovery period. */
  protected collapseWindow(): void {
    this.congestionWindow = this.minimumWindow;
    this.recoveryStartTimeMs = -Infinity;
  }

  onPacketsDiscarded(packets: readonly CongestionPacket[]): void {
    for (const p of packets) if (p.inFlight) this.removeInFlight(p.sentBytes);
  }

  sendableBytes(): number {
    return Math.max(0, this.congestionWindow - this.bytesInFlight);
  }

  protected removeInFlight(bytes: number): void {
    this.bytesInFlight -= bytes;
    invariant(this.bytesInFlight >= 0, "bytes in flight went negative");
  }
}

/** NewReno (RFC 9002 Appendix B). */
export class NewReno extends WindowController<number> {
  private bytesAckedInAvoidance = 0;

  onPacketsAcked(packets: readonly CongestionPacket[], _nowMs: number, _rtt: RttSnapshot): void {
    const limited = this.ackMayGrow();
    for (const p of packets) {
      if (!p.inFlight) continue;
      this.removeInFlight(p.sentBytes);
      // No growth when the window is not the limit, nor for packets sent before recovery began.
      if (!limited || this.inRecovery(p.timeSentMs)) continue;
      if (this.inSlowStart) {
        this.congestionWindow += p.sentBytes;
        continue;
      }
      // Congestion avoidance: one datagram per window's worth of acknowledged bytes.
      this.bytesAckedInAvoidance += p.sentBytes;
      if (this.bytesAckedInAvoidance >= this.congestionWindow) {
        this.bytesAckedInAvoidance -= this.congestionWindow;
        this.congestionWindow += this.maxDatagramBytes;
      }
    }
  }

  protected reduceWindow(): void {
    this.cutWindow(lossReductionFactor);
    this.bytesAckedInAvoidance = 0;
  }

  protected saveState(): number {
    return this.bytesAckedInAvoidance;
  }

  protected restoreState(saved: number): void {
    this.bytesAckedInAvoidance = saved;
  }

  onPersistentCongestion(_nowMs: number): void {
    this.collapseWindow();
    this.bytesAckedInAvoidance = 0;
  }
}

/** RFC 9002 §7.7: pace at N * cwnd / smoothed_rtt with N = 1.25. */
export const pacingGain = 1.25;
/** Packets that may leave back to back after an idle period. */
export const pacingBurstPacketsDefault = 10;

/**
 * Token-bucket pacer on the injected clock. Tokens are bytes; they refill at the
 * pacing rate up to a burst of `burstPackets` datagrams.
 */
export class Pacer {
  private tokens: number;
  private lastMs: number | undefined;
  private bytesPerMs = Infinity;
  readonly burstBytes: number;

  constructor(readonly maxDatagramBytes = maxDatagramBytesDefault, burstPackets = pacingBurstPacketsDefault) {
    this.burstBytes = burstPackets * maxDatagramBytes;
    this.tokens = this.burstBytes;
  }

  /** Updates the rate from the congestion window and smoothed RTT. */
  setRate(congestionWindowBytes: number, smoothedRttMs: number): void {
    this.bytesPerMs = smoothedRttMs > 0 ? (pacingGain * congestionWindowBytes) / smoothedRttMs : Infinity;
  }

  get rateBytesPerMs(): number {
    return this.bytesPerMs;
  }

  private refill(nowMs: number): void {
    if (this.lastMs !== undefined && nowMs > this.lastMs) {
      this.tokens = Math.min(this.burstBytes, this.tokens + (nowMs - this.lastMs) * this.bytesPerMs);
    }
    if (this.lastMs === undefined || nowMs > this.lastMs) this.lastMs = nowMs;
  }

  /** Earliest time at which a packet of `bytes` may be sent (<= nowMs means now). */
  nextSendTimeMs(nowMs: number, bytes = this.maxDatagramBytes): number {
    this.refill(nowMs);
    if (this.tokens >= bytes) return nowMs;
    return nowMs + (bytes - this.tokens) / this.bytesPerMs;
  }

  canSend(nowMs: number, bytes = this.maxDatagramBytes): boolean {
    return this.nextSendTimeMs(nowMs, bytes) <= nowMs;
  }

  /** Consumes tokens for a sent packet (may go negative by less than one packet). */
  onPacketSent(nowMs: number, bytes: number): void {
    this.refill(nowMs);
    this.tokens = Math.max(this.tokens - bytes, -this.maxDatagramBytes);
  }
}

/** RFC 9438 §5.1 β_cubic: multiplicative decrease factor. */
export const cubicBeta = 0.7;
/** RFC 9438 §5.1 C: window growth constant, segments / s^3. */
export const cubicC = 0.4;
/** RFC 9438 §4.3 α_cubic for the Reno-friendly estimate. */
export const cubicAlpha = (3 * (1 - cubicBeta)) / (1 + cubicBeta);

/**
 * CUBIC (RFC 9438) on the same interface: Reno slow start, a cubic window function
 * around the last maximum in congestion avoidance, the Reno-friendly region, fast
 * convergence, β = 0.7. Windows are computed in segments of `maxDatagramBytes`.
 */
interface CubicState {
  wMaxSegments: number;
  epochStartMs: number | undefined;
  kSeconds: number;
  originSegments: number;
  wEstSegments: number;
}

export class Cubic extends WindowController<CubicState> {
  /** W_max in segments: the window before the last reduction. */
  private wMaxSegments = 0;
  /** Start of the current congestion-avoidance epoch (first ACK after a reduction). */
  private epochStartMs: number | undefined;
  private kSeconds = 0;
  private originSegments = 0;
  /** Reno-friendly estimate W_est, in segments. */
  private wEstSegments = 0;

  onPacketsAcked(packets: readonly CongestionPacket[], nowMs: number, rtt: RttSnapshot): void {
    const limited = this.ackMayGrow();
    let ackedBytes = 0;
    for (const p of packets) {
      if (!p.inFlight) continue;
      this.removeInFlight(p.sentBytes);
      if (!limited || this.inRecovery(p.timeSentMs)) continue;
      if (this.inSlowStart) this.congestionWindow += p.sentBytes;
      else ackedBytes += p.sentBytes;
    }
    if (ackedBytes > 0) this.avoidCongestion(ackedBytes, nowMs, rtt.smoothedRttMs);
  }

  /** RFC 9438 §4.2–4.4: grow towards W_cubic(t + RTT), never below the Reno-friendly estimate. */
  private avoidCongestion(ackedBytes: number, nowMs: number, smoothedRttMs: number): void {
    const mds = this.maxDatagramBytes;
    const cwndSegments = this.congestionWindow / mds;
    if (this.epochStartMs === undefined) {
      this.epochStartMs = nowMs;
      this.kSeconds = cwndSegments < this.wMaxSegments ? Math.cbrt((this.wMaxSegments - cwndSegments) / cubicC) : 0;
      this.originSegments = Math.max(this.wMaxSegments, cwndSegments);
      this.wEstSegments = cwndSegments;
    }
    const ackedSegments = ackedBytes / mds;
    const tSeconds = (nowMs - this.epochStartMs + smoothedRttMs) / 1000;
    const cubicTarget = this.originSegments + cubicC * (tSeconds - this.kSeconds) ** 3;
    const target = Math.min(Math.max(cubicTarget, cwndSegments), 1.5 * cwndSegments);
    this.wEstSegments += (cubicAlpha * ackedSegments) / cwndSegments;
    let next = cwndSegments + ((target - cwndSegments) / cwndSegments) * ackedSegments;
    if (cubicTarget < this.wEstSegments) next = Math.max(next, this.wEstSegments); // Reno-friendly region
    this.congestionWindow = Math.max(this.congestionWindow, Math.floor(next * mds));
  }

  protected reduceWindow(): void {
    const cwndSegments = this.congestionWindow / this.maxDatagramBytes;
    // Fast convergence (RFC 9438 §4.7): release bandwidth if the maximum keeps shrinking.
    this.wMaxSegments = cwndSegments < this.wMaxSegments ? (cwndSegments * (1 + cubicBeta)) / 2 : cwndSegments;
    this.cutWindow(cubicBeta);
    this.epochStartMs = undefined;
  }

  protected saveState(): CubicState {
    return { wMaxSegments: this.wMaxSegments, epochStartMs: this.epochStartMs, kSeconds: this.kSeconds, originSegments: this.originSegments, wEstSegments: this.wEstSegments };
  }

  protected restoreState(saved: CubicState): void {
    ({ wMaxSegments: this.wMaxSegments, epochStartMs: this.epochStartMs, kSeconds: this.kSeconds, originSegments: this.originSegments, wEstSegments: this.wEstSegments } = saved);
  }

  onPersistentCongestion(_nowMs: number): void {
    this.collapseWindow();
    this.epochStartMs = undefined;
    this.wMaxSegments = 0;
  }
}
