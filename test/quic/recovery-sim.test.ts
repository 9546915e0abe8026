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

interface SimStats {
  sent: number;
  dropped: Set<number>;
  declaredLost: number[];
  ptos: number;
  persistentCongestion: number;
  lossEvents: number;
  cwndMax: number;
  trace: string[];
}

/** Bulk sender -> bottleneck path -> receiver, ACKs back on an uncongested return path. */
class PathSim {
  readonly cc: NewReno | Cubic;
  readonly recovery: LossRecovery<StreamFrame>;
  readonly stats: SimStats = { sent: 0, dropped: new Set(), declaredLost: [], ptos: 0, persistentCongestion: 0, lossEvents: 0, cwndMax: 0, trace: [] };
  receivedBytes = 0;
  doneAt = -1;
  private readonly random: () => number;
  private readonly pacer = new Pacer(datagramBytes);
  private readonly tracker = new AckTracker("application", { maxAckDelayMs: 25 });
  private readonly events: Event[] = [];
  private readonly retransmit: StreamFrame[] = [];
  private readonly received: Uint8Array;
  private seq = 0;
  private now = 0;
  private nextOffset = 0;
  private nextPn = 0;
  private bottleneckFreeAt = 0;
  private queued = 0;
  private timerAt = Infinity;

  constructor(private readonly o: PathOptions) {
    this.random = seededRandom(o.seed);
    this.cc = o.congestion === "cubic" ? new Cubic(datagramBytes) : new NewReno(datagramBytes);
    this.recovery = new LossRecovery<StreamFrame>({ isServer: false, congestion: this.cc, peerMaxAckDelayMs: 25 });
    this.recovery.setHandshakeConfirmed(0);
    this.received = new Uint8Array(o.totalBytes);
  }

  private schedule(at: number, run: () => void): void {
    this.events.push({ at, seq: this.seq++, run });
  }

  private inBlackout(t: number): boolean {
    return this.o.blackout !== undefined && t >= this.o.blackout[0] && t < this.o.blackout[1];
  }

  private sendPacket(frames: StreamFrame[]): void {
    const pn = this.nextPn++;
    const bytes = serializeFrames(frames);
    this.recovery.onPacketSent({ pn, space: "application", ackEliciting: true, inFlight: true, sentBytes: datagramBytes, timeSentMs: this.now, frames });
    this.pacer.onPacketSent(this.now, datagramBytes);
    this.stats.sent++;
    if (this.queued >= this.o.queuePacketsMax || this.random() < this.o.lossRate || this.inBlackout(this.now)) {
      this.stats.dropped.add(pn);
      return;
    }
    this.queued++;
    this.bottleneckFreeAt = Math.max(this.now, this.bottleneckFreeAt) + this.o.serializationMs;
    const departAt = this.bottleneckFreeAt;
    this.schedule(departAt, () => { this.queued--; });
    this.schedule(departAt + this.o.oneWayDelayMs, () => this.receive(pn, bytes));
  }

  private nextFrame(): StreamFrame | undefined {
    const lost = this.retransmit.shift();
    if (lost) return lost;
    if (this.nextOffset >= this.o.totalBytes) return undefined;
    const offset = this.nextOffset;
    const n = Math.min(streamDataFitting(0, offset, datagramBytes - 40), this.o.totalBytes - offset);
    this.nextOffset += n;
    return { kind: "stream", streamId: 0, offset, data: new Uint8Array(n).fill(offset & 0xff), fin: offset + n === this.o.totalBytes };
  }

  private trySend(): void {
    this.pacer.setRate(this.cc.congestionWindow, this.recovery.rtt.smoothedRttMs);
    while (this.cc.sendableBytes() >= datagramBytes) {
      const at = this.pacer.nextSendTimeMs(this.now);
      if (at > this.now) {
        this.schedule(at, () => this.trySend());
        break;
      }
      const frame = this.nextFrame();
      if (!frame) break;
      this.sendPacket([frame]);
    }
    this.stats.cwndMax = Math.max(this.stats.cwndMax, this.cc.congestionWindow);
    this.armTimer();
  }

  private receive(pn: number, bytes: Uint8Array): void {
    for (const f of parseFrames(bytes, "1rtt")) {
      if (f.kind !== "stream") continue;
      for (let i = 0; i < f.data.length; i++) {
        if (this.received[f.offset + i] === 0) this.receivedBytes++;
        this.received[f.offset + i] = 1;
      }
    }
    this.tracker.onPacketReceived(pn, true, this.now);
    if (this.receivedBytes === this.o.totalBytes && this.doneAt < 0) this.doneAt = this.now;
    this.schedule(this.tracker.ackDeadlineMs, () => this.maybeAck());
  }

  private maybeAck(): void {
    if (!this.tracker.ackDue(this.now)) return;
    const ack = this.tracker.buildAckFrame(this.now, ackDelayExponent)!;
    this.tracker.onAckSent();
    if (this.random() < this.o.ackLossRate || this.inBlackout(this.now)) return;
    const bytes = serializeFrames([ack]);
    this.schedule(this.now + this.o.oneWayDelayMs, () => this.onAck(bytes));
  }

  private onAck(bytes: Uint8Array): void {
    const [frame] = parseFrames(bytes, "1rtt") as [Frame];
    if (frame.kind !== "ack") throw new Error("expected ACK");
    const ackDelayMs = (frame.ackDelay * 2 ** ackDelayExponent) / 1000;
    const res = this.recovery.onAckReceived("application", { ranges: frame.ranges, ackDelayMs }, this.now);
    this.onLost(res.lost, res.persistentCongestion);
    this.trySend();
  }

  private onLost(lost: readonly { pn: number; frames: readonly StreamFrame[] }[], persistent: boolean): void {
    if (lost.length) this.stats.lossEvents++;
    if (persistent) this.stats.persistentCongestion++;
    for (const p of lost) {
      this.stats.declaredLost.push(p.pn);
      this.retransmit.push(...p.frames);
    }
  }

  private armTimer(): void {
    const at = this.recovery.lossDetectionDeadlineMs();
    if (at === this.timerAt || at === Infinity) return;
    this.timerAt = at;
    this.schedule(at, () => {
      if (this.timerAt === at) this.onTimer();
    });
  }

  private onTimer(): void {
    this.timerAt = Infinity;
    const t = this.recovery.onTimeout(this.now);
    if (t?.kind === "loss") this.onLost(t.lost, t.persistentCongestion);
    if (t?.kind === "pto") {
      this.stats.ptos++;
      // Probe with the oldest unacknowledged data (or new data), ignoring the window (RFC 9002 §6.2.4).
      for (let i = 0; i < t.probes; i++) {
        const oldest = this.recovery.unacked("application")[i];
        const frame = oldest ? oldest.frames[0]! : this.nextFrame();
        if (frame) this.sendPacket([frame]);
      }
    }
    this.trySend();
  }

  /** Runs events in time order (ties by scheduling order) until done or a bound is hit. */
  run(): this {
    this.trySend();
    for (let steps = 0; steps < simStepsMax && this.doneAt < 0 && this.events.length > 0; steps++) {
      const e = this.popEarliest();
      if (e.at > simTimeMaxMs) break;
      this.now = Math.max(this.now, e.at);
      e.run();
      if (steps % 1000 === 0) this.stats.trace.push(`${this.now.toFixed(3)}:${this.cc.congestionWindow}:${this.stats.sent}`);
    }
    return this;
  }

  private popEarliest(): Event {
    const events = this.events;
    let best = 0;
    for (let i = 1; i < events.length; i++) {
      const e = events[i]!;
      const b = events[best]!;
      if (e.at < b.at || (e.at === b.at && e.seq < b.seq)) best = i;
    }
    const e = events[best]!;
    events[best] = events[events.length - 1]!;
    events.pop();
    return e;
  }
}

const simulate = (o: PathOptions) => new PathSim(o).run();

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
