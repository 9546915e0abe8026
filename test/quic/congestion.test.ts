// NewReno and the pacer in virtual time.
import { describe, expect, test } from "bun:test";
import { Cubic, NewReno, Pacer, type CongestionController, type CongestionPacket } from "../../src/net/quic/congestion.ts";

const rtt = { latestRttMs: 100, smoothedRttMs: 100, minRttMs: 100 };
const p = (timeSentMs: number, sentBytes = 1200, inFlight = true): CongestionPacket => ({ timeSentMs, sentBytes, inFlight });

function sendAll(cc: CongestionController, packets: CongestionPacket[]): void {
  for (const x of packets) cc.onPacketSent(x.sentBytes, x.timeSentMs);
}

describe("NewReno (RFC 9002 §7)", () => {
  test("initial window is 10 datagrams (12,000 bytes at 1200) and slow start doubles per round", () => {
    const cc = new NewReno();
    expect(cc.congestionWindow).toBe(12_000);
    const round = Array.from({ length: 10 }, (_, i) => p(i));
    sendAll(cc, round);
    expect(cc.sendableBytes()).toBe(0);
    cc.onPacketsAcked(round, 100, rtt);
    expect(cc.congestionWindow).toBe(24_000);
    expect(cc.bytesInFlight).toBe(0);
  });

  test("a loss halves the window once per recovery period; no growth for packets sent before it", () => {
    const cc = new NewReno();
    const sent = Array.from({ length: 10 }, (_, i) => p(i));
    sendAll(cc, sent);
    cc.onPacketsLost([sent[0]!], 50);
    expect(cc.congestionWindow).toBe(6000);
    expect(cc.ssthresh).toBe(6000);
    cc.onPacketsLost([sent[1]!], 60); // sent before recovery began: same event
    expect(cc.congestionWindow).toBe(6000);
    cc.onPacketsAcked(sent.slice(2), 70, rtt); // all sent before recovery start (50)
    expect(cc.congestionWindow).toBe(6000);
    expect(cc.bytesInFlight).toBe(0);
    // A packet sent after the recovery start, lost: a new reduction.
    const later = p(80);
    sendAll(cc, [later]);
    cc.onPacketsLost([later], 200);
    expect(cc.congestionWindow).toBe(3000);
  });

  test("congestion avoidance adds one datagram per window of acknowledged bytes", () => {
    const cc = new NewReno();
    const first = p(0);
    sendAll(cc, [first]);
    cc.onPacketsLost([first], 10); // cwnd = ssthresh = 6000
    const round = () => Array.from({ length: 5 }, (_, i) => p(20 + i)); // fills the 6000-byte window
    const a = round();
    sendAll(cc, a);
    cc.onPacketsAcked(a.slice(0, 4), 120, rtt); // 4800 < 6000 acked
    expect(cc.congestionWindow).toBe(6000);
    const b = round();
    sendAll(cc, b); // window full again
    cc.onPacketsAcked([...a.slice(4), ...b.slice(0, 1)], 121, rtt); // 7200 acked in total
    expect(cc.congestionWindow).toBe(7200);
  });

  test("the window never drops below 2 datagrams; persistent congestion collapses to it", () => {
    const cc = new NewReno();
    for (let i = 0; i < 6; i++) {
      const x = p(i * 100);
      sendAll(cc, [x]);
      cc.onPacketsLost([x], i * 100 + 50);
    }
    expect(cc.congestionWindow).toBe(2400);
    const big = new NewReno();
    big.onPersistentCongestion(0);
    expect(big.congestionWindow).toBe(2400);
    expect(big.inRecovery(0)).toBe(false);
  });

  test("app-limited senders do not grow the window; non-in-flight packets are ignored", () => {
    const cc = new NewReno();
    cc.appLimited = true;
    const x = p(0);
    sendAll(cc, [x]);
    cc.onPacketsAcked([x, p(0, 50, false)], 100, rtt);
    expect(cc.congestionWindow).toBe(12_000);
    expect(cc.bytesInFlight).toBe(0);
  });

  test("a window the sender does not fill does not grow (RFC 9002 §7.8)", () => {
    const cc = new NewReno();
    for (let i = 0; i < 50; i++) {
      const few = [p(i * 100), p(i * 100 + 1)]; // 2 of 10 datagrams in flight
      sendAll(cc, few);
      cc.onPacketsAcked(few, i * 100 + 50, rtt);
    }
    expect(cc.congestionWindow).toBe(12_000);
    const cubic = new Cubic();
    const few = [p(0)];
    sendAll(cubic, few);
    cubic.onPacketsAcked(few, 50, rtt);
    expect(cubic.congestionWindow).toBe(12_000);
  });

  test("discarded packets leave bytes in flight without a congestion event", () => {
    const cc = new NewReno();
    const xs = [p(0), p(1)];
    sendAll(cc, xs);
    cc.onPacketsDiscarded(xs);
    expect([cc.bytesInFlight, cc.congestionWindow]).toEqual([0, 12_000]);
  });
});

describe("Pacer (token bucket, RFC 9002 §7.7)", () => {
  test("a burst goes at once, then packets are spaced at 1.25 * cwnd / srtt", () => {
    const pacer = new Pacer(1200, 10);
    pacer.setRate(12_000, 100); // 150 bytes/ms: a 1200-byte packet every 8 ms
    let now = 0;
    let sent = 0;
    while (pacer.canSend(now)) {
      pacer.onPacketSent(now, 1200);
      sent++;
    }
    expect(sent).toBe(10);
    expect(pacer.nextSendTimeMs(now)).toBeCloseTo(8, 10);
    now = pacer.nextSendTimeMs(now);
    expect(pacer.canSend(now)).toBe(true);
    pacer.onPacketSent(now, 1200);
    expect(pacer.nextSendTimeMs(now)).toBeCloseTo(16, 10);
    // Idle time refills at most a burst.
    expect(pacer.canSend(10_000)).toBe(true);
    for (let i = 0; i < 10; i++) pacer.onPacketSent(10_000, 1200);
    expect(pacer.canSend(10_000)).toBe(false);
  });

  test("without an RTT the pacer does not delay", () => {
    const pacer = new Pacer();
    for (let i = 0; i < 100; i++) {
      expect(pacer.nextSendTimeMs(i)).toBe(i);
      pacer.onPacketSent(i, 1200);
    }
  });
});

describe("CUBIC (RFC 9438)", () => {
  /** Acks a full window per RTT (100 ms), in virtual time, for `rounds` rounds; returns cwnd per round. */
  function ackRounds(cc: Cubic, startMs: number, rounds: number): number[] {
    const out: number[] = [];
    let now = startMs;
    for (let i = 0; i < rounds; i++) {
      const n = Math.floor(cc.congestionWindow / 1200);
      const packets = Array.from({ length: n }, () => p(now));
      sendAll(cc, packets);
      now += 100;
      cc.onPacketsAcked(packets, now, rtt);
      out.push(cc.congestionWindow);
    }
    return out;
  }

  test("a loss reduces the window to 70% (not 50%)", () => {
    const cc = new Cubic();
    const x = p(0);
    cc.onPacketSent(1200, 0);
    cc.onPacketsLost([x], 10);
    expect(cc.congestionWindow).toBe(Math.floor(12_000 * 0.7));
  });

  test("concave then convex growth around W_max; no growth for packets sent before recovery", () => {
    const cc = new Cubic();
    // Grow to a large window in slow start, then lose: W_max = 200 segments.
    while (cc.congestionWindow < 240_000) ackRounds(cc, 0, 1);
    const wMax = cc.congestionWindow;
    const before = p(0);
    cc.onPacketSent(1200, 0);
    cc.onPacketsLost([before], 1000);
    const reduced = cc.congestionWindow;
    expect(reduced).toBe(Math.floor(wMax * 0.7));
    const old = p(999);
    cc.onPacketSent(1200, 999);
    cc.onPacketsAcked([old], 1001, rtt);
    expect(cc.congestionWindow).toBe(reduced);
    // K = cbrt(W_max (1 - β) / C) seconds: about 3.9 s for W_max = 200 segments.
    const kSeconds = Math.cbrt(((wMax / 1200) * 0.3) / 0.4);
    const rounds = Math.ceil((2 * kSeconds * 1000) / 100);
    const windows = ackRounds(cc, 1001, rounds);
    const atK = windows[Math.round((kSeconds * 1000) / 100) - 1]!;
    expect(Math.abs(atK - wMax) / wMax).toBeLessThan(0.1); // plateau near the old maximum
    const growth = (i: number) => windows[i + 1]! - windows[i]!;
    const early = growth(0);
    const mid = growth(Math.round((kSeconds * 1000) / 100) - 1);
    const late = growth(windows.length - 2);
    expect(early).toBeGreaterThan(mid); // concave: fast, then slowing near W_max
    expect(late).toBeGreaterThan(mid); // convex: probing beyond W_max
    expect(windows[windows.length - 1]!).toBeGreaterThan(wMax);
  });

  test("fast convergence lowers W_max when losses come before regaining it", () => {
    const cc = new Cubic();
    cc.onPacketSent(1200, 0);
    cc.onPacketsLost([p(0)], 10); // W_max = 10 segments, cwnd 8400
    const after1 = cc.congestionWindow;
    cc.onPacketSent(1200, 20);
    cc.onPacketsLost([p(20)], 30); // cwnd 7 < W_max: W_max = 7 * 1.7 / 2
    expect(cc.congestionWindow).toBe(Math.max(Math.floor(after1 * 0.7), 2400));
    cc.onPersistentCongestion(40);
    expect(cc.congestionWindow).toBe(2400);
  });
});
