/**
 * Scale-out cost (`bun run bench multishard`, issue 15's target): CPU per finalized
 * transfer in a 4-shard localnet with 10 % cross-shard transfers against a 1-shard
 * localnet at the same offered load per shard (scale-out: S shards carry S times the
 * transfers), measured in the same run, on real processes
 * (`P2pQuicListen` over QUIC, `--shard_rpc` relays, fsync off).
 *
 * Per configuration (first S = 1, the reference; then S = --shards):
 *  - S·4 validators from a difficulty-0 genesis (so a mint needs no search);
 *  - funding: one mint on shard 0, split to a wallet on every shard (the other shards'
 *    parts arrive as cross-shard imports), then split on each shard into coins;
 *  - steady load: one load generator per shard (bench/localnet-load.ts) at --rate tx/s to
 *    that shard's validators, pre-signed 1-in/2-out transfers; a `--cross` share of them pay
 *    a lock on the next shard (an export there, an import on the destination);
 *  - a transfer is final when its source shard applied it (WebSocket `anchors` topic of the
 *    shard's validator 0) and, if cross-shard, when the destination reports the import
 *    (`shard_importStatus`);
 *  - CPU (utime + stime, /proc) of every validator from the first submit until the last
 *    transfer is final (or the drain ends), divided by the final transfers.
 * Rows: `s<S>_cpu_us_per_tx`, `s<S>_finalized_tx_s`, `s<S>_import_latency_p50`/`p99` (submit
 * to imported), and `cpu_per_tx_ratio` = sharded / single (target ≤ 1.3).
 *
 * Usage: bun run bench/multishard.bench.ts [--shards 4] [--rate 100 (per shard)] [--seconds 20] [--cross 0.1]
 *        [--drain_s 40] [--root_interval 4] [--budget_s 170] [--keep_dir]
 * (or PHANTOM_BENCH_MULTISHARD_RATE / _SECONDS for `bun run bench multishard`.)
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { emit, percentile } from "./lib.ts";
// The same funding and transfer shapes as the single-shard localnet bench.
import { FANOUT_MAX, PAY, READY_WAIT_MS, SPLIT_FEE, SPLITS_PER_CALL, STOP_WAIT_MS, TRANSFER_FEE, epochMs, procStat, stopWithThisProcess, subscribeApplied, until as pollUntil } from "./localnet.bench.ts";
import { createGenesis } from "../src/genesis/create.ts";
import { parseGenesis } from "../src/genesis/genesis.ts";
import { shardRpcOf } from "../src/cli/commands/localnet.ts";
import { keyPairFromSeed, toHex, fromHex } from "../src/crypto/index.ts";
import { rpcCall } from "../src/rpc/client.ts";
import { buildMicroTx, payTo, sigLock, sigSolution } from "../src/wallet/tx-builder.ts";
import { digestMicroTx, encodeMicroTx, type MicroTx, type Outpoint } from "../src/types/tx.ts";
import { encodeAddress } from "../src/wallet/address.ts";
import { lockCommitment } from "../src/types/lock.ts";
import { shardOfLock } from "../src/ledger/shard.ts";
import { exportId } from "../src/ledger/export-tree.ts";
import { freePortBlocks } from "../test/ports.ts";

const ROOT = join(import.meta.dir, "..");
const SUITE = "multishard";
const K = 4;
const FUNDING_WAIT_MS = 90_000;

const until = <T>(what: string, limitMs: number, probe: () => Promise<T | null> | T | null) => pollUntil(what, limitMs, probe, "multishard.bench");

interface Options { shards: number; rate: number; seconds: number; cross: number; drainS: number; rootInterval: number; budgetS: number; keepDir: boolean }

export function parseMultishardArgs(argv: readonly string[], env: Record<string, string | undefined> = {}): Options {
  const o: Options = { shards: 4, rate: 100, seconds: 20, cross: 0.1, drainS: 40, rootInterval: 4, budgetS: 170, keepDir: false };
  const num = (name: string, raw: string | undefined, min: number, max: number): number => {
    const n = Number(raw);
    if (raw === undefined || !Number.isFinite(n) || n < min || n > max) throw new Error(`multishard.bench: ${name} must be ${min}..${max}, got ${raw ?? "nothing"}`);
    return n;
  };
  if (env.PHANTOM_BENCH_MULTISHARD_RATE !== undefined) o.rate = num("PHANTOM_BENCH_MULTISHARD_RATE", env.PHANTOM_BENCH_MULTISHARD_RATE, 1, 100_000);
  if (env.PHANTOM_BENCH_MULTISHARD_SECONDS !== undefined) o.seconds = num("PHANTOM_BENCH_MULTISHARD_SECONDS", env.PHANTOM_BENCH_MULTISHARD_SECONDS, 1, 3600);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--keep_dir") o.keepDir = true;
    else if (a === "--shards") o.shards = num(a, argv[++i], 2, 16);
    else if (a === "--rate") o.rate = num(a, argv[++i], 1, 100_000);
    else if (a === "--seconds") o.seconds = num(a, argv[++i], 1, 3600);
    else if (a === "--cross") o.cross = num(a, argv[++i], 0, 1);
    else if (a === "--drain_s") o.drainS = num(a, argv[++i], 1, 3600);
    else if (a === "--root_interval") o.rootInterval = num(a, argv[++i], 1, 1024);
    else if (a === "--budget_s") o.budgetS = num(a, argv[++i], 10, 36_000);
    else throw new Error(`multishard.bench: unknown option ${a}`);
  }
  return o;
}

/** Transfers of one shard: which pay another shard, the share spread evenly (the j-th crosses when ⌊(j+1)·share⌋ steps up). */
export function crossPlan(count: number, cross: number): boolean[] {
  const step = (j: number) => Math.floor(j * cross + 1e-9); // tolerate 0.1-style decimal shares
  return Array.from({ length: count }, (_, j) => step(j + 1) > step(j));
}

type KeyPair = ReturnType<typeof keyPairFromSeed>;

/** The first key (seeds filled with 1, 2, …, skipping `avoid`) whose sig lock is on `shard`. */
function keyOnShard(shard: number, shards: number, avoid: Set<number>): KeyPair {
  for (let b = 1; b < 256; b++) {
    if (avoid.has(b)) continue;
    const kp = keyPairFromSeed(new Uint8Array(32).fill(b));
    if (shardOfLock(lockCommitment(sigLock(kp.publicKey)), shards) === shard) {
      avoid.add(b);
      return kp;
    }
  }
  throw new Error(`multishard.bench: no seed byte gives a key on shard ${shard}`);
}

interface Net {
  shards: number;
  dir: string;
  procs: Subprocess<"ignore", number, number>[];
  /** RPC URL of validator i (genesis order: shard s holds validators s·K … s·K + K − 1). */
  rpc: (i: number) => string;
  /** Per shard: txid -> applied ms, from validator s·K's anchors topic. */
  applied: Map<string, number>[];
  sockets: WebSocket[];
}

async function startNet(shards: number, opts: Options): Promise<Net> {
  const dir = mkdtempSync(join(tmpdir(), `phantom-multishard-${shards}-`));
  const n = shards * K;
  const ports = await freePortBlocks(n);
  const created = createGenesis({ k: K, shards, devnetLabel: `multishard-${shards}`, basePort: ports.p2p, initialTargetBits: 8, maturityAnchors: 0n, shardRootInterval: BigInt(opts.rootInterval) });
  const toml = created.toml.replace("initial_target_bits = 8", "initial_target_bits = 0").replace("min_target_bits = 8", "min_target_bits = 0");
  writeFileSync(join(dir, "genesis.toml"), toml);
  const g = parseGenesis(toml);
  const procs = created.seeds.map((seed, i) => {
    const key = join(dir, `validator-${i}.key`);
    writeFileSync(key, toHex(seed) + "\n", { mode: 0o600 });
    const log = openSync(join(dir, `v${i}.log`), "w");
    const proc = Bun.spawn([
      process.execPath, join(ROOT, "src/cli/main.ts"), "P2pQuicListen", "--genesis", join(dir, "genesis.toml"), "--key_file", key,
      "--store_dir", join(dir, `node-${i}`), "--rpc_addr", `127.0.0.1:${ports.rpc + i}`, "--metrics_addr", `127.0.0.1:${ports.metrics + i}`,
      "--fsync", "false", "--tx_proposer_interval_ms", "1000", "--event_interval_ms", "200", "--rpc_rate_per_s", "0",
      ...(shards > 1 ? ["--shard_rpc", shardRpcOf(g, i, ports.rpc)] : []),
    ], { stdin: "ignore", stdout: log, stderr: log });
    closeSync(log);
    return proc;
  });
  stopWithThisProcess(procs.map((p) => p.pid), dir, opts.keepDir);
  const net: Net = { shards, dir, procs, rpc: (i) => `http://127.0.0.1:${ports.rpc + i}`, applied: Array.from({ length: shards }, () => new Map()), sockets: [] };
  await until("validators ready", READY_WAIT_MS, async () => {
    const s = await Promise.all(procs.map((_, i) => rpcCall<{ ready: boolean; peers: number }>(net.rpc(i), "phantom_status").catch(() => null)));
    return s.every((x) => x?.ready && x.peers === K - 1) ? true : null;
  });
  for (let s = 0; s < shards; s++) net.sockets.push(await subscribeApplied(net.rpc(s * K), net.applied[s]!, "multishard.bench"));
  return net;
}

async function stopNet(net: Net, keep: boolean): Promise<void> {
  for (const ws of net.sockets) ws.close();
  for (const p of net.procs) p.kill("SIGTERM");
  await Promise.race([Promise.all(net.procs.map((p) => p.exited)), Bun.sleep(STOP_WAIT_MS)]);
  for (const p of net.procs) if (p.exitCode === null) p.kill("SIGKILL");
  if (!keep) rmSync(net.dir, { recursive: true, force: true });
  else console.error(`multishard.bench: kept ${net.dir}`);
}

async function submit(rpc: string, txs: MicroTx[]): Promise<void> {
  for (let i = 0; i < txs.length; i += SPLITS_PER_CALL) {
    const res = await rpcCall<{ accepted: boolean; code?: string }[]>(rpc, "tx_submit", { txs: txs.slice(i, i + SPLITS_PER_CALL).map((t) => toHex(encodeMicroTx(t))) });
    const bad = res.find((r) => !r.accepted && r.code !== "TX_NOT_RELAYED");
    if (bad) throw new Error(`multishard.bench: funding tx refused: ${bad.code}`);
  }
}

type Coin = { outpoint: Outpoint; amount: bigint };

/** Splits `coins` (locked to `key`) level by level into `count` coins on `shard`. */
async function splitInto(net: Net, shard: number, key: KeyPair, coins: Coin[], count: number): Promise<Coin[]> {
  const lock = sigLock(key.publicKey);
  while (coins.length < count) {
    const fan = Math.min(FANOUT_MAX, Math.ceil(count / coins.length));
    const splits = coins.map((c) => {
      const each = (c.amount - SPLIT_FEE) / BigInt(fan);
      return buildMicroTx({ inputs: [{ outpoint: c.outpoint, lock, solution: sigSolution(key) }], outputs: Array.from({ length: fan }, () => payTo(lock, each)) });
    });
    await submit(net.rpc(shard * K), splits);
    const ids = splits.map((t) => toHex(digestMicroTx(t)));
    await until(`shard ${shard} funding splits applied`, FUNDING_WAIT_MS, () => (ids.every((id) => net.applied[shard]!.has(id)) ? true : null));
    coins = splits.flatMap((t, j) => t.outputs.map((o, index) => ({ outpoint: { txid: fromHex(ids[j]!), index }, amount: o.amount })));
  }
  return coins;
}

/** One mint on shard 0, split to every shard's wallet (cross-shard imports for the others), then into `perShard` coins each. */
async function fund(net: Net, wallets: KeyPair[], perShard: number): Promise<Coin[][]> {
  const rpc0 = net.rpc(0);
  const lock0 = sigLock(wallets[0]!.publicKey);
  const template = await rpcCall<{ header: string; rewardUnits: string }>(rpc0, "mint_getTemplate", { recipient: encodeAddress(lockCommitment(lock0)) });
  const { mintId } = await rpcCall<{ mintId: string }>(rpc0, "mint_submit", { header: template.header });
  await until("mint applied", FUNDING_WAIT_MS, async () => {
    const a = await rpcCall<{ utxos: { txid: string }[] }>(rpc0, "address_get", { address: encodeAddress(lockCommitment(lock0)) });
    return a.utxos.some((u) => u.txid === mintId) ? true : null;
  });
  const reward = BigInt(template.rewardUnits);
  const share = (reward - SPLIT_FEE) / BigInt(net.shards);
  const spread = buildMicroTx({
    inputs: [{ outpoint: { txid: fromHex(mintId), index: 0 }, lock: lock0, solution: sigSolution(wallets[0]!) }],
    outputs: wallets.map((w) => payTo(sigLock(w.publicKey), share)),
  });
  await submit(rpc0, [spread]);
  const spreadId = digestMicroTx(spread);
  await until("funding spread applied", FUNDING_WAIT_MS, () => (net.applied[0]!.has(toHex(spreadId)) ? true : null));
  // Shard s > 0 receives its part as the import of export (0, spreadId, s): UTXO (export id, 0).
  const first: Coin[] = wallets.map((_, s) => ({ outpoint: s === 0 ? { txid: spreadId, index: 0 } : { txid: exportId({ sourceShard: 0, txid: spreadId, outputIndex: s }), index: 0 }, amount: share }));
  await until("funding imports applied", FUNDING_WAIT_MS, async () => {
    for (let s = 1; s < net.shards; s++) {
      const a = await rpcCall<{ utxos: { txid: string }[] }>(net.rpc(s * K), "address_get", { address: encodeAddress(lockCommitment(sigLock(wallets[s]!.publicKey))) });
      if (!a.utxos.some((u) => u.txid === toHex(first[s]!.outpoint.txid))) return null;
    }
    return true;
  });
  return Promise.all(wallets.map((w, s) => splitInto(net, s, w, [first[s]!], perShard)));
}

interface Measure { shards: number; finalized: number; cpuS: number; wallS: number; spanS: number; importLatencies: number[]; crossSent: number; crossImported: number; submitted: number; loadavg: number }

async function measure(shards: number, opts: Options): Promise<Measure> {
  const net = await startNet(shards, opts);
  try {
    const since = () => `${(performance.now() / 1000).toFixed(0)} s`;
    const avoid = new Set<number>();
    const wallets = Array.from({ length: shards }, (_, s) => keyOnShard(s, shards, avoid));
    const payees = Array.from({ length: shards }, (_, s) => keyOnShard(s, shards, avoid));
    const perShard = Math.ceil(opts.rate * opts.seconds);
    console.error(`multishard.bench: S = ${shards}: ${net.procs.length} validators up at ${since()}; funding ${perShard} coins per shard`);
    const coins = await fund(net, wallets, perShard);
    // Pre-signed transfers; cross ones pay the next shard's payee.
    const plans = coins.map((c, s) => {
      const cross = shards > 1 ? crossPlan(perShard, opts.cross) : new Array<boolean>(perShard).fill(false);
      const lock = sigLock(wallets[s]!.publicKey);
      return c.slice(0, perShard).map((coin, j) => {
        const to = cross[j] ? (s + 1) % shards : s;
        const tx = buildMicroTx({ inputs: [{ outpoint: coin.outpoint, lock, solution: sigSolution(wallets[s]!) }], outputs: [payTo(sigLock(payees[to]!.publicKey), PAY), payTo(lock, coin.amount - PAY - TRANSFER_FEE)] });
        const txid = digestMicroTx(tx);
        return { tx, id: toHex(txid), cross: cross[j]!, dest: to, exportId: cross[j] ? toHex(exportId({ sourceShard: s, txid, outputIndex: 0 })) : "" };
      });
    });
    console.error(`multishard.bench: S = ${shards}: funded and signed at ${since()}; load ${opts.rate} tx/s per shard for ${opts.seconds} s`);
    const files = plans.map((p, s) => {
      const f = join(net.dir, `txs-${s}.hex`);
      writeFileSync(f, p.map((t) => toHex(encodeMicroTx(t.tx))).join("\n") + "\n");
      return f;
    });
    const cpu0 = net.procs.map((p) => procStat(p.pid).cpu);
    const wall0 = performance.now();
    const start = epochMs();
    const gens = files.map((file, s) => Bun.spawn([process.execPath, join(import.meta.dir, "localnet-load.ts"), "--file", file, "--rate", String(opts.rate), "--batch", "64",
      "--rpcs", Array.from({ length: K }, (_, v) => net.rpc(s * K + v)).join(",")], { stdin: "ignore", stdout: "pipe", stderr: "inherit" }));
    const outs = await Promise.all(gens.map((g) => new Response(g.stdout).text()));
    const sentAt = new Map<string, number>();
    outs.forEach((out, s) => {
      for (const line of out.split("\n")) {
        if (!line.startsWith("{")) continue;
        const b = JSON.parse(line) as { first?: number; count?: number; sentMs?: number; refused?: number[]; done?: boolean };
        if (b.done) continue;
        const refused = new Set(b.refused ?? []);
        for (let j = 0; j < b.count!; j++) if (!refused.has(j)) sentAt.set(plans[s]![b.first! + j]!.id, b.sentMs!);
      }
    });
    // Drain: every submitted transfer applied on its shard, and every cross one imported.
    const imported = new Map<string, number>();
    const all = plans.flatMap((p, s) => p.map((t) => ({ ...t, source: s }))).filter((t) => sentAt.has(t.id));
    const drainUntil = Math.min(performance.now() + opts.drainS * 1000, opts.budgetS * 1000 - 10_000);
    for (;;) {
      const waiting = all.filter((t) => t.cross && net.applied[t.source]!.has(t.id) && !imported.has(t.exportId));
      for (let d = 0; d < shards; d++) {
        const ids = waiting.filter((t) => t.dest === d).map((t) => t.exportId);
        for (let i = 0; i < ids.length; i += 256) {
          const res = await rpcCall<{ exportId: string; status: string }[]>(net.rpc(d * K), "shard_importStatus", { exportIds: ids.slice(i, i + 256) });
          const now = epochMs();
          for (const r of res) if (r.status === "imported") imported.set(r.exportId, now);
        }
      }
      const done = all.every((t) => net.applied[t.source]!.has(t.id) && (!t.cross || imported.has(t.exportId)));
      if (done || performance.now() > drainUntil) break;
      await Bun.sleep(250);
    }
    const cpuS = net.procs.reduce((a, p, i) => a + procStat(p.pid).cpu - cpu0[i]!, 0);
    const wallS = (performance.now() - wall0) / 1000;
    const final = all.filter((t) => net.applied[t.source]!.has(t.id) && (!t.cross || imported.has(t.exportId)));
    const lastMs = Math.max(start, ...final.map((t) => (t.cross ? imported.get(t.exportId)! : net.applied[t.source]!.get(t.id)!)));
    const crossAll = all.filter((t) => t.cross);
    return {
      shards, finalized: final.length, cpuS, wallS, spanS: (lastMs - start) / 1000, submitted: all.length,
      importLatencies: crossAll.filter((t) => imported.has(t.exportId)).map((t) => imported.get(t.exportId)! - sentAt.get(t.id)!),
      crossSent: crossAll.length, crossImported: crossAll.filter((t) => imported.has(t.exportId)).length, loadavg: +loadavg()[0]!.toFixed(2),
    };
  } finally {
    await stopNet(net, opts.keepDir);
  }
}

function rows(m: Measure, opts: Options): number {
  const p = `s${m.shards}`;
  const cpuUs = m.finalized > 0 ? (m.cpuS * 1e6) / m.finalized : Infinity;
  const params = { shards: m.shards, validators: m.shards * K, offered_tx_s: opts.rate * m.shards, offered_tx_s_per_shard: opts.rate, seconds: opts.seconds, submitted: m.submitted, finalized: m.finalized, cross_sent: m.crossSent, cross_imported: m.crossImported, cpu_s: +m.cpuS.toFixed(2), wall_s: +m.wallS.toFixed(2), load_avg_1m: m.loadavg };
  emit({ suite: SUITE, name: `${p}_cpu_us_per_tx`, value: Math.round(cpuUs), unit: "us", higher_is_better: false, params });
  emit({ suite: SUITE, name: `${p}_finalized_tx_s`, value: Math.round(m.finalized / Math.max(1e-3, m.spanS)), unit: "tx/s", higher_is_better: true, params: { span_s: +m.spanS.toFixed(2) } });
  if (m.importLatencies.length > 0) {
    emit({ suite: SUITE, name: `${p}_import_latency_p50`, value: Math.round(percentile(m.importLatencies, 50)), unit: "ms", higher_is_better: false, params: { samples: m.importLatencies.length, root_interval: opts.rootInterval } });
    emit({ suite: SUITE, name: `${p}_import_latency_p99`, value: Math.round(percentile(m.importLatencies, 99)), unit: "ms", higher_is_better: false, params: { samples: m.importLatencies.length } });
  }
  return cpuUs;
}

async function main(): Promise<void> {
  const opts = parseMultishardArgs(process.argv.slice(2), process.env);
  const single = rows(await measure(1, opts), opts);
  const sharded = rows(await measure(opts.shards, opts), opts);
  emit({ suite: SUITE, name: "cpu_per_tx_ratio", value: +(sharded / single).toFixed(3), unit: "ratio", higher_is_better: false, target: 1.3, params: { shards: opts.shards, cross_share: opts.cross, single_us: Math.round(single), sharded_us: Math.round(sharded) } });
}

if (import.meta.main) await main();
