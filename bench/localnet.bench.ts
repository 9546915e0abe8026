/**
 * Localnet benchmark (`bun run bench localnet`): four validators as separate
 * `P2pQuicListen` processes over QUIC on loopback (fsync off, the `phantom localnet`
 * proposer interval), and an external load generator (bench/localnet-load.ts, a process
 * of its own) submitting pre-signed 1-in/2-out transfers through `tx_submit`, 256 per
 * call, round-robin to all four, at a steady offered rate for `--seconds` per rate.
 * Per rate it reports:
 *  - finalized tx/s on every validator: transfers of that step the validator applied,
 *    over the time from the first submit to the last one applied (`finalized_v<i>`),
 *    and the share applied within the submit window itself (params);
 *  - submit-to-final p50/p99: from the generator sending the batch to the anchor that
 *    applied it reaching the WebSocket `anchors` topic of the validator it was sent to;
 *  - CPU (% of one core, utime+stime from /proc/<pid>/stat) and peak RSS (VmRSS from
 *    /proc/<pid>/status, sampled every second) of every validator;
 *  - the verified-signature cache's hits and misses per transfer on every validator
 *    (pc_node_sig_cache_*): one miss per transfer is "each signature verified once";
 *  - P2P bytes each validator received per transfer, and as copies of the transfer's size;
 *  - each validator's event-loop delay over the step, p99 and max (prom-client's
 *    pc_nodejs_eventloop_lag_*, which resets at each scrape; the bench scrapes before and
 *    after each step): how long the loop went without a turn, e.g. during a synchronous
 *    signature batch;
 *  - CPU microseconds per finalized transfer over all validators, and the tx/s that
 *    projects to on all of this machine's cores (robust when the machine is shared);
 * and, measured in the same run with the validators idle, verifyBatch (native, default
 * threads) on the same transfers' signatures, as sig/s and CPU µs per signature: the
 * ceiling the node is compared with (4 checks per transfer, one per validator).
 * Defaults fit bench/run.ts's bound (3 rates x 20 s); the issue's runs use `--seconds 60`.
 *
 * Usage: bun run bench/localnet.bench.ts [--seconds 20] [--rates 400,800,1600] [--drain_s 15]
 *        [--proposer_ms 1000] [--event_ms 200] [--batch 256] [--keep_dir] [--cpu_prof DIR] [--node_root DIR]
 * (--node_root: run the validators from another checkout, for before/after runs;
 * --cpu_prof: validator 0 runs under `bun --cpu-prof --cpu-prof-md`; the profile is written at its exit)
 * (or PHANTOM_BENCH_LOCALNET_SECONDS / _RATES, for `bun run bench localnet`).
 */
import { mkdtempSync, rmSync, writeFileSync, readFileSync, openSync, closeSync } from "node:fs";
import { tmpdir, loadavg, availableParallelism } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { emit, percentile, median, type BenchResult } from "./lib.ts";
import { createGenesis } from "../src/genesis/create.ts";
import { keyPairFromSeed, verifyBatch, toHex, fromHex, type VerifyItem } from "../src/crypto/index.ts";
import { rpcCall } from "../src/rpc/client.ts";
import { buildMicroTx, payTo, sigLock, sigSolution } from "../src/wallet/tx-builder.ts";
import { digestMicroTx, encodeMicroTx, type MicroTx, type Outpoint } from "../src/types/tx.ts";
import { encodeAddress } from "../src/wallet/address.ts";
import { lockCommitment } from "../src/types/lock.ts";
import { freePortBlocks } from "../test/ports.ts";

const ROOT = join(import.meta.dir, "..");
const SUITE = "localnet";
const VALIDATORS = 4;
/** Outputs per funding split (TX_OUTPUTS_MAX is 256): two levels fund up to 62,500 transfers. */
export const FANOUT_MAX = 250;
/** Split txs per tx_submit call (each ~9 KB, so a call stays under the 1 MiB body limit). */
export const SPLITS_PER_CALL = 32;
export const SPLIT_FEE = 50_000n;
export const TRANSFER_FEE = 2_000n;
export const PAY = 1_000n;
export const READY_WAIT_MS = 60_000;
const FUNDING_WAIT_MS = 120_000;
const VERIFY_REFERENCE_ITEMS = 8_192;
const VERIFY_REFERENCE_BATCH = 1_024;
/** Seconds of the budget kept back per step for the reference run, the report and shutdown. */
const STEP_MARGIN_S = 8;
/** Validators get this long to stop on SIGTERM (they write a snapshot) before SIGKILL. */
export const STOP_WAIT_MS = 6_000;
const CLK_TCK = 100; // Linux USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s

export interface LocalnetOptions {
  seconds: number;
  rates: number[];
  drainS: number;
  proposerMs: number;
  eventMs: number;
  batch: number;
  keepDir: boolean;
  /** Run validator 0 under `bun --cpu-prof --cpu-prof-md` and leave its profile here. */
  cpuProfDir: string | null;
  /** Checkout whose src/cli/main.ts the validators run (before/after comparisons); default this one. */
  nodeRoot: string;
  /** Wall-clock budget of the whole run: drains are cut and later rates skipped to stay within it (bench/run.ts kills at 180 s). */
  budgetS: number;
}

/** Flags first, then the environment (bench/run.ts passes no arguments), then defaults. */
export function parseLocalnetArgs(argv: readonly string[], env: Record<string, string | undefined> = {}): LocalnetOptions {
  const opts: LocalnetOptions = { seconds: 20, rates: [400, 800, 1600], drainS: 15, proposerMs: 1000, eventMs: 200, batch: 256, keepDir: false, cpuProfDir: null, nodeRoot: ROOT, budgetS: 170 };
  const positive = (name: string, raw: string | undefined): number => {
    const n = Number(raw);
    if (raw === undefined || !Number.isFinite(n) || n <= 0) throw new Error(`localnet.bench: ${name} must be a positive number, got ${raw ?? "nothing"}`);
    return n;
  };
  const rates = (raw: string | undefined): number[] => {
    const list = (raw ?? "").split(",").map((r) => positive("--rates", r.trim()));
    if (list.length === 0) throw new Error("localnet.bench: --rates needs at least one rate");
    return list;
  };
  if (env.PHANTOM_BENCH_LOCALNET_SECONDS !== undefined) opts.seconds = positive("PHANTOM_BENCH_LOCALNET_SECONDS", env.PHANTOM_BENCH_LOCALNET_SECONDS);
  if (env.PHANTOM_BENCH_LOCALNET_RATES !== undefined) opts.rates = rates(env.PHANTOM_BENCH_LOCALNET_RATES);
  // A longer run than the default needs a larger budget (and `bun run bench --timeout-s`).
  if (env.PHANTOM_BENCH_LOCALNET_BUDGET_S !== undefined) opts.budgetS = positive("PHANTOM_BENCH_LOCALNET_BUDGET_S", env.PHANTOM_BENCH_LOCALNET_BUDGET_S);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--keep_dir") opts.keepDir = true;
    else if (a === "--cpu_prof") opts.cpuProfDir = argv[++i] ?? (() => { throw new Error("localnet.bench: --cpu_prof needs a folder"); })();
    else if (a === "--node_root") opts.nodeRoot = argv[++i] ?? (() => { throw new Error("localnet.bench: --node_root needs a folder"); })();
    else if (a === "--seconds") opts.seconds = positive(a, argv[++i]);
    else if (a === "--rates") opts.rates = rates(argv[++i]);
    else if (a === "--budget_s") opts.budgetS = positive(a, argv[++i]);
    else if (a === "--drain_s") opts.drainS = positive(a, argv[++i]);
    else if (a === "--proposer_ms") opts.proposerMs = positive(a, argv[++i]);
    else if (a === "--event_ms") opts.eventMs = positive(a, argv[++i]);
    else if (a === "--batch") opts.batch = Math.min(256, Math.floor(positive(a, argv[++i])));
    else throw new Error(`localnet.bench: unknown option ${a}`);
  }
  return opts;
}

/** CPU seconds (utime + stime) of a process, from /proc/<pid>/stat; null when it is gone. */
export function cpuSeconds(statText: string): number {
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const rest = statText.slice(statText.lastIndexOf(")") + 2).split(" ");
  return (Number(rest[11]) + Number(rest[12])) / CLK_TCK; // fields 14 and 15
}

/** VmRSS in bytes from /proc/<pid>/status text. */
export function rssBytes(statusText: string): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(statusText);
  return m ? Number(m[1]) * 1024 : 0;
}

/** A Prometheus gauge/counter value (summed over label sets) from /metrics text. */
export function metricValue(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== " " && rest[0] !== "{") continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/** What one rate step measured (epoch ms throughout). */
export interface StepMeasure {
  rate: number;
  seconds: number;
  /** txid -> [submit ms, index of the validator it was sent to]; accepted ones only. */
  submitted: Map<string, [number, number]>;
  refused: Record<string, number>;
  firstSubmitMs: number;
  lastSubmitMs: number;
  /** Per validator: txid -> applied ms. */
  applied: Map<string, number>[];
  cpuS: number[];
  wallS: number;
  rssPeak: number[];
  sigHits: number[];
  sigMisses: number[];
  /** P2P bytes each validator received during the step (pc_p2p_inbound_bytes_total). */
  p2pInBytes: number[];
  /** Mean encoded size of one transfer (bytes). */
  txBytes: number;
  /** Event-loop delay of each validator over the step, p99 and max (ms). */
  loopLagP99Ms?: number[];
  loopLagMaxMs?: number[];
  loadavg1m: number;
  lateBatches: number;
  drainS: number;
}

/** The JSON rows of one step (bench/lib.ts BenchResult), pure so tests can check them. */
export function stepRows(m: StepMeasure): BenchResult[] {
  const at = `at_${m.rate}`;
  const n = m.submitted.size;
  const notAcked = m.refused.TX_NOT_RELAYED ?? 0;
  const refused = Object.values(m.refused).reduce((a, b) => a + b, 0) - notAcked;
  // not_acknowledged: held by the node but no peer's receipt within tx_submit's wait (still counted).
  const common = { offered_tx_s: m.rate, seconds: m.seconds, submitted: n, not_acknowledged: notAcked, refused, load_avg_1m: m.loadavg1m, late_batches: m.lateBatches };
  const rows: BenchResult[] = [];
  m.applied.forEach((applied, v) => {
    let count = 0;
    let last = m.firstSubmitMs;
    let inWindow = 0;
    for (const id of m.submitted.keys()) {
      const t = applied.get(id);
      if (t === undefined) continue;
      count++;
      if (t > last) last = t;
      if (t <= m.lastSubmitMs) inWindow++;
    }
    const spanS = Math.max(1e-3, (last - m.firstSubmitMs) / 1000);
    const windowS = Math.max(1e-3, (m.lastSubmitMs - m.firstSubmitMs) / 1000);
    rows.push({ suite: SUITE, name: `${at}_finalized_v${v}`, value: Math.round(count / spanS), unit: "tx/s", higher_is_better: true,
      params: { ...common, applied: count, missing: n - count, span_s: +spanS.toFixed(2), in_window_tx_s: Math.round(inWindow / windowS) } });
  });
  const latencies: number[] = [];
  const latenciesAll: number[] = [];
  for (const [id, [sent, v]] of m.submitted) {
    const own = m.applied[v]?.get(id);
    if (own !== undefined) latencies.push(own - sent);
    for (const a of m.applied) {
      const t = a.get(id);
      if (t !== undefined) latenciesAll.push(t - sent);
    }
  }
  const lp = { ...common, samples: latencies.length, all_nodes_p50_ms: Math.round(percentile(latenciesAll, 50)), all_nodes_p99_ms: Math.round(percentile(latenciesAll, 99)), drain_s: m.drainS };
  // Nothing final within the drain: no latency to report (a row needs a finite value); finalized rows say 0.
  if (latencies.length > 0) {
    rows.push({ suite: SUITE, name: `${at}_latency_p50`, value: Math.round(percentile(latencies, 50)), unit: "ms", higher_is_better: false, params: lp });
    rows.push({ suite: SUITE, name: `${at}_latency_p99`, value: Math.round(percentile(latencies, 99)), unit: "ms", higher_is_better: false, params: lp });
  }
  // CPU per transfer over all validators: robust on a shared machine, where wall-clock rates
  // only show the share of the cores the validators got.
  const appliedAll = Math.max(...m.applied.map((a) => [...m.submitted.keys()].filter((id) => a.has(id)).length), 0);
  if (appliedAll > 0) {
    const cpuUs = (m.cpuS.reduce((a, b) => a + b, 0) * 1e6) / appliedAll;
    rows.push({ suite: SUITE, name: `${at}_cpu_us_per_tx`, value: Math.round(cpuUs), unit: "us", higher_is_better: false,
      params: { validators: m.cpuS.length, transfers: appliedAll, projected_tx_s_on_all_cores: Math.round((availableParallelism() * 1e6) / cpuUs) } });
  }
  for (let v = 0; v < m.cpuS.length; v++) {
    rows.push({ suite: SUITE, name: `${at}_cpu_v${v}`, value: Math.round((m.cpuS[v]! / m.wallS) * 100), unit: "%cpu", higher_is_better: false, params: { wall_s: +m.wallS.toFixed(2), cpus: availableParallelism() } });
    rows.push({ suite: SUITE, name: `${at}_rss_v${v}`, value: Math.round(m.rssPeak[v]! / 2 ** 20), unit: "MiB", higher_is_better: false });
    const per = (x: number) => (n > 0 ? +(x / n).toFixed(3) : 0);
    // Against the transfer's own size: how many copies of it (relays, event payloads) arrive.
    rows.push({ suite: SUITE, name: `${at}_p2p_in_bytes_per_tx_v${v}`, value: Math.round(n > 0 ? m.p2pInBytes[v]! / n : 0), unit: "bytes", higher_is_better: false,
      params: { tx_bytes: Math.round(m.txBytes), copies: n > 0 && m.txBytes > 0 ? +(m.p2pInBytes[v]! / n / m.txBytes).toFixed(2) : 0 } });
    rows.push({ suite: SUITE, name: `${at}_sig_misses_per_tx_v${v}`, value: per(m.sigMisses[v]!), unit: "ratio", higher_is_better: false,
      params: { sig_cache_hits: m.sigHits[v]!, sig_cache_misses: m.sigMisses[v]!, hits_per_tx: per(m.sigHits[v]!), transfers: n } });
    if (m.loopLagP99Ms && m.loopLagMaxMs) {
      rows.push({ suite: SUITE, name: `${at}_loop_lag_p99_ms_v${v}`, value: +m.loopLagP99Ms[v]!.toFixed(1), unit: "ms", higher_is_better: false, params: { max_ms: +m.loopLagMaxMs[v]!.toFixed(1) } });
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------- the run

interface Validator { proc: Subprocess<"ignore", number, number>; rpc: string; metrics: string; ws: WebSocket | null }

/** Polls `probe` every 100 ms until it gives a value; `who` names the bench in the error. */
export async function until<T>(what: string, limitMs: number, probe: () => Promise<T | null> | T | null, who = "localnet.bench"): Promise<T> {
  const deadline = performance.now() + limitMs;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (performance.now() > deadline) throw new Error(`${who}: ${what} not reached within ${limitMs} ms`);
    await Bun.sleep(100);
  }
}

export const epochMs = () => performance.timeOrigin + performance.now();

/** If this process is killed (bench/run.ts's timeout is SIGKILL), nothing else stops the validators: a shell does, then removes `dir` unless kept. */
export function stopWithThisProcess(pids: number[], dir: string, keepDir: boolean): void {
  const watchdog = Bun.spawn(["sh", "-c", `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill ${pids.join(" ")} 2>/dev/null${keepDir ? "" : `; sleep 5; rm -rf '${dir}'`}`], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  watchdog.unref();
}

/** Finality as a validator announces it: every applied transfer's txid (WebSocket `anchors` topic) into `applied`, with the time it arrived. */
export function subscribeApplied(rpc: string, applied: Map<string, number>, who: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(rpc.replace("http", "ws") + "/ws");
    ws.onopen = () => {
      ws.send(JSON.stringify({ subscribe: "anchors" }));
      resolve(ws);
    };
    ws.onerror = () => reject(new Error(`${who}: WebSocket to ${rpc} failed`));
    ws.onmessage = (msg) => {
      const now = epochMs();
      const body = JSON.parse(String(msg.data)) as { topic?: string; data?: { txids?: string[] } };
      if (body.topic === "anchors") for (const id of body.data?.txids ?? []) applied.set(id, now);
    };
  });
}

async function main(): Promise<void> {
  const opts = parseLocalnetArgs(process.argv.slice(2), process.env);
  const dir = mkdtempSync(join(tmpdir(), "phantom-localnet-bench-"));
  const ports = await freePortBlocks(VALIDATORS);
  const created = createGenesis({ k: VALIDATORS, devnetLabel: "localnet-bench", basePort: ports.p2p, initialTargetBits: 8, maturityAnchors: 0n });
  // Difficulty 0: every nonce is a valid mint, so funding needs no search.
  writeFileSync(join(dir, "genesis.toml"), created.toml.replace("initial_target_bits = 8", "initial_target_bits = 0").replace("min_target_bits = 8", "min_target_bits = 0"));
  const validators: Validator[] = created.seeds.map((seed, i) => {
    const key = join(dir, `validator-${i}.key`);
    writeFileSync(key, toHex(seed) + "\n", { mode: 0o600 });
    const log = openSync(join(dir, `v${i}.log`), "w");
    const prof = i === 0 && opts.cpuProfDir !== null ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${opts.cpuProfDir}`] : [];
    const proc = Bun.spawn([
      process.execPath, ...prof, join(opts.nodeRoot, "src/cli/main.ts"), "P2pQuicListen", "--genesis", join(dir, "genesis.toml"), "--key_file", key,
      "--store_dir", join(dir, `node-${i}`), "--rpc_addr", `127.0.0.1:${ports.rpc + i}`, "--metrics_addr", `127.0.0.1:${ports.metrics + i}`,
      "--fsync", "false", "--tx_proposer_interval_ms", String(opts.proposerMs), "--event_interval_ms", String(opts.eventMs), "--rpc_rate_per_s", "0",
    ], { stdin: "ignore", stdout: log, stderr: log });
    closeSync(log);
    return { proc, rpc: `http://127.0.0.1:${ports.rpc + i}`, metrics: `http://127.0.0.1:${ports.metrics + i}/metrics`, ws: null };
  });
  stopWithThisProcess(validators.map((v) => v.proc.pid), dir, opts.keepDir);
  const deadline = opts.budgetS * 1000; // performance.now() counts from this process's start
  const applied: Map<string, number>[] = validators.map(() => new Map());
  try {
    await until("validators ready", READY_WAIT_MS, async () => {
      const s = await Promise.all(validators.map((v) => rpcCall<{ ready: boolean; peers: number }>(v.rpc, "phantom_status").catch(() => null)));
      return s.every((x) => x?.ready && x.peers === VALIDATORS - 1) ? true : null;
    });
    // Finality as each validator announces it: every applied transfer's txid (anchors topic).
    await Promise.all(validators.map(async (v, i) => {
      v.ws = await subscribeApplied(v.rpc, applied[i]!, "localnet.bench");
    }));

    const total = opts.rates.reduce((a, r) => a + Math.ceil(r * opts.seconds), 0);
    const wallet = keyPairFromSeed(new Uint8Array(32).fill(41));
    const walletLock = sigLock(wallet.publicKey);
    const payee = payTo(sigLock(keyPairFromSeed(new Uint8Array(32).fill(42)).publicKey), PAY);
    const since = () => `${(performance.now() / 1000).toFixed(0)} s`;
    console.error(`localnet.bench: ${VALIDATORS} validators up in ${dir} at ${since()}; funding ${total} coins`);
    const coins = await fund(validators, applied[0]!, walletLock, wallet, total);

    // Pre-signed transfers, one file per rate step.
    const signStart = performance.now();
    const transfers = coins.slice(0, total).map((c) => buildMicroTx({
      inputs: [{ outpoint: c.outpoint, lock: walletLock, solution: sigSolution(wallet) }],
      outputs: [payee, payTo(walletLock, c.amount - PAY - TRANSFER_FEE)],
    }));
    const ids = transfers.map((t) => toHex(digestMicroTx(t)));
    console.error(`localnet.bench: funded at ${since()}; signed ${transfers.length} transfers in ${((performance.now() - signStart) / 1000).toFixed(1)} s`);

    const verifyRates: number[] = [];
    const items: VerifyItem[] = transfers.slice(0, VERIFY_REFERENCE_ITEMS).map((t, i) => ({ signature: (t.witnesses[0]!.witness as { signature: Uint8Array }).signature, message: fromHex(ids[i]!), publicKey: wallet.publicKey }));
    const verifyCpuUs: number[] = [];
    const verifyReference = () => {
      const t0 = performance.now();
      const c0 = process.cpuUsage(); // the whole process: the native verify threads included
      for (let i = 0; i < items.length; i += VERIFY_REFERENCE_BATCH) verifyBatch(items.slice(i, i + VERIFY_REFERENCE_BATCH));
      const c = process.cpuUsage(c0);
      verifyRates.push(items.length / ((performance.now() - t0) / 1000));
      verifyCpuUs.push((c.user + c.system) / items.length);
    };
    verifyReference();

    let offset = 0;
    const peaks: number[] = [];
    for (const rate of opts.rates) {
      const count = Math.ceil(rate * opts.seconds);
      const leftS = (deadline - performance.now()) / 1000;
      if (leftS < opts.seconds + STEP_MARGIN_S) {
        console.error(`localnet.bench: skipping rate ${rate}: ${leftS.toFixed(0)} s of the ${opts.budgetS} s budget left (raise --budget_s)`);
        offset += count;
        continue;
      }
      const file = join(dir, `txs-${rate}.hex`);
      writeFileSync(file, transfers.slice(offset, offset + count).map((t) => toHex(encodeMicroTx(t))).join("\n") + "\n");
      const m = await runStep(validators, applied, opts, rate, file, ids.slice(offset, offset + count), deadline);
      offset += count;
      const rows = stepRows(m);
      for (const r of rows) emit(r);
      peaks.push(Math.min(...rows.filter((r) => r.name.includes("_finalized_v")).map((r) => r.value)));
      verifyReference(); // between steps: the same window's reference
    }
    const verifyRate = median(verifyRates);
    const peak = Math.max(...peaks);
    const params = { validators: VALIDATORS, samples: verifyRates.length, items: items.length, batch: VERIFY_REFERENCE_BATCH, load_avg_1m: +loadavg()[0]!.toFixed(2) };
    emit({ suite: SUITE, name: "verify_batch_reference", value: Math.round(verifyRate), unit: "sig/s", higher_is_better: true, params });
    // The signature limit in CPU terms: one check per validator per transfer on all cores.
    const perSig = median(verifyCpuUs);
    emit({ suite: SUITE, name: "verify_batch_cpu_us_per_sig", value: +perSig.toFixed(2), unit: "us", higher_is_better: false,
      params: { ...params, ceiling_tx_s_on_all_cores: Math.round((availableParallelism() * 1e6) / (VALIDATORS * perSig)) } });
    emit({ suite: SUITE, name: "peak_finalized", value: peak, unit: "tx/s", higher_is_better: true, target: 5_000, params: { rates: opts.rates.join(","), seconds: opts.seconds } });
    // Every validator checks each signature once: VALIDATORS x verifies per transfer on this machine.
    emit({ suite: SUITE, name: "peak_vs_verify_ceiling", value: +(peak / (verifyRate / VALIDATORS)).toFixed(3), unit: "ratio", higher_is_better: true, params: { ceiling_tx_s: Math.round(verifyRate / VALIDATORS) } });
  } finally {
    for (const v of validators) v.ws?.close();
    for (const v of validators) v.proc.kill("SIGTERM");
    await Promise.race([Promise.all(validators.map((v) => v.proc.exited)), Bun.sleep(STOP_WAIT_MS)]);
    for (const v of validators) if (v.proc.exitCode === null) v.proc.kill("SIGKILL");
    if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
    else console.error(`localnet.bench: kept ${dir}`);
  }
}

/** Mints one coin, then splits it (FANOUT_MAX outputs per tx, level by level) into `count` coins. */
async function fund(validators: Validator[], applied0: Map<string, number>, walletLock: ReturnType<typeof sigLock>, wallet: ReturnType<typeof keyPairFromSeed>, count: number): Promise<{ outpoint: Outpoint; amount: bigint }[]> {
  const rpc = validators[0]!.rpc;
  const template = await rpcCall<{ header: string; rewardUnits: string }>(rpc, "mint_getTemplate", { recipient: encodeAddress(lockCommitment(walletLock)) });
  const { mintId } = await rpcCall<{ mintId: string; accepted: boolean }>(rpc, "mint_submit", { header: template.header });
  await until("mint applied", FUNDING_WAIT_MS, async () => {
    const a = await rpcCall<{ utxos: { txid: string }[] }>(rpc, "address_get", { address: encodeAddress(lockCommitment(walletLock)) });
    return a.utxos.some((u) => u.txid === mintId) ? true : null;
  });
  let coins = [{ outpoint: { txid: fromHex(mintId), index: 0 }, amount: BigInt(template.rewardUnits) }];
  while (coins.length < count) {
    const fan = Math.min(FANOUT_MAX, Math.ceil(count / coins.length));
    const splits: MicroTx[] = coins.map((c) => {
      const each = (c.amount - SPLIT_FEE) / BigInt(fan);
      return buildMicroTx({ inputs: [{ outpoint: c.outpoint, lock: walletLock, solution: sigSolution(wallet) }], outputs: Array.from({ length: fan }, () => payTo(walletLock, each)) });
    });
    for (let i = 0; i < splits.length; i += SPLITS_PER_CALL) {
      const res = await rpcCall<{ accepted: boolean; code?: string }[]>(rpc, "tx_submit", { txs: splits.slice(i, i + SPLITS_PER_CALL).map((t) => toHex(encodeMicroTx(t))) });
      const bad = res.find((r) => !r.accepted);
      if (bad) throw new Error(`localnet.bench: funding split refused: ${bad.code}`);
    }
    const splitIds = splits.map((t) => toHex(digestMicroTx(t)));
    await until("funding splits applied", FUNDING_WAIT_MS, () => (splitIds.every((id) => applied0.has(id)) ? true : null));
    coins = splits.flatMap((t, j) => t.outputs.map((o, index) => ({ outpoint: { txid: fromHex(splitIds[j]!), index }, amount: o.amount })));
  }
  return coins;
}

export function procStat(pid: number): { cpu: number; rss: number } {
  try {
    return { cpu: cpuSeconds(readFileSync(`/proc/${pid}/stat`, "latin1")), rss: rssBytes(readFileSync(`/proc/${pid}/status`, "latin1")) };
  } catch {
    return { cpu: 0, rss: 0 };
  }
}

/** [sig cache hits, misses, P2P bytes received, event-loop delay p99 and max (s, since the last scrape)] from a validator's /metrics. */
async function scrape(v: Validator): Promise<[number, number, number, number, number]> {
  const text = await (await fetch(v.metrics)).text();
  return [
    metricValue(text, "pc_node_sig_cache_hits"), metricValue(text, "pc_node_sig_cache_misses"), metricValue(text, "pc_p2p_inbound_bytes_total"),
    metricValue(text, "pc_nodejs_eventloop_lag_p99_seconds"), metricValue(text, "pc_nodejs_eventloop_lag_max_seconds"),
  ];
}

/** One rate: starts the generator, samples the validators, waits for the drain. */
async function runStep(validators: Validator[], applied: Map<string, number>[], opts: LocalnetOptions, rate: number, file: string, ids: string[], deadline: number): Promise<StepMeasure> {
  const cacheBefore = await Promise.all(validators.map(scrape));
  const cpuBefore = validators.map((v) => procStat(v.proc.pid).cpu);
  const rssPeak = validators.map((v) => procStat(v.proc.pid).rss);
  const wallStart = performance.now();
  const gen = Bun.spawn([process.execPath, join(import.meta.dir, "localnet-load.ts"), "--file", file, "--rate", String(rate), "--batch", String(opts.batch), "--rpcs", validators.map((v) => v.rpc).join(",")], { stdin: "ignore", stdout: "pipe", stderr: "inherit" });
  const sampler = setInterval(() => validators.forEach((v, i) => (rssPeak[i] = Math.max(rssPeak[i]!, procStat(v.proc.pid).rss))), 1000);
  const out = await new Response(gen.stdout).text();
  await gen.exited;
  const submitted = new Map<string, [number, number]>();
  const refused: Record<string, number> = {};
  let firstSubmitMs = Infinity;
  let lastSubmitMs = 0;
  let lateBatches = 0;
  for (const line of out.split("\n")) {
    if (!line.startsWith("{")) continue;
    const b = JSON.parse(line) as { first?: number; count?: number; sentMs?: number; rpc?: number; codes?: Record<string, number>; refused?: number[]; done?: boolean; lateBatches?: number };
    if (b.done) {
      lateBatches = b.lateBatches ?? 0;
      continue;
    }
    firstSubmitMs = Math.min(firstSubmitMs, b.sentMs!);
    lastSubmitMs = Math.max(lastSubmitMs, b.sentMs!);
    for (const [code, n] of Object.entries(b.codes ?? {})) refused[code] = (refused[code] ?? 0) + n;
    // TX_NOT_RELAYED means held but no receipt within the wait: it may still be final, so it counts as submitted.
    const out = new Set(b.refused ?? []);
    for (let j = 0; j < b.count!; j++) if (!out.has(j)) submitted.set(ids[b.first! + j]!, [b.sentMs!, b.rpc!]);
  }
  if (gen.exitCode !== 0) throw new Error(`localnet.bench: load generator exited with ${gen.exitCode}`);
  // Leave STEP_MARGIN_S of the budget for the reference, the report and stopping the validators.
  const drainUntil = Math.min(performance.now() + opts.drainS * 1000, deadline - STEP_MARGIN_S * 1000);
  while (performance.now() < drainUntil && !applied.every((a) => [...submitted.keys()].every((id) => a.has(id)))) await Bun.sleep(200);
  clearInterval(sampler);
  const wallS = (performance.now() - wallStart) / 1000;
  const cpuS = validators.map((v, i) => procStat(v.proc.pid).cpu - cpuBefore[i]!);
  const cacheAfter = await Promise.all(validators.map(scrape));
  return {
    rate, seconds: opts.seconds, submitted, refused, firstSubmitMs, lastSubmitMs, applied, cpuS, wallS, rssPeak,
    sigHits: cacheAfter.map((c, i) => c[0] - cacheBefore[i]![0]), sigMisses: cacheAfter.map((c, i) => c[1] - cacheBefore[i]![1]),
    p2pInBytes: cacheAfter.map((c, i) => c[2] - cacheBefore[i]![2]),
    loopLagP99Ms: cacheAfter.map((c) => c[3] * 1000), loopLagMaxMs: cacheAfter.map((c) => c[4] * 1000), txBytes: (readFileSync(file, "latin1").length - ids.length) / 2 / ids.length, // hex lines, one newline each
    loadavg1m: +loadavg()[0]!.toFixed(2), lateBatches, drainS: opts.drainS,
  };
}

if (import.meta.main) await main();
