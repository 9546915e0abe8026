/**
 * Loss detection and RTT estimation (RFC 9002 §5–6, Appendix A), per packet
 * number space, with no I/O: times are injected ms numbers and every event returns
 * what happened (acked packets, lost packets with their frames, probes to send).
 * The connection calls `onPacketSent`, `onAckReceived`, `onTimeout` at
 * `lossDetectionDeadlineMs()`, and `discardSpace` when keys are dropped.
 *
 * Departures, on purpose: persistent congestion (§7.6.2) is judged within one
 * packet number space (conservative: it fires less often than the cross-space
 * rule); ECN-CE increases are a congestion signal, but ECN path validation is not
 * done (Bun's UDP socket neither sets nor exposes ECN codepoints).
 */
import { invariant } from "../../errors.ts";
import { QuicError } from "./errors.ts";
import type { AckRange, EcnCounts, Frame } from "./frames.ts";
import type { PacketNumberSpace } from "./ack-tracker.ts";
import type { CongestionController, RttSnapshot } from "./congestion.ts";

/** RFC 9002 §6.1.1 kPacketThreshold: the initial packet reordering threshold. */
export const packetThreshold = 3;
/**
 * Bound on the adaptive packet threshold (RFC 9002 §6.1.1 lets it grow). Linux's
 * default net.ipv4.tcp_max_reordering is the same 300 segments.
 */
export const packetThresholdMax = 300;
/** RFC 9002 §6.1.2 kTimeThreshold: the initial time reordering threshold. */
export const timeThresholdRatio = 9 / 8;
/**
 * Bound on the adaptive time threshold, in RTTs: a packet really lost is still found
 * within 2 RTTs, so real congestion is answered promptly even while reordering is
 * tolerated. Linux RACK bounds its reordering window by the smoothed RTT the same way
 * (loss after RTT + reo_wnd <= 2 RTTs). Reordering by more than that still costs a
 * spurious loss, but its window reduction is undone.
 */
export const timeThresholdRatioMax = 2;
/**
 * How long (in PTOs, without backoff) a packet declared lost is remembered so a late
 * ACK for it can show the loss was spurious. Past it the loss counts as real.
 */
export const lostPacketMemoryPtos = 3;
/** Lost packets remembered per space; the oldest are forgotten (judged real) first. */
export const lostPacketsRememberedMax = 1024;
/** RFC 9002 §6.1.2 kGranularity. */
export const timerGranularityMs = 1;
/** RFC 9002 §6.2.2 kInitialRtt. */
export const initialRttMsDefault = 333;
/** RFC 9002 §7.6.1 kPersistentCongestionThreshold. */
export const persistentCongestionThreshold = 3;
/** Cap on the PTO backoff exponent so deadlines stay finite; the idle timeout ends the connection long before. */
export const ptoBackoffExponentMax = 16;
/** RFC 9002 §6.2.4: up to two ack-eliciting datagrams per PTO. */
export const ptoProbePackets = 2;
/**
 * Sent packets tracked per space (outstanding + tombstones). Past it, the oldest
 * packets that are not in flight (ACK-only) are forgotten and tombstones dropped: a
 * peer that never acknowledges our ACK-only packets must not grow this without
 * bound. (Dropping acked tombstones can only make persistent congestion likelier
 * in that pathological case.)
 */
export const sentPacketsTrackedMax = 16_384;
/** Peer max_ack_delay default (RFC 9000 §18.2). */
export const peerMaxAckDelayMsDefault = 25;

const spaces: readonly PacketNumberSpace[] = ["initial", "handshake", "application"];

/** RTT estimator (RFC 9002 §5). */
export class RttEstimator {
  latestRttMs = 0;
  smoothedRttMs: number;
  rttVarMs: number;
  minRttMs = 0;
  /** Time of the first RTT sample; undefined until one exists. */
  firstSampleTimeMs: number | undefined;

  constructor(initialRttMs = initialRttMsDefault) {
    this.smoothedRttMs = initialRttMs;
    this.rttVarMs = initialRttMs / 2;
  }

  get hasSample(): boolean {
    return this.firstSampleTimeMs !== undefined;
  }

  /**
   * Adds a sample. `ackDelayMs` is the peer-reported delay, already limited by the
   * caller to max_ack_delay once the handshake is confirmed (RFC 9002 §5.3).
   */
  update(latestRttMs: number, ackDelayMs: number, nowMs: number): void {
    this.latestRttMs = latestRttMs;
    if (this.firstSampleTimeMs === undefined) {
      this.minRttMs = latestRttMs;
      this.smoothedRttMs = latestRttMs;
      this.rttVarMs = latestRttMs / 2;
      this.firstSampleTimeMs = nowMs;
      return;
    }
    this.minRttMs = Math.min(this.minRttMs, latestRttMs);
    // Subtract the ack delay only if that does not take the sample below min_rtt.
    const adjustedRttMs = latestRttMs >= this.minRttMs + ackDelayMs ? latestRttMs - ackDelayMs : latestRttMs;
    this.rttVarMs = 0.75 * this.rttVarMs + 0.25 * Math.abs(this.smoothedRttMs - adjustedRttMs);
    this.smoothedRttMs = 0.875 * this.smoothedRttMs + 0.125 * adjustedRttMs;
  }

  /** smoothed_rtt + max(4 * rttvar, kGranularity), the PTO base without max_ack_delay. */
  ptoBaseMs(): number {
    return this.smoothedRttMs + Math.max(4 * this.rttVarMs, timerGranularityMs);
  }

  snapshot(): RttSnapshot {
    return { latestRttMs: this.latestRttMs, smoothedRttMs: this.smoothedRttMs, minRttMs: this.minRttMs };
  }
}

/** A packet handed to the network, as loss detection keeps it. `frames` are returned on loss. */
export interface SentPacket<F = Frame> {
  pn: number;
  space: PacketNumberSpace;
  ackEliciting: boolean;
  /** Counts toward bytes in flight (ack-eliciting or PADDING-carrying). */
  inFlight: boolean;
  sentBytes: number;
  timeSentMs: number;
  frames: readonly F[];
  /**
   * A path MTU probe (RFC 9000 §14.4): its loss says the size did not fit, not that the
   * path is congested, so it leaves bytes in flight without a congestion response,
   * a loss episode or a part in persistent congestion.
   */
  pmtuProbe?: boolean;
}

/** A packet declared lost, remembered for a while in case it is acked after all. */
interface LostRecord {
  pn: number;
  timeSentMs: number;
  lostAtMs: number;
  /** Which threshold declared it lost (both may hold). */
  byPacket: boolean;
  byTime: boolean;
  /** The loss episode it belongs to (see LossRecovery.episode). */
  episode: number;
  /** Acked after being declared lost. */
  spurious: boolean;
}

const outstanding = 0;
const acked = 1;
const lost = 2;
interface Entry<F> {
  packet: SentPacket<F>;
  status: typeof outstanding | typeof acked | typeof lost;
}

class SpaceState<F> {
  /** Sent packets in packet-number order from `head`; acked/lost ones stay as tombstones until pruned. */
  entries: Entry<F>[] = [];
  head = 0;
  largestAcked = -1;
  largestSent = -1;
  lossTimeMs: number | undefined;
  timeOfLastAckElicitingMs: number | undefined;
  ackElicitingInFlight = 0;
  /** Highest ECN-CE count the peer reported in this space. */
  ecnCeReported = 0;
  /** Array length (from head) at which `enforceBound` runs next. */
  trackLimit = sentPacketsTrackedMax;
  /** In-flight packets declared lost, in the order declared, from `lostHead`. */
  lost: LostRecord[] = [];
  lostHead = 0;

  /** Index of the first entry with pn >= `pn` (binary search from head). */
  lowerBound(pn: number): number {
    let lo = this.head;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.packet.pn < pn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  prune(): void {
    while (this.head < this.entries.length && this.entries[this.head]!.status !== outstanding) this.head++;
    if (this.head > 64 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * Enforces sentPacketsTrackedMax: forgets the oldest not-in-flight packets until at
   * most half the bound is outstanding, then drops tombstones. The next check waits
   * until the array has doubled, so the work is amortized O(1) per sent packet even
   * when more than the bound is legitimately in flight.
   */
  enforceBound(): void {
    let outstandingCount = 0;
    for (let i = this.head; i < this.entries.length; i++) if (this.entries[i]!.status === outstanding) outstandingCount++;
    for (let i = this.head; i < this.entries.length && outstandingCount > sentPacketsTrackedMax / 2; i++) {
      const e = this.entries[i]!;
      if (e.status !== outstanding || e.packet.inFlight) continue;
      e.status = lost; // carries only ACK frames: nothing to retransmit, no congestion signal
      outstandingCount--;
    }
    this.entries = this.entries.slice(this.head).filter((e) => e.status === outstanding);
    this.head = 0;
    this.trackLimit = Math.max(sentPacketsTrackedMax, 2 * this.entries.length);
  }

  clear(): void {
    this.entries = [];
    this.head = 0;
    this.lost = [];
    this.lostHead = 0;
    this.lossTimeMs = undefined;
    this.timeOfLastAckElicitingMs = undefined;
    this.ackElicitingInFlight = 0;
  }
}

export interface AckResult<F = Frame> {
  newlyAcked: SentPacket<F>[];
  lost: SentPacket<F>[];
  /** Packets this ACK acknowledged that had been declared lost (the loss was spurious). */
  spuriouslyLost: number;
  /** Whether those spurious losses undid a congestion window reduction. */
  congestionUndone: boolean;
  /** Whether this ACK produced an RTT sample. */
  rttSampled: boolean;
  persistentCongestion: boolean;
}

export type TimeoutResult<F = Frame> =
  | { kind: "loss"; space: PacketNumberSpace; lost: SentPacket<F>[]; persistentCongestion: boolean }
  /** Send `probes` ack-eliciting packets in `space` (anti-deadlock: the client's padded Initial or a Handshake packet). */
  | { kind: "pto"; space: PacketNumberSpace; probes: number; antiDeadlock: boolean };

export interface LossRecoveryOptions {
  isServer: boolean;
  /** The peer's max_ack_delay transport parameter. */
  peerMaxAckDelayMs?: number;
  initialRttMs?: number;
  congestion?: CongestionController;
}

/** What the connection tells loss detection about the ACK frame it received. */
export interface ReceivedAck {
  ranges: readonly AckRange[];
  /** ACK Delay already scaled to ms (raw << ack_delay_exponent µs / 1000). */
  ackDelayMs: number;
  /** ECN counts of an ACK_ECN frame. */
  ecn?: EcnCounts;
}

export class LossRecovery<F = Frame> {
  readonly rtt: RttEstimator;
  readonly isServer: boolean;
  peerMaxAckDelayMs: number;
  ptoCount = 0;
  handshakeConfirmed = false;
  hasHandshakeKeys = false;
  /** Server only: blocked by the 3x anti-amplification limit (RFC 9000 §8.1). */
  amplificationLimited = false;
  private receivedHandshakeAck = false;
  private timerMs = Infinity;
  /**
   * Reordering thresholds (RFC 9002 §6.1): they start at kPacketThreshold and
   * kTimeThreshold and only grow, bounded, when a packet declared lost by one of
   * them is acked later (it was reordered, not lost).
   */
  packetThreshold = packetThreshold;
  timeThresholdRatio = timeThresholdRatio;
  /** Packets acked after being declared lost, over the connection's life. */
  spuriousLosses = 0;
  /** Congestion window reductions undone because all their losses were spurious. */
  congestionUndos = 0;
  /**
   * A loss episode runs from the first in-flight loss after the last one closed to
   * an undo (every packet it declared lost was acked after all) or to one of its
   * losses proving real (remembered past lostPacketMemoryPtos, or its space dropped).
   * The controller's undo point is set inside an open episode, so an undo restores
   * the window from before any of the episode's losses.
   */
  private episode = 0;
  private episodeOpen = false;
  /** The open episode's lost packets not yet acked. */
  private episodePending = 0;
  private readonly state: Record<PacketNumberSpace, SpaceState<F>>;
  private readonly congestion: CongestionController | undefined;

  constructor(opts: LossRecoveryOptions) {
    this.isServer = opts.isServer;
    this.peerMaxAckDelayMs = opts.peerMaxAckDelayMs ?? peerMaxAckDelayMsDefault;
    this.rtt = new RttEstimator(opts.initialRttMs);
    this.congestion = opts.congestion;
    this.state = { initial: new SpaceState(), handshake: new SpaceState(), application: new SpaceState() };
  }

  /** When `onTimeout` must be called (Infinity: no timer armed). */
  lossDetectionDeadlineMs(): number {
    return this.timerMs;
  }

  /** Largest packet number sent in a space (-1 if none). */
  largestSent(space: PacketNumberSpace): number {
    return this.state[space].largestSent;
  }

  largestAcked(space: PacketNumberSpace): number {
    return this.state[space].largestAcked;
  }

  /** Packets neither acked nor lost, in packet-number order (what a PTO probe may resend). */
  unacked(space: PacketNumberSpace): SentPacket<F>[] {
    const s = this.state[space];
    const out: SentPacket<F>[] = [];
    for (let i = s.head; i < s.entries.length; i++) if (s.entries[i]!.status === outstanding) out.push(s.entries[i]!.packet);
    return out;
  }

  ackElicitingInFlight(space?: PacketNumberSpace): number {
    if (space) return this.state[space].ackElicitingInFlight;
    const st = this.state;
    return st.initial.ackElicitingInFlight + st.handshake.ackElicitingInFlight + st.application.ackElicitingInFlight;
  }

  /** Records a sent packet (OnPacketSent, RFC 9002 A.5). Packet numbers must increase per space. */
  onPacketSent(packet: SentPacket<F>): void {
    const s = this.state[packet.space];
    invariant(packet.pn > s.largestSent, "packet numbers must increase within a space");
    s.largestSent = packet.pn;
    s.entries.push({ packet, status: outstanding });
    if (s.entries.length - s.head > s.trackLimit) s.enforceBound();
    if (packet.inFlight) {
      if (packet.ackEliciting) {
        s.timeOfLastAckElicitingMs = packet.timeSentMs;
        s.ackElicitingInFlight++;
      }
      this.congestion?.onPacketSent(packet.sentBytes, packet.timeSentMs, packet.space === "application" ? packet.pn : undefined);
      this.setTimer(packet.timeSentMs);
    }
  }

  /**
   * Processes an ACK frame received in `space` (OnAckReceived, RFC 9002 A.7).
   * Acknowledging a packet number never sent is PROTOCOL_VIOLATION (RFC 9000 §13.1).
   */
  onAckReceived(space: PacketNumberSpace, ack: ReceivedAck, nowMs: number): AckResult<F> {
    const s = this.state[space];
    const largest = ack.ranges[0]?.largest ?? -1;
    invariant(largest >= 0, "ACK frame without ranges");
    if (largest > s.largestSent) throw new QuicError("PROTOCOL_VIOLATION", `ACK of unsent packet ${largest} in ${space} space`, { frameType: 0x02 });
    this.forgetOldLosses(space, nowMs);
    const priorLargestAcked = s.largestAcked;
    s.largestAcked = Math.max(s.largestAcked, largest);
    const newlyAcked = this.removeAcked(s, ack.ranges);
    const result: AckResult<F> = { newlyAcked, lost: [], spuriouslyLost: 0, congestionUndone: false, rttSampled: false, persistentCongestion: false };
    if (s.lost.length > s.lostHead) this.detectSpurious(s, ack.ranges, priorLargestAcked, nowMs, result);
    if (newlyAcked.length === 0) return result;
    if (space === "handshake") this.receivedHandshakeAck = true;
    const largestNewly = newlyAcked[newlyAcked.length - 1]!;
    if (largestNewly.pn === largest && newlyAcked.some((p) => p.ackEliciting)) {
      // Initial ACKs are never delayed by the peer, so their ACK Delay is ignored (§5.3).
      let ackDelayMs = space === "initial" ? 0 : Math.max(0, ack.ackDelayMs);
      if (this.handshakeConfirmed) ackDelayMs = Math.min(ackDelayMs, this.peerMaxAckDelayMs);
      this.rtt.update(nowMs - largestNewly.timeSentMs, ackDelayMs, nowMs);
      result.rttSampled = true;
    }
    // ProcessECN (RFC 9002 A.7): a rising CE count is a congestion signal.
    if (ack.ecn && ack.ecn.ce > s.ecnCeReported) {
      s.ecnCeReported = ack.ecn.ce;
      this.congestion?.onEcnCongestion(largestNewly.timeSentMs, nowMs);
    }
    const detected = this.detectLost(space, nowMs);
    result.lost = detected.lost;
    result.persistentCongestion = detected.persistentCongestion;
    this.congestion?.onPacketsAcked(newlyAcked, nowMs, { ...this.rtt.snapshot(), sampled: result.rttSampled });
    if (this.peerCompletedAddressValidation()) this.ptoCount = 0;
    this.setTimer(nowMs);
    return result;
  }

  /** Marks packets in the ACK ranges acked; returns them in ascending pn order. */
  private removeAcked(s: SpaceState<F>, ranges: readonly AckRange[]): SentPacket<F>[] {
    const out: SentPacket<F>[] = [];
    // Ranges are descending; walk them from the lowest so the output is ascending.
    for (let r = ranges.length - 1; r >= 0; r--) {
      const range = ranges[r]!;
      for (let i = s.lowerBound(range.smallest); i < s.entries.length; i++) {
        const e = s.entries[i]!;
        if (e.packet.pn > range.largest) break;
        if (e.status !== outstanding) continue; // duplicate ACK, or acked after being declared lost
        e.status = acked;
        if (e.packet.inFlight && e.packet.ackEliciting) s.ackElicitingInFlight--;
        out.push(e.packet);
      }
    }
    s.prune();
    return out;
  }

  /** DetectAndRemoveLostPackets (RFC 9002 A.10) plus the congestion reaction. */
  private detectLost(space: PacketNumberSpace, nowMs: number): { lost: SentPacket<F>[]; persistentCongestion: boolean } {
    const s = this.state[space];
    s.lossTimeMs = undefined;
    const lostPackets: SentPacket<F>[] = [];
    if (s.largestAcked < 0) return { lost: lostPackets, persistentCongestion: false };
    const lossDelayMs = Math.max(this.timeThresholdRatio * Math.max(this.rtt.latestRttMs, this.rtt.smoothedRttMs), timerGranularityMs);
    let lastLostIndex = -1;
    let firstLostIndex = -1;
    for (let i = s.head; i < s.entries.length; i++) {
      const e = s.entries[i]!;
      const p = e.packet;
      if (p.pn > s.largestAcked) break;
      if (e.status !== outstanding) continue;
      // Same expression as the loss time armed below, so a timer firing exactly at it
      // always declares the packet lost (now - delay <= sent could round the other way).
      const lossAtMs = p.timeSentMs + lossDelayMs;
      const byTime = lossAtMs <= nowMs;
      const byPacket = s.largestAcked - p.pn >= this.packetThreshold;
      if (byTime || byPacket) {
        e.status = lost;
        if (p.inFlight && p.ackEliciting) s.ackElicitingInFlight--;
        lostPackets.push(p);
        if (p.inFlight && !p.pmtuProbe) this.rememberLoss(s, { pn: p.pn, timeSentMs: p.timeSentMs, lostAtMs: nowMs, byPacket, byTime, episode: 0, spurious: false });
        if (firstLostIndex < 0) firstLostIndex = i;
        lastLostIndex = i;
      } else {
        s.lossTimeMs = s.lossTimeMs === undefined ? lossAtMs : Math.min(s.lossTimeMs, lossAtMs);
      }
    }
    if (lostPackets.length === 0) return { lost: lostPackets, persistentCongestion: false };
    const persistentCongestion = this.inPersistentCongestion(s, firstLostIndex, lastLostIndex);
    s.prune();
    if (lostPackets.some((p) => p.pmtuProbe)) {
      this.congestion?.onPacketsDiscarded(lostPackets.filter((p) => p.pmtuProbe));
      this.congestion?.onPacketsLost(lostPackets.filter((p) => !p.pmtuProbe), nowMs);
    } else this.congestion?.onPacketsLost(lostPackets, nowMs);
    if (persistentCongestion) this.congestion?.onPersistentCongestion(nowMs);
    return { lost: lostPackets, persistentCongestion };
  }

  /** Adds an in-flight lost packet to the open loss episode (opening one if none is). */
  private rememberLoss(s: SpaceState<F>, record: LostRecord): void {
    if (!this.episodeOpen) {
      this.episode++;
      this.episodeOpen = true;
      this.episodePending = 0;
    }
    this.episodePending++;
    record.episode = this.episode;
    if (s.lost.length - s.lostHead >= lostPacketsRememberedMax) this.forgetLoss(s.lost[s.lostHead++]!);
    s.lost.push(record);
  }

  /** A remembered loss is judged real: the episode it belongs to can no longer be undone. */
  private forgetLoss(record: LostRecord): void {
    if (record.spurious || !this.episodeOpen || record.episode !== this.episode) return;
    this.episodeOpen = false;
    this.congestion?.forgetUndo();
  }

  /** Forgets losses declared more than lostPacketMemoryPtos PTOs ago (they were real). */
  private forgetOldLosses(space: PacketNumberSpace, nowMs: number): void {
    const s = this.state[space];
    const horizonMs = nowMs - lostPacketMemoryPtos * this.ptoBaseDurationMs(space);
    while (s.lostHead < s.lost.length && s.lost[s.lostHead]!.lostAtMs < horizonMs) this.forgetLoss(s.lost[s.lostHead++]!);
    if (s.lostHead > 64 && s.lostHead * 2 > s.lost.length) {
      s.lost = s.lost.slice(s.lostHead);
      s.lostHead = 0;
    }
  }

  /**
   * Remembered lost packets this ACK covers were reordered or delayed, not lost
   * (RFC 9002 §6.1: thresholds may adapt). The threshold that declared each one
   * grows to what would have spared it: the packet threshold past the reordering
   * distance seen (how far beyond it acks had already reached), the time threshold
   * to the packet's send-to-ack time over the RTT used for the loss delay, both
   * with the RFC's 9/8-style margin and bounded. When every loss of the open episode
   * proves spurious, the congestion response is undone.
   */
  private detectSpurious(s: SpaceState<F>, ranges: readonly AckRange[], priorLargestAcked: number, nowMs: number, result: AckResult<F>): void {
    const rttBaseMs = Math.max(this.rtt.latestRttMs, this.rtt.smoothedRttMs, timerGranularityMs);
    for (let i = s.lostHead; i < s.lost.length; i++) {
      const rec = s.lost[i]!;
      if (rec.spurious || !acksPacket(ranges, rec.pn)) continue;
      rec.spurious = true;
      result.spuriouslyLost++;
      this.spuriousLosses++;
      if (rec.byPacket) {
        const distance = priorLargestAcked - rec.pn;
        this.packetThreshold = Math.min(packetThresholdMax, Math.max(this.packetThreshold, distance + 1));
      }
      if (rec.byTime) {
        const needed = ((nowMs - rec.timeSentMs) / rttBaseMs) * timeThresholdRatio;
        this.timeThresholdRatio = Math.min(timeThresholdRatioMax, Math.max(this.timeThresholdRatio, needed));
      }
      if (this.episodeOpen && rec.episode === this.episode && --this.episodePending === 0) {
        this.episodeOpen = false;
        if (this.congestion?.undoCongestionEvent()) {
          this.congestionUndos++;
          result.congestionUndone = true;
        }
      }
    }
  }

  /**
   * RFC 9002 §7.6.2 within one space: two ack-eliciting lost packets, both sent after
   * the first RTT sample, no packet between them acknowledged, sent further apart than
   * (smoothed_rtt + max(4 rttvar, granularity) + max_ack_delay) * 3. The run must
   * include a packet declared lost in this pass.
   */
  private inPersistentCongestion(s: SpaceState<F>, firstNewIndex: number, lastNewIndex: number): boolean {
    const firstSampleMs = this.rtt.firstSampleTimeMs;
    if (firstSampleMs === undefined) return false;
    const durationMs = (this.rtt.ptoBaseMs() + this.peerMaxAckDelayMs) * persistentCongestionThreshold;
    let runStartMs: number | undefined;
    let runHasNew = false;
    for (let i = s.head; i <= lastNewIndex; i++) {
      const e = s.entries[i]!;
      if (e.status === acked) {
        runStartMs = undefined;
        runHasNew = false;
        continue;
      }
      const p = e.packet;
      if (e.status !== lost || !p.ackEliciting || p.pmtuProbe || p.timeSentMs <= firstSampleMs) continue;
      if (i >= firstNewIndex) runHasNew = true;
      if (runStartMs === undefined) runStartMs = p.timeSentMs;
      else if (runHasNew && p.timeSentMs - runStartMs > durationMs) return true;
    }
    return false;
  }

  /** PeerCompletedAddressValidation (RFC 9002 A.6). */
  private peerCompletedAddressValidation(): boolean {
    return this.isServer || this.handshakeConfirmed || this.receivedHandshakeAck;
  }

  /** Current PTO duration for a space, with backoff (RFC 9002 §6.2.1). */
  /** The PTO without backoff: what the idle timeout is compared with (RFC 9000 §10.1). */
  ptoBaseDurationMs(space: PacketNumberSpace): number {
    return this.rtt.ptoBaseMs() + (space === "application" ? this.peerMaxAckDelayMs : 0);
  }

  ptoDurationMs(space: PacketNumberSpace): number {
    const backoff = 2 ** Math.min(this.ptoCount, ptoBackoffExponentMax);
    const maxAckDelayMs = space === "application" ? this.peerMaxAckDelayMs : 0;
    return (this.rtt.ptoBaseMs() + maxAckDelayMs) * backoff;
  }

  /** GetPtoTimeAndSpace (RFC 9002 A.8). */
  private ptoTimeAndSpace(nowMs: number): { timeMs: number; space: PacketNumberSpace } {
    if (this.ackElicitingInFlight() === 0) {
      const space = this.hasHandshakeKeys ? "handshake" : "initial";
      return { timeMs: nowMs + this.ptoDurationMs(space), space };
    }
    let best = { timeMs: Infinity, space: "initial" as PacketNumberSpace };
    for (const space of spaces) {
      const s = this.state[space];
      if (s.ackElicitingInFlight === 0 || s.timeOfLastAckElicitingMs === undefined) continue;
      if (space === "application" && !this.handshakeConfirmed) break; // no app-data PTO before confirmation
      const t = s.timeOfLastAckElicitingMs + this.ptoDurationMs(space);
      if (t < best.timeMs) best = { timeMs: t, space };
    }
    return best;
  }

  private earliestLossTime(): { timeMs: number; space: PacketNumberSpace } | undefined {
    let best: { timeMs: number; space: PacketNumberSpace } | undefined;
    for (const space of spaces) {
      const t = this.state[space].lossTimeMs;
      if (t !== undefined && (best === undefined || t < best.timeMs)) best = { timeMs: t, space };
    }
    return best;
  }

  /** SetLossDetectionTimer (RFC 9002 A.8). */
  private setTimer(nowMs: number): void {
    const loss = this.earliestLossTime();
    if (loss) {
      this.timerMs = loss.timeMs;
      return;
    }
    if (this.isServer && this.amplificationLimited) {
      this.timerMs = Infinity; // nothing could be sent anyway; re-armed when data arrives
      return;
    }
    if (this.ackElicitingInFlight() === 0 && this.peerCompletedAddressValidation()) {
      this.timerMs = Infinity;
      return;
    }
    this.timerMs = this.ptoTimeAndSpace(nowMs).timeMs;
  }

  /** OnLossDetectionTimeout (RFC 9002 A.9). Returns undefined if the timer is not due. */
  onTimeout(nowMs: number): TimeoutResult<F> | undefined {
    if (nowMs < this.timerMs) return undefined;
    const loss = this.earliestLossTime();
    if (loss) {
      this.forgetOldLosses(loss.space, nowMs);
      const { lost: lostPackets, persistentCongestion } = this.detectLost(loss.space, nowMs);
      this.setTimer(nowMs);
      return { kind: "loss", space: loss.space, lost: lostPackets, persistentCongestion };
    }
    let result: TimeoutResult<F>;
    if (this.ackElicitingInFlight() === 0) {
      invariant(!this.peerCompletedAddressValidation(), "PTO without packets in flight after address validation");
      result = { kind: "pto", space: this.hasHandshakeKeys ? "handshake" : "initial", probes: 1, antiDeadlock: true };
    } else {
      result = { kind: "pto", space: this.ptoTimeAndSpace(nowMs).space, probes: ptoProbePackets, antiDeadlock: false };
    }
    this.ptoCount++;
    this.setTimer(nowMs);
    return result;
  }

  /**
   * Drops a packet number space whose keys were discarded (RFC 9002 A.11): its
   * packets leave bytes in flight without counting as lost. Returns them.
   */
  discardSpace(space: PacketNumberSpace, nowMs: number): SentPacket<F>[] {
    invariant(space !== "application", "the application space is never discarded");
    const dropped = this.unacked(space);
    this.congestion?.onPacketsDiscarded(dropped);
    const s = this.state[space];
    // Losses in a dropped space can never be acked now: they count as real.
    for (let i = s.lostHead; i < s.lost.length; i++) this.forgetLoss(s.lost[i]!);
    s.clear();
    this.ptoCount = 0;
    this.setTimer(nowMs);
    return dropped;
  }

  /** Handshake confirmed (RFC 9001 §4.1.2): enables application PTO and ack-delay capping. */
  setHandshakeConfirmed(nowMs: number): void {
    this.handshakeConfirmed = true;
    this.setTimer(nowMs);
  }

  setHandshakeKeysAvailable(nowMs: number): void {
    this.hasHandshakeKeys = true;
    this.setTimer(nowMs);
  }

  /** Server: update the anti-amplification state (call when a datagram unblocks sending). */
  setAmplificationLimited(limited: boolean, nowMs: number): void {
    this.amplificationLimited = limited;
    this.setTimer(nowMs);
  }
}

/** Whether descending, disjoint ACK ranges cover `pn`. */
function acksPacket(ranges: readonly AckRange[], pn: number): boolean {
  for (const r of ranges) {
    if (pn > r.largest) return false;
    if (pn >= r.smallest) return true;
  }
  return false;
}
