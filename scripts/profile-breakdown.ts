/**
 * Splits a validator's CPU profile (`bun --cpu-prof`, e.g. from
 * `bun run bench/localnet.bench.ts --cpu_prof DIR`) into the stages of the transfer
 * pipeline, for docs/PERFORMANCE.md. Each sample goes to one stage: signature checks
 * and the LtHash accumulator first (anywhere on the stack), then the innermost project frame's file decides (see
 * STAGES). Shares are of samples (the sampler records only while JS or native code it
 * called runs), so they are shares of the process's busy time. With `--cpu_s` (CPU
 * seconds the process used, e.g. from the bench's `cpu` row) and `--transfers`, prints
 * microseconds of CPU per transfer for each stage too.
 *
 * Usage: bun scripts/profile-breakdown.ts <file.cpuprofile> [--cpu_s 4.3 --transfers 12000]
 */
import { readFileSync } from "node:fs";

interface CallFrame { functionName: string; url: string }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[] }

/** A stage and how to recognise it from a frame (innermost matching frame wins, after `verify`). */
export const STAGES: { stage: string; match: (f: CallFrame) => boolean }[] = [
  { stage: "QUIC and P2P (packets, crypto, framing)", match: (f) => /\/src\/net\//.test(f.url) },
  { stage: "SQLite (store reads and writes)", match: (f) => /\/src\/store\//.test(f.url) },
  { stage: "decode/encode (txs, payloads, events)", match: (f) => /\/src\/(codec|types)\//.test(f.url) },
  { stage: "hashing (BLAKE3: txids, cache keys, digests)", match: (f) => /\/src\/crypto\/hash\.ts/.test(f.url) },
  { stage: "proposing (payload selection)", match: (f) => /\/src\/mempool\/(proposer|groups)\.ts/.test(f.url) },
  { stage: "mempool admission", match: (f) => /\/src\/mempool\//.test(f.url) },
  { stage: "event creation and signing", match: (f) => f.functionName === "createEvent" || f.functionName === "createOwnEvent" || /\/src\/crypto\/ed25519\.ts/.test(f.url) },
  { stage: "consensus (ordering)", match: (f) => /\/src\/consensus\//.test(f.url) },
  { stage: "ledger apply", match: (f) => /\/src\/ledger\/|\/src\/node\/chain\.ts/.test(f.url) },
  { stage: "RPC (HTTP, JSON, tx_submit)", match: (f) => /\/src\/rpc\/|\/src\/node\/rpc-methods\.ts/.test(f.url) },
  { stage: "metrics (prom-client)", match: (f) => /prom-client|\/src\/metrics\//.test(f.url) },
  { stage: "node glue (timers, relaying, bookkeeping)", match: (f) => /\/src\//.test(f.url) },
];
const VERIFY_TX = "signature verify: transfers (verifyBatch)";
const VERIFY_EVENT = "signature verify: events (consensus)";
const OTHER = "runtime (GC, module code, other)";
/** Hashing done for the UTXO set accumulator counts as its own stage wherever it is called from. */
const LTHASH = "UTXO set accumulator (LtHash, in ledger apply)";

export function breakdown(profile: Profile): Map<string, number> {
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const memo = new Map<number, string>();
  const classify = (leaf: number): string => {
    const stack: CallFrame[] = [];
    for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) stack.push(byId.get(id)!.callFrame);
    const verifyAt = stack.findIndex((f) => f.functionName === "verifyBatch" || f.functionName === "verify" && /ed25519\.ts/.test(f.url) || f.functionName.startsWith("ph_ed25519_verify"));
    if (verifyAt >= 0) return stack.slice(verifyAt).some((f) => /\/src\/consensus\//.test(f.url)) ? VERIFY_EVENT : VERIFY_TX;
    if (stack.some((f) => /\/src\/ledger\/lthash\.ts/.test(f.url))) return LTHASH;
    for (const f of stack) {
      if (f.url === "") continue; // native frames count for the project frame that called them
      const s = STAGES.find((x) => x.match(f));
      if (s) return s.stage;
    }
    return OTHER;
  };
  const counts = new Map<string, number>();
  for (const id of profile.samples) {
    let stage = memo.get(id);
    if (stage === undefined) memo.set(id, (stage = classify(id)));
    counts.set(stage, (counts.get(stage) ?? 0) + 1);
  }
  return counts;
}

function main(): void {
  const args = process.argv.slice(2);
  const file = args[0];
  if (!file) {
    console.error("usage: bun scripts/profile-breakdown.ts <file.cpuprofile> [--cpu_s S --transfers N]");
    process.exit(2);
  }
  const flag = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : NaN;
  };
  const cpuS = flag("cpu_s");
  const transfers = flag("transfers");
  const counts = breakdown(JSON.parse(readFileSync(file, "utf8")) as Profile);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  console.log(`| stage | share of busy samples | µs CPU per transfer |\n|---|---:|---:|`);
  for (const [stage, n] of [...counts].sort((a, b) => b[1] - a[1])) {
    const us = Number.isFinite(cpuS) && transfers > 0 ? ((n / total) * cpuS * 1e6) / transfers : NaN;
    console.log(`| ${stage} | ${((100 * n) / total).toFixed(1)} % | ${Number.isNaN(us) ? "-" : us.toFixed(1)} |`);
  }
  console.log(`\n${total} samples`);
}

if (import.meta.main) main();
