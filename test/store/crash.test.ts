/**
 * Crash safety (docs/STORAGE.md "Crash guarantees"): a real child `bun` process applies
 * a long anchor stream to a store and is killed with SIGKILL at random points. After
 * each kill the database must reopen exactly at an anchor boundary whose commitment,
 * mint tip and UTXO set equal a clean replay, and resuming must reach the same final
 * commitment. 20 kills by default; PHANTOM_SOAK=1 runs 200 (seed: PHANTOM_CRASH_SEED).
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../../src/store/sqlite-store.ts";
import { applyAnchor, expectedAnchorIndex } from "../../src/ledger/apply.ts";
import { decodeAnchorPayload } from "../../src/types/payload.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { generateStream, packPayloads } from "../ledger/stream.ts";
import { prng } from "../ledger/fixtures.ts";

const RUNS = process.env.PHANTOM_SOAK === "1" ? 200 : 20;
const ANCHORS = 300;
const CHILD_TIMEOUT_MS = 30_000;
const SEED = Number(process.env.PHANTOM_CRASH_SEED ?? 20261125);
const root = mkdtempSync(join(tmpdir(), "phantom-crash-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Starts the child, waits until it reports `killAfter` applied anchors (plus a short random delay), then SIGKILLs it. */
async function runAndKill(storeDir: string, payloadsFile: string, fsync: boolean, killAfter: number, delayMs: number): Promise<void> {
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "crash-child.ts"), storeDir, payloadsFile, String(fsync)], { stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => child.kill("SIGKILL"), CHILD_TIMEOUT_MS);
  let seen = 0;
  let buffered = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    buffered += decoder.decode(chunk);
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    seen += lines.length;
    if (seen >= killAfter) break;
  }
  if (delayMs > 0) await Bun.sleep(delayMs);
  child.kill("SIGKILL");
  clearTimeout(timer);
  await child.exited;
}

test(`SIGKILL at random points leaves the store at an anchor boundary equal to a clean replay (${RUNS} runs, seed ${SEED})`, async () => {
  const stream = generateStream(ANCHORS, SEED);
  const payloadsFile = join(root, "payloads.bin");
  writeFileSync(payloadsFile, packPayloads(stream.payloads));
  const rand = prng(SEED);
  const boundaries = new Set<string>();
  for (let run = 0; run < RUNS; run++) {
    const storeDir = join(root, `run-${run}`);
    const fsync = run % 2 === 0;
    // Kill twice per run: once from empty, once after resuming (a restart that crashes again).
    await runAndKill(storeDir, payloadsFile, fsync, Math.floor(rand() * ANCHORS * 0.5), Math.floor(rand() * 4));
    await runAndKill(storeDir, payloadsFile, fsync, Math.floor(rand() * ANCHORS * 0.5), Math.floor(rand() * 4));
    const store = new SqliteStore({ storeDir, emission: stream.params.emission, fsync });
    const last = store.lastApplied();
    const applied = last ? Number(last.anchorIndex) : -1;
    boundaries.add(String(applied));
    const context = `run ${run} (seed ${SEED}) stopped after anchor ${applied}`;
    expect(store.anchorCount(), context).toBe(BigInt(applied + 1));
    if (last) {
      expect(toHex(last.commitment), context).toBe(toHex(stream.commitments[applied]!));
      expect(store.mintTip(), context).toEqual(stream.tips[applied]!);
    }
    expect(store.auditAccumulator(), context).toBe(true);
    for (let i = expectedAnchorIndex(store); i < BigInt(ANCHORS); i++) {
      store.commitAnchor(applyAnchor(store, stream.params, i, decodeAnchorPayload(stream.payloads[Number(i)]!)));
    }
    expect(toHex(store.lastApplied()!.commitment), context).toBe(toHex(stream.commitments[ANCHORS - 1]!));
    store.close();
    rmSync(storeDir, { recursive: true, force: true });
  }
  // The kills landed at different points of the stream, not all at one place.
  expect(boundaries.size).toBeGreaterThan(RUNS / 4);
}, RUNS * 6_000);
