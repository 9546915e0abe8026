// Spurious-loss detection in virtual time (ms): a packet acked after being declared
// lost undoes the congestion response and raises the reordering thresholds (RFC 9002 §6.1).
import { describe, expect, test } from "bun:test";
import {
  LossRecovery, lostPacketMemoryPtos, packetThreshold, packetThresholdMax, timeThresholdRatio, timeThresholdRatioMax, type SentPacket,
} from "../../src/net/quic/recovery.ts";
import { Cubic, NewReno, type CongestionController } from "../../src/net/quic/congestion.ts";
import type { AckRange } from "../../src/net/quic/frames.ts";

type Tag = string;
const pkt = (pn: number, timeSentMs: number): SentPacket<Tag> =>
  ({ pn, space: "application", ackEliciting: true, inFlight: true, sentBytes: 1200, timeSentMs, frames: [`f${pn}`] });
const ack = (...ranges: AckRange[]) => ({ ranges, ackDelayMs: 0 });
const r = (smallest: number, largest = smallest): AckRange => ({ smallest, largest });

function recovery(cc: CongestionController): LossRecovery<Tag> {
  const lr = new LossRecovery<Tag>({ isServer: false, peerMaxAckDelayMs: 25, congestion: cc });
  lr.setHandshakeConfirmed(0);
  return lr;
}

/** Sends pns [from, to) at `timeMs`. */
function send(lr: LossRecovery<Tag>, from: number, to: number, timeMs: number): void {
  for (let pn = from; pn < to; pn++) lr.onPacketSent(pkt(pn, timeMs));
}

describe("spurious loss: undo of the congestion response", () => {
  test("a reordered packet declared lost by the packet threshold restores cwnd and ssthresh when acked", () => {
    const cc = new NewReno();
    const lr = recovery(cc);
    send(lr, 0, 10, 0);
    expect([cc.congestionWindow, cc.ssthresh]).toEqual([12_000, Infinity]);
    // 1..4 arrive first: 0 is 4 behind, past kPacketThreshold 3 (the time threshold, 11.25 ms, is not reached).
    const first = lr.onAckReceived("application", ack(r(1, 4)), 10);
    expect(first.lost.map((p) => p.pn)).toEqual([0]);
    expect([cc.congestionWindow, cc.ssthresh]).toEqual([6000, 6000]);
    expect(cc.inRecovery(5)).toBe(true);
    // Then 0 itself: it was reordered, not lost.
    const late = lr.onAckReceived("application", ack(r(0, 4)), 11);
    expect(late.newlyAcked).toEqual([]);
    expect([late.spuriouslyLost, late.congestionUndone]).toEqual([1, true]);
    expect([cc.congestionWindow, cc.ssthresh, cc.inSlowStart]).toEqual([12_000, Infinity, true]);
    expect(cc.inRecovery(5)).toBe(false); // the recovery period the spurious loss opened is closed
    expect([lr.spuriousLosses, lr.congestionUndos, cc.undoneReductions]).toEqual([1, 1, 1]);
    // The packet threshold grew past the distance seen (4): the same reordering no longer counts as loss.
    expect(lr.packetThreshold).toBe(5);
    expect(lr.timeThresholdRatio).toBe(timeThresholdRatio);
    send(lr, 10, 15, 12);
    expect(lr.onAckReceived("application", ack(r(11, 14), r(5, 9)), 13).lost).toEqual([]); // 10 is 4 behind: not lost now
    expect(lr.onAckReceived("application", ack(r(10, 14), r(5, 9)), 14).spuriouslyLost).toBe(0);
  });

  test("a loss declared by the time threshold raises the time threshold to the packet's send-to-ack time", () => {
    const cc = new NewReno();
    const lr = recovery(cc);
    lr.onPacketSent(pkt(0, 0));
    lr.onPacketSent(pkt(1, 4));
    // rtt 20 ms: 0's loss time is 22.5 ms, passed; only 1 packet later, so not the packet threshold.
    expect(lr.onAckReceived("application", ack(r(1)), 24).lost.map((p) => p.pn)).toEqual([0]);
    expect(cc.congestionWindow).toBe(6000);
    const late = lr.onAckReceived("application", ack(r(0, 1)), 30);
    expect(late.congestionUndone).toBe(true);
    // acked 30 ms after it was sent, over an RTT of 20 ms, with the 9/8 margin
    expect(lr.timeThresholdRatio).toBeCloseTo(1.5 * (9 / 8), 10);
    expect(lr.packetThreshold).toBe(packetThreshold);
    expect(cc.congestionWindow).toBe(12_000);
  });

  test("thresholds are bounded", () => {
    const lr = recovery(new NewReno());
    send(lr, 0, 400, 0);
    expect(lr.onAckReceived("application", ack(r(399)), 1).lost.length).toBe(397);
    lr.onAckReceived("application", ack(r(0, 399)), 60); // late (within the memory of 3 PTOs), and far out of order
    expect(lr.spuriousLosses).toBe(397);
    expect(lr.packetThreshold).toBe(packetThresholdMax);
    expect(lr.timeThresholdRatio).toBe(timeThresholdRatio); // none was lost by time
    const t = recovery(new NewReno());
    t.onPacketSent(pkt(0, 0));
    t.onPacketSent(pkt(1, 10));
    t.onAckReceived("application", ack(r(1)), 20);
    t.onAckReceived("application", ack(r(0, 1)), 150); // 15 RTTs late, still within 3 PTOs (165 ms)
    expect(t.timeThresholdRatio).toBe(timeThresholdRatioMax);
  });

  test("no undo while one of the episode's losses is unacknowledged, nor once it is judged real", () => {
    const cc = new NewReno();
    const lr = recovery(cc);
    send(lr, 0, 10, 0);
    expect(lr.onAckReceived("application", ack(r(2, 6)), 10).lost.map((p) => p.pn)).toEqual([0, 1]);
    expect(cc.congestionWindow).toBe(6000);
    const one = lr.onAckReceived("application", ack(r(2, 6), r(0)), 11); // 0 was reordered; 1 still missing
    expect([one.spuriouslyLost, one.congestionUndone, cc.congestionWindow]).toEqual([1, false, 6000]);
    // 1 stays unacknowledged past lostPacketMemoryPtos PTOs: its loss was real; acking it later undoes nothing.
    const ptoMs = lr.ptoBaseDurationMs("application");
    const later = 11 + lostPacketMemoryPtos * ptoMs + 1;
    send(lr, 10, 11, later - 1);
    const res = lr.onAckReceived("application", ack(r(7, 10), r(0, 6)), later);
    expect(res.lost.map((p) => p.pn)).toEqual([]);
    const afterLate = lr.onAckReceived("application", ack(r(0, 10)), later + 1);
    expect([afterLate.spuriouslyLost, afterLate.congestionUndone]).toEqual([0, false]);
    expect(cc.ssthresh).toBe(6000);
    expect(lr.congestionUndos).toBe(0);
  });

  test("every loss of an episode spanning two reductions acked: the window from before the first comes back", () => {
    const cc = new NewReno();
    const lr = recovery(cc);
    send(lr, 0, 10, 0);
    lr.onAckReceived("application", ack(r(1, 4)), 10); // loses 0: 12000 -> 6000
    send(lr, 10, 15, 20); // sent after the recovery period began
    lr.onAckReceived("application", ack(r(11, 14), r(1, 9)), 30); // loses 10: a new period, 6000 -> 2400 (minimum)
    expect(cc.congestionWindow).toBeLessThan(6000);
    expect(lr.onAckReceived("application", ack(r(10, 14), r(1, 9)), 31).congestionUndone).toBe(false);
    expect(lr.onAckReceived("application", ack(r(0, 14)), 32).congestionUndone).toBe(true);
    expect([cc.congestionWindow, cc.ssthresh]).toEqual([12_000, Infinity]);
  });

  test("ECN-CE during the episode is real congestion: no undo", () => {
    const cc = new NewReno();
    const lr = recovery(cc);
    send(lr, 0, 10, 0);
    lr.onAckReceived("application", ack(r(1, 4)), 10);
    send(lr, 10, 11, 20);
    lr.onAckReceived("application", { ranges: [r(10), r(1, 4)], ackDelayMs: 0, ecn: { ect0: 5, ect1: 0, ce: 1 } }, 30);
    const late = lr.onAckReceived("application", ack(r(0, 10)), 31);
    expect([late.spuriouslyLost, late.congestionUndone]).toEqual([6, false]); // 0 and 5..9, all reordered
    expect(cc.congestionWindow).toBeLessThan(12_000);
  });

  test("CUBIC: an undo restores the window; a later real loss cuts from the restored one", () => {
    const cc = new Cubic();
    const lr = recovery(cc);
    send(lr, 0, 10, 0);
    lr.onAckReceived("application", ack(r(1, 4)), 10);
    expect(cc.congestionWindow).toBe(Math.floor(12_000 * 0.7));
    expect(lr.onAckReceived("application", ack(r(0, 4)), 11).congestionUndone).toBe(true);
    expect([cc.congestionWindow, cc.ssthresh]).toEqual([12_000, Infinity]);
    send(lr, 10, 20, 20);
    expect(lr.onAckReceived("application", ack(r(16, 19), r(5, 9)), 40).lost.map((p) => p.pn)).toEqual([10, 11, 12, 13, 14]); // 5 behind: packet threshold 5
    expect(cc.congestionWindow).toBe(Math.floor(12_000 * 0.7));
  });
});
