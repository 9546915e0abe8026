/**
 * Ledger and store benchmark (issue 5 item 6).
 *
 *  - ledger_transfers_fsync_{false,true}: validate + apply + commit single-input,
 *    single-signature transfers, 1024 per anchor, one SQLite transaction per anchor;
 *  - verify_batch_reference_fsync_*: raw verifyBatch on the very same signatures,
 *    measured anchor by anchor interleaved with the ledger;
 *  - ledger_vs_verify_ratio_fsync_*: ledger rate over verifyBatch rate;
 *  - utxo_fill / utxo_lookup / utxo_disk: a store filled with --utxos outputs (real
 *    fan-out transactions), random point lookups, and bytes on disk;
 *  - settlement_*: fee settlement on (issue 12), k = 21, 1,024 transfers per anchor: the
 *    same anchors applied to a store with genesis economics and to one without,
 *    interleaved; the extra time is settlement's cost as a fraction of apply time.
 *
 * Usage: bun run bench/ledger.bench.ts [--transfers 50000] [--utxos 1000000] [--lookups 200000] [--lock_index 1|0] [--dir /tmp/x]
 *        bun run bench/ledger.bench.ts --case settlement [--settle_anchors 32]   (only the settlement case)
 * Full-size run (10,000,000 outputs, several minutes):
 *   bun run bench/ledger.bench.ts --utxos 10000000
 */
import { mkdtempSync, rmSync, statSync, existsSync } from "node:fs";
import { tmpdir, loadavg } from "node:os";
import { join } from "node:path";
import { emit, round1, type BenchResult } from "./lib.ts";
import { SqliteStore, STORE_FILE_NAME, CACHE_UTXOS_DEFAULT, WAL_AUTOCHECKPOINT_PAGES, PAGE_SIZE_BYTES } from "../src/store/sqlite-store.ts";
import { applyAnchorBytes, type LedgerParams } from "../src/ledger/apply.ts";
import type { WritableLedgerStore } from "../src/ledger/state.ts";
import type { EmissionParams } from "../src/genesis/genesis.ts";
import { keyPairFromSeed, sign, verifyBatch, defaultVerifyThreads, type Ed25519KeyPair } from "../src/crypto/index.ts";
import { type Lock, lockCommitment } from "../src/types/lock.ts";
import { type MicroTx, type Outpoint, type Output, digestMicroTx } from "../src/types/tx.ts";
import { encodeAnchorPayload, type AnchorPayload, type PayloadTx } from "../src/types/payload.ts";
import type { MintTx } from "../src/types/mint.ts";
import { ZERO_ID } from "../src/ledger/state.ts";
import { generateSignedDag } from "../src/consensus/headers-gen.ts";
import { DEFAULT_FEE_PARAMS } from "../src/consensus/fees.ts";
import { settleAnchor, settlementDelay, type EconomicsParams } from "../src/ledger/settlement.ts";
import type { SignedEvent } from "../src/types/event.ts";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const TRANSFERS = flag("transfers", 50_000);
const UTXOS = flag("utxos", 1_000_000);
const LOOKUPS = flag("lookups", 200_000);
/** 1: keep the wallet index on outputs(lock) (the node's default); 0: without it. */
const LOCK_INDEX = flag("lock_index", 1) === 1;
const WAL_PAGES = flag("wal_pages", WAL_AUTOCHECKPOINT_PAGES);
const PAGE_SIZE = flag("page_size", PAGE_SIZE_BYTES);
const TXS_PER_ANCHOR = 1024;
const FANOUT = 256;
const FEE = 1_000n;
const rootDir = (() => {
  const i = args.indexOf("--dir");
  return i >= 0 ? args[i + 1]! : mkdtempSync(join(tmpdir(), "phantom-ledger-bench-"));
})();

/** Target 0 bits: every nonce is a valid mint, so funding needs no search. */
const emission: EmissionParams = {
  initialRewardUnits: 5_000_000_000_000n, halvingIntervalMints: 1_000n, initialTargetBits: 0, retargetWindowMints: 1_000_000,
  targetAnchorsPerMint: 1n, retargetStepBitsMax: 1, minTargetBits: 0, maxTargetBits: 8, maturityAnchors: 0n,
};
const params: LedgerParams = { emission, committee: [], evidenceRules: { shardCount: 1, parentsMax: 4 } };
const seedKey = (n: number): Ed25519KeyPair => keyPairFromSeed(new Uint8Array(32).fill(n));
const alice = seedKey(1);
const bob = seedKey(2);
const aliceLock: Lock = { kind: "sig", publicKey: alice.publicKey };
const aliceCommit = lockCommitment(aliceLock);
const bobCommit = lockCommitment({ kind: "sig", publicKey: bob.publicKey });

function signedTx(inputs: Outpoint[], outputs: Output[], k: Ed25519KeyPair, lock: Lock): MicroTx {
  const txid = digestMicroTx({ inputs, outputs });
  const signature = sign(k.secretKey, txid);
  return { inputs, outputs, witnesses: inputs.map(() => ({ lock, witness: { kind: "sig" as const, signature } })) };
}

/**
 * Applies payload bytes (decoded, validated, applied and committed as the node does with
 * a finalized event's payload), one anchor = one SQLite transaction each; returns ms spent.
 */
function applyAll(store: WritableLedgerStore, payloads: Uint8Array[], withParams: LedgerParams = params, headers?: readonly SignedEvent[]): number {
  const start = performance.now();
  for (const p of payloads) {
    const last = store.lastApplied();
    const index = last ? last.anchorIndex + 1n : 0n;
    const diff = applyAnchorBytes(store, withParams, index, p, headers && windowAt(withParams.economics!, headers, index));
    for (const o of diff.outcomes) if (!o.applied) throw new Error(`bench tx void: ${o.code} ${o.message}`);
    store.commitAnchor(diff);
  }
  return performance.now() - start;
}

/** What src/node/chain.ts passes: the finalized event of anchor i and the k·D_max before it. */
function windowAt(eco: EconomicsParams, headers: readonly SignedEvent[], index: bigint) {
  const i = Number(index);
  const from = Math.max(0, i - Number(settlementDelay(eco)));
  return { event: headers[i]!, window: headers.slice(from, i + 1) };
}

const chunk = <T>(xs: T[], n: number): T[][] => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n));

/**
 * Funding stream giving at least `count` spendable alice outputs: mints (0-bit target),
 * each split into FANOUT outputs, each of those into FANOUT more. Returns the payloads
 * and the leaf outpoints with their amounts.
 */
function fundingStream(count: number): { payloads: Uint8Array[]; leaves: { op: Outpoint; amount: bigint }[] } {
  const perMint = FANOUT * FANOUT;
  const mints = Math.ceil(count / perMint);
  const payloads: AnchorPayload[] = [];
  const leaves: { op: Outpoint; amount: bigint }[] = [];
  let prev: Uint8Array = ZERO_ID;
  for (let m = 0; m < mints; m++) {
    const mint: MintTx = { prevMint: prev, height: BigInt(m), targetBits: 0, recipient: aliceCommit, nonce: 0n };
    const txs: PayloadTx[] = [{ kind: "mint", tx: mint }];
    const mintId = digestOfMint(mint);
    prev = mintId;
    const l1Amount = (emission.initialRewardUnits - FEE) / BigInt(FANOUT);
    const l1 = signedTx([{ txid: mintId, index: 0 }], Array.from({ length: FANOUT }, () => ({ amount: l1Amount, lockCommitment: aliceCommit })), alice, aliceLock);
    txs.push({ kind: "micro", tx: l1 });
    payloads.push({ txs });
    const l1id = digestMicroTx(l1);
    const l2Amount = (l1Amount - FEE) / BigInt(FANOUT);
    const need = Math.min(FANOUT, Math.ceil((count - leaves.length) / FANOUT));
    const l2: PayloadTx[] = [];
    for (let i = 0; i < need; i++) {
      const tx = signedTx([{ txid: l1id, index: i }], Array.from({ length: FANOUT }, () => ({ amount: l2Amount, lockCommitment: aliceCommit })), alice, aliceLock);
      const id = digestMicroTx(tx);
      for (let j = 0; j < FANOUT; j++) leaves.push({ op: { txid: id, index: j }, amount: l2Amount });
      l2.push({ kind: "micro", tx });
    }
    for (const c of chunk(l2, 64)) payloads.push({ txs: c });
  }
  return { payloads: payloads.map(encodeAnchorPayload), leaves };
}

import { mintId as digestOfMint } from "../src/types/mint.ts";

function openStore(name: string, fsync: boolean, cacheUtxosCap = CACHE_UTXOS_DEFAULT): SqliteStore {
  return new SqliteStore({ storeDir: join(rootDir, name), emission, fsync, lockIndex: LOCK_INDEX, cacheUtxosCap, walAutocheckpointPages: WAL_PAGES, pageSizeBytes: PAGE_SIZE });
}

/**
 * Per anchor: raw verifyBatch over the anchor's signatures (the reference), then the
 * ledger applying and committing the same anchor. Interleaving anchor by anchor gives
 * both the same machine conditions, which matters on a shared machine.
 */
function benchTransfers(results: BenchResult[]): void {
  const { payloads: funding, leaves } = fundingStream(TRANSFERS);
  const transfers = leaves.slice(0, TRANSFERS).map((l) => signedTx([l.op], [{ amount: l.amount - FEE, lockCommitment: bobCommit }], alice, aliceLock));
  const anchors = chunk(transfers, TXS_PER_ANCHOR).map((txs) => ({
    payload: encodeAnchorPayload({ txs: txs.map((tx): PayloadTx => ({ kind: "micro", tx })) }),
    items: txs.map((tx) => ({ signature: (tx.witnesses[0]!.witness as { signature: Uint8Array }).signature, message: digestMicroTx(tx), publicKey: alice.publicKey })),
  }));
  for (const fsync of [false, true]) {
    const store = openStore(`transfers-fsync-${fsync}`, fsync);
    applyAll(store, funding);
    let verifyMs = 0;
    let ledgerMs = 0;
    // CPU time of all threads (verify workers included): less sensitive to other load than wall time.
    let verifyCpuUs = 0;
    let ledgerCpuUs = 0;
    for (const a of anchors) {
      const v0 = performance.now();
      const c0 = process.cpuUsage();
      const ok = verifyBatch(a.items);
      const c1 = process.cpuUsage(c0);
      verifyMs += performance.now() - v0;
      verifyCpuUs += c1.user + c1.system;
      if (!ok.every(Boolean)) throw new Error("reference signatures must verify");
      const c2 = process.cpuUsage();
      ledgerMs += applyAll(store, [a.payload]);
      const c3 = process.cpuUsage(c2);
      ledgerCpuUs += c3.user + c3.system;
    }
    const rate = transfers.length / (ledgerMs / 1000);
    const verifyRate = transfers.length / (verifyMs / 1000);
    const common = { transfers: transfers.length, txs_per_anchor: TXS_PER_ANCHOR, anchors: anchors.length, fsync, verify_threads: defaultVerifyThreads, lock_index: LOCK_INDEX, utxo_cache: CACHE_UTXOS_DEFAULT, wal_pages: WAL_PAGES, page_size: PAGE_SIZE };
    results.push({ suite: "ledger", name: `verify_batch_reference_fsync_${fsync}`, value: verifyRate, unit: "ops/s", higher_is_better: true, params: common });
    results.push({ suite: "ledger", name: `ledger_transfers_fsync_${fsync}`, value: rate, unit: "ops/s", higher_is_better: true, target: 20_000, params: common });
    const cpu = { verify_cpu_us_per_tx: round1(verifyCpuUs / transfers.length), ledger_cpu_us_per_tx: round1(ledgerCpuUs / transfers.length), load_avg_1m: round1(loadavg()[0]!) };
    results.push({ suite: "ledger", name: `ledger_vs_verify_ratio_fsync_${fsync}`, value: rate / verifyRate, unit: "ratio", higher_is_better: true, target: 0.6, params: { ...common, ...cpu, ledger_ops_s: Math.round(rate), verify_ops_s: Math.round(verifyRate) } });
    store.close();
  }
}

function benchUtxoSet(results: BenchResult[]): void {
  // No UTXO cache here: the lookup figure is SQLite's own point-read rate.
  const store = openStore("utxo-set", false, 0);
  const { payloads, leaves } = fundingStream(UTXOS);
  const fillMs = applyAll(store, payloads);
  const count = Number(store.utxoCount());
  results.push({ suite: "ledger", name: "utxo_fill", value: count / (fillMs / 1000), unit: "outputs/s", higher_is_better: true, params: { utxos: count, anchors: payloads.length, fanout: FANOUT } });
  let found = 0;
  const start = performance.now();
  for (let i = 0; i < LOOKUPS; i++) {
    const l = leaves[Math.floor(Math.random() * leaves.length)]!;
    if (store.getUtxo(l.op.txid, l.op.index)) found++;
  }
  const lookupRate = LOOKUPS / ((performance.now() - start) / 1000);
  if (found !== LOOKUPS) throw new Error(`lookup found ${found} of ${LOOKUPS}`);
  results.push({ suite: "ledger", name: "utxo_lookup", value: lookupRate, unit: "ops/s", higher_is_better: true, params: { utxos: count, lookups: LOOKUPS } });
  store.db.run("PRAGMA wal_checkpoint(TRUNCATE)");
  const file = join(rootDir, "utxo-set", STORE_FILE_NAME);
  const bytes = statSync(file).size + (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0);
  results.push({ suite: "ledger", name: "utxo_disk", value: bytes, unit: "bytes", higher_is_better: false, params: { utxos: count, bytes_per_utxo: Math.round(bytes / count), full_size_target_utxos: 10_000_000, lock_index: LOCK_INDEX } });
  store.close();
}

/**
 * Settlement on (k = 21, D_max = 4: fees settle 84 anchors later). Warm-up: one fee-paying
 * transfer per anchor for k·D_max anchors (a settled anchor's cost does not depend on its
 * fee total), then --settle_anchors anchors of 1,024 transfers, each of which settles a
 * fee-paying anchor. Each measured anchor is applied to a store with economics and to one
 * without, alternating which goes first; CPU time of all threads.
 */
function benchSettlement(results: BenchResult[]): void {
  const k = 21;
  const measured = flag("settle_anchors", 32);
  const keys = Array.from({ length: k }, (_, i) => seedKey(100 + i));
  const eco: EconomicsParams = { genesisStakes: keys.map(() => 1_000n), fees: DEFAULT_FEE_PARAMS, payoutLocks: keys.map((x) => lockCommitment({ kind: "sig", publicKey: x.publicKey })) };
  const on: LedgerParams = { ...params, economics: eco };
  const delay = Number(settlementDelay(eco));
  const { payloads: funding, leaves } = fundingStream(delay + measured * TXS_PER_ANCHOR);
  const transfers = leaves.slice(0, delay + measured * TXS_PER_ANCHOR).map((l) => signedTx([l.op], [{ amount: l.amount - FEE, lockCommitment: bobCommit }], alice, aliceLock));
  const warm = transfers.slice(0, delay).map((tx) => encodeAnchorPayload({ txs: [{ kind: "micro", tx }] }));
  const hot = chunk(transfers.slice(delay), TXS_PER_ANCHOR).map((txs) => encodeAnchorPayload({ txs: txs.map((tx): PayloadTx => ({ kind: "micro", tx })) }));
  // Finalized headers: a valid signed DAG of k creators in topological order (as the total order is).
  const headers = generateSignedDag({ secretKeys: keys.map((x) => x.secretKey), eventCount: funding.length + warm.length + hot.length + 1, seed: new TextEncoder().encode("settlement-bench"), skipPercent: 30 });
  const storeOn = openStore("settlement-on", false);
  const storeOff = openStore("settlement-off", false);
  applyAll(storeOn, [...funding, ...warm], on, headers);
  applyAll(storeOff, [...funding, ...warm]);
  let onUs = 0;
  let offUs = 0;
  let onMs = 0;
  let settled = 0;
  hot.forEach((p, i) => {
    const run = (store: SqliteStore, economics: boolean): number => {
      const c = process.cpuUsage();
      const ms = economics ? applyAll(store, [p], on, headers) : applyAll(store, [p]);
      const used = process.cpuUsage(c);
      if (economics) onMs += ms;
      return used.user + used.system;
    };
    if (i % 2 === 0) {
      onUs += run(storeOn, true);
      offUs += run(storeOff, false);
    } else {
      offUs += run(storeOff, false);
      onUs += run(storeOn, true);
    }
    const last = storeOn.lastApplied()!.anchorIndex;
    if (storeOn.settlementOf(last - BigInt(delay))?.feesUnits) settled++;
  });
  // The settlement computation alone (ack distances, split, payout root), re-run on the same windows.
  const last = Number(storeOn.lastApplied()!.anchorIndex);
  const c0 = process.cpuUsage();
  for (let s = last - hot.length + 1; s <= last; s++) {
    const a = s - delay;
    settleAnchor(eco, { anchorIndex: BigInt(a), eventId: headers[a]!.id, creator: headers[a]!.header.creator, feesUnits: FEE }, BigInt(s), headers.slice(a, s + 1), storeOn.stakeTable());
  }
  const c1 = process.cpuUsage(c0);
  const computeUs = c1.user + c1.system;
  const common = { k, d_max: DEFAULT_FEE_PARAMS.dMax, txs_per_anchor: TXS_PER_ANCHOR, anchors: hot.length, settled_with_fees: settled, fsync: false };
  results.push({ suite: "ledger", name: "settlement_cost_fraction", value: Math.max(0, onUs - offUs) / onUs, unit: "ratio", higher_is_better: false, target: 0.05, params: {
    ...common, apply_on_cpu_us_per_anchor: Math.round(onUs / hot.length), apply_off_cpu_us_per_anchor: Math.round(offUs / hot.length),
    settle_compute_cpu_us_per_anchor: Math.round(computeUs / hot.length), settle_compute_fraction: round1((1000 * computeUs) / onUs) / 1000, load_avg_1m: round1(loadavg()[0]!),
  } });
  results.push({ suite: "ledger", name: "ledger_transfers_settlement_on", value: (hot.length * TXS_PER_ANCHOR) / (onMs / 1000), unit: "ops/s", higher_is_better: true, target: 20_000, params: common });
  storeOn.close();
  storeOff.close();
}

const results: BenchResult[] = [];
try {
  if (args.includes("--case") && args[args.indexOf("--case") + 1] === "settlement") {
    benchSettlement(results);
  } else {
    benchTransfers(results);
    benchUtxoSet(results);
    benchSettlement(results);
  }
} finally {
  for (const r of results) emit(r);
  if (!args.includes("--dir")) rmSync(rootDir, { recursive: true, force: true });
}
