// Pacing on the connection's send path (RFC 9002 §7.7), in virtual time through the
// in-memory harness: a flight's ACKs all arrive at one instant, so an unpaced sender
// answers with the whole window at once; a paced one sends a bounded burst and waits
// on its pacing timer for the rest.
import { describe, expect, test } from "bun:test";
import { Pacer, pacingBurstPacketsDefault } from "../../src/net/quic/congestion.ts";
import type { ConnectionOptions } from "../../src/net/quic/connection.ts";
import { makePair, run, streamBytes } from "./harness.ts";

/** Client -> server transfer of `bytes` over a 40 ms one-way path; returns per-instant data datagram counts. */
function transfer(opts: Partial<ConnectionOptions>, bytes: number) {
  const p = makePair(opts);
  p.latencyMs = 40;
  const sends = new Map<number, number>();
  let after = Infinity;
  p.filter = (dir, d) => {
    if (dir === "c2s" && d.length > 1000 && p.nowMs >= after) sends.set(p.nowMs, (sends.get(p.nowMs) ?? 0) + 1);
    return true;
  };
  run(p, p.nowMs + 5000, opts, () => p.client.isEstablished && !!p.server?.isEstablished);
  after = p.nowMs;
  const id = p.client.openStream(true);
  const data = new Uint8Array(bytes).fill(7);
  p.client.writeStream(id, data, true);
  const start = p.nowMs;
  // Scans only new events per step (streamBytes over all of them each step is quadratic).
  let seen = 0;
  let fin = false;
  run(p, p.nowMs + 60_000, opts, () => {
    for (; seen < p.serverEvents.length; seen++) {
      const e = p.serverEvents[seen]!;
      if (e.type === "stream_data" && e.streamId === id && e.fin) fin = true;
    }
    return fin;
  });
  const got = streamBytes(p.serverEvents, id);
  return { p, complete: got.fin && got.data.length === bytes, maxBurst: Math.max(...sends.values()), instants: sends.size, elapsedMs: p.nowMs - start };
}

describe("Pacer granularity credit", () => {
  test("a packet due within the granularity goes now, and the long-run rate is unchanged", () => {
    const strict = new Pacer(1200, 10, 2, 0);
    const lenient = new Pacer(1200, 10, 2, 1);
    for (const p of [strict, lenient]) p.setRate(12_000, 100); // 150 bytes/ms
    const count = (p: Pacer) => {
      let sent = 0;
      for (let now = 0; now <= 10_000; now += 0.25) {
        while (p.canSend(now)) {
          p.onPacketSent(now, 1200);
          sent++;
        }
      }
      return sent;
    };
    // After the 10-packet burst the strict bucket waits 8 ms for a whole packet; with
    // 1 ms of credit (150 bytes) the next one is due at 7 ms.
    const probe = new Pacer(1200, 10, 2, 1);
    probe.setRate(12_000, 100);
    for (let i = 0; i < 10; i++) probe.onPacketSent(0, 1200);
    expect(probe.nextSendTimeMs(0)).toBeCloseTo(7, 10);
    // Over 10 s both send burst + rate × time (1250 packets), the lenient one at most one more.
    const s = count(strict);
    const l = count(lenient);
    expect(s).toBe(10 + 1250);
    expect(l - s).toBeGreaterThanOrEqual(0);
    expect(l - s).toBeLessThanOrEqual(1);
  });
});

describe("pacing on the send path", () => {
  test("paced: at most a burst of datagrams leaves at one instant; unpaced: whole windows do", () => {
    const paced = transfer({}, 3_000_000);
    const unpaced = transfer({ pacing: false }, 3_000_000);
    expect(paced.complete).toBe(true);
    expect(unpaced.complete).toBe(true);
    // Tokens may run one datagram below zero: burst + 1 at most.
    expect(paced.maxBurst).toBeLessThanOrEqual(pacingBurstPacketsDefault + 1);
    expect(unpaced.maxBurst).toBeGreaterThan(3 * pacingBurstPacketsDefault);
    // The same data spread over many more send instants.
    expect(paced.instants).toBeGreaterThan(2 * unpaced.instants);
    // Path MTU discovery ran on the harness path too (no size limit there).
    expect(paced.p.client.datagramBytes).toBe(1452);
  });

  test("NewReno is selectable and paced the same way", () => {
    const r = transfer({ congestionControl: "newreno" }, 500_000);
    expect(r.complete).toBe(true);
    expect(r.p.client.congestionControl.name).toBe("newreno");
    expect(r.maxBurst).toBeLessThanOrEqual(pacingBurstPacketsDefault + 1);
    const c = transfer({}, 100_000);
    expect(c.p.client.congestionControl.name).toBe("cubic");
  });
});
