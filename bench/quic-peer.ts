/**
 * The project's side of the quic-go comparison (bench/quicgo.bench.ts): a peer process
 * built on src/net/quic that speaks the same benchmark protocol as the quic-go
 * reference (bench/quicgo/main.go; the protocol is described there), so both stacks
 * are driven and measured the same way, each end in its own process.
 *
 *   bun bench/quic-peer.ts server
 *       prints {"port","pid"}; answers each stdin line "cpu" with {"cpu_us"}
 *       (process.cpuUsage, user + system); exits when stdin closes.
 *   bun bench/quic-peer.ts client --port N --mode source|sink|echo|handshake [--bytes B] [--count K] [--warmup W] [--timeout-ms T]
 *       (--warmup: W untimed handshakes first, on their own endpoint: JIT warm-up)
 *       prints one ClientReport line (see quic-compare.ts) and exits (1 on error).
 */
import { keyPairFromSeed } from "../src/crypto/ed25519.ts";
import { QuicEndpoint, type QuicConnection } from "../src/net/quic/endpoint.ts";
import { CHUNK_BYTES, HEADER_BYTES, OP, type ClientReport, type Mode, encodeHeader, decodeHeader } from "./quic-compare.ts";

/** Unacknowledged bytes a writer keeps queued in the connection before it waits (bounded memory). */
const HIGH_WATER_BYTES = 8 * CHUNK_BYTES;
const LOW_WATER_BYTES = 4 * CHUNK_BYTES;

const serverIdentity = keyPairFromSeed(new Uint8Array(32).fill(42));
const clientIdentity = keyPairFromSeed(new Uint8Array(32).fill(41));
const payload = new Uint8Array(CHUNK_BYTES).fill(3);
const out = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
const cpuMicros = () => { const u = process.cpuUsage(); return u.user + u.system; };

/** Writes `n` bytes of payload on `stream`, waiting whenever HIGH_WATER_BYTES are unacknowledged. */
async function writeN(conn: QuicConnection, stream: number, n: number, fin: boolean): Promise<void> {
  let written = 0;
  while (written < n) {
    if (conn.closed) throw new Error(`connection closed after ${written} of ${n} bytes`);
    if (conn.bufferedBytes(stream) > HIGH_WATER_BYTES) await conn.drained(stream, LOW_WATER_BYTES);
    const k = Math.min(CHUNK_BYTES, n - written);
    written += k;
    conn.write(stream, k === CHUNK_BYTES ? payload : payload.subarray(0, k), fin && written === n);
  }
  if (n === 0 && fin) conn.write(stream, new Uint8Array(0), true);
}

/** Server side of one stream: parse the header, then source / sink / echo. */
function serveConnection(c: QuicConnection): void {
  const streams = new Map<number, { header: Uint8Array; have: number; op: number; count: number; received: number; consumeHeld: number; draining: boolean }>();
  c.onData((sid, data, fin) => {
    let s = streams.get(sid);
    if (!s) streams.set(sid, (s = { header: new Uint8Array(HEADER_BYTES), have: 0, op: 0, count: 0, received: 0, consumeHeld: 0, draining: false }));
    let body = data;
    if (s.have < HEADER_BYTES) {
      const k = Math.min(HEADER_BYTES - s.have, data.length);
      s.header.set(data.subarray(0, k), s.have);
      s.have += k;
      body = data.subarray(k);
      if (s.have === HEADER_BYTES) {
        const h = decodeHeader(s.header);
        s.op = h.op;
        s.count = h.count;
        if (h.op === OP.sink) void writeN(c, sid, h.count, true).catch(() => {});
        else if (h.op !== OP.source && h.op !== OP.echo) { c.resetStream(sid, 2); c.consume(sid, data.length); return; }
      }
    }
    if (s.op === OP.source) {
      s.received += body.length;
      if (fin) {
        const answer = new Uint8Array(8);
        new DataView(answer.buffer).setBigUint64(0, BigInt(s.received));
        c.write(sid, answer, true);
      }
    } else if (s.op === OP.echo) {
      if (body.length || fin) c.write(sid, body, fin);
    }
    // Flow credit is returned only once the echo's backlog is small, so a fast client
    // cannot make the server queue without bound (the same back-pressure io.Copy gives quic-go).
    s.consumeHeld += data.length;
    const state = s;
    if (state.op !== OP.echo || c.bufferedBytes(sid) <= HIGH_WATER_BYTES) {
      c.consume(sid, state.consumeHeld);
      state.consumeHeld = 0;
    } else if (!state.draining) {
      state.draining = true;
      void c.drained(sid, LOW_WATER_BYTES).then(() => {
        state.draining = false;
        c.consume(sid, state.consumeHeld);
        state.consumeHeld = 0;
      });
    }
    if (fin && state.op !== OP.echo) streams.delete(sid);
  }, { manualConsume: true });
}

async function runServer(): Promise<void> {
  const server = await QuicEndpoint.listen(0, { identity: serverIdentity, verifyPeer: () => true, onConnection: serveConnection });
  out({ port: server.port, pid: process.pid });
  for await (const line of console) {
    if (line.trim() === "cpu") out({ cpu_us: cpuMicros() });
  }
  server.close();
}

function arg(argv: readonly string[], name: string, fallback: number): number {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(argv[i + 1]);
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`--${name} must be a non-negative integer`);
  return v;
}

/** One transfer on one stream; resolves with the bytes that crossed (as the Go client counts them). */
async function transfer(conn: QuicConnection, mode: Exclude<Mode, "handshake">, n: number): Promise<number> {
  const stream = conn.openStream(true);
  let received = 0;
  let answer: Uint8Array = new Uint8Array(0);
  const done = new Promise<void>((resolve, reject) => {
    conn.onData((_sid, d, fin) => {
      if (mode === "source") {
        const merged = new Uint8Array(answer.length + d.length);
        merged.set(answer);
        merged.set(d, answer.length);
        answer = merged;
      } else received += d.length;
      if (fin) resolve();
    });
    conn.onClose((code, reason) => reject(new Error(`connection closed (${code} ${reason})`)));
  });
  conn.write(stream, encodeHeader(mode, n), false);
  if (mode === "sink") conn.write(stream, new Uint8Array(0), true);
  else await writeN(conn, stream, n, true);
  await done;
  if (mode === "source") {
    if (answer.length !== 8) throw new Error(`source: server answered ${answer.length} bytes, not 8`);
    return Number(new DataView(answer.buffer, answer.byteOffset).getBigUint64(0));
  }
  return received;
}

async function runClient(argv: readonly string[]): Promise<ClientReport> {
  const port = arg(argv, "port", 0);
  const modeIndex = argv.indexOf("--mode");
  const mode = (modeIndex >= 0 ? argv[modeIndex + 1] : "source") as Mode;
  if (!["source", "sink", "echo", "handshake"].includes(mode)) throw new Error(`unknown --mode ${mode}`);
  const bytes = arg(argv, "bytes", 1 << 20);
  const count = arg(argv, "count", 100);
  const warmup = arg(argv, "warmup", 0);
  if (mode === "handshake" && warmup > 0) {
    // JIT warm-up: the same handshakes, untimed, on an endpoint of their own, so the timed
    // ones start from a fresh endpoint as quic-go's (compiled ahead of time) do.
    const w = await QuicEndpoint.client({ identity: clientIdentity, verifyPeer: () => true });
    for (let i = 0; i < warmup; i++) (await w.connect("127.0.0.1", port)).close();
    await Bun.sleep(20); // let the last CONNECTION_CLOSE leave before the socket closes
    w.close();
  }
  const client = await QuicEndpoint.client({ identity: clientIdentity, verifyPeer: () => true });
  try {
    if (mode === "handshake") {
      const handshakeMs: number[] = [];
      const cpu0 = cpuMicros();
      const t0 = performance.now();
      for (let i = 0; i < count; i++) {
        const h0 = performance.now();
        const conn = await client.connect("127.0.0.1", port);
        handshakeMs.push(Math.round((performance.now() - h0) * 1000) / 1000);
        conn.close();
      }
      const report: ClientReport = { mode, bytes: 0, ms: performance.now() - t0, cpu_us: cpuMicros() - cpu0, handshakes: count, handshake_ms: handshakeMs };
      return report;
    }
    const conn = await client.connect("127.0.0.1", port);
    const cpu0 = cpuMicros();
    const t0 = performance.now();
    const got = await transfer(conn, mode, bytes);
    const report: ClientReport = { mode, bytes: got, ms: performance.now() - t0, cpu_us: cpuMicros() - cpu0 };
    conn.close();
    await Bun.sleep(20); // let the CONNECTION_CLOSE leave before the socket closes
    return report;
  } finally {
    client.close();
  }
}

if (import.meta.main) {
  const [command, ...rest] = process.argv.slice(2);
  if (command === "server") {
    await runServer();
    process.exit(0);
  } else if (command === "client") {
    const timeoutMs = arg(rest, "timeout-ms", 60_000);
    const modeIndex = rest.indexOf("--mode");
    const mode = (modeIndex >= 0 ? rest[modeIndex + 1] : "source") ?? "source";
    const timer = setTimeout(() => { out({ mode, bytes: 0, ms: timeoutMs, cpu_us: cpuMicros(), error: `timeout after ${timeoutMs} ms` }); process.exit(1); }, timeoutMs);
    try {
      out(await runClient(rest));
      clearTimeout(timer);
      process.exit(0);
    } catch (e) {
      out({ mode, bytes: 0, ms: 0, cpu_us: cpuMicros(), error: String(e) });
      process.exit(1);
    }
  } else {
    console.error("usage: bun bench/quic-peer.ts server | client --port N --mode source|sink|echo|handshake [--bytes B] [--count K] [--warmup W] [--timeout-ms T]");
    process.exit(2);
  }
}
