// The wallet's journal of submitted txs: appended as JSON lines (0600, folder created),
// read back oldest first, a re-broadcast counted once, a damaged line a typed error.
import { afterAll, describe, expect, test } from "bun:test";
import { appendFileSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { appendJournal, journalEntry, readJournal } from "../../src/wallet/journal.ts";
import { newTxFile } from "../../src/wallet/tx-file.ts";
import { accountFromSeed } from "../../src/wallet/keys.ts";
import { blake3_32 } from "../../src/crypto/hash.ts";
import { toHex } from "../../src/crypto/bytes.ts";

const dir = mkdtempSync(join(tmpdir(), "phantom-journal-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const [a, b] = [1, 2].map((i) => accountFromSeed(new Uint8Array(32).fill(i)));

const tx = (n: number) => newTxFile(
  [{ outpoint: { txid: blake3_32(new Uint8Array([n])), index: n }, amount: 1_000_000n + BigInt(n), lock: a!.lock }],
  [{ amount: 600_000n, lockCommitment: b!.lockCommitment }, { amount: 390_000n, lockCommitment: a!.lockCommitment }],
);

describe("journal", () => {
  test("append, read back, dedupe, refuse a damaged line", () => {
    const path = join(dir, "sub", "w.history.jsonl");
    expect(readJournal(path)).toEqual([]);
    const [t1, t2] = [tx(1), tx(2)];
    appendJournal(path, journalEntry(t1));
    appendJournal(path, journalEntry(t2));
    appendJournal(path, journalEntry(t1)); // broadcast twice
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const entries = readJournal(path);
    expect(entries.map((e) => e.txid)).toEqual([toHex(t1.txid), toHex(t2.txid)]);
    expect(entries[0]).toEqual({
      txid: toHex(t1.txid), feeUnits: String(1_000_001n - 990_000n),
      inputs: [{ txid: toHex(blake3_32(new Uint8Array([1]))), index: 1, amountUnits: "1000001", address: a!.address }],
      outputs: [{ address: b!.address, amountUnits: "600000" }, { address: a!.address, amountUnits: "390000" }],
    });
    appendFileSync(path, '{"type":"sent","txid":"x","feeUnits":"-1","inputs":[],"outputs":[]}\n');
    expect(() => readJournal(path)).toThrow(expect.objectContaining({ code: "WALLET_JOURNAL_INVALID" }));
  });
});
