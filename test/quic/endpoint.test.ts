/** QuicEndpoint on real loopback sockets: version negotiation, stateless reset, virtual-clock timers, many connections. */
import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { QuicEndpoint, type Clock } from "../../src/net/quic/endpoint.ts";
import { parsePacketHeader, writeShortHeader } from "../../src/net/quic/packet-header.ts";
import { clientIdentity, serverIdentity, until } from "./harness.ts";

// Generous per-test bound: CI runs the suite on 2 shared cores.
setDefaultTimeout(30_000);

/** Virtual time: timers fire only when the test advances the clock. */
class VirtualClock implements Clock {
  now = 0;
  private timers = new Map<number, { at: number; cb: () => void }>();
  private nextId = 1;
  nowMs(): number {
    return this.now;
  }
  setTimer(cb: () => void, delayMs: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.now + delayMs, cb });
    return id;
  }
  clearTimer(h: unknown): void {
    this.timers.delete(h as number);
  }
  /** Advances time in steps, firing due timers in order. */
  async advance(ms: number, stepMs = 50): Promise<void> {
    const end = this.now + ms;
    while (this.now < end) {
      this.now = Math.min(end, this.now + stepMs);
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= this.now).sort((a, b) => a[1].at - b[1].at);
      for (const [id, t] of due) {
        this.timers.delete(id);
        t.cb();
      }
      await Bun.sleep(1);
    }
  }
}

async function rawSocket(onData: (d: Uint8Array) => void) {
  return Bun.udpSocket({ hostname: "127.0.0.1", port: 0, socket: { data: (_s, d) => onData(new Uint8Array(d)) } });
}

describe("QuicEndpoint", () => {
  test("answers an unknown version with Version Negotiation listing v1", async () => {
    const server = await QuicEndpoint.listen(0, { identity: serverIdentity, verifyPeer: () => true });
    const replies: Uint8Array[] = [];
    const sock = await rawSocket((d) => replies.push(d));
    try {
      const pkt = new Uint8Array(1200);
      pkt.set([0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 8, 1, 2, 3, 4, 5, 6, 7, 8, 4, 9, 9, 9, 9]);
      sock.send(pkt, server.port, "127.0.0.1");
      await until(() => replies.length > 0, "version negotiation");
      const h = parsePacketHeader(replies[0]!, 0, 8);
      expect(h.form).toBe("vn");
      if (h.form === "vn") {
        expect(h.versions).toEqual([1]);
        expect(Buffer.from(h.dcid).toString("hex")).toBe("09090909");
        expect(Buffer.from(h.scid).toString("hex")).toBe("0102030405060708");
      }
      // Too-small datagrams of unknown versions get no answer.
      sock.send(pkt.subarray(0, 100), server.port, "127.0.0.1");
      await Bun.sleep(20);
      expect(replies.length).toBe(1);
      expect(server.stats.versionNegotiationsSent).toBe(1);
      expect(server.stats.datagramsDropped).toBe(0);
    } finally {
      sock.close();
      server.close();
    }
  });

  test("answers a short-header packet for an unknown connection with a shorter stateless reset", async () => {
    const server = await QuicEndpoint.listen(0, { identity: serverIdentity, verifyPeer: () => true });
    const replies: Uint8Array[] = [];
    const sock = await rawSocket((d) => replies.push(d));
    try {
      const pkt = new Uint8Array(60).fill(7);
      pkt.set(writeShortHeader(new Uint8Array(8).fill(3), 0, 4, 1));
      sock.send(pkt, server.port, "127.0.0.1");
      sock.send(pkt.subarray(0, 20), server.port, "127.0.0.1");
      await until(() => replies.length > 0, "stateless reset");
      await Bun.sleep(20);
      expect(replies.length).toBe(1);
      expect(replies[0]!.length).toBeLessThan(60);
      expect(replies[0]!.length).toBeGreaterThanOrEqual(21);
      expect(replies[0]![0]! & 0xc0).toBe(0x40);
      expect(server.stats.statelessResetsSent).toBe(1);
      expect(server.stats.datagramsDropped).toBe(1);
    } finally {
      sock.close();
      server.close();
    }
  });

  test("idle timeout driven by an injected virtual clock", async () => {
    const clock = new VirtualClock();
    let serverClosed = "";
    const server = await QuicEndpoint.listen(0, {
      identity: serverIdentity, verifyPeer: () => true, clock, idleTimeoutMs: 5000,
      onConnection: (c) => c.onClose((_code, reason) => { serverClosed = reason; }),
    });
    const client = await QuicEndpoint.client({ identity: clientIdentity, verifyPeer: () => true, clock, idleTimeoutMs: 5000 });
    try {
      const conn = await client.connect("127.0.0.1", server.port);
      let clientClosed = "";
      conn.onClose((_code, reason) => { clientClosed = reason; });
      await clock.advance(4000);
      expect(clientClosed).toBe("");
      await clock.advance(3000);
      await until(() => clientClosed !== "" && serverClosed !== "", "idle close on both sides");
      expect(clientClosed).toBe("idle timeout");
      expect(serverClosed).toBe("idle timeout");
    } finally {
      client.close();
      server.close();
    }
  });

  // 100 simultaneous handshakes: their Initials can overflow loopback socket buffers, in
  // which case PTO (1 s with the initial RTT) recovers them; hence the longer timeout.
  test("100 concurrent connections to one server, each echoing on its own stream", async () => {
    const server = await QuicEndpoint.listen(0, {
      identity: serverIdentity, verifyPeer: () => true,
      onConnection: (c) => c.onData((sid, d, fin) => c.write(sid, d, fin)),
    });
    const client = await QuicEndpoint.client({ identity: clientIdentity, verifyPeer: () => true });
    try {
      const conns = await Promise.all(Array.from({ length: 100 }, () => client.connect("127.0.0.1", server.port)));
      expect(server.connectionCount).toBe(100);
      const echoes = await Promise.all(conns.map((c, i) => new Promise<number>((resolve) => {
        const sid = c.openStream();
        c.onData((_s, d) => resolve(d[0]!));
        c.write(sid, new Uint8Array([i & 0xff]), true);
      })));
      expect(echoes).toEqual(conns.map((_, i) => i & 0xff));
    } finally {
      client.close();
      server.close();
    }
  }, 20_000);

  test("drained() resolves once written stream data is acknowledged", async () => {
    let got = 0;
    const server = await QuicEndpoint.listen(0, { identity: serverIdentity, verifyPeer: () => true, onConnection: (c) => c.onData((_s, d) => { got += d.length; }) });
    const client = await QuicEndpoint.client({ identity: clientIdentity, verifyPeer: () => true });
    try {
      const conn = await client.connect("127.0.0.1", server.port);
      const sid = conn.openStream();
      conn.write(sid, new Uint8Array(2_000_000), false);
      expect(conn.bufferedBytes(sid)).toBe(2_000_000);
      await conn.drained(sid, 0);
      expect(conn.bufferedBytes(sid)).toBe(0);
      expect(got).toBe(2_000_000);
    } finally {
      client.close();
      server.close();
    }
  });

  test("Retry: the server validates the client's address before keeping state", async () => {
    const server = await QuicEndpoint.listen(0, {
      identity: serverIdentity, verifyPeer: () => true, retry: true,
      onConnection: (c) => c.onData((sid, d, fin) => c.write(sid, d, fin)),
    });
    const client = await QuicEndpoint.client({ identity: clientIdentity, verifyPeer: () => true });
    const sock = await rawSocket(() => {});
    try {
      const conn = await client.connect("127.0.0.1", server.port);
      expect(server.stats.retriesSent).toBe(1);
      const sid = conn.openStream();
      const echoed = await new Promise<Uint8Array>((resolve) => {
        conn.onData((_s, d) => resolve(d));
        conn.write(sid, new Uint8Array([1, 2, 3]), true);
      });
      expect([...echoed]).toEqual([1, 2, 3]);
      // An Initial with a forged token creates nothing.
      const before = server.connectionCount;
      const forged = new Uint8Array(1200);
      forged.set([0xc0, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 30]);
      sock.send(forged, server.port, "127.0.0.1");
      await Bun.sleep(20);
      expect(server.connectionCount).toBe(before);
      expect(server.stats.retriesSent).toBe(1);
    } finally {
      sock.close();
      client.close();
      server.close();
    }
  });
});
