// One contract, two implementations: the in-memory LedgerStore and the SQLite store must
// behave identically for everything the pure ledger reads and writes.
import { afterAll, describe, expect, test } from "bun:test";
import { commitmentOf } from "../../src/ledger/commitment.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryLedgerStore } from "../../src/ledger/memory-store.ts";
import { SqliteStore } from "../../src/store/sqlite-store.ts";
import { applyAnchor, applyAnchorBytes } from "../../src/ledger/apply.ts";
import type { WritableLedgerStore } from "../../src/ledger/state.ts";
import { LTHASH_BYTES, ltHashOfSet } from "../../src/ledger/lthash.ts";
import { signEvent } from "../../src/types/event.ts";
import { lockCommitment } from "../../src/types/lock.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { generateStream } from "../ledger/stream.ts";
import { testEmission, testParams, committee, key, sigLock, mineMint, buildTx, sigSpend, out } from "../ledger/fixtures.ts";

const root = mkdtempSync(join(tmpdir(), "phantom-contract-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const impls: [string, () => WritableLedgerStore][] = [
  ["memory", () => new MemoryLedgerStore(testEmission)],
  ["sqlite", () => new SqliteStore({ storeDir: join(root, `s${n++}`), emission: testEmission, fsync: false })],
];
const params = testParams();
const stream = generateStream(40, 11);

describe.each(impls)("LedgerStore contract: %s", (_name, make) => {
  test("starts empty at the genesis mint tip", () => {
    const s = make();
    expect(s.lastApplied()).toBeUndefined();
    expect(s.mintTip()).toMatchObject({ nextHeight: 0n, targetBits: testEmission.initialTargetBits, emittedUnits: 0n });
    expect(s.accumulator()).toEqual(new Uint8Array(LTHASH_BYTES));
  });

  test("replays the reference stream to the same commitments and tip", () => {
    const s = make();
    stream.payloads.forEach((p, i) => s.commitAnchor(applyAnchorBytes(s, params, BigInt(i), p)));
    expect(toHex(s.lastApplied()!.commitment)).toBe(toHex(stream.commitments[39]!));
    expect(s.mintTip()).toEqual(stream.tips[39]!);
    expect(toHex(commitmentOf(ltHashOfSet(stream.final.allUtxos()).commitment(), s.stakeTable(), s.pendingFees()))).toBe(toHex(s.lastApplied()!.commitment));
  });

  test("records spends (anchor, spender) and removes the output; refuses out-of-order commits", () => {
    const s = make();
    const alice = key(41);
    const d0 = applyAnchor(s, params, 0n, { txs: [{ kind: "mint", tx: mineMint(s.mintTip(), lockCommitment(sigLock(alice))) }] });
    s.commitAnchor(d0);
    const coin = { txid: d0.created[0]!.txid, index: 0 };
    for (let i = 1n; i <= params.emission.maturityAnchors; i++) s.commitAnchor(applyAnchor(s, params, i, { txs: [] }));
    const at = params.emission.maturityAnchors + 1n;
    const d = applyAnchor(s, params, at, { txs: [{ kind: "micro", tx: buildTx([sigSpend(coin, alice)], [out(1_000_000n, sigLock(alice))]) }] });
    expect(s.getUtxo(coin.txid, 0)).toBeDefined();
    s.commitAnchor(d);
    expect(s.getUtxo(coin.txid, 0)).toBeUndefined();
    expect(s.getSpent(coin.txid, 0)).toEqual({ anchorIndex: at, spentBy: d.outcomes[0]!.id });
    expect(s.getSpent(d.created[0]!.txid, 0)).toBeUndefined();
    expect(() => s.commitAnchor(d)).toThrow();
    expect(s.lastApplied()!.anchorIndex).toBe(at);
  });

  test("records evidence once", () => {
    const s = make();
    const h = (b: number) => ({ shard: 0, creator: 2, seq: 5, parents: [], parentRounds: [], lamport: 0, payloadDigest: new Uint8Array(32).fill(b) });
    const ev = { kind: "equivocation" as const, a: signEvent(h(1), committee[2]!.secretKey), b: signEvent(h(2), committee[2]!.secretKey) };
    const d = applyAnchor(s, params, 0n, { txs: [{ kind: "evidence", tx: ev }] });
    expect(s.hasEvidence(d.evidence[0]!.id)).toBe(false);
    s.commitAnchor(d);
    expect(s.hasEvidence(d.evidence[0]!.id)).toBe(true);
  });
});
