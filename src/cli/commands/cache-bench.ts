/**
 * `phantom CacheBench --store_dir pc-data --mode headers|payloads --sample N --iterations N
 * --cache_hdr_cap N --cache_pl_cap N`: reads a sample of the stored headers or payloads
 * `iterations` times through the store's LRU caches and prints hits, misses and time as
 * one JSON line (the seed's CacheBench, against the SQLite store).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "../command.ts";
import { CliError } from "../args.ts";
import { SqliteStore, STORE_FILE_NAME, LIST_ROWS_MAX } from "../../store/sqlite-store.ts";

/** Largest sample read per run (bounds memory and time). */
export const CACHE_BENCH_SAMPLE_MAX = LIST_ROWS_MAX;
export const CACHE_BENCH_ITERATIONS_MAX = 1_000;

export const command: Command = {
  name: "CacheBench",
  aliases: ["cache-bench"],
  summary: "header/payload cache micro-benchmark against a store",
  usage: "phantom CacheBench --store_dir pc-data --mode headers|payloads [--sample 1000] [--iterations 5] [--cache_hdr_cap 10000] [--cache_pl_cap 5000]",
  flags: [
    { name: "store_dir", type: "string", help: "data directory holding phantom.sqlite", default: "pc-data" },
    { name: "mode", type: "string", help: "headers or payloads", default: "headers" },
    { name: "sample", type: "int", help: "how many stored items to read per iteration", default: "1000" },
    { name: "iterations", type: "int", help: "passes over the sample", default: "5" },
    { name: "cache_hdr_cap", type: "int", help: "header LRU capacity (0 = off)", default: "10000" },
    { name: "cache_pl_cap", type: "int", help: "payload LRU capacity (0 = off)", default: "5000" },
  ],
  async run(ctx) {
    const storeDir = ctx.flags.store_dir as string;
    const mode = ctx.flags.mode as string;
    const sample = ctx.flags.sample as number;
    const iterations = ctx.flags.iterations as number;
    const hdrCap = ctx.flags.cache_hdr_cap as number;
    const plCap = ctx.flags.cache_pl_cap as number;
    if (mode !== "headers" && mode !== "payloads") throw new CliError("CLI_BAD_VALUE", `--mode must be headers or payloads, got "${mode}"`);
    if (sample < 1 || sample > CACHE_BENCH_SAMPLE_MAX) throw new CliError("CLI_BAD_VALUE", `--sample must be 1..${CACHE_BENCH_SAMPLE_MAX}`);
    if (iterations < 1 || iterations > CACHE_BENCH_ITERATIONS_MAX) throw new CliError("CLI_BAD_VALUE", `--iterations must be 1..${CACHE_BENCH_ITERATIONS_MAX}`);
    if (hdrCap < 0 || plCap < 0) throw new CliError("CLI_BAD_VALUE", "cache capacities must be >= 0");
    if (!existsSync(join(storeDir, STORE_FILE_NAME))) throw new CliError("CLI_BAD_VALUE", `no store at ${storeDir} (expected ${STORE_FILE_NAME})`);
    const store = new SqliteStore({ storeDir, fsync: false, cacheHeadersCap: hdrCap, cachePayloadsCap: plCap });
    try {
      const keys = mode === "headers" ? store.eventIds(sample) : store.payloadDigests(sample);
      const read = mode === "headers" ? (k: Uint8Array) => store.getEvent(k) : (k: Uint8Array) => store.getPayload(k);
      const started = performance.now();
      let found = 0;
      for (let i = 0; i < iterations; i++) for (const k of keys) if (read(k) !== undefined) found++;
      const elapsedMs = performance.now() - started;
      ctx.out(JSON.stringify({
        type: "cache_bench", mode, sample: keys.length, iterations, found,
        hdr_hits: store.headerCache.hits, hdr_misses: store.headerCache.misses, pl_hits: store.payloadCache.hits, pl_misses: store.payloadCache.misses,
        elapsed_ms: Math.round(elapsedMs * 1000) / 1000,
      }));
    } finally {
      store.close();
    }
    return 0;
  },
};
