// UDP socket buffers and kernel drop counts on a real endpoint socket (Linux: setsockopt
// through libc, drops from /proc/net/udp); elsewhere both are reported as unknown.
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { Registry } from "prom-client";
import { QuicEndpoint } from "../../src/net/quic/endpoint.ts";
import { createQuicMetrics } from "../../src/net/quic/metrics.ts";
import { clientIdentity, serverIdentity } from "./harness.ts";

const linux = process.platform === "linux";
const cleanup: (() => void)[] = [];
afterEach(() => {
  while (cleanup.length) cleanup.pop()!();
});

describe("endpoint UDP socket buffers", () => {
  test.skipIf(!linux)("the requested receive and send buffers are granted up to the OS cap", async () => {
    const rmemMax = Number(readFileSync("/proc/sys/net/core/rmem_max", "utf8"));
    const wmemMax = Number(readFileSync("/proc/sys/net/core/wmem_max", "utf8"));
    const asked = 1024 * 1024;
    const ep = await QuicEndpoint.client({ identity: clientIdentity, verifyPeer: () => true, socketBufferBytes: asked });
    cleanup.push(() => ep.close());
    // Linux grants min(asked, max) and reports double that.
    expect(ep.socketBuffers).toEqual({ receiveBytes: 2 * Math.min(asked, rmemMax), sendBytes: 2 * Math.min(asked, wmemMax) });
    const untouched = await QuicEndpoint.client({ identity: clientIdentity, verifyPeer: () => true, socketBufferBytes: 0 });
    cleanup.push(() => untouched.close());
    expect(untouched.socketBuffers).toBeUndefined();
  });

  test.skipIf(!linux)("datagrams the kernel drops on a full receive buffer are counted, and reach the metric", async () => {
    const registry = new Registry();
    const metrics = createQuicMetrics(registry);
    const server = await QuicEndpoint.listen(0, { identity: serverIdentity, verifyPeer: () => true, socketBufferBytes: 0, metrics });
    cleanup.push(() => server.close());
    expect(server.kernelDrops()).toBe(0);
    const blaster = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
    cleanup.push(() => blaster.close());
    // 24 MB sent while this turn of the event loop keeps the endpoint from reading:
    // more than any default receive buffer holds, so the kernel drops the rest.
    const junk = new Uint8Array(1200);
    for (let i = 0; i < 20_000; i++) blaster.send(junk, server.port, "127.0.0.1");
    const drops = server.kernelDrops()!;
    expect(drops).toBeGreaterThan(0);
    const m = (await registry.getMetricsAsJSON()).find((x) => x.name === "pc_quic_socket_drops");
    expect(m?.values[0]?.value).toBeGreaterThanOrEqual(drops);
    await Bun.sleep(50); // the endpoint then reads what the kernel kept (and ignores it); it keeps running
    expect(server.stats.datagramsReceived).toBeGreaterThan(0);
    expect(server.kernelDrops()).toBe(drops);
  }, 30_000);
});

describe("endpoint UDP socket: never fragment", () => {
  test.skipIf(!linux)("the socket is set to IP_PMTUDISC_DO, and a datagram the kernel refuses is dropped without holding up the ones after it", async () => {
    const ep = await QuicEndpoint.client({ identity: clientIdentity, verifyPeer: () => true });
    cleanup.push(() => ep.close());
    expect(ep.dontFragment).toBe(true);
    let received = 0;
    const sink = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0, socket: { data() { received++; } } });
    cleanup.push(() => sink.close());
    // A 70,000-byte datagram exceeds any UDP payload: the kernel answers EMSGSIZE, as it
    // does for a probe above the path MTU with DF set. sendMany stops there; the endpoint
    // must drop it and send the rest (through its real send path).
    const sendRaw = (ep as unknown as { sendRaw(d: Uint8Array[], port: number, host: string): void }).sendRaw.bind(ep);
    sendRaw([new Uint8Array(100), new Uint8Array(70_000), new Uint8Array(100), new Uint8Array(100)], sink.port, "127.0.0.1");
    const until = performance.now() + 5000;
    while (received < 3 && performance.now() < until) await Bun.sleep(5);
    expect(received).toBe(3);
    expect(ep.stats.datagramsRefused).toBe(1);
    // Nothing is left queued: a later datagram goes straight out.
    sendRaw([new Uint8Array(100)], sink.port, "127.0.0.1");
    while (received < 4 && performance.now() < until) await Bun.sleep(5);
    expect(received).toBe(4);
  }, 15_000);
});
