/**
 * Congestion control (RFC 9002 §7, Appendix B): NewReno with slow start,
 * congestion avoidance, a recovery period and persistent-congestion collapse; and
 * a token-bucket pacer (§7.7). Pure: every time is an injected ms number.
 *
 * CUBIC (RFC 9438) with HyStart++ (RFC 9406) is offered on the same interface and is
 * what connections use by default. Loss detection (recovery.ts) drives a controller
 * through the `CongestionController` interface.
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
  /** Packet number; HyStart++ tracks rounds with it (only 1-RTT ones: `space` absent or "application"). */
  pn?: number;
  space?: string;
}

/** RTT figures handed to the controller on each ACK. */
export interface RttSnapshot {
  latestRttMs: number;
  smoothedRttMs: number;
  minRttMs: number;
  /** This ACK produced the `latestRttMs` sample (HyStart++ counts samples); absent means yes. */
  sampled?: boolean;
}

export interface CongestionController {
  readonly congestionWindow: number;
  readonly bytesInFlight: number;
  /**
   * Set by the sender when it has less to send than the window allows (RFC 9002 §7.8).
   * Controllers also detect an under-used window themselves (`wasCwndLimited`).
   */
  appLimited: boolean;
  /** Datagram size the window is counted in (raised by path MTU discovery). */
  readonly maxDatagramBytes: number;
  /** `pn`: the 1-RTT packet number (HyStart++ round tracking); absent for other spaces. */
  onPacketSent(sentBytes: number, nowMs: number, pn?: number): void;
  /** Path MTU discovery changed the datagram size: the minimum window and segment counts follow. */
  setMaxDatagramBytes(bytes: number): void;
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
  maxDatagramBytes: number;
  minimumWindow: number;
  /** HyStart++ (RFC 9406), consulted during the initial slow start only (ssthresh still infinite). */
  readonly hystart: HyStartPlusPlus | undefined;
  /** State before the first loss-driven reduction that may still turn out spurious. */
  private undoPoint: { congestionWindow: number; ssthresh: number; recoveryStartTimeMs: number; saved: Saved } | undefined;
  /** Reductions undone because their losses were spurious (for tests and benchmarks). */
  undoneReductions = 0;

  constructor(maxDatagramBytes = maxDatagramBytesDefault, opts: { hystart?: boolean } = {}) {
    invariant(maxDatagramBytes >= 1200, "max datagram size below 1200");
    this.maxDatagramBytes = maxDatagramBytes;
    this.hystart = opts.hystart ? new HyStartPlusPlus() : undefined;
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

  onPacketSent(sentBytes: number, _nowMs: number, pn?: number): void {
    this.bytesInFlight += sentBytes;
    if (pn !== undefined) this.hystart?.onPacketSent(pn);
  }

  setMaxDatagramBytes(bytes: number): void {
    invariant(bytes >= 1200, "max datagram size below 1200");
    const old = this.maxDatagramBytes;
    if (bytes === old) return;
    this.maxDatagramBytes = bytes;
    this.minimumWindow = minimumWindowPackets * bytes;
    this.congestionWindow = Math.max(this.congestionWindow, this.minimumWindow);
    if (this.ssthresh !== Infinity) this.ssthresh = Math.max(this.ssthresh, this.minimumWindow);
    this.onDatagramSizeChanged(old, bytes);
  }

  /** Subclasses keeping state in segments rescale it. */
  protected onDatagramSizeChanged(_oldBytes: number, _newBytes: number): void {}

  /**
   * Slow-start growth for this ACK's newly acked in-flight bytes (`bytes`, sent after
   * recovery began). During the initial slow start HyStart++ sees the ACK first: it may
   * slow growth (Conservative Slow Start: a quarter) or end slow start (ssthresh = cwnd).
   */
  protected slowStartGrowth(packets: readonly CongestionPacket[], bytes: number, rtt: RttSnapshot): void {
    const h = this.hystart;
    if (h === undefined || this.ssthresh !== Infinity) {
      this.congestionWindow += bytes;
      return;
    }
    let largestPn = -1;
    for (const p of packets) if (p.pn !== undefined && (p.space === undefined || p.space === "application")) largestPn = Math.max(largestPn, p.pn);
    const verdict = h.onAck(largestPn, rtt.sampled === false ? undefined : rtt.latestRttMs);
    this.congestionWindow += Math.floor(bytes / h.growthDivisor);
    if (verdict === "exit") this.ssthresh = this.congestionWindow;
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

  constructor(maxDatagramBytes = maxDatagramBytesDefault, opts: { hystart?: boolean } = {}) {
    super(maxDatagramBytes, opts);
  }

  onPacketsAcked(packets: readonly CongestionPacket[], _nowMs: number, rtt: RttSnapshot): void {
    const limited = this.ackMayGrow();
    let slowStartBytes = 0;
    for (const p of packets) {
      if (!p.inFlight) continue;
      this.removeInFlight(p.sentBytes);
      // No growth when the window is not the limit, nor for packets sent before recovery began.
      if (!limited || this.inRecovery(p.timeSentMs)) continue;
      if (this.inSlowStart) {
        slowStartBytes += p.sentBytes;
        continue;
      }
      // Congestion avoidance: one datagram per window's worth of acknowledged bytes.
      this.bytesAckedInAvoidance += p.sentBytes;
      if (this.bytesAckedInAvoidance >= this.congestionWindow) {
        this.bytesAckedInAvoidance -= this.congestionWindow;
        this.congestionWindow += this.maxDatagramBytes;
      }
    }
    if (slowStartBytes > 0) this.slowStartGrowth(packets, slowStartBytes, rtt);
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
 * The bucket also holds this many ms of sending at the pacing rate, so a timer that
 * fires up to a millisecond late (timer granularity) does not cost rate: like quic-go,
 * whose burst is max(10 packets, rate × (1 ms min pacing delay + 1 ms granularity)).
 */
export const pacingBurstIntervalMsDefault = 2;
/**
 * The connection lets a packet go when the pacer would allow it within this long
 * (borrowing up to this much of the rate, repaid by the next packets): waiting for
 * a timer to release a packet due in a few microseconds costs far more than the
 * timer granularity, on an event loop whose turns take milliseconds under load.
 */
export const pacingGranularityMsDefault = 1;

/**
 * Token-bucket pacer on the injected clock. Tokens are bytes; they refill at the
 * pacing rate up to a burst of max(`burstPackets` datagrams, `burstIntervalMs` of rate).
 */
export class Pacer {
  private tokens: number;
  private lastMs: number | undefined;
  private bytesPerMs = Infinity;
  private readonly burstPackets: number;

  constructor(
    public maxDatagramBytes = maxDatagramBytesDefault,
    burstPackets = pacingBurstPacketsDefault,
    private readonly burstIntervalMs = pacingBurstIntervalMsDefault,
    /** A packet due within this long goes now, on credit (0: a strict bucket). */
    private readonly granularityMs = 0,
  ) {
    this.burstPackets = burstPackets;
    this.tokens = this.burstBytes;
  }

  get burstBytes(): number {
    const packets = this.burstPackets * this.maxDatagramBytes;
    return this.bytesPerMs === Infinity ? packets : Math.max(packets, this.bytesPerMs * this.burstIntervalMs);
  }

  /** Updates the rate from the congestion window and smoothed RTT (0: no RTT yet, no pacing). */
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

  /** Bytes that may be borrowed ahead of the rate (granularityMs of it). */
  private get creditBytes(): number {
    return this.bytesPerMs === Infinity ? 0 : this.bytesPerMs * this.granularityMs;
  }

  /** Earliest time at which a packet of `bytes` may be sent (<= nowMs means now). */
  nextSendTimeMs(nowMs: number, bytes = this.maxDatagramBytes): number {
    this.refill(nowMs);
    const available = this.tokens + this.creditBytes;
    if (available >= bytes || this.bytesPerMs === Infinity) return nowMs;
    return nowMs + (bytes - available) / this.bytesPerMs;
  }

  canSend(nowMs: number, bytes = this.maxDatagramBytes): boolean {
    return this.nextSendTimeMs(nowMs, bytes) <= nowMs;
  }

  /** Consumes tokens for a sent packet (may go negative by less than one packet). */
  onPacketSent(nowMs: number, bytes: number): void {
    this.refill(nowMs);
    this.tokens = Math.max(this.tokens - bytes, -this.maxDatagramBytes - this.creditBytes);
  }
}

/** RFC 9438 §5.1 β_cubic: multiplicative decrease factor. */
export const cubicBeta = 0.7;
/** RFC 9438 §5.1 C: window growth constant, segments / s^3. */
export const cubicC = 0.4;
/** RFC 9438 §4.3 α_cubic for the Reno-friendly estimate (until W_est reaches cwnd_prior; then 1). */
export const cubicAlpha = (3 * (1 - cubicBeta)) / (1 + cubicBeta);

/**
 * CUBIC (RFC 9438) on the same interface: slow start (with HyStart++ unless disabled),
 * a cubic window function around the last maximum in congestion avoidance, the
 * Reno-friendly region, fast convergence, β = 0.7. Windows are computed in segments
 * of `maxDatagramBytes`.
 */
interface CubicState {
  wMaxSegments: number;
  cwndPriorSegments: number;
  epochStartMs: number | undefined;
  kSeconds: number;
  originSegments: number;
  wEstSegments: number;
}

export class Cubic extends WindowController<CubicState> {
  /** W_max in segments: the window before the last reduction (lowered by fast convergence). */
  wMaxSegments = 0;
  /** cwnd_prior: the window when ssthresh was last set by a reduction. */
  cwndPriorSegments = 0;
  /** Start of the current congestion-avoidance epoch (first ACK after a reduction). */
  epochStartMs: number | undefined;
  kSeconds = 0;
  private originSegments = 0;
  /** Reno-friendly estimate W_est, in segments. */
  wEstSegments = 0;

  constructor(maxDatagramBytes = maxDatagramBytesDefault, opts: { hystart?: boolean } = {}) {
    super(maxDatagramBytes, { hystart: opts.hystart ?? true });
  }

  onPacketsAcked(packets: readonly CongestionPacket[], nowMs: number, rtt: RttSnapshot): void {
    const limited = this.ackMayGrow();
    let ackedBytes = 0;
    let slowStartBytes = 0;
    for (const p of packets) {
      if (!p.inFlight) continue;
      this.removeInFlight(p.sentBytes);
      if (!limited || this.inRecovery(p.timeSentMs)) continue;
      if (this.inSlowStart) slowStartBytes += p.sentBytes;
      else ackedBytes += p.sentBytes;
    }
    if (slowStartBytes > 0) this.slowStartGrowth(packets, slowStartBytes, rtt);
    if (ackedBytes > 0) this.avoidCongestion(ackedBytes, nowMs, rtt.smoothedRttMs);
  }

  /** W_cubic(t) (RFC 9438 §4.2), segments, t in seconds since the epoch began. */
  cubicWindowSegments(tSeconds: number): number {
    return this.originSegments + cubicC * (tSeconds - this.kSeconds) ** 3;
  }

  /** RFC 9438 §4.2–4.4: grow towards W_cubic(t + RTT), never below the Reno-friendly estimate. */
  private avoidCongestion(ackedBytes: number, nowMs: number, smoothedRttMs: number): void {
    const mds = this.maxDatagramBytes;
    const cwndSegments = this.congestionWindow / mds;
    if (this.epochStartMs === undefined) {
      // A new epoch: after a reduction K is the time to regain W_max; after a slow start
      // that ended without loss (HyStart++) the window is above W_max: K = 0 from here.
      this.epochStartMs = nowMs;
      this.kSeconds = cwndSegments < this.wMaxSegments ? Math.cbrt((this.wMaxSegments - cwndSegments) / cubicC) : 0;
      this.originSegments = Math.max(this.wMaxSegments, cwndSegments);
      this.wEstSegments = cwndSegments;
    }
    const ackedSegments = ackedBytes / mds;
    const tSeconds = (nowMs - this.epochStartMs) / 1000;
    const cubicTarget = this.cubicWindowSegments(tSeconds + smoothedRttMs / 1000);
    const target = Math.min(Math.max(cubicTarget, cwndSegments), 1.5 * cwndSegments);
    // §4.3: α_cubic until W_est reaches cwnd_prior, then 1 (Reno's own rate).
    const alpha = this.wEstSegments >= this.cwndPriorSegments ? 1 : cubicAlpha;
    this.wEstSegments += (alpha * ackedSegments) / cwndSegments;
    let next = cwndSegments + ((target - cwndSegments) / cwndSegments) * ackedSegments;
    if (this.cubicWindowSegments(tSeconds) < this.wEstSegments) next = Math.max(next, this.wEstSegments); // Reno-friendly region
    this.congestionWindow = Math.max(this.congestionWindow, Math.floor(next * mds));
  }

  protected reduceWindow(): void {
    const cwndSegments = this.congestionWindow / this.maxDatagramBytes;
    // Fast convergence (RFC 9438 §4.7): release bandwidth if the maximum keeps shrinking.
    this.wMaxSegments = cwndSegments < this.wMaxSegments ? (cwndSegments * (1 + cubicBeta)) / 2 : cwndSegments;
    this.cwndPriorSegments = cwndSegments;
    this.cutWindow(cubicBeta);
    this.epochStartMs = undefined;
  }

  protected override onDatagramSizeChanged(oldBytes: number, newBytes: number): void {
    const f = oldBytes / newBytes;
    this.wMaxSegments *= f;
    this.cwndPriorSegments *= f;
    this.originSegments *= f;
    this.wEstSegments *= f;
    this.kSeconds = 0;
    // The epoch restarts at the next ACK from the current window (K recomputed then).
    this.epochStartMs = undefined;
  }

  protected saveState(): CubicState {
    return { wMaxSegments: this.wMaxSegments, cwndPriorSegments: this.cwndPriorSegments, epochStartMs: this.epochStartMs, kSeconds: this.kSeconds, originSegments: this.originSegments, wEstSegments: this.wEstSegments };
  }

  protected restoreState(saved: CubicState): void {
    ({ wMaxSegments: this.wMaxSegments, cwndPriorSegments: this.cwndPriorSegments, epochStartMs: this.epochStartMs, kSeconds: this.kSeconds, originSegments: this.originSegments, wEstSegments: this.wEstSegments } = saved);
  }

  onPersistentCongestion(_nowMs: number): void {
    this.collapseWindow();
    this.epochStartMs = undefined;
    this.wMaxSegments = 0;
  }
}

/** RFC 9406 §4.3 constants. */
export const hystartMinRttThreshMs = 4;
export const hystartMaxRttThreshMs = 16;
export const hystartMinRttDivisor = 8;
export const hystartNRttSample = 8;
export const hystartCssGrowthDivisor = 4;
export const hystartCssRounds = 5;

/**
 * HyStart++ (RFC 9406): leaves slow start when the round's minimum RTT rises by more
 * than a threshold (queues are building), through Conservative Slow Start (a quarter of
 * the growth for up to CSS_ROUNDS rounds, back to slow start if the RTT rise was
 * spurious). Rounds are tracked by packet number (windowEnd). The per-ACK growth limit
 * L is not applied: the connection paces (the RFC allows L = infinity when pacing).
 */
export class HyStartPlusPlus {
  /** A round ends when a packet numbered >= windowEnd is acked; -1 before the first round. */
  windowEnd = -1;
  private largestSentPn = -1;
  lastRoundMinRttMs = Infinity;
  currentRoundMinRttMs = Infinity;
  rttSampleCount = 0;
  /** The round minimum RTT that started CSS; Infinity when not in CSS. */
  cssBaselineMinRttMs = Infinity;
  cssRoundsDone = 0;
  /** Rounds started, for tests. */
  rounds = 0;
  /** How slow start ended, for tests and benchmarks. */
  exitedBy: "css_rounds" | undefined;

  get inCss(): boolean {
    return this.cssBaselineMinRttMs !== Infinity;
  }

  get growthDivisor(): number {
    return this.inCss ? hystartCssGrowthDivisor : 1;
  }

  onPacketSent(pn: number): void {
    if (pn > this.largestSentPn) this.largestSentPn = pn;
  }

  /**
   * One ACK during the initial slow start: `largestAckedPn` its largest newly acked
   * 1-RTT packet (-1 if none), `rttSampleMs` its RTT sample if it produced one.
   * Returns "exit" when slow start is over (the caller sets ssthresh = cwnd).
   */
  onAck(largestAckedPn: number, rttSampleMs: number | undefined): "continue" | "exit" {
    if (largestAckedPn >= 0 && largestAckedPn >= this.windowEnd) {
      // A round ended (or the first one starts).
      const cssDone = this.windowEnd >= 0 && this.inCss && ++this.cssRoundsDone >= hystartCssRounds;
      this.lastRoundMinRttMs = this.currentRoundMinRttMs;
      this.currentRoundMinRttMs = Infinity;
      this.rttSampleCount = 0;
      this.windowEnd = this.largestSentPn + 1;
      this.rounds++;
      if (cssDone) {
        // Slow start is over (congestion avoidance from here); the state is left clean.
        this.exitedBy = "css_rounds";
        this.cssBaselineMinRttMs = Infinity;
        this.cssRoundsDone = 0;
        return "exit";
      }
    }
    if (rttSampleMs === undefined) return "continue";
    this.currentRoundMinRttMs = Math.min(this.currentRoundMinRttMs, rttSampleMs);
    this.rttSampleCount++;
    if (this.rttSampleCount < hystartNRttSample) return "continue";
    if (!this.inCss) {
      if (this.currentRoundMinRttMs === Infinity || this.lastRoundMinRttMs === Infinity) return "continue";
      const threshMs = Math.max(hystartMinRttThreshMs, Math.min(this.lastRoundMinRttMs / hystartMinRttDivisor, hystartMaxRttThreshMs));
      if (this.currentRoundMinRttMs >= this.lastRoundMinRttMs + threshMs) {
        this.cssBaselineMinRttMs = this.currentRoundMinRttMs;
        this.cssRoundsDone = 0;
      }
    } else if (this.currentRoundMinRttMs < this.cssBaselineMinRttMs) {
      // The RTT rise was not sustained: back to standard slow start.
      this.cssBaselineMinRttMs = Infinity;
      this.cssRoundsDone = 0;
    }
    return "continue";
  }
}
