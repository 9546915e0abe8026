import { describe, expect, test } from "bun:test";
import { LocalStreamLimit, PeerStreamLimit, ReceiveWindow, SendWindow, streamIdOf, streamIndex } from "../../src/net/quic/flow-control.ts";
import { QuicError } from "../../src/net/quic/errors.ts";
import { thrownCode } from "../thrown-code.ts";

const codeOf = (fn: () => unknown): string | undefined => thrownCode(fn, QuicError, undefined);

describe("ReceiveWindow", () => {
  test("stream level: out-of-order frames count the highest offset once; past the limit is FLOW_CONTROL_ERROR", () => {
    const w = new ReceiveWindow({ windowBytes: 1000, level: "stream" });
    expect(w.onHighestOffset(500)).toBe(500);
    expect(w.onHighestOffset(300)).toBe(0); // retransmission below the highest
    expect(w.onHighestOffset(1000)).toBe(500);
    expect(codeOf(() => w.onHighestOffset(1001))).toBe("QUIC_FLOW_CONTROL_ERROR");
  });

  test("connection level sums increments", () => {
    const c = new ReceiveWindow({ windowBytes: 1000, level: "connection" });
    const a = new ReceiveWindow({ windowBytes: 800, level: "stream" });
    const b = new ReceiveWindow({ windowBytes: 800, level: "stream" });
    c.onBytesReceived(a.onHighestOffset(600));
    c.onBytesReceived(b.onHighestOffset(400));
    expect(c.received).toBe(1000);
    expect(codeOf(() => c.onBytesReceived(b.onHighestOffset(401)))).toBe("QUIC_FLOW_CONTROL_ERROR");
  });

  test("MAX_DATA update once less than half the window is left, as consumed + window", () => {
    const w = new ReceiveWindow({ windowBytes: 1000, level: "connection" });
    w.onBytesReceived(600);
    w.onConsumed(400);
    expect(w.takeUpdate(0, 100)).toBeUndefined(); // 600 credit left
    w.onConsumed(101);
    expect(w.takeUpdate(0, 100)).toBe(1501);
    expect(w.takeUpdate(0, 100)).toBeUndefined();
  });

  test("auto-tuning doubles the window when updates come within 2 RTTs, up to the maximum", () => {
    const w = new ReceiveWindow({ windowBytes: 1000, windowBytesMax: 3000, level: "stream" });
    let now = 0;
    for (const expected of [1000, 2000, 3000, 3000]) {
      w.onHighestOffset(w.limit);
      w.onConsumed(w.limit - w.consumed);
      w.takeUpdate(now, 100);
      expect(w.windowBytes).toBe(expected);
      now += 150; // < 2 RTT between updates
    }
    w.onHighestOffset(w.limit);
    w.onConsumed(w.limit - w.consumed);
    w.takeUpdate(now + 1000, 100); // slow reader: no growth
    expect(w.windowBytes).toBe(3000);
  });
});

describe("SendWindow", () => {
  test("credit, monotonic MAX_DATA, one BLOCKED per limit", () => {
    const s = new SendWindow(100);
    s.onSent(60);
    expect(s.available()).toBe(40);
    expect(s.takeBlocked()).toBeUndefined();
    s.onSent(40);
    expect(s.takeBlocked()).toBe(100);
    expect(s.takeBlocked()).toBeUndefined();
    s.onBlockedLost(100);
    expect(s.takeBlocked()).toBe(100);
    expect(s.onMaxData(50)).toBe(false);
    expect(s.onMaxData(150)).toBe(true);
    expect(s.available()).toBe(50);
    expect(() => s.onSent(51)).toThrow();
  });
});

describe("stream limits", () => {
  test("peer-opened streams: lower ids open implicitly, beyond MAX_STREAMS is STREAM_LIMIT_ERROR", () => {
    const lim = new PeerStreamLimit(4);
    expect(lim.onPeerStream(streamIdOf(2, true, true))).toEqual([0, 4, 8]);
    expect(lim.onPeerStream(4)).toEqual([]);
    expect(lim.onPeerStream(12)).toEqual([12]);
    expect(codeOf(() => lim.onPeerStream(16))).toBe("QUIC_STREAM_LIMIT_ERROR");
    lim.onStreamClosed();
    expect(lim.takeUpdate()).toBeUndefined(); // one closed: less than half the window
    lim.onStreamClosed();
    expect(lim.takeUpdate()).toBe(6);
    expect(lim.onPeerStream(streamIdOf(5, true, true))).toEqual([16, 20]);
  });

  test("locally opened streams stop at the peer's limit and report STREAMS_BLOCKED once", () => {
    const lim = new LocalStreamLimit(2);
    expect([lim.tryOpen(), lim.tryOpen(), lim.tryOpen()]).toEqual([0, 1, undefined]);
    expect(lim.takeBlocked()).toBe(2);
    expect(lim.takeBlocked()).toBeUndefined();
    lim.onMaxStreams(1);
    expect(lim.tryOpen()).toBeUndefined();
    lim.onMaxStreams(3);
    expect(lim.tryOpen()).toBe(2);
  });

  test("stream id helpers (RFC 9000 §2.1)", () => {
    expect([streamIdOf(0, true, true), streamIdOf(0, true, false), streamIdOf(0, false, true), streamIdOf(3, false, false)]).toEqual([0, 1, 2, 15]);
    expect(streamIndex(15)).toBe(3);
  });
});
