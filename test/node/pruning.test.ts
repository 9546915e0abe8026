// Pruning on a running committee (real engines, SQLite stores, timers; in-memory
// transport): with --prune_keep_rounds at its minimum a validator deletes old events and
// payloads after its snapshots cover them, keeps agreeing with the others, restarts from
// its snapshot, refuses to start on a pruned store without one (SNAPSHOT_REQUIRED), and
// answers a sync request from below its pruned point with `history_pruned`.
import { afterAll, expect, test } from "bun:test";
import { toHex } from "../../src/crypto/bytes.ts";
import { pruneKeepRoundsMin, checkPruneKeepRounds } from "../../src/node/pruning.ts";
import { StorePruner } from "../../src/store/pruning.ts";
import { syncAnswer } from "../../src/node/sync.ts";
import { isPhantomError } from "../../src/errors.ts";
import { TestNet, applied, stopAll, until, type TestNode } from "./harness.ts";

const nets: TestNet[] = [];
afterAll(() => nets.forEach((n) => n.cleanup()));

type Line = Record<string, unknown>;

test("--prune_keep_rounds below the minimum is a typed error; 0 keeps everything", () => {
  expect(pruneKeepRoundsMin(64)).toBe(88);
  expect(() => checkPruneKeepRounds(0, 64)).not.toThrow();
  expect(() => checkPruneKeepRounds(88, 64)).not.toThrow();
  let code = "";
  try {
    checkPruneKeepRounds(87, 64);
  } catch (e) {
    code = isPhantomError(e) ? e.code : "untyped";
  }
  expect(code).toBe("CONFIG_PRUNE_KEEP_ROUNDS");
});

test("a pruning validator deletes old history, keeps agreeing, restarts from its snapshot and says when history is gone", async () => {
  const net = new TestNet({ k: 4, devnetLabel: "prune-test", initialTargetBits: 8, maturityAnchors: 8n });
  nets.push(net);
  const keep = pruneKeepRoundsMin(net.genesis.horizonRounds);
  const lines: Line[] = [];
  const log = (l: Line) => lines.push(l);
  const opts = (i: number) => (i === 3 ? { snapshotIntervalAnchors: 10, pruneKeepRounds: keep, log } : {});
  const nodes: TestNode[] = [0, 1, 2, 3].map((i) => net.node(i, undefined, opts(i)));
  for (const n of nodes) await n.node.start();
  try {
    // Run until node 3 has pruned twice.
    await until(() => lines.filter((l) => l.type === "store_pruned" && (l.events as number) > 0).length >= 2, 120_000);
    const pruned = new StorePruner(nodes[3]!.store);
    const through = pruned.prunedThrough();
    expect(through).toBeGreaterThan(0n);
    // Everything at or below the pruned position is gone except the settlement window's anchor events.
    const left = nodes[3]!.store.db.query(`SELECT COUNT(*) AS n FROM events WHERE seq_no <= ?`).get(through) as { n: bigint };
    expect(Number(left.n)).toBeLessThanOrEqual(Number(net.genesis.k * net.genesis.fees.dMax) + 17);
    expect(nodes[3]!.store.eventCount()).toBeLessThan(nodes[0]!.store.eventCount());
    // No payload is left without an event naming it (the empty payload aside).
    const orphanPayloads = nodes[3]!.store.db.query(`SELECT COUNT(*) AS n FROM payloads WHERE digest NOT IN (SELECT payload_digest FROM events)`).get() as { n: bigint };
    expect(Number(orphanPayloads.n)).toBeLessThanOrEqual(1);
    // The ledger and the anchor index are untouched.
    expect(nodes[3]!.store.anchorCount()).toBe(applied(nodes[3]!) + 1n);

    // A sync request from an empty store gets a typed answer first.
    const seqs = pruned.prunedSeqs(net.genesis.k);
    expect(seqs.some((s) => s >= 0)).toBe(true);
    const answer = syncAnswer(nodes[3]!.store, [-1, -1, -1, -1], () => new Uint8Array(64), nodes[3]!.node.pruning.prunedSeqs());
    expect(answer[0]).toEqual({ kind: "history_pruned", prunedSeqs: seqs });
    // ...and, like every sync answer, ends with sync_end (P2P.md).
    expect(answer[answer.length - 1]?.kind).toBe("sync_end");

    // Restart from the snapshot: it replays the tail and keeps agreeing.
    await stopAll([nodes[3]!]);
    nodes[3] = net.node(3, nodes[3]!.dir, opts(3));
    lines.length = 0;
    const before = applied(nodes[3]!);
    await nodes[3]!.node.start();
    expect(lines.find((l) => l.type === "store_replayed")?.fromSnapshot).toBe(true);
    await until(() => applied(nodes[3]!) >= before + 10n);
    const check = applied(nodes[3]!);
    await until(() => applied(nodes[0]!) >= check);
    expect(toHex(nodes[3]!.store.commitmentAt(check)!)).toBe(toHex(nodes[0]!.store.commitmentAt(check)!));

    // Without a usable snapshot a pruned store cannot be replayed: a typed refusal.
    await stopAll([nodes[3]!]);
    nodes[3] = net.node(3, nodes[3]!.dir, opts(3));
    nodes[3]!.store.db.run(`UPDATE snapshots SET checksum = zeroblob(32)`);
    let code = "";
    try {
      await nodes[3]!.node.start();
    } catch (e) {
      code = isPhantomError(e) ? e.code : String(e);
    }
    expect(code).toBe("SNAPSHOT_REQUIRED");
  } finally {
    await stopAll(nodes);
  }
}, 180_000);
