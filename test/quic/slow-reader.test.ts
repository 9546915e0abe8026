/**
 * Flow credit follows consumption, on a real loopback pair: a reader that does not
 * consume holds the sender at the stream window (the receiver's buffer stays
 * bounded), and a slow reader still receives everything intact once it consumes.
 */
import { describe, expect, test } from "bun:test";
import { QuicEndpoint, type QuicConnection } from "../../src/net/quic/endpoint.ts";
import { clientIdentity, serverIdentity, until } from "./harness.ts";

const STREAM_WINDOW = 64 * 1024;
const RECEIVE_BUFFER = 128 * 1024;
const TOTAL_BYTES = 2 * 1024 * 1024;
/** Bytes the slow reader consumes per step. */
const READ_STEP_BYTES = 16 * 1024;

function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + (i >> 11)) & 0xff;
  return out;
}

describe("stream credit on consumption", () => {
  test("a reader that does not consume stalls the sender; a slow reader gets everything", async () => {
    const received: Uint8Array[] = [];
    let receivedBytes = 0;
    let fin = false;
    let serverConn: QuicConnection | null = null;
    const server = await QuicEndpoint.listen(0, {
      identity: serverIdentity, verifyPeer: () => true,
      streamWindowBytes: STREAM_WINDOW, connectionWindowBytes: RECEIVE_BUFFER, receiveBufferBytesMax: RECEIVE_BUFFER,
      onConnection: (c) => {
        serverConn = c;
        c.onData((_sid, d, f) => {
          received.push(d.slice());
          receivedBytes += d.length;
          fin ||= f;
        }, { manualConsume: true });
      },
    });
    const client = await QuicEndpoint.client({ identity: clientIdentity, verifyPeer: () => true });
    try {
      const conn = await client.connect("127.0.0.1", server.port);
      const sid = conn.openStream();
      const payload = pattern(TOTAL_BYTES);
      conn.write(sid, payload, true);
      // The receiver gets one stream window and no more while nothing is consumed.
      await until(() => receivedBytes >= STREAM_WINDOW, "first stream window");
      const peerConn = serverConn as QuicConnection | null;
      if (!peerConn) throw new Error("server connection missing");
      // Give the sender many round trips to (wrongly) exceed the window.
      for (let i = 0; i < 20; i++) await Bun.sleep(5);
      expect(receivedBytes).toBe(STREAM_WINDOW);
      expect(peerConn.unconsumedBytes).toBe(STREAM_WINDOW);
      // The rest waits at the sender (unacknowledged bytes include everything not yet sent).
      expect(conn.bufferedBytes(sid)).toBeGreaterThanOrEqual(TOTAL_BYTES - STREAM_WINDOW);
      // A slow reader: consume a little at a time; the buffer never exceeds its bound.
      let consumed = 0;
      let maxHeld = 0;
      for (let step = 0; step < 10_000 && !(fin && consumed === receivedBytes); step++) {
        const n = Math.min(READ_STEP_BYTES, receivedBytes - consumed);
        if (n > 0) {
          peerConn.consume(sid, n);
          consumed += n;
        }
        maxHeld = Math.max(maxHeld, peerConn.unconsumedBytes);
        await Bun.sleep(1);
      }
      expect(fin).toBe(true);
      expect(receivedBytes).toBe(TOTAL_BYTES);
      expect(maxHeld).toBeLessThanOrEqual(STREAM_WINDOW);
      expect(peerConn.unconsumedBytes).toBe(0);
      expect(Buffer.compare(Buffer.concat(received), payload)).toBe(0);
      await until(() => conn.bufferedBytes(sid) === 0, "sender's data acknowledged");
    } finally {
      client.close();
      server.close();
    }
  }, 30_000);

  test("many streams are bounded by the per-connection receive buffer", async () => {
    const streams = 8;
    let receivedBytes = 0;
    let serverConn: QuicConnection | null = null;
    const perStream = new Map<number, number>();
    const server = await QuicEndpoint.listen(0, {
      identity: serverIdentity, verifyPeer: () => true,
      // The default 16 MiB connection window is capped by the receive buffer.
      streamWindowBytes: STREAM_WINDOW, receiveBufferBytesMax: RECEIVE_BUFFER,
      onConnection: (c) => {
        serverConn = c;
        c.onData((sid, d) => {
          receivedBytes += d.length;
          perStream.set(sid, (perStream.get(sid) ?? 0) + d.length);
        }, { manualConsume: true });
      },
    });
    const client = await QuicEndpoint.client({ identity: clientIdentity, verifyPeer: () => true });
    try {
      const conn = await client.connect("127.0.0.1", server.port);
      const ids: number[] = [];
      for (let i = 0; i < streams; i++) {
        const sid = conn.openStream();
        ids.push(sid);
        conn.write(sid, pattern(256 * 1024), true);
      }
      await until(() => receivedBytes >= RECEIVE_BUFFER, "connection window filled");
      for (let i = 0; i < 20; i++) await Bun.sleep(5);
      // 8 streams × 64 KiB of stream credit, but the connection holds at most 128 KiB.
      expect(receivedBytes).toBe(RECEIVE_BUFFER);
      const peerConn = serverConn as QuicConnection | null;
      if (!peerConn) throw new Error("server connection missing");
      expect(peerConn.unconsumedBytes).toBe(RECEIVE_BUFFER);
      // Consuming everything received lets the rest through.
      for (let step = 0; step < 10_000 && receivedBytes < streams * 256 * 1024; step++) {
        for (const sid of ids) peerConn.consume(sid, perStream.get(sid) ?? 0);
        expect(peerConn.unconsumedBytes).toBeLessThanOrEqual(RECEIVE_BUFFER);
        await Bun.sleep(1);
      }
      expect(receivedBytes).toBe(streams * 256 * 1024);
    } finally {
      client.close();
      server.close();
    }
  }, 30_000);
});
