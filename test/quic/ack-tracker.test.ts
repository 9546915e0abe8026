import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { AckTracker } from "../../src/net/quic/ack-tracker.ts";
import { parseFrames, serializeFrames, type AckRange } from "../../src/net/quic/frames.ts";

/** Reference: descending maximal runs of a set of packet numbers. */
function rangesOf(pns: Iterable<number>): AckRange[] {
  const sorted = [...new Set(pns)].sort((a, b) => b - a);
  const out: AckRange[] = [];
  for (const pn of sorted) {
    const last = out[out.length - 1];
    if (last && last.smallest === pn + 1) last.smallest = pn;
    else out.push({ smallest: pn, largest: pn });
  }
  return out;
}

describe("AckTracker: ranges", () => {
  test("any arrival order gives the maximal descending ranges; duplicates are flagged", () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 150 }), (pns) => {
      const t = new AckTracker("application", { ackRangesMax: 1000 });
      const seen = new Set<number>();
      for (const pn of pns) {
        expect(t.onPacketReceived(pn, true, 0)).toBe(!seen.has(pn));
        seen.add(pn);
      }
      expect(t.trackedRanges).toEqual(rangesOf(seen));
      const frame = t.buildAckFrame(0);
      if (seen.size === 0) expect(frame).toBeUndefined();
      else expect(parseFrames(serializeFrames([frame!]), "1rtt")).toEqual([frame!]);
    }), { numRuns: 1000 });
  });

  test("ranges are bounded: the lowest are forgotten and then count as duplicates", () => {
    const t = new AckTracker("application", { ackRangesMax: 4, duplicateRangesMax: 4 });
    for (let pn = 0; pn < 20; pn += 2) t.onPacketReceived(pn, false, 0); // 10 single-packet ranges
    expect(t.trackedRanges).toEqual([18, 16, 14, 12].map((n) => ({ smallest: n, largest: n })));
    expect(t.isDuplicate(1)).toBe(true); // below the floor: cannot tell, so dropped
    expect(t.isDuplicate(13)).toBe(false);
    expect(t.onPacketReceived(3, true, 0)).toBe(false);
  });

  test("once our ACK is acknowledged, ranges up to its Largest Acknowledged are no longer reported", () => {
    const t = new AckTracker("application");
    for (const pn of [0, 1, 2, 5, 6, 9]) t.onPacketReceived(pn, true, 0);
    t.onAckFrameAcknowledged(5);
    expect(t.trackedRanges).toEqual([{ smallest: 9, largest: 9 }, { smallest: 6, largest: 6 }]);
    t.onAckFrameAcknowledged(9);
    expect(t.buildAckFrame(0)).toBeUndefined();
    expect(t.onPacketReceived(10, true, 0)).toBe(true);
    expect(t.buildAckFrame(0)?.ranges).toEqual([{ smallest: 10, largest: 10 }]);
    // Still remembered as received: a second copy is a duplicate.
    expect(t.onPacketReceived(2, true, 0)).toBe(false);
    expect(t.onPacketReceived(9, true, 0)).toBe(false);
  });

  test("a packet overtaken by more than an ACK round trip is still accepted and reported (reordering, not a duplicate)", () => {
    const t = new AckTracker("application");
    for (const pn of [0, 1, 2, 4, 5, 6]) t.onPacketReceived(pn, true, 0);
    t.onAckSent();
    t.onAckFrameAcknowledged(6);
    expect(t.isDuplicate(3)).toBe(false);
    expect(t.onPacketReceived(3, true, 1)).toBe(true);
    expect(t.ackDue(1)).toBe(true); // out of order: acknowledged at once
    expect(t.buildAckFrame(1)?.ranges).toEqual([{ smallest: 3, largest: 3 }]);
    expect(t.onPacketReceived(3, true, 2)).toBe(false);
  });
});

describe("AckTracker: timing (virtual clock, ms)", () => {
  test("Initial/Handshake ack-eliciting packets are acknowledged immediately", () => {
    for (const space of ["initial", "handshake"] as const) {
      const t = new AckTracker(space);
      t.onPacketReceived(0, true, 100.5);
      expect(t.ackDeadlineMs).toBe(100.5);
      expect(t.buildAckFrame(130)?.ackDelay).toBe(0);
    }
  });

  test("application: first ack-eliciting packet waits max_ack_delay, the second triggers now", () => {
    const t = new AckTracker("application", { maxAckDelayMs: 25 });
    t.onPacketReceived(0, true, 1000);
    expect(t.ackDeadlineMs).toBe(1025);
    expect(t.ackDue(1024.9)).toBe(false);
    expect(t.ackDue(1025)).toBe(true);
    t.onPacketReceived(1, true, 1010);
    expect(t.ackDeadlineMs).toBe(1010);
    // ACK Delay: 10 ms since the largest (pn 1) arrived = 10,000 µs, exponent 3 -> 1250
    expect(t.buildAckFrame(1020, 3)?.ackDelay).toBe(1250);
    t.onAckSent();
    expect(t.ackDeadlineMs).toBe(Infinity);
    expect(t.hasNewInfo).toBe(false);
  });

  test("non-ack-eliciting packets never set a deadline but are reported", () => {
    const t = new AckTracker("application");
    t.onPacketReceived(0, false, 0);
    t.onPacketReceived(1, false, 0);
    expect(t.ackDeadlineMs).toBe(Infinity);
    expect(t.hasNewInfo).toBe(true);
    expect(t.buildAckFrame(0)?.ranges).toEqual([{ smallest: 0, largest: 1 }]);
  });

  test("a gap or reordering makes the ACK immediate", () => {
    const gap = new AckTracker("application");
    gap.onPacketReceived(0, true, 0);
    gap.onAckSent();
    gap.onPacketReceived(3, true, 5); // 1 and 2 missing
    expect(gap.ackDeadlineMs).toBe(5);
    const reorder = new AckTracker("application");
    reorder.onPacketReceived(5, true, 0);
    reorder.onAckSent();
    reorder.onPacketReceived(4, true, 7);
    expect(reorder.ackDeadlineMs).toBe(7);
  });

  test("ECN-CE makes the ACK immediate and ECN counts are reported", () => {
    const t = new AckTracker("application");
    t.onPacketReceived(0, true, 0, "ect0");
    t.onPacketReceived(1, false, 0, "ce");
    expect(t.ackDeadlineMs).toBe(25);
    t.onPacketReceived(2, true, 3, "ce");
    expect(t.ackDeadlineMs).toBe(3);
    expect(t.buildAckFrame(3)?.ecn).toEqual({ ect0: 1, ect1: 0, ce: 2 });
  });
});
