/**
 * Crash-test child (run by test/store/crash.test.ts as a real `bun` process):
 * opens the store, applies every anchor from the store's next index to the end of
 * the payload file, one SQLite transaction each, and prints each applied index.
 * Usage: bun test/store/crash-child.ts <store_dir> <payloads_file> <fsync true|false>
 */
import { readFileSync } from "node:fs";
import { SqliteStore } from "../../src/store/sqlite-store.ts";
import { applyAnchor, expectedAnchorIndex } from "../../src/ledger/apply.ts";
import { decodeAnchorPayload } from "../../src/types/payload.ts";
import { testParams } from "../ledger/fixtures.ts";
import { unpackPayloads } from "../ledger/stream.ts";

const [storeDir, payloadsFile, fsync] = process.argv.slice(2);
if (!storeDir || !payloadsFile) throw new Error("usage: crash-child.ts <store_dir> <payloads_file> <fsync>");
const params = testParams();
const payloads = unpackPayloads(readFileSync(payloadsFile));
const store = new SqliteStore({ storeDir, emission: params.emission, fsync: fsync === "true" });
for (let i = expectedAnchorIndex(store); i < BigInt(payloads.length); i++) {
  store.commitAnchor(applyAnchor(store, params, i, decodeAnchorPayload(payloads[Number(i)]!)));
  process.stdout.write(`${i}\n`);
}
store.close();
process.stdout.write("done\n");
