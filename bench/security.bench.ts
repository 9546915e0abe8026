/**
 * Issue 13's resource targets, measured on the real servers in this process:
 * - one hostile WebSocket client (bench/security-ws-client.ts, its own process: 2,000
 *   subscribes of 100-byte topics, then a 15 MB message) against the node's RPC server (startRpcServer, rate limit off so every
 *   message is handled): the event loop's longest stall (a 1 ms interval timer's worst
 *   lateness) and RSS growth. Targets ≤ 10 ms and ≤ 20 MB. Reference in the same run:
 *   the stall of the same timer over an idle period as long.
 * - half-open QUIC Initials (PHANTOM_BENCH_INITIALS, default 50,000) from another process
 *   (bench/security-flood.ts) at a QuicEndpoint with the node's defaults (Retry above 64
 *   half-open): RSS growth at the peak and after the handshake timeout. Target ≤ 50 MB.
 *   Reference in the same run: the same flood at a plain Bun.udpSocket that drops it.
 * Run: `bun run bench security` (~1 min).
 */
import { Registry } from "prom-client";
import { join } from "node:path";
import { startRpcServer } from "../src/rpc/server.ts";
import { QuicEndpoint } from "../src/net/quic/endpoint.ts";
import { keyPairFromSeed } from "../src/crypto/ed25519.ts";
import { emit, round1 } from "./lib.ts";

const SUITE = "security";
const MB = 1024 * 1024;
const INITIALS = Number(process.env.PHANTOM_BENCH_INITIALS ?? 50_000);
if (!Number.isInteger(INITIALS) || INITIALS < 100 || INITIALS > 1_000_000) {
  console.error("PHANTOM_BENCH_INITIALS must be an integer 100..1000000");
  process.exit(2);
}

const rss = () => process.memoryUsage().rss;

/** Worst lateness of a 1 ms interval timer while `work` runs. */
async function stallDuring(work: () => Promise<void>): Promise<number> {
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 1);
    last = now;
  }, 1);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(0, worst);
}

async function hostileWebSocket(): Promise<void> {
  const server = startRpcServer({ addr: "127.0.0.1:0", methods: {}, rest: {}, registry: new Registry(), ready: () => true, rateLimit: { ratePerS: 0, burst: 1 } });
  const port = Number(new URL(server.url).port);
  Bun.gc(true);
  const before = rss();
  let peak = before;
  let client = { replyBytes: 0, closedOnFlood: false, closedOnHuge: false };
  const started = performance.now();
  const stall = await stallDuring(async () => {
    // The client is its own process: only the server's work shows in this event loop.
    const p = Bun.spawn([process.execPath, join(import.meta.dir, "security-ws-client.ts"), String(port)], { stdout: "pipe", stderr: "inherit" });
    const out = new Response(p.stdout).text();
    while (p.exitCode === null) {
      peak = Math.max(peak, rss());
      await Promise.race([p.exited, Bun.sleep(20)]);
    }
    if (p.exitCode !== 0) throw new Error(`ws client exited ${p.exitCode}`);
    client = JSON.parse((await out).trim()) as typeof client;
  });
  const elapsed = performance.now() - started;
  const idleStall = await stallDuring(() => Bun.sleep(elapsed));
  server.stop();
  const params = { topics: 2_000, topicBytes: 100, hugeMessageBytes: 15 * MB, ...client };
  emit({ suite: SUITE, name: "ws_hostile_client_stall", value: round1(stall), unit: "ms", higher_is_better: false, target: 10, params: { ...params, idleStallMs: round1(idleStall) } });
  emit({ suite: SUITE, name: "ws_idle_reference_stall", value: round1(idleStall), unit: "ms", higher_is_better: false, params: { durationMs: Math.round(elapsed) } });
  emit({ suite: SUITE, name: "ws_hostile_client_rss_growth", value: round1((peak - before) / MB), unit: "MB", higher_is_better: false, target: 20, params });
}

async function flood(port: number): Promise<number> {
  const p = Bun.spawn([process.execPath, join(import.meta.dir, "security-flood.ts"), String(port), String(INITIALS)], { stdout: "pipe", stderr: "inherit" });
  let peak = rss();
  while (p.exitCode === null) {
    peak = Math.max(peak, rss());
    await Promise.race([p.exited, Bun.sleep(100)]);
  }
  if (p.exitCode !== 0) throw new Error(`flood exited ${p.exitCode}`);
  return Math.max(peak, rss());
}

async function halfOpenInitials(): Promise<void> {
  // Reference: the same datagrams at a socket that drops them.
  Bun.gc(true);
  const refBefore = rss();
  let dropped = 0;
  const sink = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0, socket: { data: () => { dropped++; } } });
  const refPeak = await flood(sink.port);
  sink.close();
  Bun.gc(true);
  const before = rss();
  const server = await QuicEndpoint.listen(0, { identity: keyPairFromSeed(new Uint8Array(32).fill(72)), verifyPeer: () => false, onConnection: () => {} });
  const peak = await flood(server.port);
  // The half-open state expires after the handshake timeout (10 s); then RSS should return.
  for (let i = 0; i < 150 && server.halfOpenCount > 0; i++) await Bun.sleep(100);
  Bun.gc(true);
  const after = rss();
  const params = { initials: INITIALS, received: server.stats.datagramsReceived, retries: server.stats.retriesSent, halfOpenAfter: server.halfOpenCount, referenceReceived: dropped };
  server.close();
  emit({ suite: SUITE, name: "quic_half_open_rss_growth_peak", value: round1((peak - before) / MB), unit: "MB", higher_is_better: false, target: 50, params: { ...params, referencePeakMB: round1((refPeak - refBefore) / MB) } });
  emit({ suite: SUITE, name: "quic_half_open_rss_growth_after", value: round1((after - before) / MB), unit: "MB", higher_is_better: false, params });
  emit({ suite: SUITE, name: "udp_drop_reference_rss_growth_peak", value: round1((refPeak - refBefore) / MB), unit: "MB", higher_is_better: false, params: { initials: INITIALS, received: dropped } });
}

await hostileWebSocket();
await halfOpenInitials();
