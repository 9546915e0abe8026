/**
 * Datagram packetization layer path MTU discovery (DPLPMTUD: RFC 8899, as QUIC uses
 * it in RFC 9000 §14.3), with no I/O: the connection asks `probeDue(nowMs)` for a
 * probe size, sends a PING + PADDING packet of exactly that size, and reports what
 * happened to it and to its other full-size packets. Times are injected ms numbers.
 *
 * The search starts at BASE_PLPMTU (1200, QUIC's minimum) and probes the ceiling
 * first (on most paths it fits: one probe), then searches between the largest size
 * acked and the smallest size that failed MAX_PROBES times, down to a precision.
 * Black holes: when full-size packets keep being lost and none of that size is
 * acked, the size falls back to the base and the search starts again later.
 */
import { invariant } from "../../errors.ts";

/** RFC 9000 §14: every QUIC path carries 1200-byte UDP payloads. */
export const BASE_PLPMTU = 1200;
/** Default search ceiling: a 1500-byte Ethernet MTU minus IPv6 (40) and UDP (8) headers, so it fits IPv4 (1472) too. */
export const PMTU_MAX_DEFAULT = 1452;
/** RFC 8899 §5.1.2 MAX_PROBES: a size failed after this many probes of it were lost. */
export const PMTU_MAX_PROBES = 3;
/** The search stops once the gap between the largest acked and smallest failed size is below this. */
export const PMTU_SEARCH_PRECISION_BYTES = 16;
/** RFC 8899 §5.1.1 PMTU_RAISE_TIMER: search again above a size found below the ceiling after this long. */
export const PMTU_RAISE_INTERVAL_MS = 600_000;
/** Full-size packets lost with none of that size acked meanwhile before a black hole is declared. */
export const PMTU_BLACK_HOLE_LOSSES = 6;
/**
 * The first probe waits this many smoothed RTTs after the handshake is confirmed (as
 * quic-go does): a connection opened and closed at once never pays for probes.
 */
export const PMTU_FIRST_PROBE_RTTS = 5;
/** After a black hole, searching restarts (from the base) after this long. */
export const PMTU_BLACK_HOLE_RESEARCH_MS = 1_000;

export type PmtuState = "disabled" | "searching" | "complete";

export class PmtuDiscovery {
  /** The confirmed datagram size (PLPMTU) full-size packets use. */
  current = BASE_PLPMTU;
  state: PmtuState = "disabled";
  /** Search ceiling: min(configured maximum, peer's max_udp_payload_size). */
  private ceiling = BASE_PLPMTU;
  /** Largest size known to work in this search. */
  private lo = BASE_PLPMTU;
  /** Largest size not known to fail in this search. */
  private hi = BASE_PLPMTU;
  /** Size being probed now (undefined between searches). */
  private probeSize: number | undefined;
  private probeInFlight = false;
  private lostAtSize = 0;
  private nextSearchAtMs = Infinity;
  /** No probe before this (the first-probe delay); -Infinity once it has passed. */
  private probeNotBeforeMs = -Infinity;
  /** Full-size packet losses since one of that size was last acked. */
  private largeLosses = 0;
  /** When a packet above the base size was last acked (or the size last grew). */
  private lastLargeAckMs = -Infinity;
  probesSent = 0;
  probesAcked = 0;
  probesLost = 0;
  blackHoles = 0;

  /** When a new search is due (a timer for the connection); Infinity if none is scheduled. */
  get timerMs(): number {
    if (this.state === "complete") return this.nextSearchAtMs;
    return this.state === "searching" && this.probeNotBeforeMs !== -Infinity ? this.probeNotBeforeMs : Infinity;
  }

  /**
   * Starts discovery (handshake confirmed) with the ceiling; a ceiling at the base
   * disables it. The first probe goes `firstProbeDelayMs` later.
   */
  start(ceiling: number, nowMs: number, firstProbeDelayMs = 0): void {
    invariant(ceiling >= BASE_PLPMTU, "PMTU ceiling below the QUIC minimum");
    this.ceiling = ceiling;
    if (ceiling <= this.current) return;
    this.startSearch(nowMs);
    if (firstProbeDelayMs > 0) this.probeNotBeforeMs = nowMs + firstProbeDelayMs;
  }

  private startSearch(_nowMs: number): void {
    this.state = "searching";
    this.lo = this.current;
    this.hi = this.ceiling;
    this.nextSearchAtMs = Infinity;
    this.chooseProbe();
  }

  /** Next probe: the ceiling while it has not failed, then the middle of what is unknown. */
  private chooseProbe(): void {
    this.lostAtSize = 0;
    if (this.hi - this.lo < PMTU_SEARCH_PRECISION_BYTES) {
      this.state = "complete";
      this.probeSize = undefined;
      return;
    }
    this.probeSize = this.hi === this.ceiling ? this.hi : Math.ceil((this.lo + this.hi) / 2);
  }

  /** Size of a probe to send now, if one is due (the caller still checks congestion). */
  probeDue(nowMs: number): number | undefined {
    if (this.state === "complete" && nowMs >= this.nextSearchAtMs) this.startSearch(nowMs);
    if (this.state !== "searching" || this.probeInFlight) return undefined;
    if (nowMs < this.probeNotBeforeMs) return undefined;
    // Past the delay its timer is spent (a probe the window cannot take yet goes with later traffic).
    this.probeNotBeforeMs = -Infinity;
    return this.probeSize;
  }

  onProbeSent(size: number): void {
    if (size !== this.probeSize) return;
    this.probeInFlight = true;
    this.probesSent++;
  }

  /** A probe was acked: the size works. Returns the new `current` if it grew. */
  onProbeAcked(size: number, nowMs: number): number | undefined {
    this.probesAcked++;
    if (size !== this.probeSize) return undefined; // an old probe of a finished search
    this.probeInFlight = false;
    this.lo = Math.max(this.lo, size);
    const grew = size > this.current;
    if (grew) this.current = size;
    this.largeLosses = 0;
    this.lastLargeAckMs = nowMs;
    this.chooseProbe();
    if (this.state === "complete") this.nextSearchAtMs = this.current < this.ceiling ? nowMs + PMTU_RAISE_INTERVAL_MS : Infinity;
    return grew ? size : undefined;
  }

  /** A probe was declared lost (not a congestion signal). */
  onProbeLost(size: number, nowMs: number): void {
    this.probesLost++;
    if (size !== this.probeSize) return;
    this.probeInFlight = false;
    if (++this.lostAtSize < PMTU_MAX_PROBES) return;
    this.hi = size - 1;
    this.chooseProbe();
    if (this.state === "complete") this.nextSearchAtMs = this.current < this.ceiling ? nowMs + PMTU_RAISE_INTERVAL_MS : Infinity;
  }

  /**
   * Outcome of one ACK (or loss timer) for ordinary packets larger than the base:
   * `largeAcked` whether any was acked (or acked after being declared lost: it got
   * through), `largeLost` how many were declared lost. A black hole needs
   * PMTU_BLACK_HOLE_LOSSES such losses and no large packet acked for `quietMs` (the
   * caller passes a PTO): on a reordering path large packets keep being acked, late,
   * while some are declared lost. Returns true when the size fell back to the base.
   */
  onLargePackets(largeAcked: boolean, largeLost: number, nowMs: number, quietMs: number): boolean {
    if (largeAcked) {
      // Larger packets got through in the same ACK: these losses are not about size.
      this.largeLosses = 0;
      this.lastLargeAckMs = nowMs;
      return false;
    }
    if (largeLost === 0 || this.current === BASE_PLPMTU) return false;
    this.largeLosses += largeLost;
    if (this.largeLosses < PMTU_BLACK_HOLE_LOSSES || nowMs - this.lastLargeAckMs < quietMs) return false;
    this.blackHoles++;
    this.largeLosses = 0;
    this.current = BASE_PLPMTU;
    this.state = "complete";
    this.probeSize = undefined;
    this.probeInFlight = false;
    this.nextSearchAtMs = nowMs + PMTU_BLACK_HOLE_RESEARCH_MS;
    return true;
  }
}
