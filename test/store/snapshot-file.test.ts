// Snapshot files on real stores of a running committee (in-process validators, real
// SQLite): a file made from a stopped validator's store restores into a new store that
// the validator restarts from and keeps agreeing with the others; truncated, damaged,
// wrong-version, wrong-genesis and wrong-commitment files are refused with typed errors
// and leave nothing behind.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toHex } from "../../src/crypto/bytes.ts";
import { isPhantomError } from "../../src/errors.ts";
import { engineConfigFromGenesis } from "../../src/node/snapshots.ts";
import { createSnapshotFile, decodeSnapshotFile, encodeSnapshotFile, restoreSnapshotFile, SNAPSHOT_FILE_VERSION } from "../../src/store/snapshot-file.ts";
import { accountFromSeed } from "../../src/wallet/keys.ts";
import { TestNet, applied, minedHeader, stopAll, until, type TestNode } from "../node/harness.ts";

const nets: TestNet[] = [];
const dirs: string[] = [];
afterAll(() => {
  nets.forEach((n) => n.cleanup());
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

function codeOf(f: () => unknown): string {
  try {
    f();
    return "none";
  } catch (e) {
    return isPhantomError(e) ? e.code : String(e);
  }
}

test("create, restore and restart from a snapshot file; bad files are refused", async () => {
  const net = new TestNet({ k: 4, devnetLabel: "snapshot-file-test", initialTargetBits: 8, maturityAnchors: 8n });
  nets.push(net);
  const g = net.genesis;
  const nodes: TestNode[] = [0, 1, 2, 3].map((i) => net.node(i));
  for (const n of nodes) await n.node.start();
  try {
    await until(() => nodes.every((n) => applied(n) >= 5n));
    // A mined coin, so the file carries a UTXO set.
    const wallet = accountFromSeed(new Uint8Array(32).fill(7));
    nodes[0]!.node.submitMint(await minedHeader(nodes[0]!.store, g, wallet.lockCommitment));
    await until(() => nodes.every((n) => n.store.mintTip().nextHeight === 1n && applied(n) >= 15n));
    await stopAll([nodes[3]!]);
    const reopened = net.node(3, nodes[3]!.dir);
    const opts = { genesisCommitment: g.commitment, engineConfig: engineConfigFromGenesis(g), keepAnchors: 40n };
    const file = createSnapshotFile(reopened.store, opts);
    const lastAnchor = reopened.store.lastApplied()!.anchorIndex;
    const stateRoot = toHex(reopened.store.lastApplied()!.commitment);
    reopened.store.close();
    const bytes = encodeSnapshotFile(file);
    expect(decodeSnapshotFile(bytes).events.length).toBe(file.events.length);

    const root = mkdtempSync(join(tmpdir(), "phantom-snapfile-"));
    dirs.push(root);
    const restoreOpts = { genesisCommitment: g.commitment, engineConfig: engineConfigFromGenesis(g), emission: g.emission };
    // Bad files first: each is refused, and no store is left behind.
    const bad = (b: Uint8Array, dir: string) => codeOf(() => restoreSnapshotFile(decodeSnapshotFile(b), join(root, dir), restoreOpts));
    expect(bad(bytes.slice(0, bytes.length - 100), "t1")).toBe("SNAPSHOT_FILE_TRUNCATED");
    expect(bad(bytes.slice(0, 5), "t2")).toBe("SNAPSHOT_FILE_TRUNCATED");
    const v = bytes.slice();
    v[7] = SNAPSHOT_FILE_VERSION + 1;
    expect(bad(v, "t3")).toBe("SNAPSHOT_FILE_VERSION");
    const flipped = bytes.slice();
    flipped[200] = flipped[200]! ^ 1;
    expect(bad(flipped, "t4")).toBe("SNAPSHOT_FILE_TRUNCATED");
    // A well-formed file whose UTXO amounts were changed: the commitment does not recompute.
    const tampered = decodeSnapshotFile(bytes);
    const outputs = tampered.tables.find((t) => t.name === "outputs")!;
    expect(outputs.rows.length).toBeGreaterThan(0);
    outputs.rows[0]![outputs.columns.indexOf("amount")] = 1n;
    expect(bad(encodeSnapshotFile(tampered), "t5")).toBe("SNAPSHOT_FILE_COMMITMENT");
    const restaked = decodeSnapshotFile(bytes);
    const stakes = restaked.tables.find((t) => t.name === "stakes")!;
    stakes.rows[0]![stakes.columns.indexOf("stake")] = 1n;
    expect(bad(encodeSnapshotFile(restaked), "t5b")).toBe("SNAPSHOT_FILE_COMMITMENT");
    // An anchor commitment replaced: the chain no longer folds to the header's hash.
    const rechained = decodeSnapshotFile(bytes);
    const anchors = rechained.tables.find((t) => t.name === "anchors")!;
    anchors.rows[1]![anchors.columns.indexOf("commitment")] = new Uint8Array(32);
    expect(bad(encodeSnapshotFile(rechained), "t6")).toBe("SNAPSHOT_FILE_CHAIN");
    const otherGenesis = decodeSnapshotFile(bytes);
    otherGenesis.genesisCommitment = new Uint8Array(32);
    expect(bad(encodeSnapshotFile(otherGenesis), "t7")).toBe("SNAPSHOT_FILE_GENESIS");
    expect(readdirSync(root)).toEqual([]);

    // The good file restores into a new folder (never over an existing store)...
    expect(codeOf(() => restoreSnapshotFile(decodeSnapshotFile(bytes), nodes[3]!.dir, restoreOpts))).toBe("SNAPSHOT_TARGET_NOT_EMPTY");
    const target = join(root, "restored");
    const r = restoreSnapshotFile(decodeSnapshotFile(bytes), target, restoreOpts);
    expect(r.lastAnchor).toBe(lastAnchor);
    expect(r.stateRoot).toBe(stateRoot);
    expect(existsSync(join(root, ".restored.restoring"))).toBe(false);
    // ...and validator 3 restarted on it rejoins and keeps the others' state roots.
    nodes[3] = net.node(3, target);
    expect(applied(nodes[3]!)).toBe(lastAnchor);
    await nodes[3]!.node.start();
    await until(() => applied(nodes[3]!) >= lastAnchor + 10n);
    const check = applied(nodes[3]!);
    await until(() => applied(nodes[0]!) >= check);
    expect(toHex(nodes[3]!.store.commitmentAt(check)!)).toBe(toHex(nodes[0]!.store.commitmentAt(check)!));
    for (const n of nodes) expect(n.store.db.query("SELECT COUNT(*) AS n FROM evidence").get()).toEqual({ n: 0n });
  } finally {
    await stopAll(nodes);
  }
}, 180_000);
