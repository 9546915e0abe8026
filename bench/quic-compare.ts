/**
 * The project's QUIC against quic-go, measured the same way in the same run
 * (bench/quicgo.bench.ts): the benchmark protocol both peers speak (bench/quicgo/main.go
 * describes it), parsing of what the peer processes print, the per-round arithmetic
 * (Mbit/s, Gbit per CPU-second, project/quic-go ratios, medians) and the process
 * plumbing. The arithmetic and parsing are pure and unit-tested
 * (test/bench/quic-compare.test.ts); nothing here needs Go.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PhantomError } from "../src/errors.ts";
import { median } from "./lib.ts";

export const HEADER_BYTES = 9;
export const CHUNK_BYTES = 256 * 1024;
/** Stream opcodes: the first header byte ('S', 'K', 'E'). */
export const OP = { source: 0x53, sink: 0x4b, echo: 0x45 } as const;
export type Mode = "source" | "sink" | "echo" | "handshake";
export type StackName = "project" | "quic-go";

export class QuicCompareError extends PhantomError<"QUIC_COMPARE_BAD_REPORT" | "QUIC_COMPARE_PEER_FAILED" | "QUIC_COMPARE_BAD_HEADER"> {}

export function encodeHeader(mode: Exclude<Mode, "handshake">, count: number): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES);
  h[0] = OP[mode];
  new DataView(h.buffer).setBigUint64(1, BigInt(count));
  return h;
}

export function decodeHeader(h: Uint8Array): { op: number; count: number } {
  if (h.length < HEADER_BYTES) throw new QuicCompareError("QUIC_COMPARE_BAD_HEADER", `stream header needs ${HEADER_BYTES} bytes, got ${h.length}`);
  const count = new DataView(h.buffer, h.byteOffset, HEADER_BYTES).getBigUint64(1);
  if (count > BigInt(Number.MAX_SAFE_INTEGER)) throw new QuicCompareError("QUIC_COMPARE_BAD_HEADER", `stream header count ${count} is too large`);
  return { op: h[0]!, count: Number(count) };
}

/** What a client process prints (one JSON line), quic-go's and the project's alike. */
export interface ClientReport {
  mode: Mode;
  /** Bytes that crossed: source, what the server acknowledged; sink, what arrived; echo, what came back. */
  bytes: number;
  /** Wall time of the measured part (the transfer after the handshake, or all handshakes). */
  ms: number;
  /** The client process's user + system CPU over the same part, µs. */
  cpu_us: number;
  handshakes?: number;
  /** Each handshake's dial-to-complete time, ms. */
  handshake_ms?: number[];
  error?: string;
}

const finiteNonNegative = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0;

function badReport(what: string, text: string): never {
  throw new QuicCompareError("QUIC_COMPARE_BAD_REPORT", `${what}: ${JSON.stringify(text.slice(0, 200))} (rebuild the peer: scripts/setup-quicgo)`);
}

/** The last JSON line of a client's stdout, checked field by field. */
export function parseClientReport(stdout: string): ClientReport {
  const line = stdout.trim().split("\n").reverse().find((l) => l.trim().startsWith("{"));
  if (!line) badReport("client printed no JSON report", stdout);
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    badReport("client report is not JSON", line);
  }
  if (typeof v !== "object" || v === null) badReport("client report is not an object", line);
  const r = v as Record<string, unknown>;
  if (!["source", "sink", "echo", "handshake"].includes(r.mode as string)) badReport("client report has no valid mode", line);
  if (!finiteNonNegative(r.bytes) || !finiteNonNegative(r.ms) || !finiteNonNegative(r.cpu_us)) badReport("client report lacks bytes/ms/cpu_us", line);
  if (r.error !== undefined && typeof r.error !== "string") badReport("client report error is not a string", line);
  if (r.handshake_ms !== undefined && !(Array.isArray(r.handshake_ms) && r.handshake_ms.every(finiteNonNegative))) badReport("client report handshake_ms is not a list of times", line);
  if (r.handshakes !== undefined && !finiteNonNegative(r.handshakes)) badReport("client report handshakes is not a count", line);
  return {
    mode: r.mode as Mode, bytes: r.bytes, ms: r.ms, cpu_us: r.cpu_us,
    ...(r.handshakes === undefined ? {} : { handshakes: r.handshakes as number }),
    ...(r.handshake_ms === undefined ? {} : { handshake_ms: r.handshake_ms as number[] }),
    ...(r.error === undefined ? {} : { error: r.error as string }),
  };
}

/** A server's first line: {"port":N,...}. */
export function parseServerHello(line: string): { port: number } {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    badReport("server's first line is not JSON", line);
  }
  const port = (v as { port?: unknown } | null)?.port;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) badReport("server's first line has no port", line);
  return { port };
}

/** A server's answer to "cpu": {"cpu_us":N}. */
export function parseCpuLine(line: string): number {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    badReport("server's cpu answer is not JSON", line);
  }
  const us = (v as { cpu_us?: unknown } | null)?.cpu_us;
  if (!finiteNonNegative(us)) badReport("server's cpu answer has no cpu_us", line);
  return us;
}

/** One measured transfer of one stack: throughput and what it cost both processes. */
export interface TransferSample {
  mbits: number;
  /** Client + server CPU seconds over the transfer. */
  cpuSeconds: number;
  /** Gigabits moved per CPU-second of both processes together. */
  gbitPerCpuS: number;
  complete: boolean;
}

/** `expectedBytes` is what should have crossed; a shorter transfer is marked incomplete. */
export function transferSample(report: ClientReport, serverCpuUs: number, expectedBytes: number): TransferSample {
  const cpuSeconds = (report.cpu_us + Math.max(0, serverCpuUs)) / 1e6;
  const mbits = report.ms > 0 ? (report.bytes * 8) / (report.ms * 1000) : 0;
  return {
    mbits,
    cpuSeconds,
    gbitPerCpuS: cpuSeconds > 0 ? (report.bytes * 8) / 1e9 / cpuSeconds : 0,
    complete: report.error === undefined && report.bytes === expectedBytes,
  };
}

export interface Comparison {
  project: { mbits: number; gbitPerCpuS: number };
  quicgo: { mbits: number; gbitPerCpuS: number };
  /** Median over rounds of project/quic-go Mbit/s (each round's pair ran back to back). */
  ratio: number;
  /** Median over rounds of project/quic-go Gbit per CPU-second. */
  cpuRatio: number;
  rounds: number;
  complete: boolean;
}

/** Rounds are paired by index: round i of the project ran right before round i of quic-go. */
export function compareRounds(project: readonly TransferSample[], quicgo: readonly TransferSample[]): Comparison {
  const rounds = Math.min(project.length, quicgo.length);
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  for (let i = 0; i < rounds; i++) {
    ratios.push(quicgo[i]!.mbits > 0 ? project[i]!.mbits / quicgo[i]!.mbits : NaN);
    cpuRatios.push(quicgo[i]!.gbitPerCpuS > 0 ? project[i]!.gbitPerCpuS / quicgo[i]!.gbitPerCpuS : NaN);
  }
  const m = (xs: number[]) => median(xs.filter((x) => !Number.isNaN(x)));
  return {
    project: { mbits: median(project.map((s) => s.mbits)), gbitPerCpuS: median(project.map((s) => s.gbitPerCpuS)) },
    quicgo: { mbits: median(quicgo.map((s) => s.mbits)), gbitPerCpuS: median(quicgo.map((s) => s.gbitPerCpuS)) },
    ratio: m(ratios),
    cpuRatio: m(cpuRatios),
    rounds,
    complete: [...project, ...quicgo].every((s) => s.complete),
  };
}

/** Handshake rounds: each round's median latency; the ratio is the median of project/quic-go per round. */
export function compareHandshakes(project: readonly ClientReport[], quicgo: readonly ClientReport[]): {
  projectMs: number; quicgoMs: number; ratio: number; projectFirstMs: number; quicgoFirstMs: number; rounds: number;
} {
  const p50 = (r: ClientReport) => median(r.handshake_ms ?? []);
  const first = (r: ClientReport) => r.handshake_ms?.[0] ?? NaN;
  const rounds = Math.min(project.length, quicgo.length);
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) ratios.push(p50(project[i]!) / p50(quicgo[i]!));
  return {
    projectMs: median(project.map(p50)), quicgoMs: median(quicgo.map(p50)),
    ratio: median(ratios.filter((x) => Number.isFinite(x))),
    projectFirstMs: median(project.map(first)), quicgoFirstMs: median(quicgo.map(first)), rounds,
  };
}

// ---------------------------------------------------------------------------------
// Processes

const ROOT = join(import.meta.dir, "..");
export const QUICGO_BIN = process.env.PHANTOM_QUICGO_BIN ?? join(ROOT, ".tools", "quicgo", "quicgo-bench");
export const QUICGO_MISSING = "quic-go not built: run scripts/setup-quicgo";

export interface StackSpec {
  name: StackName;
  server: string[];
  /** `warmup`: handshakes run (untimed, on an endpoint of their own) before the timed ones; only the project's peer has them (see quic-peer.ts). */
  client(port: number, mode: Mode, bytes: number, count: number, timeoutMs: number, warmup?: number): string[];
}

export const projectStack: StackSpec = {
  name: "project",
  server: [process.execPath, join(import.meta.dir, "quic-peer.ts"), "server"],
  client: (port, mode, bytes, count, timeoutMs, warmup = 0) => [process.execPath, join(import.meta.dir, "quic-peer.ts"), "client",
    "--port", String(port), "--mode", mode, "--bytes", String(bytes), "--count", String(count), "--timeout-ms", String(timeoutMs), "--warmup", String(warmup)],
};

/** quic-go's stack, or null when the binary is missing (the bench then skips its rows). */
export function quicgoStack(bin = QUICGO_BIN): StackSpec | null {
  if (!existsSync(bin)) return null;
  return {
    name: "quic-go",
    server: [bin, "server"],
    client: (port, mode, bytes, count, timeoutMs) => [bin, "client", "-port", String(port), "-mode", mode, "-bytes", String(bytes), "-count", String(count), "-timeout", `${timeoutMs}ms`],
  };
}

type ServerProcess = Bun.Subprocess<"pipe", "pipe", "inherit">;
const SERVER_START_TIMEOUT_MS = 15_000;

/** The lines of a byte stream, as they complete. */
async function* lines(stream: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
    }
  }
}

/** A server process of one stack: its port, and its own CPU time on request. */
export class PeerServer {
  private constructor(
    readonly spec: StackSpec,
    private readonly proc: ServerProcess,
    private readonly lines: AsyncGenerator<string>,
    public port = 0,
  ) {}

  static async start(spec: StackSpec): Promise<PeerServer> {
    const proc = Bun.spawn(spec.server, { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
    const s = new PeerServer(spec, proc, lines(proc.stdout));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new QuicCompareError("QUIC_COMPARE_PEER_FAILED", `${spec.name} server printed no port within ${SERVER_START_TIMEOUT_MS} ms`)), SERVER_START_TIMEOUT_MS);
    });
    try {
      s.port = parseServerHello(await Promise.race([s.nextLine(), timeout])).port;
    } catch (e) {
      proc.kill("SIGKILL");
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return s;
  }

  private async nextLine(): Promise<string> {
    const { value, done } = await this.lines.next();
    if (done) throw new QuicCompareError("QUIC_COMPARE_PEER_FAILED", `${this.spec.name} server exited (code ${await this.proc.exited})`);
    return value;
  }

  /** The server process's user + system CPU so far, µs. */
  async cpuUs(): Promise<number> {
    this.proc.stdin.write("cpu\n");
    await this.proc.stdin.flush();
    return parseCpuLine(await this.nextLine());
  }

  async stop(): Promise<void> {
    try { await this.proc.stdin.end(); } catch { /* already gone */ }
    const exited = await Promise.race([this.proc.exited.then(() => true), Bun.sleep(2000).then(() => false)]);
    if (!exited) this.proc.kill("SIGKILL");
  }
}

/** Runs one client process to completion; a crash or a bad line becomes a report with `error`. */
export async function runClient(spec: StackSpec, port: number, mode: Mode, bytes: number, count: number, timeoutMs: number, warmup = 0): Promise<ClientReport> {
  const proc = Bun.spawn(spec.client(port, mode, bytes, count, timeoutMs, warmup), { stdout: "pipe", stderr: "pipe", timeout: timeoutMs + 5000, killSignal: "SIGKILL" });
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  try {
    return parseClientReport(stdout);
  } catch (e) {
    return { mode, bytes: 0, ms: 0, cpu_us: 0, error: `${spec.name} client: ${e instanceof Error ? e.message : String(e)} ${stderr.trim().slice(-300)}` };
  }
}

/** One transfer between `server` and a fresh client of `client` (to `port`, which may be a proxy), charged with both CPU times. */
export async function measureTransfer(server: PeerServer, client: StackSpec, port: number, mode: Exclude<Mode, "handshake">, bytes: number, timeoutMs: number): Promise<TransferSample & { error?: string }> {
  const cpu0 = await server.cpuUs();
  const report = await runClient(client, port, mode, bytes, 0, timeoutMs);
  const cpu1 = await server.cpuUs();
  return { ...transferSample(report, cpu1 - cpu0, bytes), ...(report.error ? { error: report.error } : {}) };
}
