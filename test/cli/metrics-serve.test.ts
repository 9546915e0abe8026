// `phantom P2pMetricsServe` as a real process: hostile HTTP requests get JSON errors and
// leave nothing on stderr (no stack per request).
import { expect, test } from "bun:test";
import { BIN, readUntil } from "../phantom-cli.ts";
import { rawRequest } from "../rpc/raw-http.ts";

test("requests without Host or to unknown paths log no stack", async () => {
  const proc = Bun.spawn([BIN, "P2pMetricsServe", "--addr", "127.0.0.1:0"], { stdout: "pipe", stderr: "pipe" });
  try {
    const line = await readUntil(proc.stdout.getReader(), "metrics_listening");
    const port = Number(new URL(JSON.parse(line.trim().split("\n").at(-1)!).url).port);
    for (let i = 0; i < 5; i++) {
      const health = await rawRequest(port, "GET /health HTTP/1.0\r\n\r\n");
      expect(health.status).toBe(200);
      const missing = await rawRequest(port, `GET /x${i} HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n`);
      expect(missing.body).not.toContain("<html");
    }
  } finally {
    proc.kill("SIGTERM");
  }
  expect(await proc.exited).toBe(0);
  expect(await new Response(proc.stderr).text()).toBe("");
}, 30_000);

test("serves its own pc_process_* metrics and relays the P2P families of its --sources with a source label", async () => {
  // A real source: two peer managers over an in-memory link move real P2P counters on a
  // registry served over HTTP like a node's; a second source is unreachable.
  const { createRegistry } = await import("../../src/metrics/registry.ts");
  const { createP2pMetrics } = await import("../../src/net/p2p/metrics.ts");
  const { serveMetrics } = await import("../../src/metrics/server.ts");
  const { PeerManager } = await import("../../src/net/p2p/peers.ts");
  const { linkPair } = await import("../../src/net/p2p/link.ts");
  const registry = createRegistry({ validator: "0" });
  const keys = [0, 1].map((i) => new Uint8Array(32).fill(60 + i));
  const managers = [0, 1].map((me) => new PeerManager({
    commitment: new Uint8Array(32), myValidator: me, committee: keys, highestSeq: () => [-1, -1], onMessage: () => {}, now: () => 0,
    metrics: me === 0 ? createP2pMetrics(registry) : undefined,
  }));
  const [la, lb] = linkPair(keys[0]!, keys[1]!);
  managers[0]!.attach(la);
  managers[1]!.attach(lb);
  await Bun.sleep(10);
  managers[0]!.broadcast({ kind: "txs", txs: [new Uint8Array(5)] });
  const source = serveMetrics(registry, "127.0.0.1:0");
  const deadSource = serveMetrics(createRegistry(), "127.0.0.1:0");
  deadSource.stop(); // its port now refuses: counted as a relay failure, the rest still served
  const proc = Bun.spawn([BIN, "P2pMetricsServe", "--addr", "127.0.0.1:0", "--sources", `${source.url},${deadSource.url}`], { stdout: "pipe", stderr: "pipe" });
  try {
    const line = await readUntil(proc.stdout.getReader(), "metrics_listening");
    const url = JSON.parse(line.trim().split("\n").at(-1)!).url as string;
    const text = await (await fetch(url)).text();
    const host = new URL(source.url).host;
    expect(text).toContain(`pc_p2p_outbound_messages_total{source="${host}",kind="hello",validator="0"} 1`);
    expect(text).toContain(`pc_p2p_outbound_messages_total{source="${host}",kind="txs",validator="0"} 1`);
    expect(text).toMatch(new RegExp(`^pc_p2p_outbox_dequeued_total\\{source="${host}",validator="0"\\} 2$`, "m"));
    expect(text.match(/^# TYPE pc_p2p_outbound_messages_total counter$/gm)?.length).toBe(1);
    expect(text).toContain(`pc_metrics_relay_failures_total{source="${new URL(deadSource.url).host}",component="metrics-serve"} 1`);
    expect(text).toMatch(/^pc_process_cpu_seconds_total\{component="metrics-serve"\} [\d.e-]+$/m);
    expect(text).toMatch(/^pc_nodejs_eventloop_lag_p99_seconds\{component="metrics-serve"\} /m);
    expect(text).not.toContain("pc_process_process_");
  } finally {
    proc.kill("SIGTERM");
    source.stop();
  }
  expect(await proc.exited).toBe(0);
}, 30_000);
