/**
 * bench/localnet.bench.ts and bench/localnet-load.ts without running a network: argument
 * and environment parsing, the /proc and /metrics readers (on this process's real /proc
 * files), and the rows a measured step turns into. Nothing here is timed.
 */
import { describe, test, expect } from "bun:test";
import { readFileSync } from "node:fs";
import { parseLocalnetArgs, cpuSeconds, rssBytes, metricValue, stepRows, type StepMeasure } from "../../bench/localnet.bench.ts";
import { parseLoadArgs } from "../../bench/localnet-load.ts";
import { isBenchResult } from "../../bench/lib.ts";

describe("localnet bench", () => {
  test("parses flags over the environment over defaults, and refuses bad values", () => {
    expect(parseLocalnetArgs([])).toMatchObject({ seconds: 20, rates: [400, 800, 1600], drainS: 15, batch: 256, keepDir: false, cpuProfDir: null, budgetS: 170 });
    expect(parseLocalnetArgs(["--budget_s", "400"], { PHANTOM_BENCH_LOCALNET_BUDGET_S: "900" }).budgetS).toBe(400);
    expect(parseLocalnetArgs([], { PHANTOM_BENCH_LOCALNET_BUDGET_S: "900" }).budgetS).toBe(900);
    expect(parseLocalnetArgs([], { PHANTOM_BENCH_LOCALNET_SECONDS: "60", PHANTOM_BENCH_LOCALNET_RATES: "1000, 2000" })).toMatchObject({ seconds: 60, rates: [1000, 2000] });
    expect(parseLocalnetArgs(["--seconds", "5", "--rates", "100", "--batch", "999", "--keep_dir", "--cpu_prof", "/tmp/p"], { PHANTOM_BENCH_LOCALNET_SECONDS: "60" }))
      .toMatchObject({ seconds: 5, rates: [100], batch: 256, keepDir: true, cpuProfDir: "/tmp/p" });
    expect(() => parseLocalnetArgs(["--seconds", "0"])).toThrow(/--seconds must be a positive number/);
    expect(() => parseLocalnetArgs(["--rates", "100,x"])).toThrow(/--rates must be a positive number/);
    expect(() => parseLocalnetArgs(["--bogus"])).toThrow(/unknown option --bogus/);
    expect(parseLoadArgs(["--file", "f", "--rate", "500", "--rpcs", "http://a,http://b"])).toEqual({ file: "f", rate: 500, rpcs: ["http://a", "http://b"], batch: 256, inflight: 32 });
    expect(() => parseLoadArgs(["--file", "f", "--rate", "500"])).toThrow(/required/);
  });

  test("reads CPU time and RSS from /proc and sums a metric over its label sets", () => {
    const stat = readFileSync(`/proc/${process.pid}/stat`, "latin1");
    const cpu = cpuSeconds(stat);
    expect(cpu).toBeGreaterThan(0); // this process has run code by now
    expect(cpuSeconds(`1 (a b) c) R ${"0 ".repeat(10)}150 50 0 0`)).toBe(2); // a command name with spaces and parentheses
    expect(rssBytes(readFileSync(`/proc/${process.pid}/status`, "latin1"))).toBeGreaterThan(1 << 20);
    const text = "# HELP pc_node_sig_cache_hits x\npc_node_sig_cache_hits 12\npc_node_sig_cache_hits_other 99\npc_node_sig_cache_misses{validator=\"1\"} 3\npc_node_sig_cache_misses{validator=\"2\"} 4\n";
    expect(metricValue(text, "pc_node_sig_cache_hits")).toBe(12);
    expect(metricValue(text, "pc_node_sig_cache_misses")).toBe(7);
  });

  test("a step's rows: finalized rate on every validator, latency on the node submitted to, CPU, RSS and cache per transfer", () => {
    const t0 = 1_000_000;
    const submitted = new Map<string, [number, number]>([["a", [t0, 0]], ["b", [t0 + 500, 1]], ["c", [t0 + 1000, 0]]]);
    const applied = [
      new Map([["a", t0 + 800], ["b", t0 + 1500], ["c", t0 + 2000]]),
      new Map([["a", t0 + 900], ["b", t0 + 1200]]), // c not final here within the drain
    ];
    const m: StepMeasure = {
      rate: 300, seconds: 1, submitted, refused: { TX_NOT_RELAYED: 1, TX_DOUBLE_SPEND: 2 }, firstSubmitMs: t0, lastSubmitMs: t0 + 1000, applied,
      cpuS: [1.5, 0.5], wallS: 2, rssPeak: [100 * 2 ** 20, 50 * 2 ** 20], sigHits: [3, 2], sigMisses: [3, 3], p2pInBytes: [1_800, 0], txBytes: 200, loadavg1m: 1.5, lateBatches: 0, drainS: 15,
    };
    const rows = stepRows(m);
    for (const r of rows) expect(isBenchResult(r)).toBe(true);
    const row = (name: string) => rows.find((r) => r.name === name)!;
    // v0: 3 applied over 2 s from the first submit (1.5 -> 2), 1 of them within the 1 s submit window.
    expect(row("at_300_finalized_v0")).toMatchObject({ value: 2, unit: "tx/s", params: { applied: 3, missing: 0, span_s: 2, in_window_tx_s: 1, not_acknowledged: 1, refused: 2 } });
    expect(row("at_300_finalized_v1")).toMatchObject({ value: 2, params: { applied: 2, missing: 1, span_s: 1.2 } });
    // a on v0: 800, b on v1: 700, c on v0: 1000 -> p50 800, p99 1000.
    expect(row("at_300_latency_p50").value).toBe(800);
    expect(row("at_300_latency_p99").value).toBe(1000);
    expect(row("at_300_cpu_v0").value).toBe(75);
    // 2 CPU seconds over all validators for 3 transfers (the most any validator applied).
    expect(row("at_300_cpu_us_per_tx")).toMatchObject({ value: 666_667, unit: "us", params: { transfers: 3 } });
    expect(row("at_300_rss_v1").value).toBe(50);
    expect(row("at_300_p2p_in_bytes_per_tx_v0")).toMatchObject({ value: 600, unit: "bytes", params: { tx_bytes: 200, copies: 3 } });
    expect(row("at_300_sig_misses_per_tx_v1")).toMatchObject({ value: 1, params: { sig_cache_hits: 2, hits_per_tx: 0.667 } });
    // Nothing final anywhere: no latency rows (a row's value must be finite), zero rates.
    const none = stepRows({ ...m, applied: [new Map(), new Map()] });
    expect(none.some((r) => r.name.includes("latency"))).toBe(false);
    expect(none.find((r) => r.name === "at_300_finalized_v0")!.value).toBe(0);
  });
});
