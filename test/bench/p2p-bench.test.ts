// bench/p2p.bench.ts runs end to end (with few samples: this checks that it works and
// what it reports, never how fast): two authenticated QUIC transports on loopback
// echo messages, and the run prints p50 <= p95 <= p99 round trips for each size and
// for the raw UDP reference, and the pipelined throughput (messages/s and MB/s, which
// must agree with each other), the figures bench/baselines/p2p.csv is taken from.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { parseBenchLine } from "../../bench/lib.ts";

const ROOT = join(import.meta.dir, "..", "..");

test("the p2p bench reports p50/p95/p99 link round trips, throughput and the raw UDP reference", () => {
  const p = Bun.spawnSync([process.execPath, "run", join(ROOT, "bench", "p2p.bench.ts")], {
    cwd: ROOT, stdout: "pipe", stderr: "pipe", timeout: 60_000, env: { ...process.env, PHANTOM_BENCH_P2P_SAMPLES: "40" },
  });
  expect(p.exitCode).toBe(0);
  const results = p.stdout.toString().split("\n").map(parseBenchLine).filter((r) => r !== null);
  const byName = new Map(results.map((r) => [r.name, r]));
  for (const prefix of ["p2p_link_rtt_64b", "p2p_link_rtt_4096b", "raw_udp_rtt_64b"]) {
    const [p50, p95, p99] = [50, 95, 99].map((q) => byName.get(`${prefix}_p${q}`));
    expect(p50 && p95 && p99).toBeTruthy();
    expect(p50!).toMatchObject({ suite: "p2p", unit: "us", higher_is_better: false, params: expect.objectContaining({ samples: 40, lost: 0 }) });
    expect(p50!.value).toBeGreaterThan(0);
    expect(p50!.value).toBeLessThanOrEqual(p95!.value);
    expect(p95!.value).toBeLessThanOrEqual(p99!.value);
  }
  const msgs = byName.get("p2p_link_throughput_4096b_msgs");
  const mb = byName.get("p2p_link_throughput_4096b_mb");
  expect(msgs).toMatchObject({ suite: "p2p", unit: "msg/s", higher_is_better: true, params: expect.objectContaining({ messages: 40, message_bytes: 4096 }) });
  expect(mb).toMatchObject({ suite: "p2p", unit: "MB/s", higher_is_better: true });
  expect(msgs!.value).toBeGreaterThan(0);
  // Both come from the same burst: MB/s = msg/s × 4096 B (within the one-decimal rounding).
  expect(Math.abs(mb!.value - (msgs!.value * 4096) / 1e6)).toBeLessThan(0.1);
  expect(badSamplesExitCode()).toBe(2);
}, 90_000);

function badSamplesExitCode(): number | null {
  return Bun.spawnSync([process.execPath, "run", join(ROOT, "bench", "p2p.bench.ts")], {
    cwd: ROOT, stdout: "pipe", stderr: "pipe", timeout: 30_000, env: { ...process.env, PHANTOM_BENCH_P2P_SAMPLES: "five" },
  }).exitCode;
}
