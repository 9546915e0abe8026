/**
 * Where a QUIC handshake's time goes, in the quic-go bench's setting (docs/PERFORMANCE.md,
 * "Handshake time"): a server and a client process of bench/quic-peer.ts on 127.0.0.1,
 * sequential handshakes; both processes load this file with --preload, which timestamps
 * (performance.timeOrigin + now(), comparable across processes) every datagram in and
 * out, `connect()` and its resolution, and writes them out at exit. The driver pairs the
 * two sides' events per handshake and prints the median of each step as JSON lines.
 *
 *   bun bench/quic-handshake-trace.ts [--rounds R] [--count N] [--warmup W]
 *
 * Each round is a fresh client process timing N handshakes after W untimed ones (W = 0:
 * cold, as quicgo.bench.ts's vsgo_handshake rows; W = 300: its _warm rows). Diagnostic,
 * not a gated bench: the patched methods are QuicEndpoint internals.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { median } from "./lib.ts";

type Event = [t: number, kind: "connect" | "resolved" | "rx" | "tx", what: string];
const TRACE_ENV = "PHANTOM_QUIC_HS_TRACE";

/** Preload side: wraps the endpoint's datagram entry and exit points and connect(). */
async function installTrace(out: string): Promise<void> {
  const { QuicEndpoint } = await import("../src/net/quic/endpoint.ts");
  const events: Event[] = [];
  const now = () => performance.timeOrigin + performance.now();
  const kind = (b: Uint8Array) => ((b[0]! & 0x80) ? `long${(b[0]! >> 4) & 3}` : "short");
  type Method = (this: unknown, ...args: unknown[]) => unknown;
  const proto = QuicEndpoint.prototype as unknown as Record<string, Method>;
  const wrap = (name: string, before: (args: unknown[]) => void) => {
    const original = proto[name];
    if (typeof original !== "function") throw new Error(`QuicEndpoint.${name} not found: update bench/quic-handshake-trace.ts`);
    proto[name] = function (this: unknown, ...args: unknown[]) { before(args); return original.apply(this, args); };
  };
  wrap("onDatagram", (a) => events.push([now(), "rx", kind(a[0] as Uint8Array)]));
  wrap("sendRaw", (a) => events.push([now(), "tx", (a[0] as Uint8Array[]).map(kind).join(",")]));
  const connect = proto.connect!;
  proto.connect = function (this: unknown, ...args: unknown[]) {
    events.push([now(), "connect", ""]);
    const p = connect.apply(this, args) as Promise<unknown>;
    p.then(() => events.push([now(), "resolved", ""]), () => {});
    return p;
  };
  process.on("exit", () => writeFileSync(out, JSON.stringify(events)));
}

const STEPS = [
  "client: connect() -> Initial sent", "wire: Initial", "server: Initial in -> its flight sent", "wire: server flight",
  "client: flight in -> Finished sent", "wire: Finished", "server: Finished in -> HANDSHAKE_DONE sent", "wire: HANDSHAKE_DONE",
  "client: HANDSHAKE_DONE in -> connect() resolves",
] as const;

/** Per handshake (after `skip`), the time of each step, µs, from the two sides' events. */
export function handshakeSteps(client: Event[], server: Event[], skip: number): number[][] {
  type Tagged = [number, string, string, "C" | "S"];
  const all: Tagged[] = [...client.map((e): Tagged => [...e, "C"]), ...server.map((e): Tagged => [...e, "S"])].sort((a, b) => a[0] - b[0]);
  const find = (from: number, p: (e: Tagged) => boolean) => { for (let k = from; k < all.length; k++) if (p(all[k]!)) return k; return -1; };
  const seq: ((e: Tagged) => boolean)[] = [
    (e) => e[3] === "C" && e[1] === "tx" && e[2].includes("long0"),
    (e) => e[3] === "S" && e[1] === "rx" && e[2] === "long0",
    (e) => e[3] === "S" && e[1] === "tx",
    (e) => e[3] === "C" && e[1] === "rx" && e[2].startsWith("long"),
    (e) => e[3] === "C" && e[1] === "tx",
    (e) => e[3] === "S" && e[1] === "rx",
    (e) => e[3] === "S" && e[1] === "tx" && e[2].startsWith("short"),
    (e) => e[3] === "C" && e[1] === "rx" && e[2] === "short",
    (e) => e[3] === "C" && e[1] === "resolved",
  ];
  const rows: number[][] = [];
  let n = 0;
  for (let i = find(0, (e) => e[3] === "C" && e[1] === "connect"); i >= 0; i = find(i + 1, (e) => e[3] === "C" && e[1] === "connect")) {
    const next = find(i + 1, (e) => e[3] === "C" && e[1] === "connect");
    const t = [all[i]![0]];
    let k = i;
    for (const p of seq) {
      k = find(k + 1, p);
      if (k < 0 || (next >= 0 && k > next)) break;
      t.push(all[k]![0]);
    }
    if (t.length === seq.length + 1 && n++ >= skip) rows.push(t.slice(1).map((x, j) => (x - t[j]!) * 1000));
  }
  return rows;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i < 0 ? fallback : Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} must be a non-negative integer`);
  return v;
}

async function main(): Promise<void> {
  const rounds = arg("rounds", 3), count = arg("count", 100), warmup = arg("warmup", 0);
  const dir = `/tmp/phantom-hs-trace-${process.pid}`;
  const peer = join(import.meta.dir, "quic-peer.ts");
  const preload = ["--preload", import.meta.path];
  const server = Bun.spawn([process.execPath, ...preload, peer, "server"], { stdin: "pipe", stdout: "pipe", env: { ...process.env, [TRACE_ENV]: `${dir}-server.json` } });
  const reader = server.stdout.getReader();
  const { value } = await reader.read();
  const port = (JSON.parse(new TextDecoder().decode(value).split("\n")[0]!) as { port: number }).port;
  const clientFiles: string[] = [];
  const medians: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const file = `${dir}-client${r}.json`;
    clientFiles.push(file);
    const c = Bun.spawn([process.execPath, ...preload, peer, "client", "--port", String(port), "--mode", "handshake", "--count", String(count), "--warmup", String(warmup)],
      { stdout: "pipe", env: { ...process.env, [TRACE_ENV]: file } });
    const report = JSON.parse(await new Response(c.stdout).text()) as { handshake_ms?: number[]; error?: string };
    await c.exited;
    if (report.error || !report.handshake_ms) throw new Error(`client: ${report.error ?? "no handshake_ms"}`);
    medians.push(median(report.handshake_ms));
  }
  server.stdin.end();
  await server.exited;
  const serverEvents = JSON.parse(await Bun.file(`${dir}-server.json`).text()) as Event[];
  const rows: number[][] = [];
  for (const f of clientFiles) rows.push(...handshakeSteps(JSON.parse(await Bun.file(f).text()) as Event[], serverEvents, warmup));
  for (const f of [...clientFiles, `${dir}-server.json`]) rmSync(f, { force: true });
  const out = (o: object) => console.log(JSON.stringify(o));
  STEPS.forEach((name, j) => out({ step: name, median_us: Math.round(median(rows.map((r) => r[j]!))), handshakes: rows.length }));
  out({ step: "total", median_us: Math.round(median(rows.map((r) => r.reduce((a, b) => a + b, 0)))), client_median_ms: medians, warmup });
}

const traceOut = process.env[TRACE_ENV];
if (traceOut && !import.meta.main) await installTrace(traceOut);
else if (import.meta.main) await main();
