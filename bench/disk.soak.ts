/**
 * Disk growth of an idle network with and without pruning, in the same run.
 *
 * Four validators in one process (real engines, SQLite stores with fsync off, the
 * in-memory transport, the default 200 ms event interval, no transactions: an idle
 * network's heartbeat events only, one per validator per `--idle-heartbeat-ms`,
 * SPEC_CONSENSUS §15). Validator 3 prunes (`--prune_keep_rounds` at its
 * minimum, snapshots every `--snapshot-interval` anchors); validator 0 keeps everything.
 * After a warm-up long enough for pruning to reach its steady window, the bench samples
 * both stores' file sizes (database plus WAL, after a checkpoint that empties the WAL)
 * and reports growth per day, extrapolated linearly from the measured span, plus the
 * pruned store's bytes per table (dbstat) at the end: what still grows is the per-anchor
 * ledger history (anchors, anchor_events, settlements), which pruning keeps.
 *
 * Not a *.bench.ts: it needs minutes of wall time to reach pruning's steady window, more
 * than `bun run bench` gives one file, so it runs by hand (once: it is a soak).
 *
 * With the default heartbeat (600 s) a short run sees a handful of events; a shorter
 * `--idle-heartbeat-ms` measures the bytes per event, and `projected_default_mb_per_day`
 * scales them to the default heartbeat (growth is linear in events).
 *
 * Usage: bun run bench/disk.soak.ts [--seconds 600] [--warmup-seconds 240] [--snapshot-interval 100] [--idle-heartbeat-ms 600000]
 */
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir, loadavg } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { emit } from "./lib.ts";
import { createGenesis } from "../src/genesis/create.ts";
import { parseGenesis } from "../src/genesis/genesis.ts";
import { keyPairFromSeed } from "../src/crypto/ed25519.ts";
import { SqliteStore } from "../src/store/sqlite-store.ts";
import { IDLE_HEARTBEAT_MS_DEFAULT, PhantomNode } from "../src/node/node.ts";
import { MemoryNetwork } from "../src/node/transport.ts";
import { pruneKeepRoundsMin } from "../src/node/pruning.ts";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const SECONDS = flag("seconds", 600);
const WARMUP_SECONDS = flag("warmup-seconds", 240);
const SNAPSHOT_INTERVAL = flag("snapshot-interval", 100);
const IDLE_HEARTBEAT_MS = flag("idle-heartbeat-ms", IDLE_HEARTBEAT_MS_DEFAULT);
const PRUNED = 3;
const KEPT = 0;

const created = createGenesis({ k: 4, devnetLabel: "disk-bench", initialTargetBits: 8 });
const genesis = parseGenesis(created.toml);
const net = new MemoryNetwork();
const keep = pruneKeepRoundsMin(genesis.horizonRounds);
const dirs: string[] = [];
const prunedLines: Record<string, unknown>[] = [];

const nodes = [0, 1, 2, 3].map((i) => {
  const dir = mkdtempSync(join(tmpdir(), `phantom-disk-bench-${i}-`));
  dirs.push(dir);
  const store = new SqliteStore({ storeDir: dir, emission: genesis.emission, fsync: false, genesisCommitment: genesis.commitment });
  const keyPair = keyPairFromSeed(created.seeds[i]!);
  const node = new PhantomNode({
    genesis, identity: { index: i, keyPair }, store, transport: net.transport(genesis.validators[i]!.address, keyPair.publicKey),
    registry: new Registry(), eventIntervalMs: 200, txProposer: true, txProposerIntervalMs: 5_000, txsPerPayload: 1024, payloadBudgetBytes: 1 << 20,
    now: () => performance.now(), log: i === PRUNED ? (l) => { if (l.type === "store_pruned") prunedLines.push(l); } : () => {},
    snapshotIntervalAnchors: SNAPSHOT_INTERVAL, pruneKeepRounds: i === PRUNED ? keep : 0, idleHeartbeatMs: IDLE_HEARTBEAT_MS,
  });
  return { node, store, dir };
});

/**
 * Bytes of the database file after a checkpoint that empties the WAL (the WAL alone swings
 * by up to its 4 MiB auto-checkpoint size and would drown a short run's growth).
 */
function usedBytes(i: number): number {
  const { store, dir } = nodes[i]!;
  store.db.run("PRAGMA wal_checkpoint(TRUNCATE)");
  const wal = join(dir, "phantom.sqlite-wal");
  return statSync(join(dir, "phantom.sqlite")).size + (existsSync(wal) ? statSync(wal).size : 0);
}
const anchors = (i: number): number => Number(nodes[i]!.store.anchorCount());

try {
  for (const n of nodes) await n.node.start();
  await Bun.sleep(WARMUP_SECONDS * 1000);
  const t0 = performance.now();
  const start = [usedBytes(PRUNED), usedBytes(KEPT)];
  const a0 = anchors(PRUNED);
  const events0 = nodes[PRUNED]!.store.eventCount();
  const keptEvents0 = nodes[KEPT]!.store.eventCount();
  await Bun.sleep((SECONDS - WARMUP_SECONDS) * 1000);
  const spanS = (performance.now() - t0) / 1000;
  const end = [usedBytes(PRUNED), usedBytes(KEPT)];
  const a1 = anchors(PRUNED);
  const perDay = (delta: number) => Math.round((delta / spanS) * 86_400);
  const keptEvents = nodes[KEPT]!.store.eventCount() - keptEvents0;
  const bytesPerEvent = keptEvents > 0 ? (end[1]! - start[1]!) / keptEvents : null;
  // Idle, every validator creates one event per heartbeat: k events per heartbeat network-wide.
  const defaultEventsPerDay = (nodes.length * 86_400_000) / IDLE_HEARTBEAT_MS_DEFAULT;
  const tables = Object.fromEntries(
    (nodes[PRUNED]!.store.db.query(`SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC LIMIT 8`).all() as { name: string; bytes: number | bigint }[])
      .map((r) => [`table_${r.name}`, Number(r.bytes)]),
  );
  const params = {
    measured_s: Math.round(spanS), warmup_s: WARMUP_SECONDS, anchors_per_hour: Math.round(((a1 - a0) / spanS) * 3600), keep_rounds: keep,
    snapshot_interval_anchors: SNAPSHOT_INTERVAL, prune_passes: prunedLines.length, events_pruned: prunedLines.reduce((s, l) => s + Number(l.events), 0),
    idle_heartbeat_ms: IDLE_HEARTBEAT_MS, events_per_day: Math.round((keptEvents / spanS) * 86_400), bytes_per_event_unpruned: bytesPerEvent === null ? -1 : Math.round(bytesPerEvent),
    events_stored_start: events0, events_stored_end: nodes[PRUNED]!.store.eventCount(), loadavg_1m: Number(loadavg()[0]!.toFixed(2)),
  };
  emit({ suite: "storage", name: "disk_growth_pruned_mb_per_day", value: Number((perDay(end[0]! - start[0]!) / 1e6).toFixed(1)), unit: "MB/day", higher_is_better: false, target: 100, params: { ...params, bytes_start: start[0]!, bytes_end: end[0]!, ...tables } });
  emit({ suite: "storage", name: "disk_growth_unpruned_mb_per_day", value: Number((perDay(end[1]! - start[1]!) / 1e6).toFixed(3)), unit: "MB/day", higher_is_better: false, params: { ...params, bytes_start: start[1]!, bytes_end: end[1]! } });
  if (bytesPerEvent !== null) {
    emit({ suite: "storage", name: "idle_projected_default_mb_per_day", value: Number(((bytesPerEvent * defaultEventsPerDay) / 1e6).toFixed(3)), unit: "MB/day", higher_is_better: false, target: 1, params: { ...params, default_idle_heartbeat_ms: IDLE_HEARTBEAT_MS_DEFAULT, default_events_per_day: defaultEventsPerDay } });
  }
} finally {
  for (const n of nodes) {
    await n.node.stop();
    n.store.close();
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
