/** Connection behaviour in virtual time, two real Connection objects wired in memory. */
import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { createHmac } from "node:crypto";
import { Connection, type ConnectionEvent } from "../../src/net/quic/connection.ts";
import { PacketKeys, sealPacket, TLS_CHACHA20_POLY1305_SHA256 } from "../../src/net/quic/packet-protection.ts";
import { parsePacketHeader, writeShortHeader } from "../../src/net/quic/packet-header.ts";
import { RecvStream, SendStream } from "../../src/net/quic/streams.ts";
import { clientIdentity, establish, exchange, makePair, run, serverIdentity, streamBytes, type Pair } from "./harness.ts";
import { seededBytes } from "./lossy-proxy.ts";

// Generous per-test bound: CI runs the suite on 2 shared cores.
setDefaultTimeout(30_000);

const closedEvent = (events: ConnectionEvent[]) => events.find((e) => e.type === "closed") as Extract<ConnectionEvent, { type: "closed" }> | undefined;

describe("handshake", () => {
  test("mutual authentication: each side learns the other's key; both issue extra connection IDs", () => {
    const p = makePair();
    establish(p);
    const hs = (ev: ConnectionEvent[]) => ev.find((e) => e.type === "handshake_done") as Extract<ConnectionEvent, { type: "handshake_done" }>;
    expect(Buffer.compare(hs(p.clientEvents).peerPublicKey, serverIdentity.publicKey)).toBe(0);
    expect(Buffer.compare(hs(p.serverEvents).peerPublicKey, clientIdentity.publicKey)).toBe(0);
    expect(hs(p.clientEvents).alpn).toBe("phantom/0");
    expect(p.server.localConnectionIds.length).toBe(4);
    // Client Initial datagrams are padded to 1200 bytes.
    const p2 = makePair();
    const first = p2.client.send(p2.nowMs);
    expect(first.length).toBe(1);
    expect(first[0]!.length).toBe(1200);
  });

  test("the server's first flight coalesces Initial and Handshake packets in one padded datagram", () => {
    const p = makePair();
    const firstFromServer: Uint8Array[] = [];
    p.filter = (dir, d) => {
      if (dir === "s2c" && firstFromServer.length === 0) firstFromServer.push(d);
      return true;
    };
    establish(p);
    const d = firstFromServer[0]!;
    expect(d.length).toBeGreaterThanOrEqual(1200);
    const types: string[] = [];
    for (let off = 0; off < d.length;) {
      const h = parsePacketHeader(d, off, 8);
      types.push(h.form === "long" ? ["initial", "0rtt", "handshake", "retry"][h.type]! : h.form);
      off = h.end;
    }
    expect(types.slice(0, 2)).toEqual(["initial", "handshake"]);
  });

  test("a rejected server key closes the connection with CRYPTO_ERROR(bad_certificate)", () => {
    const p = makePair({ verifyPeer: () => false });
    run(p, p.nowMs + 5000);
    expect(p.client.isEstablished).toBe(false);
    expect(closedEvent(p.clientEvents)?.errorCode).toBe(0x100 + 42);
    expect(closedEvent(p.serverEvents)?.errorCode).toBe(0x100 + 42);
    expect(closedEvent(p.serverEvents)?.remote).toBe(true);
  });

  test("ChaCha20-Poly1305 suite end to end", () => {
    const p = makePair({ cipherSuites: [TLS_CHACHA20_POLY1305_SHA256] });
    establish(p);
    const r = exchange(p, 50_000);
    expect(Buffer.compare(r.atServer.data, r.a)).toBe(0);
    expect(Buffer.compare(r.atClient.data, r.b)).toBe(0);
  });

  test("anti-amplification: a server that hears nothing back sends at most 3x what it received", () => {
    const p = makePair();
    let serverBytes = 0;
    p.filter = (dir, d) => {
      if (dir === "s2c") { serverBytes += d.length; return false; }
      return true;
    };
    run(p, p.nowMs + 20_000);
    const clientBytes = p.sent.c2s * 1200;
    expect(serverBytes).toBeGreaterThan(0);
    expect(serverBytes).toBeLessThanOrEqual(3 * clientBytes);
  });
});

describe("streams and flow control", () => {
  test("1 MiB each way, byte-identical", () => {
    const p = makePair();
    establish(p);
    const r = exchange(p, 1 << 20);
    expect(r.atServer.fin && r.atClient.fin).toBe(true);
    expect(Buffer.compare(r.atServer.data, r.a)).toBe(0);
    expect(Buffer.compare(r.atClient.data, r.b)).toBe(0);
  });

  test("datagram size: the smaller of our maxDatagramBytes and the peer's max_udp_payload_size", () => {
    for (const [serverAccepts, expected] of [[1200, 1200], [undefined, 1452]] as const) {
      const p = makePair({ maxDatagramBytes: 1452 });
      let largest = 0;
      p.filter = (dir, d) => { if (dir === "c2s") largest = Math.max(largest, d.length); return true; };
      establish(p, { maxReceiveDatagramBytes: serverAccepts });
      exchange(p, 100_000);
      expect(largest).toBe(expected);
    }
  });

  test("tiny windows: MAX_DATA / MAX_STREAM_DATA updates keep the transfer going", () => {
    const small = { connectionWindowBytes: 8_000, streamWindowBytes: 3_000 };
    const p = makePair(small);
    establish(p, small);
    const r = exchange(p, 200_000);
    expect(Buffer.compare(r.atServer.data, r.a)).toBe(0);
    expect(Buffer.compare(r.atClient.data, r.b)).toBe(0);
  });

  test("connection-level window smaller than the stream window: DATA_BLOCKED then MAX_DATA resumes", () => {
    const small = { connectionWindowBytes: 5_000, streamWindowBytes: 1_000_000 };
    const p = makePair(small);
    establish(p, small);
    const r = exchange(p, 150_000);
    expect(Buffer.compare(r.atServer.data, r.a)).toBe(0);
    expect(Buffer.compare(r.atClient.data, r.b)).toBe(0);
  });

  test("many concurrent streams, uni and bidi, beyond the initial stream limit", () => {
    const lim = { maxStreamsBidi: 4, maxStreamsUni: 4 };
    const p = makePair(lim);
    establish(p, lim);
    const sent = new Map<number, Uint8Array>();
    let opened = 0;
    run(p, p.nowMs + 30_000, {}, () => {
      while (opened < 20) {
        let id: number;
        try { id = p.client.openStream(opened % 2 === 0); } catch { break; }
        const data = seededBytes(1000 + opened, opened + 10);
        sent.set(id, data);
        p.client.writeStream(id, data, true);
        opened++;
      }
      return opened === 20 && [...sent.keys()].every((id) => streamBytes(p.serverEvents, id).fin);
    });
    expect(opened).toBe(20);
    for (const [id, data] of sent) expect(Buffer.compare(streamBytes(p.serverEvents, id).data, data)).toBe(0);
  });

  test("STOP_SENDING makes the sender reset; the receiver sees RESET_STREAM", () => {
    const p = makePair();
    establish(p);
    const id = p.client.openStream();
    p.client.writeStream(id, seededBytes(5000, 3));
    run(p, p.nowMs + 1000, {}, () => streamBytes(p.serverEvents, id).data.length === 5000);
    p.server.stopSending(id, 77);
    run(p, p.nowMs + 1000, {}, () => p.serverEvents.some((e) => e.type === "stream_reset"));
    expect(p.clientEvents.find((e) => e.type === "stop_sending")).toEqual({ type: "stop_sending", streamId: id, errorCode: 77 });
    expect(p.serverEvents.find((e) => e.type === "stream_reset")).toEqual({ type: "stream_reset", streamId: id, errorCode: 77 });
  });

  test("receive side enforces flow control and final size", () => {
    const r = new RecvStream(0, 100);
    expect(() => r.receive(90, new Uint8Array(20), false)).toThrow(/MAX_STREAM_DATA/);
    const r2 = new RecvStream(0, 100);
    r2.receive(0, new Uint8Array(10), true);
    expect(() => r2.receive(10, new Uint8Array(1), false)).toThrow(/final size/);
    const r3 = new RecvStream(0, 100);
    r3.receive(50, new Uint8Array(10), false);
    expect(() => r3.receive(0, new Uint8Array(20), true)).toThrow(/final size/);
    // Out-of-order pieces are delivered in order, once.
    const r4 = new RecvStream(0, 100);
    expect(r4.receive(5, new Uint8Array([5, 6, 7]), false).pieces.length).toBe(0);
    const got = r4.receive(0, new Uint8Array([0, 1, 2, 3, 4, 5]), false).pieces;
    expect(Buffer.concat(got)).toEqual(Buffer.from([0, 1, 2, 3, 4, 5, 6, 7]));
  });

  test("reassembly: reverse order, overlaps and duplicates deliver each byte once, in order", () => {
    const data = seededBytes(10_000, 9);
    const r = new RecvStream(0, 20_000);
    const out: Uint8Array[] = [];
    // Segments of 700 bytes delivered last-first, then re-sent cut at other boundaries.
    const segs: [number, number][] = [];
    for (let o = 700; o < data.length; o += 700) segs.push([o, Math.min(700, data.length - o)]);
    for (const [o, n] of segs.reverse()) out.push(...r.receive(o, data.subarray(o, o + n), o + n === data.length).pieces);
    for (const [o, n] of [[300, 900], [1000, 50]] as const) out.push(...r.receive(o, data.subarray(o, o + n), false).pieces);
    expect(out.length).toBe(0);
    const last = r.receive(0, data.subarray(0, 500), false);
    out.push(...last.pieces);
    expect(last.fin).toBe(true);
    expect(Buffer.compare(Buffer.concat(out), data)).toBe(0);
    expect(r.bufferedBytes).toBe(0);
    // A hostile peer overlapping segments at every offset hits the reassembly bound.
    const h = new RecvStream(0, 10_000);
    expect(() => { for (let o = 1; o < 9_000; o++) h.receive(o, new Uint8Array(1000), false); }).toThrow(/overlapping/);
  });

  test("send side retransmits lost ranges and frees acknowledged data", () => {
    const s = new SendStream(0, 1000);
    s.write(seededBytes(100, 1), true);
    const first = s.takeNew(60);
    const second = s.takeNew(60);
    expect(first.data.length + second.data.length).toBe(100);
    expect(second.fin).toBe(true);
    s.onLost(first.offset, first.data.length, false);
    const re = s.nextRetransmit(1000)!;
    expect(re.offset).toBe(0);
    expect(Buffer.compare(re.data, first.data)).toBe(0);
    s.onAcked(second.offset, second.data.length, true);
    expect(s.done).toBe(false);
    s.onAcked(0, 60, false);
    expect(s.done).toBe(true);
    expect(s.bufferedBytes).toBe(0);
  });
});

describe("loss, timers, keys", () => {
  test("10% loss both ways (handshake included): transfer completes intact", () => {
    const p = makePair();
    p.filter = (_dir, _d, i) => i % 10 !== 3;
    establish(p);
    const r = exchange(p, 300_000, 120_000);
    expect(Buffer.compare(r.atServer.data, r.a)).toBe(0);
    expect(Buffer.compare(r.atClient.data, r.b)).toBe(0);
  });

  test("burst loss of the whole first flight is recovered by PTO", () => {
    const p = makePair();
    p.filter = (dir, _d, i) => !(dir === "c2s" && i === 0) && !(dir === "s2c" && i < 2);
    establish(p);
  });

  test("key update initiated by the client is followed by the server", () => {
    const p = makePair();
    establish(p);
    exchange(p, 10_000);
    expect(p.client.initiateKeyUpdate()).toBe(true);
    const r = exchange(p, 100_000);
    expect(p.client.keyPhase).toBe(1);
    expect(p.server.keyPhase).toBe(1);
    expect(Buffer.compare(r.atServer.data, r.a)).toBe(0);
    expect(p.server.initiateKeyUpdate()).toBe(true);
    const r2 = exchange(p, 10_000);
    expect(p.client.keyPhase).toBe(0);
    expect(Buffer.compare(r2.atClient.data, r2.b)).toBe(0);
  });

  test("idle timeout closes both sides; keepalive prevents it", () => {
    const p = makePair({ idleTimeoutMs: 2000 });
    establish(p, { idleTimeoutMs: 2000 });
    run(p, p.nowMs + 10_000);
    expect(closedEvent(p.clientEvents)?.reason).toBe("idle timeout");
    expect(closedEvent(p.serverEvents)?.reason).toBe("idle timeout");
    expect(p.client.isFinished && p.server.isFinished).toBe(true);
    const k = makePair({ idleTimeoutMs: 2000, keepAliveMs: 500 });
    establish(k, { idleTimeoutMs: 2000 });
    run(k, k.nowMs + 10_000);
    expect(closedEvent(k.clientEvents)).toBeUndefined();
    expect(k.client.isEstablished && k.server.isEstablished).toBe(true);
  });

  test("keepalive probes to a peer that vanished do not keep the connection open", () => {
    // The node's settings: 30 s idle timeout, a PING every 5 s.
    const k = makePair({ idleTimeoutMs: 30_000, keepAliveMs: 5_000 });
    establish(k, { idleTimeoutMs: 30_000 });
    k.filter = () => false; // the server process is gone: nothing reaches it, nothing comes back
    const goneAt = k.nowMs;
    run(k, k.nowMs + 600_000, {}, () => closedEvent(k.clientEvents) !== undefined);
    expect(k.nowMs - goneAt).toBeLessThan(31_000);
    expect(closedEvent(k.clientEvents)?.reason).toBe("idle timeout");
  });

  test("DATAGRAM frames both ways", () => {
    const p = makePair();
    establish(p);
    expect(p.client.sendDatagram(new Uint8Array([1, 2, 3]))).toBe(true);
    expect(p.server.sendDatagram(new Uint8Array([4, 5]))).toBe(true);
    expect(p.client.sendDatagram(new Uint8Array(5000))).toBe(false);
    run(p, p.nowMs + 1000, {}, () => p.clientEvents.some((e) => e.type === "datagram") && p.serverEvents.some((e) => e.type === "datagram"));
    expect(p.serverEvents.find((e) => e.type === "datagram")).toEqual({ type: "datagram", data: new Uint8Array([1, 2, 3]) });
    expect(p.clientEvents.find((e) => e.type === "datagram")).toEqual({ type: "datagram", data: new Uint8Array([4, 5]) });
  });
});

describe("closing and errors", () => {
  test("application close carries code and reason; both sides drain and finish", () => {
    const p = makePair();
    establish(p);
    p.client.close(42, "bye");
    run(p, p.nowMs + 10_000);
    expect(closedEvent(p.serverEvents)).toEqual({ type: "closed", errorCode: 42, reason: "bye", remote: true, application: true });
    expect(p.client.isFinished && p.server.isFinished).toBe(true);
  });

  test("unknown frame type closes with FRAME_ENCODING_ERROR", () => {
    const p = makePair();
    establish(p);
    injectFromClient(p, new Uint8Array([0x40, 0x21, 0x00, 0x00]));
    run(p, p.nowMs + 5000);
    expect(closedEvent(p.serverEvents)?.errorCode).toBe(0x07);
    expect(closedEvent(p.clientEvents)?.errorCode).toBe(0x07);
    expect(closedEvent(p.clientEvents)?.remote).toBe(true);
  });

  test("HANDSHAKE_DONE from a client is a PROTOCOL_VIOLATION; STREAM on a closed-off stream id beyond limits is STREAM_LIMIT_ERROR", () => {
    const p = makePair();
    establish(p);
    injectFromClient(p, new Uint8Array([0x1e]));
    run(p, p.nowMs + 5000);
    expect(closedEvent(p.serverEvents)?.errorCode).toBe(0x0a);
    const q = makePair();
    establish(q);
    // STREAM frame (type 0x0a: LEN) on client bidi stream 4 * 1000 (beyond MAX_STREAMS 100).
    injectFromClient(q, new Uint8Array([0x0a, 0x4f, 0xa0, 0x01, 0x61]));
    run(q, q.nowMs + 5000);
    expect(closedEvent(q.serverEvents)?.errorCode).toBe(0x04);
  });

  test("RETIRE_CONNECTION_ID retires the ID and issues a replacement; retiring an unissued one is a violation", () => {
    const p = makePair();
    establish(p);
    const before = p.server.localConnectionIds.map((c) => Buffer.from(c).toString("hex"));
    injectFromClient(p, new Uint8Array([0x19, 0x01]));
    const events = p.server.pollEvents();
    const retired = events.find((e) => e.type === "connection_id_retired") as Extract<ConnectionEvent, { type: "connection_id_retired" }>;
    expect(before).toContain(Buffer.from(retired.connectionId).toString("hex"));
    expect(events.some((e) => e.type === "connection_id_issued")).toBe(true);
    expect(p.server.localConnectionIds.length).toBe(4);
    injectFromClient(p, new Uint8Array([0x19, 0x3f]));
    expect(closedEvent(p.server.pollEvents())?.errorCode).toBe(0x0a);
  });

  test("stateless reset is recognised by the client", () => {
    const resetKey = new Uint8Array(32).fill(5);
    const p = makePair();
    establish(p, { resetKey });
    const scid = (p.server as unknown as { scid: Uint8Array }).scid;
    const token = createHmac("sha256", resetKey).update(scid).digest().subarray(0, 16);
    const reset = new Uint8Array(40).fill(0x55);
    reset[0] = 0x41;
    reset.set(token, 24);
    p.client.receive(reset, p.nowMs);
    expect(closedEvent(p.client.pollEvents())?.reason).toBe("stateless reset");
  });

  test("garbage datagrams are dropped without closing", () => {
    const p = makePair();
    establish(p);
    for (let i = 0; i < 200; i++) {
      const junk = new Uint8Array(1 + ((i * 37) % 1300)).map((_, j) => (i * 31 + j * 7) & 0xff);
      p.server.receive(junk, p.nowMs);
      p.client.receive(junk, p.nowMs);
    }
    expect(p.client.isEstablished && p.server.isEstablished).toBe(true);
    expect(p.server.packetsDropped).toBeGreaterThan(0);
    const r = exchange(p, 10_000);
    expect(Buffer.compare(r.atServer.data, r.a)).toBe(0);
  });
});

/** Seals `payload` as a 1-RTT packet with the client's current keys and feeds it to the server. */
function injectFromClient(p: Pair, payload: Uint8Array): void {
  const c = p.client as unknown as { spaces: { writeKeys: PacketKeys; nextPn: number }[]; dcid: Uint8Array; writePhase: number };
  const app = c.spaces[2]!;
  const pn = app.nextPn++;
  const padded = new Uint8Array(Math.max(payload.length, 4));
  padded.set(payload);
  p.server.receive(sealPacket(app.writeKeys, writeShortHeader(c.dcid, c.writePhase, 4, pn), 4, pn, padded), p.nowMs);
}

void Connection;
