// A bulk sender and a receiver in virtual time, built only from the pure modules
// (frames, AckTracker, LossRecovery, NewReno, Pacer), over a simulated path with a
// drop-tail bottleneck, random loss and blackouts. Checks delivery, that every loss
// declared was a real drop, congestion reactions, PTO backoff and determinism.
import { describe, expect, test } from "bun:test";
import { AckTracker } from "../../src/net/quic/ack-tracker.ts";
import { Cubic, NewReno, Pacer } from "../../src/net/quic/congestion.ts";
import { parseFrames, serializeFrames, streamDataFitting, type Frame, type StreamFrame } from "../../src/net/quic/frames.ts";
import { LossRecovery } from "../../src/net/quic/recovery.ts";
import { seededRandom } from "./lossy-proxy.ts";

interface PathOptions {
  seed: number;
  totalBytes: number;
  oneWayDelayMs: number;
  /** Bottleneck serialization time per 1200-byte datagram (sender -> receiver). */
  serializationMs: number;
  queuePacketsMax: number;
  lossRate: number;
  ackLossRate: number;
  /** [from, to) in ms during which the path drops everything. */
  blackout?: [number, number];
  congestion?: "newreno" | "cubic";
}

const datagramBytes = 1200;
const ackDelayExponent = 3;
const simStepsMax = 2_000_000;
const simTimeMaxMs = 600_000;

interface Event { at: number; seq: number; run: () => void }

function simulate(o: PathOptions) {
  const random = seededRandom(o.seed);
  const events: Event[] = [];
  let seq = 0;
  let now = 0;
  const schedule = (at: number, run: () => void) => {
    events.push({ at, seq: seq++, run });
  };
  const cc = o.congestion === "cubic" ? new Cubic(datagramBytes) : new NewReno(datagramBytes);
  const pacer = new Pacer(datagramBytes);
  const recovery = new LossRecovery<StreamFrame>({ isServer: false, congestion: cc, peerMaxAckDelayMs: 25 });
  recovery.setHandshakeConfirmed(0);
  const tracker = new AckTracker("application", { maxAckDelayMs: 25 });
  const stats = { sent: 0, dropped: new Set<number>(), declaredLost: [] as number[], ptos: 0, persistentCongestion: 0, lossEvents: 0, cwndMax: 0, trace: [] as string[] };
  const retransmit: StreamFrame[] = [];
  const received = new Uint8Array(o.totalBytes);
  let receivedBytes = 0;
  let nextOffset = 0;
  let nextPn = 0;
  let bottleneckFreeAt = 0;
  let queued = 0;
  let doneAt = -1;
  const inBlackout = (t: number) => o.blackout !== undefined && t >= o.blackout[0] && t < o.blackout[1];

  const sendPacket = (frames: StreamFrame[]) => {
    const pn = nextPn++;
    const bytes = serializeFrames(frames);
    recovery.onPacketSent({ pn, space: "application", ackEliciting: true, inFlight: true, sentBytes: datagramBytes, timeSentMs: now, frames });
    pacer.onPacketSent(now, datagramBytes);
    stats.sent++;
    if (queued >= o.queuePacketsMax || random() < o.lossRate || inBlackout(now)) {
      stats.dropped.add(pn);
      return;
    }
    queued++;
    bottleneckFreeAt = Math.max(now, bottleneckFreeAt) + o.serializationMs;
    const departAt = bottleneckFreeAt;
    schedule(departAt, () => { queued--; });
    schedule(departAt + o.oneWayDelayMs, () => receive(pn, bytes));
  };

  const nextFrame = (): StreamFrame | undefined => {
    const lost = retransmit.shift();
    if (lost) return lost;
    if (nextOffset >= o.totalBytes) return undefined;
    const n = Math.min(streamDataFitting(0, nextOffset, datagramBytes - 40), o.totalBytes - nextOffset);
    const frame: StreamFrame = { kind: "stream", streamId: 0, offset: nextOffset, data: new Uint8Array(n).fill(nextOffset & 0xff), fin: nextOffset + n === o.totalBytes };
    nextOffset += n;
    return frame;
  };

  const trySend = () => {
    pacer.setRate(cc.congestionWindow, recovery.rtt.smoothedRttMs);
    while (cc.sendableBytes() >= datagramBytes) {
      const at = pacer.nextSendTimeMs(now);
      if (at > now) {
        schedule(at, trySend);
        break;
      }
      const frame = nextFrame();
      if (!frame) break;
      sendPacket([frame]);
    }
    stats.cwndMax = Math.max(stats.cwndMax, cc.congestionWindow);
    armTimer();
  };

  const receive = (pn: number, bytes: Uint8Array) => {
    for (const f of parseFrames(bytes, "1rtt")) {
      if (f.kind !== "stream") continue;
      for (let i = 0; i < f.data.length; i++) {
        if (received[f.offset + i] === 0) receivedBytes++;
        received[f.offset + i] = 1;
      }
    }
    tracker.onPacketReceived(pn, true, now);
    if (receivedBytes === o.totalBytes && doneAt < 0) doneAt = now;
    schedule(tracker.ackDeadlineMs, maybeAck);
  };

  const maybeAck = () => {
    if (!tracker.ackDue(now)) return;
    const ack = tracker.buildAckFrame(now, ackDelayExponent)!;
    tracker.onAckSent();
    if (random() < o.ackLossRate || inBlackout(now)) return;
    const bytes = serializeFrames([ack]);
    schedule(now + o.oneWayDelayMs, () => onAck(bytes));
  };

  const onAck = (bytes: Uint8Array) => {
    const [frame] = parseFrames(bytes, "1rtt") as [Frame];
    if (frame.kind !== "ack") throw new Error("expected ACK");
    const res = recovery.onAckReceived("application", { ranges: frame.ranges, ackDelayMs: (frame.ackDelay * 2 ** ackDelayExponent) / 1000 }, now);
    onLost(res.lost.map((p) => ({ pn: p.pn, frames: p.frames })), res.persistentCongestion);
    trySend();
    armTimer();
  };

  const onLost = (lost: { pn: number; frames: readonly StreamFrame[] }[], persistent: boolean) => {
    if (lost.length) stats.lossEvents++;
    if (persistent) stats.persistentCongestion++;
    for (const p of lost) {
      stats.declaredLost.push(p.pn);
      retransmit.push(...p.frames);
    }
  };

  let timerAt = Infinity;
  function armTimer(): void {
    const at = recovery.lossDetectionDeadlineMs();
    if (at === timerAt || at === Infinity) return;
    timerAt = at;
    schedule(at, () => {
      if (timerAt !== at) return;
      timerAt = Infinity;
      const t = recovery.onTimeout(now);
      if (t?.kind === "loss") onLost(t.lost.map((p) => ({ pn: p.pn, frames: p.frames })), t.persistentCongestion);
      if (t?.kind === "pto") {
        stats.ptos++;
        // Probe with the oldest unacknowledged data (or new data), ignoring the window (RFC 9002 §6.2.4).
        for (let i = 0; i < t.probes; i++) {
          const oldest = recovery.unacked("application")[i];
          const frame = oldest ? oldest.frames[0]! : nextFrame();
          if (frame) sendPacket([frame]);
        }
      }
      trySend();
      armTimer();
    });
  }

  trySend();
  armTimer();
  for (let steps = 0; steps < simStepsMax && doneAt < 0; steps++) {
    if (events.length === 0) break;
    let best = 0;
    for (let i = 1; i < events.length; i++) {
      const e = events[i]!;
      const b = events[best]!;
      if (e.at < b.at || (e.at === b.at && e.seq < b.seq)) best = i;
    }
    const e = events[best]!;
    events[best] = events[events.length - 1]!;
    events.pop();
    if (e.at > simTimeMaxMs) break;
    now = Math.max(now, e.at);
    e.run();
    if (steps % 1000 === 0) stats.trace.push(`${now.toFixed(3)}:${cc.congestionWindow}:${stats.sent}`);
  }
  if (process.env.SIM_DEBUG) console.log({ now, events: events.length, cwnd: cc.congestionWindow, inflight: cc.bytesInFlight, timer: recovery.lossDetectionDeadlineMs(), unacked: recovery.unacked("application").length, retransmit: retransmit.length, nextOffset, sent: stats.sent, pto: recovery.ptoCount, srtt: recovery.rtt.smoothedRttMs });
  return { doneAt, receivedBytes, stats, cc, recovery };
}

const base: PathOptions = { seed: 1, totalBytes: 2_000_000, oneWayDelayMs: 10, serializationMs: 0.1, queuePacketsMax: 60, lossRate: 0, ackLossRate: 0 };

describe("loss recovery + NewReno in a virtual-time path simulation", () => {
  test("drop-tail bottleneck: everything arrives, the window reacts, the link is well used", () => {
    const r = simulate(base);
    expect(r.receivedBytes).toBe(base.totalBytes);
    expect(r.stats.dropped.size).toBeGreaterThan(0); // slow start overshoots the queue
    expect(r.stats.lossEvents).toBeGreaterThan(0);
    expect(r.cc.ssthresh).toBeLessThan(Infinity);
    for (const pn of r.stats.declaredLost) expect(r.stats.dropped.has(pn)).toBe(true);
    // Virtual time only: 2 MB over a 96 Mbit/s bottleneck takes >= 167 ms; NewReno with a
    // 60-packet buffer (BDP ~ 200 packets) should still reach most of the capacity.
    const idealMs = (Math.ceil(base.totalBytes / 1100) * base.serializationMs) + 2 * base.oneWayDelayMs;
    expect(r.doneAt).toBeGreaterThan(0);
    expect(idealMs / r.doneAt).toBeGreaterThan(0.5);
  });

  test("CUBIC on the same bottleneck: complete, reacts, uses the link at least as well as NewReno", () => {
    const reno = simulate({ ...base, totalBytes: 6_000_000 });
    const cubic = simulate({ ...base, totalBytes: 6_000_000, congestion: "cubic" });
    expect(cubic.receivedBytes).toBe(6_000_000);
    expect(cubic.stats.lossEvents).toBeGreaterThan(0);
    for (const pn of cubic.stats.declaredLost) expect(cubic.stats.dropped.has(pn)).toBe(true);
    expect(cubic.doneAt).toBeLessThanOrEqual(reno.doneAt * 1.05);
  });

  test("5% random loss each way (data and ACKs): complete, losses declared only for real drops", () => {
    const opts = { ...base, seed: 7, lossRate: 0.05, ackLossRate: 0.05, totalBytes: 1_000_000 };
    const r = simulate(opts);
    expect(r.receivedBytes).toBe(opts.totalBytes);
    expect(r.stats.declaredLost.length).toBeGreaterThan(0);
    for (const pn of r.stats.declaredLost) expect(r.stats.dropped.has(pn)).toBe(true);
    expect(new Set(r.stats.declaredLost).size).toBe(r.stats.declaredLost.length); // never twice
    expect(r.cc.congestionWindow).toBeLessThan(r.stats.cwndMax);
  });

  test("a 3 s blackout: PTOs back off, persistent congestion collapses the window, transfer completes", () => {
    const opts = { ...base, seed: 3, totalBytes: 3_000_000, blackout: [100, 3100] as [number, number] };
    const r = simulate(opts);
    expect(r.receivedBytes).toBe(opts.totalBytes);
    expect(r.stats.ptos).toBeGreaterThanOrEqual(3);
    expect(r.stats.persistentCongestion).toBeGreaterThan(0);
    expect(r.doneAt).toBeGreaterThan(3100);
  });

  test("deterministic: the same seed gives the same trace", () => {
    const opts = { ...base, seed: 11, lossRate: 0.03, ackLossRate: 0.03, totalBytes: 500_000 };
    const a = simulate(opts);
    const b = simulate(opts);
    expect(a.stats.trace).toEqual(b.stats.trace);
    expect(a.doneAt).toBe(b.doneAt);
    expect(a.stats.declaredLost).toEqual(b.stats.declaredLost);
  });
});
