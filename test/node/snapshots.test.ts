// Snapshots on a running committee (real engines, SQLite stores, timers; in-memory
// transport): a node writes snapshots every few anchors and at shutdown, restarts from the
// newest one replaying only the events stored after it, and keeps agreeing with the
// others; a damaged snapshot is passed over with a typed warning and a full replay.
import { afterAll, expect, test } from "bun:test";
import { toHex } from "../../src/crypto/bytes.ts";
import { SnapshotStore } from "../../src/store/snapshot-store.ts";
import { TestNet, applied, stopAll, until, type TestNode } from "./harness.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConsensusEngine } from "../../src/consensus/engine.ts";
import { SqliteStore } from "../../src/store/sqlite-store.ts";
import { NodeSnapshots } from "../../src/node/snapshots.ts";
import { makeCommittee, digest } from "../consensus/helpers.ts";

const nets: TestNet[] = [];
afterAll(() => nets.forEach((n) => n.cleanup()));

type Line = Record<string, unknown>;

test("restart from the newest snapshot replays only the tail; a damaged one falls back to a full replay", async () => {
  const net = new TestNet({ k: 4, devnetLabel: "snapshot-test", initialTargetBits: 8, maturityAnchors: 8n });
  nets.push(net);
  const lines: Line[] = [];
  const log = (l: Line) => lines.push(l);
  const nodes: TestNode[] = [0, 1, 2, 3].map((i) => net.node(i, undefined, { snapshotIntervalAnchors: 5, log: i === 3 ? log : undefined }));
  for (const n of nodes) await n.node.start();
  try {
    await until(() => nodes.every((n) => applied(n) >= 20n));
    // Periodic snapshots were written while running (at most SNAPSHOTS_KEPT kept).
    const running = new SnapshotStore(nodes[3]!.store).list();
    expect(running.length).toBeGreaterThan(0);
    expect(running.length).toBeLessThanOrEqual(2);
    expect(running.every((s) => s.intact && s.anchorCount >= 5n)).toBe(true);

    // Clean stop writes one more; the restart loads it and replays (almost) nothing.
    await stopAll([nodes[3]!]);
    const before = applied(nodes[3]!);
    nodes[3] = net.node(3, nodes[3]!.dir, { snapshotIntervalAnchors: 5, log });
    const totalEvents = nodes[3]!.store.eventCount();
    const newest = new SnapshotStore(nodes[3]!.store).list()[0]!;
    expect(newest.anchorCount).toBe(before + 1n);
    lines.length = 0;
    await nodes[3]!.node.start();
    const loaded = lines.find((l) => l.type === "snapshot_loaded");
    expect(loaded?.anchorCount).toBe(newest.anchorCount.toString());
    const replayed = lines.find((l) => l.type === "store_replayed")!;
    expect(replayed.fromSnapshot).toBe(true);
    expect(replayed.replayedEvents).toBe(0);
    expect(totalEvents).toBeGreaterThan(20);
    await until(() => applied(nodes[3]!) >= before + 10n);
    const check = applied(nodes[3]!);
    await until(() => applied(nodes[0]!) >= check);
    expect(toHex(nodes[3]!.store.commitmentAt(check)!)).toBe(toHex(nodes[0]!.store.commitmentAt(check)!));

    // Without the shutdown snapshot (as after a crash), the periodic one is loaded and
    // only the events stored after it are replayed.
    await stopAll([nodes[3]!]);
    nodes[3] = net.node(3, nodes[3]!.dir, { snapshotIntervalAnchors: 5, log });
    nodes[3]!.store.db.run(`DELETE FROM snapshots WHERE anchor_count = (SELECT MAX(anchor_count) FROM snapshots)`);
    const periodic = new SnapshotStore(nodes[3]!.store).list()[0]!;
    const tailEvents = nodes[3]!.store.eventCountAfter(periodic.eventSeqNo);
    const storedEvents = nodes[3]!.store.eventCount();
    lines.length = 0;
    const mid = applied(nodes[3]!);
    await nodes[3]!.node.start();
    const tail = lines.find((l) => l.type === "store_replayed")!;
    expect(tail.fromSnapshot).toBe(true);
    expect(tail.replayedEvents).toBe(tailEvents);
    expect(tailEvents).toBeGreaterThan(0);
    expect(tailEvents).toBeLessThan(storedEvents);
    await until(() => applied(nodes[3]!) >= mid + 5n);

    // Damage every snapshot row: the node warns with a typed code and replays everything.
    await stopAll([nodes[3]!]);
    nodes[3] = net.node(3, nodes[3]!.dir, { snapshotIntervalAnchors: 0, log });
    nodes[3]!.store.db.run(`UPDATE snapshots SET engine_state = zeroblob(16)`);
    lines.length = 0;
    const again = applied(nodes[3]!);
    const allEvents = nodes[3]!.store.eventCount();
    await nodes[3]!.node.start();
    const ignored = lines.filter((l) => l.type === "snapshot_ignored");
    expect(ignored.length).toBeGreaterThan(0);
    expect(ignored.every((l) => l.code === "SNAPSHOT_CHECKSUM")).toBe(true);
    const full = lines.find((l) => l.type === "store_replayed")!;
    expect(full.fromSnapshot).toBe(false);
    expect(full.replayedEvents).toBe(allEvents);
    await until(() => applied(nodes[3]!) >= again + 10n);
    const check2 = applied(nodes[3]!);
    await until(() => applied(nodes[0]!) >= check2);
    expect(toHex(nodes[3]!.store.commitmentAt(check2)!)).toBe(toHex(nodes[0]!.store.commitmentAt(check2)!));
  } finally {
    await stopAll(nodes);
  }
}, 180_000);

test("a snapshot whose reported stake table differs from the store's slash records is passed over (SNAPSHOT_STAKE_MISMATCH)", () => {
  const dir = mkdtempSync(join(tmpdir(), "phantom-snapshot-stake-"));
  const store = new SqliteStore({ storeDir: dir, fsync: false });
  try {
    const tc = makeCommittee(4, { stakeLagRounds: 4 });
    const genesisStakes = tc.config.committee.stakes;
    // An engine that decided a few rounds, reporting the genesis table, then `last` for the newest decided round.
    const engineReporting = (last: bigint[]): ConsensusEngine => {
      const engine = new ConsensusEngine(tc.config);
      let reported = -1;
      for (let i = 0; i < 40 && engine.stats().lastDecidedRound < 2; i++) {
        engine.createEvent(i % 4, tc.keys[i % 4]!.secretKey, digest(`stake mismatch ${i}`));
        engine.addEvents([]);
        const decided = engine.stats().lastDecidedRound;
        if (decided > reported) engine.recordStake(decided, genesisStakes);
        reported = Math.max(reported, decided);
      }
      expect(reported).toBeGreaterThanOrEqual(0);
      engine.recordStake(reported, last);
      return engine;
    };
    const lines: Line[] = [];
    const snapshots = new NodeSnapshots(store, tc.config, 0, (l) => lines.push(l));
    // The store has no slash record: a state whose reported table has validator 3 slashed does not fit it.
    const slashed = engineReporting([100n, 100n, 100n, 0n]);
    const finalized = slashed.stats().finalizedCount;
    snapshots.rows.write({ anchorCount: finalized, eventSeqNo: 0n, engineState: slashed.exportState() });
    expect(snapshots.load(finalized)).toBeNull();
    expect(lines.map((l) => l.code)).toEqual(["SNAPSHOT_STAKE_MISMATCH"]);
    // The same history with the genesis table reported loads.
    const fine = engineReporting([...genesisStakes]);
    expect(fine.stats().finalizedCount).toBe(finalized);
    snapshots.rows.write({ anchorCount: finalized, eventSeqNo: 0n, engineState: fine.exportState() });
    lines.length = 0;
    expect(snapshots.load(finalized)).not.toBeNull();
    expect(lines).toEqual([]);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
