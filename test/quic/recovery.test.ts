// Loss detection in virtual time (ms): RTT samples, thresholds, PTO, handshake rules.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { LossRecovery, RttEstimator, sentPacketsTrackedMax, type SentPacket } from "../../src/net/quic/recovery.ts";
import { NewReno } from "../../src/net/quic/congestion.ts";
import type { PacketNumberSpace } from "../../src/net/quic/ack-tracker.ts";
import { QuicError } from "../../src/net/quic/errors.ts";
import type { AckRange } from "../../src/net/quic/frames.ts";

type Tag = string;
function pkt(pn: number, timeSentMs: number, space: PacketNumberSpace = "application", extra: Partial<SentPacket<Tag>> = {}): SentPacket<Tag> {
  return { pn, space, ackEliciting: true, inFlight: true, sentBytes: 1200, timeSentMs, frames: [`frame-${space}-${pn}`], ...extra };
}
const ack = (ranges: AckRange[], ackDelayMs = 0) => ({ ranges, ackDelayMs });
const r = (smallest: number, largest = smallest): AckRange => ({ smallest, largest });

function confirmed(opts: { isServer?: boolean; cc?: NewReno } = {}): LossRecovery<Tag> {
  const lr = new LossRecovery<Tag>({ isServer: opts.isServer ?? false, peerMaxAckDelayMs: 25, congestion: opts.cc });
  lr.setHandshakeConfirmed(0);
  return lr;
}

describe("RTT estimation (RFC 9002 §5)", () => {
  test("first sample, then smoothing with ack delay", () => {
    const rtt = new RttEstimator();
    expect([rtt.smoothedRttMs, rtt.rttVarMs]).toEqual([333, 166.5]);
    rtt.update(100, 0, 100);
    expect([rtt.latestRttMs, rtt.smoothedRttMs, rtt.rttVarMs, rtt.minRttMs]).toEqual([100, 100, 50, 100]);
    rtt.update(130, 20, 300); // adjusted = 110
    expect(rtt.rttVarMs).toBeCloseTo(40, 10);
    expect(rtt.smoothedRttMs).toBeCloseTo(101.25, 10);
    rtt.update(110, 30, 500); // 110 < min 100 + 30: ack delay not subtracted
    expect(rtt.rttVarMs).toBeCloseTo(0.75 * 40 + 0.25 * Math.abs(101.25 - 110), 10);
    expect(rtt.smoothedRttMs).toBeCloseTo(0.875 * 101.25 + 0.125 * 110, 10);
    rtt.update(80, 0, 600);
    expect(rtt.minRttMs).toBe(80);
  });

  test("an ACK samples RTT from the largest newly acked ack-eliciting packet; delay capped at max_ack_delay", () => {
    const lr = confirmed();
    lr.onPacketSent(pkt(0, 1000));
    lr.onPacketSent(pkt(1, 1010));
    expect(lr.onAckReceived("application", ack([r(0, 1)]), 1110).rttSampled).toBe(true);
    expect(lr.rtt.latestRttMs).toBe(100);
    lr.onPacketSent(pkt(2, 1200));
    lr.onAckReceived("application", ack([r(0, 2)], 100), 1400); // latest 200, delay capped to 25
    expect(lr.rtt.smoothedRttMs).toBeCloseTo(0.875 * 100 + 0.125 * 175, 10);
    // An ACK whose largest was already acked gives no sample.
    expect(lr.onAckReceived("application", ack([r(0, 2)]), 1500).rttSampled).toBe(false);
  });

  test("Initial ACKs ignore the peer's ACK Delay; non-ack-eliciting packets give no sample", () => {
    const lr = new LossRecovery<Tag>({ isServer: true });
    lr.onPacketSent(pkt(0, 0, "initial"));
    lr.onAckReceived("initial", ack([r(0)], 50), 100);
    lr.onPacketSent(pkt(1, 100, "initial"));
    lr.onAckReceived("initial", ack([r(1)], 50), 250); // 150, not 100
    expect(lr.rtt.smoothedRttMs).toBeCloseTo(0.875 * 100 + 0.125 * 150, 10);
    lr.onPacketSent(pkt(0, 300, "handshake", { ackEliciting: false }));
    expect(lr.onAckReceived("handshake", ack([r(0)]), 400).rttSampled).toBe(false);
  });
});

describe("loss detection (RFC 9002 §6.1)", () => {
  test("packet threshold 3 declares old packets lost; time threshold 9/8 arms a timer for the rest", () => {
    const lr = confirmed();
    for (let pn = 0; pn < 5; pn++) lr.onPacketSent(pkt(pn, pn));
    const res = lr.onAckReceived("application", ack([r(4)]), 50); // latest rtt 46
    expect(res.lost.map((p) => p.pn)).toEqual([0, 1]);
    expect(res.lost[0]!.frames).toEqual(["frame-application-0"]);
    // loss delay = 9/8 * 46 = 51.75: packet 2 (sent at 2) is lost at 53.75
    expect(lr.lossDetectionDeadlineMs()).toBeCloseTo(53.75, 10);
    expect(lr.onTimeout(53.7)).toBeUndefined();
    const t = lr.onTimeout(53.75);
    expect(t?.kind === "loss" && t.lost.map((p) => p.pn)).toEqual([2]);
    expect(lr.lossDetectionDeadlineMs()).toBeCloseTo(54.75, 10);
    expect(lr.unacked("application").map((p) => p.pn)).toEqual([3]);
  });

  test("a packet acked after being declared lost is ignored (no double counting)", () => {
    const cc = new NewReno();
    const lr = confirmed({ cc });
    for (let pn = 0; pn < 5; pn++) lr.onPacketSent(pkt(pn, pn));
    lr.onAckReceived("application", ack([r(4)]), 50);
    const late = lr.onAckReceived("application", ack([r(4), r(0, 1)]), 60);
    expect(late.newlyAcked).toEqual([]);
    expect(cc.bytesInFlight).toBe(2 * 1200);
  });

  test("ACK of a packet never sent is PROTOCOL_VIOLATION", () => {
    const lr = confirmed();
    lr.onPacketSent(pkt(0, 0));
    let caught: unknown;
    try {
      lr.onAckReceived("application", ack([r(1)]), 10);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(QuicError);
    expect((caught as QuicError).code).toBe("QUIC_PROTOCOL_VIOLATION");
    expect(lr.unacked("application").map((p) => p.pn)).toEqual([0]);
  });
});

describe("probe timeout (RFC 9002 §6.2)", () => {
  test("PTO fires after srtt + 4 rttvar + max_ack_delay, then backs off exponentially", () => {
    const lr = confirmed();
    lr.onPacketSent(pkt(0, 0));
    lr.onAckReceived("application", ack([r(0)]), 100); // srtt 100, rttvar 50
    lr.onPacketSent(pkt(1, 200));
    expect(lr.lossDetectionDeadlineMs()).toBe(200 + 100 + 200 + 25);
    expect(lr.onTimeout(524.9)).toBeUndefined();
    expect(lr.onTimeout(525)).toEqual({ kind: "pto", space: "application", probes: 2, antiDeadlock: false });
    expect(lr.ptoCount).toBe(1);
    expect(lr.lossDetectionDeadlineMs()).toBe(200 + 2 * 325);
    lr.onTimeout(850);
    expect(lr.lossDetectionDeadlineMs()).toBe(200 + 4 * 325);
    // An ACK resets the backoff.
    lr.onPacketSent(pkt(2, 900));
    lr.onAckReceived("application", ack([r(2)]), 1000);
    expect(lr.ptoCount).toBe(0);
  });

  test("initial PTO uses kInitialRtt = 333 ms; Initial/Handshake PTO excludes max_ack_delay", () => {
    const lr = new LossRecovery<Tag>({ isServer: true });
    lr.onPacketSent(pkt(0, 10, "initial"));
    expect(lr.lossDetectionDeadlineMs()).toBe(10 + 333 + 4 * 166.5);
  });

  test("no application PTO before the handshake is confirmed; earliest space wins", () => {
    const lr = new LossRecovery<Tag>({ isServer: true });
    lr.onPacketSent(pkt(0, 0, "application"));
    expect(lr.lossDetectionDeadlineMs()).toBe(Infinity);
    lr.onPacketSent(pkt(0, 5, "handshake"));
    expect(lr.lossDetectionDeadlineMs()).toBe(5 + 999);
    expect(lr.onTimeout(1004)).toEqual({ kind: "pto", space: "handshake", probes: 2, antiDeadlock: false });
  });

  test("client anti-deadlock: PTO armed with nothing in flight until the server is validated", () => {
    const lr = new LossRecovery<Tag>({ isServer: false });
    lr.onPacketSent(pkt(0, 0, "initial"));
    lr.onAckReceived("initial", ack([r(0)]), 50); // nothing in flight, but no Handshake ACK yet
    expect(lr.lossDetectionDeadlineMs()).toBe(50 + 50 + 100);
    expect(lr.onTimeout(200)).toEqual({ kind: "pto", space: "initial", probes: 1, antiDeadlock: true });
    lr.setHandshakeKeysAvailable(200);
    expect(lr.onTimeout(lr.lossDetectionDeadlineMs())).toEqual({ kind: "pto", space: "handshake", probes: 1, antiDeadlock: true });
    lr.onPacketSent(pkt(0, 1000, "handshake"));
    lr.onAckReceived("handshake", ack([r(0)]), 1050);
    expect(lr.lossDetectionDeadlineMs()).toBe(Infinity);
  });

  test("server at the anti-amplification limit arms no PTO", () => {
    const lr = new LossRecovery<Tag>({ isServer: true });
    lr.setAmplificationLimited(true, 0);
    lr.onPacketSent(pkt(0, 0, "initial"));
    expect(lr.lossDetectionDeadlineMs()).toBe(Infinity);
    lr.setAmplificationLimited(false, 100);
    expect(lr.lossDetectionDeadlineMs()).toBe(999);
  });

  test("discarding a space drops its packets from bytes in flight and resets the PTO count", () => {
    const cc = new NewReno();
    const lr = new LossRecovery<Tag>({ isServer: false, congestion: cc });
    lr.onPacketSent(pkt(0, 0, "initial"));
    lr.onPacketSent(pkt(1, 1, "initial"));
    lr.onTimeout(lr.lossDetectionDeadlineMs());
    expect(lr.ptoCount).toBe(1);
    expect(cc.bytesInFlight).toBe(2400);
    expect(lr.discardSpace("initial", 500).map((p) => p.pn)).toEqual([0, 1]);
    expect(cc.bytesInFlight).toBe(0);
    expect(lr.ptoCount).toBe(0);
    expect(lr.unacked("initial")).toEqual([]);
  });
});

describe("persistent congestion (RFC 9002 §7.6)", () => {
  function setup() {
    const cc = new NewReno();
    const lr = confirmed({ cc });
    lr.onPacketSent(pkt(0, 0));
    lr.onAckReceived("application", ack([r(0)]), 100); // first RTT sample at t=100
    return { cc, lr };
  }

  test("ack-eliciting losses spanning more than the duration collapse the window", () => {
    const { cc, lr } = setup();
    for (let pn = 1; pn <= 6; pn++) lr.onPacketSent(pkt(pn, 150 + (pn - 1) * 200)); // 150..1150, all after the first RTT sample (100)
    lr.onPacketSent(pkt(7, 1200));
    const res = lr.onAckReceived("application", ack([r(7)]), 1300);
    expect(res.lost.map((p) => p.pn)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(res.persistentCongestion).toBe(true);
    // Collapsed to 2 datagrams, then (RFC 9002 A.7 order: losses before acks) packet 7 grows it in slow start.
    expect(cc.congestionWindow).toBe(2400 + 1200);
    expect(cc.ssthresh).toBe(6000);
  });

  test("an acknowledged packet in between prevents it", () => {
    const { cc, lr } = setup();
    for (let pn = 1; pn <= 6; pn++) lr.onPacketSent(pkt(pn, 150 + (pn - 1) * 200));
    lr.onPacketSent(pkt(7, 1200));
    const res = lr.onAckReceived("application", ack([r(7), r(4)]), 1300);
    expect(res.lost.map((p) => p.pn)).toEqual([1, 2, 3, 5, 6]);
    expect(res.persistentCongestion).toBe(false);
    expect(cc.congestionWindow).toBe(6000); // one halving of 12,000 (the lone first packet did not fill the window: no growth)
  });

  test("a shorter span is an ordinary loss", () => {
    const { lr } = setup();
    for (let pn = 1; pn <= 6; pn++) lr.onPacketSent(pkt(pn, 100 + pn * 10));
    lr.onPacketSent(pkt(7, 200));
    expect(lr.onAckReceived("application", ack([r(7)]), 1300).persistentCongestion).toBe(false);
  });
});

describe("LossRecovery properties (random schedules, fractional ms)", () => {
  test("each packet is acked or lost at most once; bytes in flight match; timers make progress", () => {
    type Op = { kind: "send"; dt: number } | { kind: "ack"; dt: number; lo: number; len: number } | { kind: "timer" };
    const op = fc.oneof(
      fc.record({ kind: fc.constant("send" as const), dt: fc.double({ min: 0, max: 50, noNaN: true }) }),
      fc.record({ kind: fc.constant("ack" as const), dt: fc.double({ min: 0, max: 50, noNaN: true }), lo: fc.nat(), len: fc.nat({ max: 5 }) }),
      fc.record({ kind: fc.constant("timer" as const) }),
    );
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 120 }), (ops: Op[]) => {
      const cc = new NewReno();
      const lr = confirmed({ cc });
      const done = new Set<number>();
      const sent = new Map<number, SentPacket<Tag>>();
      let now = 0;
      let pn = 0;
      const settle = (pns: number[]) => {
        for (const n of pns) {
          expect(done.has(n)).toBe(false);
          done.add(n);
        }
      };
      for (const o of ops) {
        if (o.kind === "send") {
          now += o.dt;
          const p = pkt(pn++, now);
          sent.set(p.pn, p);
          lr.onPacketSent(p);
        } else if (o.kind === "ack" && pn > 0) {
          now += o.dt;
          const largest = o.lo % pn;
          const res = lr.onAckReceived("application", ack([r(Math.max(0, largest - o.len), largest)], 1.5), now);
          settle(res.newlyAcked.map((p) => p.pn));
          settle(res.lost.map((p) => p.pn));
        } else if (o.kind === "timer") {
          const deadline = lr.lossDetectionDeadlineMs();
          if (deadline === Infinity) continue;
          now = Math.max(now, deadline);
          const t = lr.onTimeout(now);
          expect(t).toBeDefined();
          if (t?.kind === "loss") {
            expect(t.lost.length).toBeGreaterThan(0);
            settle(t.lost.map((p) => p.pn));
          }
        }
        const outstanding = [...sent.keys()].filter((n) => !done.has(n));
        expect(lr.unacked("application").map((p) => p.pn)).toEqual(outstanding);
        expect(cc.bytesInFlight).toBe(outstanding.length * 1200);
        if (outstanding.length > 0) expect(lr.lossDetectionDeadlineMs()).toBeLessThan(Infinity);
      }
    }), { numRuns: 500 });
  });
});

describe("ECN (RFC 9002 §7.5, A.7)", () => {
  test("a rising ECN-CE count reduces the window once per recovery period", () => {
    const cc = new NewReno();
    const lr = confirmed({ cc });
    for (let pn = 0; pn < 4; pn++) lr.onPacketSent(pkt(pn, pn));
    lr.onAckReceived("application", { ranges: [r(0, 1)], ackDelayMs: 0, ecn: { ect0: 2, ect1: 0, ce: 0 } }, 50);
    expect(cc.congestionWindow).toBe(12_000);
    lr.onAckReceived("application", { ranges: [r(0, 2)], ackDelayMs: 0, ecn: { ect0: 2, ect1: 0, ce: 1 } }, 60);
    expect(cc.congestionWindow).toBe(6000);
    expect(lr.unacked("application").map((p) => p.pn)).toEqual([3]); // CE is not loss
    lr.onAckReceived("application", { ranges: [r(0, 3)], ackDelayMs: 0, ecn: { ect0: 2, ect1: 0, ce: 2 } }, 70); // sent before recovery
    expect(cc.congestionWindow).toBe(6000);
  });
});

describe("bounds", () => {
  test("ACK-only packets the peer never acknowledges do not accumulate past sentPacketsTrackedMax", () => {
    const lr = confirmed();
    const n = sentPacketsTrackedMax * 2;
    for (let pn = 0; pn < n; pn++) lr.onPacketSent(pkt(pn, pn * 0.01, "application", { ackEliciting: false, inFlight: false }));
    expect(lr.unacked("application").length).toBeLessThanOrEqual(sentPacketsTrackedMax);
    // The newest are still tracked (an ACK for them is processed normally).
    expect(lr.onAckReceived("application", ack([r(n - 1)]), n).newlyAcked.map((p) => p.pn)).toEqual([n - 1]);
  });

  test("in-flight packets are never forgotten; a stuck head does not defeat the bound", () => {
    const lr = confirmed();
    lr.onPacketSent(pkt(0, 0)); // in flight, ack-eliciting, never acked
    const n = sentPacketsTrackedMax * 3;
    for (let pn = 1; pn <= n; pn++) lr.onPacketSent(pkt(pn, pn * 0.01, "application", { ackEliciting: false, inFlight: false }));
    const unacked = lr.unacked("application");
    expect(unacked[0]?.pn).toBe(0);
    expect(unacked.length).toBeLessThanOrEqual(sentPacketsTrackedMax);
  });
});
