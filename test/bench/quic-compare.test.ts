// The quic-go comparison (bench/quicgo.bench.ts, bench/quic-compare.ts, bench/quic-peer.ts):
// the protocol header, the parsing of what peer processes print, the per-round ratio
// arithmetic, and real runs of the project's peer processes. Nothing here needs Go: the
// bench is run without the quic-go binary (its rows must be skipped with the setup hint),
// and the quic-go pair is exercised only when .tools/quicgo/quicgo-bench was built.
// Never asserts how fast anything is.
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseBenchLine } from "../../bench/lib.ts";
import {
  compareHandshakes, compareRounds, decodeHeader, encodeHeader, measureTransfer, OP, parseClientReport, parseCpuLine, parseServerHello,
  PeerServer, projectStack, QUICGO_BIN, QUICGO_MISSING, quicgoStack, runClient, transferSample, type ClientReport, type TransferSample,
} from "../../bench/quic-compare.ts";

const ROOT = join(import.meta.dir, "..", "..");
const MIB = 1 << 20;

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
};

describe("protocol header", () => {
  test("round-trips op and count; a short header is a typed error", () => {
    const h = encodeHeader("echo", 100 * MIB + 7);
    expect(h.length).toBe(9);
    expect(decodeHeader(h)).toEqual({ op: OP.echo, count: 100 * MIB + 7 });
    expect(h[0]).toBe("E".charCodeAt(0));
    expect(decodeHeader(encodeHeader("sink", 0))).toEqual({ op: "K".charCodeAt(0), count: 0 });
    expect(code(() => decodeHeader(h.subarray(0, 8)))).toBe("QUIC_COMPARE_BAD_HEADER");
    const huge = new Uint8Array(9).fill(0xff);
    expect(code(() => decodeHeader(huge))).toBe("QUIC_COMPARE_BAD_HEADER");
  });
});

describe("parsing peer output", () => {
  test("a client report is the last JSON line, checked field by field", () => {
    const go = 'noise\n{"mode":"source","bytes":104857600,"ms":555.192,"cpu_us":321458}\n';
    expect(parseClientReport(go)).toEqual({ mode: "source", bytes: 104857600, ms: 555.192, cpu_us: 321458 });
    const hs = parseClientReport('{"mode":"handshake","bytes":0,"ms":9.5,"cpu_us":10,"handshakes":2,"handshake_ms":[1.2,3.4]}');
    expect(hs.handshake_ms).toEqual([1.2, 3.4]);
    expect(hs.handshakes).toBe(2);
    expect(parseClientReport('{"mode":"sink","bytes":5,"ms":1,"cpu_us":0,"error":"timeout"}').error).toBe("timeout");
    for (const bad of ["", "not json", "{oops", '{"mode":"bulk","bytes":1,"ms":1,"cpu_us":1}', '{"mode":"source","bytes":-1,"ms":1,"cpu_us":1}',
      '{"mode":"source","bytes":1,"ms":1}', '{"mode":"handshake","bytes":0,"ms":1,"cpu_us":1,"handshake_ms":["x"]}', '{"mode":"source","bytes":1,"ms":1,"cpu_us":1,"error":5}']) {
      expect(code(() => parseClientReport(bad))).toBe("QUIC_COMPARE_BAD_REPORT");
    }
  });

  test("server hello and cpu lines", () => {
    expect(parseServerHello('{"gomaxprocs":2,"pid":9,"port":56782}')).toEqual({ port: 56782 });
    expect(code(() => parseServerHello('{"port":0}'))).toBe("QUIC_COMPARE_BAD_REPORT");
    expect(code(() => parseServerHello("listening"))).toBe("QUIC_COMPARE_BAD_REPORT");
    expect(parseCpuLine('{"cpu_us":1234}')).toBe(1234);
    expect(code(() => parseCpuLine('{"cpu_us":"1"}'))).toBe("QUIC_COMPARE_BAD_REPORT");
  });
});

describe("per-round arithmetic", () => {
  const report = (bytes: number, ms: number, cpuUs: number, error?: string): ClientReport => ({ mode: "source", bytes, ms, cpu_us: cpuUs, ...(error ? { error } : {}) });

  test("Mbit/s from the client's bytes and time; Gbit per CPU-second from both processes' CPU", () => {
    const s = transferSample(report(100 * MIB, 1000, 600_000), 400_000, 100 * MIB);
    expect(s.mbits).toBeCloseTo((100 * MIB * 8) / 1e6, 6);
    expect(s.cpuSeconds).toBeCloseTo(1.0, 9);
    expect(s.gbitPerCpuS).toBeCloseTo((100 * MIB * 8) / 1e9, 9);
    expect(s.complete).toBe(true);
    expect(transferSample(report(MIB - 1, 10, 1), 1, MIB).complete).toBe(false);
    expect(transferSample(report(MIB, 10, 1, "reset"), 1, MIB).complete).toBe(false);
    // A server CPU reading that went backwards (it cannot, but a bad peer could say so) is not subtracted.
    expect(transferSample(report(MIB, 10, 2_000_000), -5, MIB).cpuSeconds).toBe(2);
    expect(transferSample(report(0, 0, 0), 0, MIB)).toMatchObject({ mbits: 0, gbitPerCpuS: 0, complete: false });
  });

  test("ratios are the median of per-round ratios, not a ratio of medians", () => {
    const t = (mbits: number, gbitPerCpuS: number): TransferSample => ({ mbits, gbitPerCpuS, cpuSeconds: 1, complete: true });
    // Load rose over the rounds: each round's pair saw the same load, so per-round ratios are steady.
    const project = [t(100, 0.2), t(50, 0.2), t(25, 0.2)];
    const quicgo = [t(1000, 1.0), t(500, 1.0), t(250, 1.0)];
    const c = compareRounds(project, quicgo);
    expect(c.ratio).toBeCloseTo(0.1, 9);
    expect(c.cpuRatio).toBeCloseTo(0.2, 9);
    expect(c.project.mbits).toBe(50);
    expect(c.quicgo.mbits).toBe(500);
    expect(c.rounds).toBe(3);
    expect(c.complete).toBe(true);
    // A failed quic-go round (0 Mbit/s) is left out of the ratio instead of making it infinite.
    const d = compareRounds([t(100, 0.2), t(100, 0.2)], [t(0, 0), t(400, 0.8)]);
    expect(d.ratio).toBeCloseTo(0.25, 9);
    expect(d.cpuRatio).toBeCloseTo(0.25, 9);
    expect(compareRounds([{ ...t(1, 1), complete: false }], [t(1, 1)]).complete).toBe(false);
  });

  test("handshake comparison uses each round's median latency", () => {
    const h = (ms: number[]): ClientReport => ({ mode: "handshake", bytes: 0, ms: 0, cpu_us: 0, handshakes: ms.length, handshake_ms: ms });
    const c = compareHandshakes([h([40, 5, 6, 5]), h([30, 6, 6, 7])], [h([2, 1, 2, 2]), h([3, 2, 2, 2])]);
    expect(c.projectMs).toBe(5); // round medians 5 and 6; lower middle
    expect(c.quicgoMs).toBe(2);
    expect(c.ratio).toBeCloseTo(2.5, 9); // per round 5/2 and 6/2
    expect(c.projectFirstMs).toBe(30);
    expect(c.rounds).toBe(2);
  });
});

describe("peer processes", () => {
  test("the project's server and client move the bytes in every mode and report CPU", async () => {
    const server = await PeerServer.start(projectStack);
    try {
      for (const mode of ["source", "sink", "echo"] as const) {
        const s = await measureTransfer(server, projectStack, server.port, mode, MIB + 3, 30_000);
        expect({ mode, error: s.error, complete: s.complete }).toEqual({ mode, error: undefined, complete: true });
        expect(s.cpuSeconds).toBeGreaterThan(0);
        expect(s.mbits).toBeGreaterThan(0);
      }
      const hs = await runClient(projectStack, server.port, "handshake", 0, 3, 30_000);
      expect(hs.error).toBeUndefined();
      expect(hs.handshakes).toBe(3);
      expect(hs.handshake_ms).toHaveLength(3);
      // Warm-up handshakes run first and are not reported.
      const warm = await runClient(projectStack, server.port, "handshake", 0, 3, 30_000, 4);
      expect(warm.error).toBeUndefined();
      expect(warm.handshake_ms).toHaveLength(3);
    } finally {
      await server.stop();
    }
  }, 60_000);

  test("a client that cannot reach a server reports an error instead of a figure", async () => {
    const server = await PeerServer.start(projectStack);
    const port = server.port;
    await server.stop();
    const r = await runClient(projectStack, port, "source", MIB, 0, 1500);
    expect(r.error).toBeDefined();
    expect(transferSample(r, 0, MIB).complete).toBe(false);
  }, 30_000);

  test.skipIf(!existsSync(QUICGO_BIN))("the quic-go pair (built by scripts/setup-quicgo) speaks the same protocol", async () => {
    const go = quicgoStack()!;
    const server = await PeerServer.start(go);
    try {
      for (const mode of ["source", "sink", "echo"] as const) {
        const s = await measureTransfer(server, go, server.port, mode, MIB + 3, 30_000);
        expect({ mode, error: s.error, complete: s.complete }).toEqual({ mode, error: undefined, complete: true });
      }
      const hs = await runClient(go, server.port, "handshake", 0, 3, 30_000);
      expect(hs.handshake_ms).toHaveLength(3);
    } finally {
      await server.stop();
    }
  }, 60_000);

  test.skipIf(!existsSync(QUICGO_BIN))("the project and quic-go interoperate both ways (Ed25519 certificates, ALPN phantom/0)", async () => {
    const go = quicgoStack()!;
    for (const [serverStack, clientStack] of [[go, projectStack], [projectStack, go]] as const) {
      const server = await PeerServer.start(serverStack);
      try {
        for (const mode of ["source", "sink", "echo"] as const) {
          const s = await measureTransfer(server, clientStack, server.port, mode, MIB + 3, 30_000);
          expect({ client: clientStack.name, mode, error: s.error, complete: s.complete }).toEqual({ client: clientStack.name, mode, error: undefined, complete: true });
        }
      } finally {
        await server.stop();
      }
    }
  }, 60_000);
});

test("without the quic-go binary the bench prints the project's rows and says how to build it", () => {
  expect(quicgoStack("/nonexistent/quicgo-bench")).toBeNull();
  const p = Bun.spawnSync([process.execPath, "run", join(ROOT, "bench", "quicgo.bench.ts")], {
    cwd: ROOT, stdout: "pipe", stderr: "pipe", timeout: 90_000,
    env: { ...process.env, PHANTOM_QUICGO_BIN: "/nonexistent/quicgo-bench", PHANTOM_BENCH_QUICGO_MB: "1", PHANTOM_BENCH_QUICGO_LOSSY_MB: "1",
      PHANTOM_BENCH_QUICGO_ROUNDS: "1", PHANTOM_BENCH_QUICGO_HANDSHAKES: "2" },
  });
  expect(p.exitCode).toBe(0);
  expect(p.stderr.toString()).toContain(QUICGO_MISSING);
  const rows = p.stdout.toString().split("\n").map(parseBenchLine).filter((r) => r !== null);
  const names = rows.map((r) => r.name);
  for (const c of ["source", "sink", "echo", "loss1pct", "reorder2pct"]) {
    expect(names).toContain(`vsgo_${c}_project`);
    expect(names).toContain(`vsgo_${c}_project_cpu`);
  }
  expect(names).toContain("vsgo_handshake_project");
  expect(names.filter((n) => n.includes("quicgo") || n.endsWith("_ratio"))).toEqual([]);
  for (const r of rows) {
    expect(r.suite).toBe("quic");
    if (r.unit === "Mbit/s") expect(r.params?.complete).toBe(true);
  }
  expect(badEnvExitCode()).toBe(2);
}, 120_000);

function badEnvExitCode(): number | null {
  return Bun.spawnSync([process.execPath, "run", join(ROOT, "bench", "quicgo.bench.ts")], {
    cwd: ROOT, stdout: "pipe", stderr: "pipe", timeout: 30_000, env: { ...process.env, PHANTOM_BENCH_QUICGO_MB: "lots" },
  }).exitCode;
}
