/**
 * The external load generator of bench/localnet.bench.ts: a process of its own that
 * submits pre-signed transfers (one hex tx per line of `--file`) through `tx_submit` in
 * batches of `--batch`, round-robin over `--rpcs`, at a steady `--rate` tx/s. It paces by
 * the schedule (batch k leaves at k·batch/rate s), not by the answers, so a slow node
 * shows up as latency, not as a lower offered rate; at most `--inflight` calls are open.
 * Prints one JSON line per batch ({"first","count","sentMs","rpc","accepted","codes","refused"};
 * sentMs is epoch milliseconds, refused the batch offsets of txs no node holds) and a final {"done":true,...} line.
 *
 * Usage: bun bench/localnet-load.ts --file txs.hex --rate 500 --rpcs http://127.0.0.1:8645,... [--batch 256] [--inflight 32]
 */
import { readFileSync } from "node:fs";
import { rpcCall } from "../src/rpc/client.ts";

export interface LoadOptions {
  file: string;
  rate: number;
  rpcs: string[];
  batch: number;
  inflight: number;
}

export function parseLoadArgs(argv: readonly string[]): LoadOptions {
  const opts: LoadOptions = { file: "", rate: 0, rpcs: [], batch: 256, inflight: 32 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]!;
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`localnet-load: ${key} needs a value`);
    if (key === "--file") opts.file = value;
    else if (key === "--rpcs") opts.rpcs = value.split(",").filter((u) => u !== "");
    else if (key === "--rate" || key === "--batch" || key === "--inflight") {
      const n = Number(value);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`localnet-load: ${key} must be a positive number`);
      opts[key.slice(2) as "rate" | "batch" | "inflight"] = n;
    } else throw new Error(`localnet-load: unknown option ${key}`);
  }
  if (opts.file === "" || opts.rate <= 0 || opts.rpcs.length === 0) throw new Error("localnet-load: --file, --rate and --rpcs are required");
  return opts;
}

type SubmitAnswer = { accepted: boolean; code?: string }[];

async function main(): Promise<void> {
  const opts = parseLoadArgs(process.argv.slice(2));
  const txs = readFileSync(opts.file, "utf8").split("\n").filter((l) => l !== "");
  const startedMs = performance.timeOrigin + performance.now();
  const periodMs = (opts.batch / opts.rate) * 1000;
  const open = new Set<Promise<void>>();
  let late = 0;
  for (let k = 0, first = 0; first < txs.length; k++, first += opts.batch) {
    const dueMs = startedMs + k * periodMs;
    const waitMs = dueMs - (performance.timeOrigin + performance.now());
    if (waitMs > 0) await Bun.sleep(waitMs);
    while (open.size >= opts.inflight) await Promise.race(open);
    if (performance.timeOrigin + performance.now() - dueMs > periodMs) late++;
    const batch = txs.slice(first, first + opts.batch);
    const rpc = opts.rpcs[k % opts.rpcs.length]!;
    const sentMs = performance.timeOrigin + performance.now();
    const p = rpcCall<SubmitAnswer>(rpc, "tx_submit", { txs: batch }).then(
      (res) => {
        const codes: Record<string, number> = {};
        const refused: number[] = [];
        res.forEach((r, j) => {
          if (r.accepted) return;
          codes[r.code ?? "?"] = (codes[r.code ?? "?"] ?? 0) + 1;
          if (r.code !== "TX_NOT_RELAYED") refused.push(j); // held, only not yet confirmed by a peer
        });
        console.log(JSON.stringify({ first, count: batch.length, sentMs, rpc: k % opts.rpcs.length, accepted: res.filter((r) => r.accepted).length, codes, refused }));
      },
      (e: unknown) => console.log(JSON.stringify({ first, count: batch.length, sentMs, rpc: k % opts.rpcs.length, accepted: 0, codes: { RPC_FAILED: batch.length }, refused: batch.map((_, j) => j), error: String(e) })),
    ).finally(() => open.delete(p));
    open.add(p);
  }
  await Promise.all(open);
  console.log(JSON.stringify({ done: true, txs: txs.length, seconds: (performance.timeOrigin + performance.now() - startedMs) / 1000, lateBatches: late }));
}

if (import.meta.main) await main();
