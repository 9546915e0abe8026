// CUBIC (RFC 9438) and HyStart++ (RFC 9406) in injected time: exact window arithmetic,
// and a per-ACK slow-start simulation whose RTT the test controls.
import { describe, expect, test } from "bun:test";
import {
  Cubic, HyStartPlusPlus, NewReno, cubicAlpha, cubicBeta, cubicC, hystartCssGrowthDivisor, hystartCssRounds, hystartNRttSample,
  type CongestionPacket, type RttSnapshot,
} from "../../src/net/quic/congestion.ts";

const mds = 1200;
const rttOf = (ms: number): RttSnapshot => ({ latestRttMs: ms, smoothedRttMs: ms, minRttMs: ms, sampled: true });

describe("HyStart++ (RFC 9406), the state machine alone", () => {
  /** Starts round 1 (lastRoundMinRtt = infinity), then a full round at `firstRttMs`, then round 3 begins. */
  function twoRounds(firstRttMs: number): HyStartPlusPlus {
    const h = new HyStartPlusPlus();
    for (let pn = 0; pn < 10; pn++) h.onPacketSent(pn);
    h.onAck(0, firstRttMs); // round 1 starts, windowEnd = 10
    expect([h.rounds, h.windowEnd]).toEqual([1, 10]);
    for (let i = 1; i < 10; i++) h.onAck(i, firstRttMs);
    for (let pn = 10; pn < 30; pn++) h.onPacketSent(pn);
    h.onAck(10, firstRttMs); // pn 10 >= windowEnd: round 2
    expect([h.rounds, h.windowEnd, h.lastRoundMinRttMs]).toEqual([2, 30, firstRttMs]);
    for (let i = 11; i < 30; i++) h.onAck(i, firstRttMs);
    for (let pn = 30; pn < 70; pn++) h.onPacketSent(pn);
    h.onAck(30, undefined); // round 3 starts on an ACK without an RTT sample
    expect(h.rounds).toBe(3);
    expect(h.rttSampleCount).toBe(0);
    return h;
  }

  test("rounds end when a packet sent after the round began is acked", () => {
    const h = new HyStartPlusPlus();
    for (let pn = 0; pn < 5; pn++) h.onPacketSent(pn);
    h.onAck(-1, 100); // an ACK with no 1-RTT packet does not start a round
    expect(h.rounds).toBe(0);
    h.onAck(2, 100);
    expect([h.rounds, h.windowEnd]).toEqual([1, 5]);
    h.onAck(4, 100);
    expect(h.rounds).toBe(1); // packets of the round itself
    h.onPacketSent(5);
    h.onAck(5, 100);
    expect([h.rounds, h.windowEnd]).toEqual([2, 6]);
  });

  test("CSS needs N_RTT_SAMPLE samples, and a rise of at least clamp(lastRoundMinRtt / 8, 4, 16) ms", () => {
    // lastRoundMinRtt 100 ms: threshold 12.5 ms.
    let h = twoRounds(100);
    for (let i = 0; i < hystartNRttSample; i++) h.onAck(31 + i, 112.4);
    expect(h.inCss).toBe(false);
    h = twoRounds(100);
    for (let i = 0; i < hystartNRttSample - 1; i++) h.onAck(31 + i, 112.5);
    expect(h.inCss).toBe(false); // 7 samples: not yet
    h.onAck(40, 112.5);
    expect([h.inCss, h.cssBaselineMinRttMs, h.growthDivisor]).toEqual([true, 112.5, hystartCssGrowthDivisor]);
    // Clamps: 20 ms -> 4 ms (not 2.5), 400 ms -> 16 ms (not 50).
    h = twoRounds(20);
    for (let i = 0; i < hystartNRttSample; i++) h.onAck(31 + i, 24);
    expect(h.inCss).toBe(true);
    h = twoRounds(400);
    for (let i = 0; i < hystartNRttSample; i++) h.onAck(31 + i, 415.9);
    expect(h.inCss).toBe(false);
    h = twoRounds(400);
    for (let i = 0; i < hystartNRttSample; i++) h.onAck(31 + i, 416);
    expect(h.inCss).toBe(true);
  });

  test("CSS returns to slow start when a round's minimum RTT falls below the baseline; otherwise exits after CSS_ROUNDS rounds", () => {
    let h = twoRounds(100);
    for (let i = 0; i < hystartNRttSample; i++) h.onAck(31 + i, 120);
    expect(h.inCss).toBe(true);
    let pn = 70;
    const nextRound = (rtt: number) => {
      const first = pn;
      for (let i = 0; i < 10; i++) h.onPacketSent(pn++);
      const verdicts = [];
      for (let i = 0; i < 10; i++) verdicts.push(h.onAck(first + i, rtt));
      return verdicts;
    };
    nextRound(119); // the round that ends the CSS round: min 119 < baseline 120
    expect(h.inCss).toBe(false);
    expect(h.growthDivisor).toBe(1);
    // Again into CSS, this time the RTT stays up: exit after CSS_ROUNDS rounds.
    h = twoRounds(100);
    for (let i = 0; i < hystartNRttSample; i++) h.onAck(31 + i, 120);
    pn = 70;
    const verdicts: string[] = [];
    for (let r = 0; r < hystartCssRounds + 1 && !verdicts.includes("exit"); r++) verdicts.push(...nextRound(125));
    expect(verdicts.filter((v) => v === "exit").length).toBe(1);
    expect(h.exitedBy).toBe("css_rounds");
    expect(h.rounds).toBe(3 + hystartCssRounds);
  });
});

/**
 * Per-ACK slow start: every packet is acked `rttAt(sendTime)` after it was sent, one
 * ACK per packet, and the sender refills the window after each ACK.
 */
function slowStartSim(cc: Cubic | NewReno, rttAt: (nowMs: number) => number, stop: (nowMs: number) => boolean): { nowMs: number; acks: number } {
  const queue: { pkt: CongestionPacket; ackAt: number }[] = [];
  let pn = 0;
  let nowMs = 0;
  let acks = 0;
  const fill = () => {
    while (cc.sendableBytes() >= mds) {
      const pkt: CongestionPacket = { pn: pn++, timeSentMs: nowMs, sentBytes: mds, inFlight: true };
      cc.onPacketSent(mds, nowMs, pkt.pn);
      queue.push({ pkt, ackAt: nowMs + rttAt(nowMs) });
    }
  };
  fill();
  while (queue.length && !stop(nowMs)) {
    let i = 0;
    for (let j = 1; j < queue.length; j++) if (queue[j]!.ackAt < queue[i]!.ackAt) i = j;
    const { pkt, ackAt } = queue.splice(i, 1)[0]!;
    nowMs = ackAt;
    cc.onPacketsAcked([pkt], nowMs, rttOf(nowMs - pkt.timeSentMs));
    acks++;
    fill();
    expect(acks).toBeLessThan(200_000);
  }
  return { nowMs, acks };
}

describe("HyStart++ in CUBIC's slow start", () => {
  test("a flat RTT: standard slow start, the window doubles per round, one round per RTT", () => {
    const cc = new Cubic();
    slowStartSim(cc, () => 100, (now) => now >= 650);
    expect(cc.hystart!.rounds).toBe(7); // rounds begin at 0, 100, ..., 600 ms
    expect(cc.hystart!.inCss).toBe(false);
    expect(cc.ssthresh).toBe(Infinity);
    expect(cc.congestionWindow).toBeGreaterThanOrEqual(12_000 * 2 ** 6);
  });

  test("a sustained RTT rise: Conservative Slow Start grows by a quarter, then congestion avoidance begins without a loss", () => {
    const cc = new Cubic();
    const h = cc.hystart!;
    // The queue builds from 400 ms on: +30 ms on a 100 ms path.
    let cssAt: { cwnd: number; nowMs: number } | undefined;
    slowStartSim(cc, (now) => (now >= 400 ? 130 : 100), (now) => {
      if (h.inCss && !cssAt) cssAt = { cwnd: cc.congestionWindow, nowMs: now };
      return cc.ssthresh !== Infinity;
    });
    expect(cssAt).toBeDefined();
    expect(h.exitedBy).toBe("css_rounds");
    expect(cc.ssthresh).toBe(cc.congestionWindow);
    expect(cc.inSlowStart).toBe(false);
    // CSS_ROUNDS rounds at a quarter of slow start's rate: (1 + 1/4)^5 ≈ 3.05 at most, far below 2^5 = 32.
    const growth = cc.congestionWindow / cssAt!.cwnd;
    expect(growth).toBeGreaterThan(1.5);
    expect(growth).toBeLessThan((1 + 1 / hystartCssGrowthDivisor) ** hystartCssRounds + 0.1);
    // Congestion avoidance from here starts a CUBIC epoch at K = 0 (no loss, no W_max above).
    cc.onPacketSent(mds, 5000, 10_000);
    cc.onPacketsAcked([{ pn: 10_000, timeSentMs: 5000, sentBytes: mds, inFlight: true }], 5130, rttOf(130));
    expect(cc.kSeconds).toBe(0);
  });

  test("a loss in slow start ends it the standard way; HyStart++ is not consulted afterwards", () => {
    const cc = new Cubic();
    slowStartSim(cc, () => 100, (now) => now >= 250);
    const before = cc.congestionWindow;
    cc.onPacketSent(mds, 250, 100_000);
    cc.onPacketsLost([{ pn: 100_000, timeSentMs: 250, sentBytes: mds, inFlight: true }], 260);
    expect(cc.congestionWindow).toBe(Math.floor(before * cubicBeta));
    const rounds = cc.hystart!.rounds;
    cc.onPacketSent(mds, 300, 100_001);
    cc.onPacketsAcked([{ pn: 100_001, timeSentMs: 300, sentBytes: mds, inFlight: true }], 400, rttOf(100));
    expect(cc.hystart!.rounds).toBe(rounds);
  });

  test("NewReno (the selectable alternative) runs without HyStart++ unless asked", () => {
    expect(new NewReno().hystart).toBeUndefined();
    expect(new NewReno(1200, { hystart: true }).hystart).toBeDefined();
    expect(new Cubic(1200, { hystart: false }).hystart).toBeUndefined();
  });
});

describe("CUBIC window arithmetic (RFC 9438)", () => {
  /** A CUBIC sender in congestion avoidance after one loss at `wMaxSegments`. */
  function afterLoss(wMaxSegments: number): Cubic {
    const cc = new Cubic(mds, { hystart: false });
    cc.congestionWindow = wMaxSegments * mds;
    cc.onPacketSent(mds, 0);
    cc.onPacketsLost([{ timeSentMs: 0, sentBytes: mds, inFlight: true }], 1);
    cc.forgetUndo(); // a real loss
    return cc;
  }

  /** One round: a full window sent at `t` and acked in one ACK at t + rtt. */
  function round(cc: Cubic, t: number, rttMs: number): number {
    const n = Math.floor(cc.congestionWindow / mds);
    const pkts = Array.from({ length: n }, (): CongestionPacket => ({ timeSentMs: t, sentBytes: mds, inFlight: true }));
    for (const _ of pkts) cc.onPacketSent(mds, t);
    cc.onPacketsAcked(pkts, t + rttMs, rttOf(rttMs));
    return cc.congestionWindow;
  }

  test("W_cubic(t) = C (t - K)^3 + W_max with K = cbrt(W_max (1 - β) / C); each round reaches W_cubic(t + RTT)", () => {
    const cc = afterLoss(100);
    expect(cc.congestionWindow).toBe(70 * mds);
    expect([cc.wMaxSegments, cc.ssthresh]).toEqual([100, 70 * mds]);
    const rtt = 100;
    let t = 10;
    round(cc, t, rtt); // the first ACK in avoidance opens the epoch at t + rtt
    const epoch = t + rtt;
    expect(cc.epochStartMs).toBe(epoch);
    expect(cc.kSeconds).toBeCloseTo(Math.cbrt((100 * (1 - cubicBeta)) / cubicC), 12);
    expect(cc.cubicWindowSegments(cc.kSeconds)).toBeCloseTo(100, 9);
    for (let i = 0; i < 60; i++) {
      t += rtt;
      const cwnd = round(cc, t, rtt) / mds;
      const expected = cc.cubicWindowSegments((t + rtt - epoch + rtt) / 1000);
      // Bounded by 1.5 × cwnd per round and by the Reno-friendly estimate from below.
      expect(cwnd).toBeGreaterThanOrEqual(Math.min(expected, cwnd) - 1 / mds);
      expect(Math.abs(cwnd - Math.max(expected, cc.wEstSegments))).toBeLessThan(1);
    }
    expect(t / 1000).toBeGreaterThan(cc.kSeconds); // the run went past the plateau into convex growth
    expect(cc.congestionWindow / mds).toBeGreaterThan(100);
  });

  test("Reno-friendly region: on a short RTT the window follows W_est (α_cubic per RTT, then 1 past cwnd_prior)", () => {
    const cc = afterLoss(100);
    const rtt = 1; // at 1 ms CUBIC's own curve barely moves per round: Reno is faster
    let t = 10;
    round(cc, t, rtt);
    const startEst = cc.wEstSegments;
    for (let i = 0; i < 20; i++) round(cc, (t += rtt), rtt);
    // W_est grows by α per round (a full window acked), and cwnd follows it.
    // (A round acks floor(cwnd) whole segments of a fractional cwnd: slightly under α.)
    expect(cc.wEstSegments - startEst).toBeLessThanOrEqual(20 * cubicAlpha);
    expect(cc.wEstSegments - startEst).toBeGreaterThan(20 * cubicAlpha * 0.98);
    expect(Math.abs(cc.congestionWindow / mds - cc.wEstSegments)).toBeLessThan(1);
    expect(cc.cubicWindowSegments((t + rtt - (10 + rtt)) / 1000)).toBeLessThan(cc.wEstSegments);
    // Past cwnd_prior (100) the Reno estimate grows by one segment per round.
    while (cc.wEstSegments < 100) round(cc, (t += rtt), rtt);
    const est = cc.wEstSegments;
    round(cc, (t += rtt), rtt);
    expect(cc.wEstSegments - est).toBeGreaterThan(0.98);
    expect(cc.wEstSegments - est).toBeLessThanOrEqual(1);
  });

  test("fast convergence: a loss before regaining W_max sets W_max = cwnd (1 + β) / 2", () => {
    const cc = afterLoss(100); // cwnd 70
    round(cc, 10, 100);
    const cwnd = cc.congestionWindow / mds;
    expect(cwnd).toBeLessThan(100);
    cc.onPacketSent(mds, 500);
    cc.onPacketsLost([{ timeSentMs: 500, sentBytes: mds, inFlight: true }], 510);
    expect(cc.wMaxSegments).toBeCloseTo((cwnd * (1 + cubicBeta)) / 2, 9);
    expect(cc.cwndPriorSegments).toBeCloseTo(cwnd, 9);
    expect(cc.congestionWindow).toBe(Math.floor(cwnd * mds * cubicBeta));
  });

  test("undo after a spurious loss restores the window and the epoch (W_max, K, W_est) from before it", () => {
    const cc = afterLoss(100);
    let t = 10;
    for (let i = 0; i < 5; i++) round(cc, (t += 100), 100);
    const saved = { cwnd: cc.congestionWindow, wMax: cc.wMaxSegments, k: cc.kSeconds, epoch: cc.epochStartMs, est: cc.wEstSegments, ssthresh: cc.ssthresh };
    cc.onPacketSent(mds, t + 200);
    cc.onPacketsLost([{ timeSentMs: t + 200, sentBytes: mds, inFlight: true }], t + 210);
    expect(cc.congestionWindow).toBeLessThan(saved.cwnd);
    expect(cc.epochStartMs).toBeUndefined();
    expect(cc.undoCongestionEvent()).toBe(true);
    expect({ cwnd: cc.congestionWindow, wMax: cc.wMaxSegments, k: cc.kSeconds, epoch: cc.epochStartMs, est: cc.wEstSegments, ssthresh: cc.ssthresh }).toEqual(saved);
    expect(cc.undoCongestionEvent()).toBe(false); // once
  });

  test("a larger datagram size (path MTU discovery) keeps the window in bytes and rescales segment state", () => {
    const cc = afterLoss(100);
    round(cc, 10, 100);
    const cwnd = cc.congestionWindow;
    cc.setMaxDatagramBytes(1500);
    expect(cc.congestionWindow).toBe(cwnd);
    expect(cc.wMaxSegments).toBeCloseTo((100 * 1200) / 1500, 9);
    expect(cc.minimumWindow).toBe(3000);
    expect(cc.maxDatagramBytes).toBe(1500);
  });
});
