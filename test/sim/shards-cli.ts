/**
 * Sharded simulator command line: `bun run sim:shards --shards 3 --k 4 --seeds 20`
 * (docs/SPEC_SHARDING.md §12). One JSON line per run; a failing run prints the command
 * that replays it and the process exits 1.
 */
import { numberArg, parseArgs } from "./args.ts";
import { runShardSimulation, shardSimOptions, type ShardSimOptions } from "./shards.ts";


function main(): number {
  const args = parseArgs(process.argv.slice(2));
  const first = numberArg(args, "seed", true) ?? 1;
  const count = numberArg(args, "seeds", true) ?? 1;
  let failed = 0;
  for (let seed = first; seed < first + count; seed++) {
    const p: Partial<ShardSimOptions> & { seed: number } = { seed };
    const set = <K extends keyof ShardSimOptions>(key: K, flag: string, conv: (n: number) => ShardSimOptions[K]): void => {
      const n = numberArg(args, flag, true);
      if (n !== undefined) p[key] = conv(n);
    };
    set("shards", "shards", (n) => n);
    set("k", "k", (n) => n);
    set("ticks", "ticks", (n) => n);
    set("transfers", "transfers", (n) => n);
    set("rootInterval", "root_interval", (n) => BigInt(n));
    set("haltShard", "halt", (n) => n);
    set("byzantineShard", "byzantine", (n) => n);
    set("delayTicksMax", "delay", (n) => n);
    if (args.has("loss")) p.loss = Number(args.get("loss"));
    if (args.has("partition")) p.partition = args.get("partition") !== "false";
    const r = runShardSimulation(shardSimOptions(p));
    console.log(JSON.stringify({ seed, shards: r.options.shards, k: r.options.k, ok: r.ok, ticks: r.ticks, anchors: r.anchors, transfers: r.transfers, attacks: r.attacks, equivocations: r.equivocations, relayBlocked: r.relayBlocked, latencyMaxTicks: r.latencyMaxTicks, refusals: r.refusals, failures: r.failures.slice(0, 5) }));
    if (!r.ok) {
      failed++;
      console.log(`reproduce: ${r.repro}`);
    }
  }
  return failed === 0 ? 0 : 1;
}

process.exit(main());
