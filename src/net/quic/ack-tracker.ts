/**
 * Received-packet tracking for one packet number space (RFC 9000 §13.2): which
 * packet numbers arrived (as bounded, descending ranges), duplicate detection, and
 * when an ACK frame must go out. Pure: times are injected as ms numbers.
 *
 * ACK timing rules implemented:
 * - Initial and Handshake: ack-eliciting packets are acknowledged immediately (§13.2.1).
 * - Application: at the latest `maxAckDelayMs` after the first unacknowledged
 *   ack-eliciting packet, immediately after `ackElicitingThreshold` of them (§13.2.2),
 *   immediately on reordering or a gap (§13.2.1), immediately on ECN-CE.
 * - Non-ack-eliciting packets never trigger an ACK on their own.
 */
import { invariant } from "../../errors.ts";
import type { AckFrame, AckRange, EcnCounts } from "./frames.ts";

export type PacketNumberSpace = "initial" | "handshake" | "application";

/** Default ranges kept and reported per ACK frame; older ranges are forgotten (§13.2.4). */
export const ackRangesMaxDefault = 32;
/**
 * Ranges remembered for duplicate detection (RFC 9000 §12.3); below the lowest a
 * packet counts as a duplicate. Kept apart from the reported ranges so that a packet
 * overtaken by more than one ACK round trip (reordering) is still accepted and
 * acknowledged, which is how the sender learns its loss was spurious.
 */
export const duplicateRangesMaxDefault = 256;
/** RFC 9000 §18.2 default max_ack_delay. */
export const maxAckDelayMsDefault = 25;
/** RFC 9000 §13.2.2: acknowledge at least every second ack-eliciting packet. */
export const ackElicitingThresholdDefault = 2;

export interface AckTrackerOptions {
  /** Our max_ack_delay transport parameter (application space only). */
  maxAckDelayMs?: number;
  ackElicitingThreshold?: number;
  ackRangesMax?: number;
  duplicateRangesMax?: number;
}

export type EcnMark = "not-ect" | "ect0" | "ect1" | "ce";

export class AckTracker {
  readonly space: PacketNumberSpace;
  private readonly maxAckDelayMs: number;
  private readonly ackElicitingThreshold: number;
  private readonly ackRangesMax: number;
  private readonly duplicateRangesMax: number;
  /**
   * What the next ACK frame reports: descending, disjoint, non-adjacent inclusive
   * ranges, ranges[0] holding the largest. A subset of `received`.
   */
  private ranges: AckRange[] = [];
  /** Everything received (same shape), for duplicate detection. */
  private received: AckRange[] = [];
  /** Packets below this number are treated as duplicates (their ranges were forgotten). */
  private floor = 0;
  /** Largest Acknowledged of our newest ACK frame the peer acknowledged (-1: none). */
  private reportedFloor = -1;
  private largestReceivedTimeMs = 0;
  private largestAckEliciting = -1;
  private unackedAckEliciting = 0;
  private deadlineMs = Infinity;
  private newSinceLastAck = false;
  private ecn: EcnCounts = { ect0: 0, ect1: 0, ce: 0 };
  private ecnSeen = false;

  constructor(space: PacketNumberSpace, opts: AckTrackerOptions = {}) {
    this.space = space;
    this.maxAckDelayMs = space === "application" ? (opts.maxAckDelayMs ?? maxAckDelayMsDefault) : 0;
    this.ackElicitingThreshold = opts.ackElicitingThreshold ?? ackElicitingThresholdDefault;
    this.ackRangesMax = opts.ackRangesMax ?? ackRangesMaxDefault;
    this.duplicateRangesMax = Math.max(this.ackRangesMax, opts.duplicateRangesMax ?? duplicateRangesMaxDefault);
    invariant(this.ackRangesMax >= 1 && this.ackElicitingThreshold >= 1, "bad AckTracker options");
  }

  /** Largest packet number received, or -1. */
  get largestReceived(): number {
    return this.received.length ? this.received[0]!.largest : -1;
  }

  /** When an ACK frame must be sent (Infinity when none is owed). */
  get ackDeadlineMs(): number {
    return this.deadlineMs;
  }

  /** Whether anything arrived since the last ACK frame was built (for piggybacking). */
  get hasNewInfo(): boolean {
    return this.newSinceLastAck;
  }

  /** Whether this packet number was already received (or is too old to tell, so treated as seen). */
  isDuplicate(pn: number): boolean {
    if (pn < this.floor) return true;
    for (const r of this.received) {
      if (pn > r.largest) return false;
      if (pn >= r.smallest) return true;
    }
    return false;
  }

  /**
   * Records a packet that was decrypted successfully. Returns false (and changes
   * nothing) for a duplicate, which the caller must then drop (RFC 9000 §12.3).
   */
  onPacketReceived(pn: number, ackEliciting: boolean, nowMs: number, ecnMark: EcnMark = "not-ect"): boolean {
    if (this.isDuplicate(pn)) return false;
    const previousLargest = this.largestReceived;
    insertRange(this.received, pn);
    if (this.received.length > this.duplicateRangesMax) this.floor = Math.max(this.floor, this.received.pop()!.largest + 1);
    // Reported even below an ACK the peer already acknowledged: it arrived late, not twice.
    insertRange(this.ranges, pn);
    if (this.ranges.length > this.ackRangesMax) this.ranges.pop();
    this.newSinceLastAck = true;
    if (pn > previousLargest) this.largestReceivedTimeMs = nowMs;
    if (ecnMark !== "not-ect") {
      this.ecnSeen = true;
      this.ecn[ecnMark === "ect0" ? "ect0" : ecnMark === "ect1" ? "ect1" : "ce"]++;
    }
    if (!ackEliciting) return true;
    // Reordered (below an ack-eliciting one already seen) or beyond a gap: ack now (§13.2.1).
    const outOfOrder = pn < this.largestAckEliciting || (pn > previousLargest + 1 && previousLargest >= 0);
    this.largestAckEliciting = Math.max(this.largestAckEliciting, pn);
    this.unackedAckEliciting++;
    const immediate = this.maxAckDelayMs === 0 || outOfOrder || ecnMark === "ce" || this.unackedAckEliciting >= this.ackElicitingThreshold;
    this.deadlineMs = Math.min(this.deadlineMs, immediate ? nowMs : nowMs + this.maxAckDelayMs);
    return true;
  }

  /** Whether an ACK frame is due at `nowMs`. */
  ackDue(nowMs: number): boolean {
    return this.deadlineMs <= nowMs;
  }

  /**
   * Builds the ACK frame describing everything tracked (undefined if nothing was
   * received). `ackDelayExponent` scales ACK Delay (use 3, the default, in Initial
   * and Handshake spaces). Call `onAckSent` once the frame is in a sent packet.
   */
  buildAckFrame(nowMs: number, ackDelayExponent = 3): AckFrame | undefined {
    if (this.ranges.length === 0) return undefined;
    const delayMicros = Math.max(0, Math.round((nowMs - this.largestReceivedTimeMs) * 1000));
    const frame: AckFrame = {
      kind: "ack",
      ackDelay: this.space === "application" ? Math.floor(delayMicros / 2 ** ackDelayExponent) : 0,
      ranges: this.ranges.map((r) => ({ smallest: r.smallest, largest: r.largest })),
    };
    if (this.ecnSeen) frame.ecn = { ...this.ecn };
    return frame;
  }

  /** An ACK frame was sent: nothing is owed until new ack-eliciting packets arrive. */
  onAckSent(): void {
    this.unackedAckEliciting = 0;
    this.deadlineMs = Infinity;
    this.newSinceLastAck = false;
  }

  /**
   * The peer acknowledged a packet carrying our ACK frame whose Largest Acknowledged
   * was `largestAcked`: stop reporting packets at or below it (RFC 9000 §13.2.4).
   */
  onAckFrameAcknowledged(largestAcked: number): void {
    if (largestAcked <= this.reportedFloor) return;
    this.reportedFloor = largestAcked;
    const floor = largestAcked + 1;
    this.ranges = this.ranges.filter((r) => r.largest >= floor);
    const last = this.ranges[this.ranges.length - 1];
    if (last && last.smallest < floor) last.smallest = floor;
  }

  /** Tracked ranges (descending), for tests and diagnostics. */
  get trackedRanges(): readonly AckRange[] {
    return this.ranges;
  }
}

/** Inserts a packet number not yet present into descending, non-adjacent ranges. */
function insertRange(ranges: AckRange[], pn: number): void {
  let i = 0;
  while (i < ranges.length && ranges[i]!.smallest > pn + 1) i++;
  // Now ranges[i] (if any) is the first range with smallest <= pn + 1.
  const r = ranges[i];
  if (r === undefined || r.largest < pn - 1) {
    ranges.splice(i, 0, { smallest: pn, largest: pn });
  } else if (r.largest === pn - 1) {
    r.largest = pn; // ranges[i - 1].smallest > pn + 1 by the scan, so no merge above
  } else {
    invariant(r.smallest === pn + 1, "insert of a packet number already present");
    r.smallest = pn;
    const below = ranges[i + 1];
    if (below && below.largest === pn - 1) {
      r.smallest = below.smallest;
      ranges.splice(i + 1, 1);
    }
  }
}
