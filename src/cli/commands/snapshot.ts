/**
 * `phantom snapshot create|restore` (docs/OPERATIONS.md §7): offline, on a stopped node's
 * store. `create` writes a self-contained file from the store's newest consensus snapshot
 * and its ledger; `restore` verifies a file and writes a new store from it.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import type { Command } from "../command.ts";
import { CliError } from "../args.ts";
import { loadGenesis } from "../../genesis/index.ts";
import type { Genesis } from "../../genesis/genesis.ts";
import { SqliteStore, STORE_FILE_NAME } from "../../store/sqlite-store.ts";
import { createSnapshotFile, decodeSnapshotFile, encodeSnapshotFile, restoreSnapshotFile } from "../../store/snapshot-file.ts";
import { engineConfigFromGenesis } from "../../node/snapshots.ts";
import { ledgerParamsFromGenesis } from "../../ledger/apply.ts";
import { settlementDelay } from "../../ledger/settlement.ts";
import { join } from "node:path";

/** Anchors before the ledger's next one whose events a restored store keeps (the node's own pruning margin). */
function keepAnchors(g: Genesis): bigint {
  const economics = ledgerParamsFromGenesis(g).economics;
  return (economics ? settlementDelay(economics) : 0n) + 16n;
}

export const command: Command = {
  name: "snapshot",
  aliases: [],
  summary: "write a self-contained snapshot file from a stopped node's store (snapshot create), or a new store from one (snapshot restore)",
  usage: "phantom snapshot create --genesis genesis.toml --store_dir DIR --out FILE | phantom snapshot restore --genesis genesis.toml --file FILE --store_dir NEW_DIR",
  positionals: true,
  flags: [
    { name: "genesis", type: "string", help: "genesis file of the network", default: "genesis.toml" },
    { name: "store_dir", type: "string", help: "create: the stopped node's data directory; restore: a new (or empty) data directory to write", default: "pc-data" },
    { name: "out", type: "string", help: "create: the snapshot file to write", default: "phantom.snapshot" },
    { name: "file", type: "string", help: "restore: the snapshot file to read", default: "phantom.snapshot" },
  ],
  async run(ctx) {
    const [sub] = ctx.positionals;
    const genesis = await loadGenesis(ctx.flags.genesis as string);
    const storeDir = ctx.flags.store_dir as string;
    if (sub === "create") {
      if (!existsSync(join(storeDir, STORE_FILE_NAME))) throw new CliError("CLI_BAD_VALUE", `no store at ${storeDir} (${STORE_FILE_NAME} missing)`);
      const store = new SqliteStore({ storeDir, emission: genesis.emission, fsync: true, genesisCommitment: genesis.commitment });
      let bytes: Uint8Array;
      let lastAnchor: string | null;
      try {
        const file = createSnapshotFile(store, { genesisCommitment: genesis.commitment, engineConfig: engineConfigFromGenesis(genesis), keepAnchors: keepAnchors(genesis) });
        bytes = encodeSnapshotFile(file);
        lastAnchor = store.lastApplied()?.anchorIndex.toString() ?? null;
        ctx.out(JSON.stringify({ type: "snapshot_created", path: ctx.flags.out, bytes: bytes.length, lastAnchor, stateRoot: store.lastApplied() ? Buffer.from(store.lastApplied()!.commitment).toString("hex") : null, anchorCount: file.anchorCount.toString(), events: file.events.length }));
      } finally {
        store.close();
      }
      // Written beside and renamed: a crash never leaves half a file under the final name.
      const out = ctx.flags.out as string;
      writeFileSync(`${out}.tmp`, bytes, { mode: 0o600 });
      renameSync(`${out}.tmp`, out);
      return 0;
    }
    if (sub === "restore") {
      const path = ctx.flags.file as string;
      let raw: Uint8Array;
      try {
        raw = new Uint8Array(readFileSync(path));
      } catch (e) {
        throw new CliError("CLI_BAD_VALUE", `cannot read ${path}: ${(e as Error).message}`);
      }
      const file = decodeSnapshotFile(raw);
      const r = restoreSnapshotFile(file, storeDir, { genesisCommitment: genesis.commitment, engineConfig: engineConfigFromGenesis(genesis), emission: genesis.emission });
      ctx.out(JSON.stringify({ type: "snapshot_restored", storeDir, lastAnchor: r.lastAnchor?.toString() ?? null, stateRoot: r.stateRoot, events: r.events }));
      return 0;
    }
    throw new CliError("CLI_BAD_VALUE", `unknown snapshot subcommand "${sub ?? ""}"; use "create" or "restore"`);
  },
};
