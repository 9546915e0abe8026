/**
 * UDP segmentation offload on the endpoint's send path (Linux UDP_SEGMENT): runs of
 * equal-size datagrams lying back to back in one buffer leave as one send and must
 * arrive as exactly the datagrams they were; a lone datagram larger than the socket's
 * current segment size (a path MTU probe) must not be split; with offload off the
 * sendMany path does the same job. Also the reusable send arena it relies on.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { ByteArena } from "../../src/net/quic/byte-arena.ts";
import { QuicEndpoint } from "../../src/net/quic/endpoint.ts";
import { clientIdentity, echoRoundTrip, echoStreams, serverIdentity, until } from "./harness.ts";

const linux = process.platform === "linux";
const cleanup: (() => void)[] = [];
afterEach(() => {
  while (cleanup.length) cleanup.pop()!();
});

type SendRaw = (d: Uint8Array[], port: number, host: string) => void;
const sendRawOf = (ep: QuicEndpoint): SendRaw => (ep as unknown as { sendRaw: SendRaw }).sendRaw.bind(ep);

/** Datagrams of the given sizes carved back to back from one buffer, each filled with its index. */
function backToBack(sizes: number[]): Uint8Array[] {
  const buf = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
  const out: Uint8Array[] = [];
  let o = 0;
  sizes.forEach((n, i) => {
    const d = buf.subarray(o, o + n);
    d.fill(i + 1);
    out.push(d);
    o += n;
  });
  return out;
}

describe("UDP segmentation offload", () => {
  for (const gso of [true, false]) {
    test.skipIf(gso && !linux)(`gso ${gso}: every datagram arrives as sent, runs, lone larger datagrams and separate buffers alike`, async () => {
      const ep = await QuicEndpoint.client({ identity: clientIdentity, verifyPeer: () => true, gso });
      cleanup.push(() => ep.close());
      expect(ep.segmentationOffload).toBe(gso);
      const got: Uint8Array[] = [];
      const sink = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0, socket: { data(_s, d) { got.push(Uint8Array.from(d)); } } });
      cleanup.push(() => sink.close());
      const sent: Uint8Array[] = [
        // A run of 10 with a shorter last one, then one larger than the run's size (must not
        // be cut into 1200-byte pieces), then a run of 60 (more than fit in one send), then
        // datagrams of one size that are not adjacent in memory.
        ...backToBack([...Array(10).fill(1200), 700]),
        ...backToBack([1452]),
        ...backToBack(Array(60).fill(1000)),
        new Uint8Array(900).fill(7), new Uint8Array(900).fill(8),
      ];
      sendRawOf(ep)(sent, sink.port, "127.0.0.1");
      await until(() => got.length >= sent.length, "all datagrams", 10_000);
      await Bun.sleep(20); // nothing more (a split datagram would arrive as extra pieces)
      expect(got.map((d) => d.length)).toEqual(sent.map((d) => d.length));
      for (let i = 0; i < sent.length; i++) expect(Buffer.compare(got[i]!, sent[i]!)).toBe(0);
    }, 20_000);
  }

  test.skipIf(!linux)("a run the kernel refuses turns offload off and goes out datagram by datagram", async () => {
    const ep = await QuicEndpoint.client({ identity: clientIdentity, verifyPeer: () => true });
    cleanup.push(() => ep.close());
    expect(ep.segmentationOffload).toBe(true);
    const got: number[] = [];
    const sink = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0, socket: { data(_s, d) { got.push(d.length); } } });
    cleanup.push(() => sink.close());
    // Stand in for a kernel that will not segment (e.g. EINVAL for a segment above the
    // route's MTU): any send longer than one datagram throws.
    const socket = (ep as unknown as { socket: { send(d: Uint8Array, port: number, host: string): boolean } }).socket;
    const realSend = socket.send.bind(socket);
    socket.send = (d, port, host) => {
      if (d.length > 1500) throw new Error("EINVAL");
      return realSend(d, port, host);
    };
    sendRawOf(ep)([...backToBack(Array(10).fill(1200)), ...backToBack(Array(5).fill(1000))], sink.port, "127.0.0.1");
    await until(() => got.length >= 15, "all datagrams", 10_000);
    expect(got).toEqual([...Array(10).fill(1200), ...Array(5).fill(1000)]);
    expect(ep.segmentationOffload).toBe(false);
  }, 20_000);

  test.skipIf(!linux)("a 4 MiB echo with offload on the server only, then on both sides, arrives intact", async () => {
    const server = await QuicEndpoint.listen(0, { identity: serverIdentity, verifyPeer: () => true, onConnection: echoStreams });
    cleanup.push(() => server.close());
    expect(server.segmentationOffload).toBe(true);
    for (const gso of [false, true]) {
      const client = await QuicEndpoint.client({ identity: clientIdentity, verifyPeer: () => true, gso });
      cleanup.push(() => client.close());
      const conn = await client.connect("127.0.0.1", server.port);
      const payload = new Uint8Array(4 << 20);
      for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + (i >> 11)) & 0xff;
      const back = await echoRoundTrip(conn, [payload]);
      expect(Buffer.compare([...back.values()][0]!, payload)).toBe(0);
    }
  }, 60_000);
});

describe("ByteArena", () => {
  test("a reusable arena hands its blocks out again after reset; regions of one pass never overlap", () => {
    const a = new ByteArena({ reusable: true });
    const first = [a.take(40_000), a.take(40_000), a.take(40_000)]; // three blocks
    expect(new Set(first.map((r) => r.buffer)).size).toBe(3);
    for (const r of first) r.fill(1);
    a.reset();
    const second = [a.take(40_000), a.take(40_000), a.take(40_000)];
    expect(second.map((r) => r.buffer)).toEqual(first.map((r) => r.buffer));
    expect(second.map((r) => r.byteOffset)).toEqual(first.map((r) => r.byteOffset));
    // Within a pass, regions are disjoint.
    const x = a.take(100);
    const y = a.take(100);
    expect(x.buffer === y.buffer && x.byteOffset + 100 <= y.byteOffset).toBe(true);
  });

  test("an arena not made reusable never hands a region out twice, and refuses reset", () => {
    const a = new ByteArena();
    const r = a.take(1000);
    r.fill(9);
    expect(() => a.reset()).toThrow();
    const s = a.take(1000);
    expect(s.every((b) => b === 0)).toBe(true);
    expect(r.every((b) => b === 9)).toBe(true);
  });
});
