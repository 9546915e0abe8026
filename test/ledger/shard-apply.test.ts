// Sharding wired into the real ledger and store (docs/SPEC_SHARDING.md §5–§10): two shards,
// each with its own SqliteStore (and a MemoryLedgerStore applying the same anchors, which must
// agree), driven through applyAnchor with real signed DAGs ordered by the consensus engine.
// A transfer from shard 0 to shard 1 is exported, its epoch closes with a shard root, a
// certificate signed by shard 0's committee carries it to shard 1, where the import creates a
// spendable UTXO exactly once; forged, voided, conflicting and repeated claims are void with
// their codes; mints are void off shard 0; supply is conserved after every anchor.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { createGenesis, devnetSeed } from "../../src/genesis/create.ts";
import { parseGenesis, genesisForShard, GenesisError, type Genesis } from "../../src/genesis/genesis.ts";
import { keyPairFromSeed, verifyBatch, type Ed25519KeyPair, type VerifyItem } from "../../src/crypto/ed25519.ts";
import { equalBytes, toHex } from "../../src/crypto/bytes.ts";
import { generateSignedDag } from "../../src/consensus/headers-gen.ts";
import { ConsensusEngine } from "../../src/consensus/engine.ts";
import { applyAnchor, applyAnchorBytes, ledgerParamsFromGenesis, type AnchorContext, type LedgerParams } from "../../src/ledger/apply.ts";
import { settlementDelay } from "../../src/ledger/settlement.ts";
import type { AnchorDiff, WritableLedgerStore, TxOutcome } from "../../src/ledger/state.ts";
import { MemoryLedgerStore } from "../../src/ledger/memory-store.ts";
import { SqliteStore } from "../../src/store/sqlite-store.ts";
import { MIGRATIONS, migrate } from "../../src/store/schema.ts";
import { shardOfLock, shardLayoutOf } from "../../src/ledger/shard.ts";
import { type ExportLeaf, exportId, exportLeafHash, exportProof, exportRoot, ZERO_ROOT } from "../../src/ledger/export-tree.ts";
import { type ShardRoot, type ShardCertificate, assembleCertificate, signShardRoot, shardRootDigest, certMessage } from "../../src/ledger/shard-root.ts";
import { type ImportClaim, CrossShardLedger, exportsWithProofsOf, globalSupplyCheck, type ShardSupply } from "../../src/ledger/cross-shard.ts";
import { encodeAnchorPayload, decodeAnchorPayload, type PayloadTx } from "../../src/types/payload.ts";
import { type Outpoint, digestMicroTx } from "../../src/types/tx.ts";
import { lockCommitment } from "../../src/types/lock.ts";
import { testEmission, key, sigLock, mineMint, buildTx, sigSpend, out, testParams, prng } from "./fixtures.ts";
import { thrownCode } from "../thrown-code.ts";
import { CodecError } from "../../src/codec/index.ts";

const T = 120_000;
const S = 2;
const K = 4;
const E = 4n;
const LABEL = "shard-apply";
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), "phantom-shard-apply-"));
  dirs.push(d);
  return d;
};

function makeGenesis(): Genesis {
  const { toml } = createGenesis({ k: K, shards: S, devnetLabel: LABEL, chainId: "phantom-shard-apply" });
  return parseGenesis(toml.replace(`shard_count = ${S}`, `shard_count = ${S}\nshard_root_interval = ${E}`));
}

const genesis = makeGenesis();
const validatorKeys: Ed25519KeyPair[] = genesis.validators.map((_, i) => keyPairFromSeed(devnetSeed(LABEL, i)));
/** Shard s's committee keys in file order (creator index = position). */
const committeeKeys = (s: number): Ed25519KeyPair[] => genesis.validators.flatMap((v, i) => (v.shard === s ? [validatorKeys[i]!] : []));

/** A test key whose Sig lock is on shard `s`. */
function keyOn(s: number, from: number): Ed25519KeyPair {
  for (let n = from; ; n++) {
    const k = key(n);
    if (shardOfLock(lockCommitment(sigLock(k)), S) === s) return k;
  }
}
const alice = keyOn(0, 100); // shard 0
const bob = keyOn(1, 200); // shard 1
const carol = keyOn(1, 300); // shard 1
const lockOf = (k: Ed25519KeyPair): Uint8Array => lockCommitment(sigLock(k));

/** One shard's ledger: real SQLite store, a memory store that must agree, its finalized events. */
interface ShardRig {
  shard: number;
  params: LedgerParams;
  sql: SqliteStore;
  mem: MemoryLedgerStore;
  dir: string;
  finalized: ReturnType<typeof finalizedEvents>;
  diffs: AnchorDiff[];
  verifyCalls: VerifyItem[][];
}

function finalizedEvents(s: number, events: number) {
  const keys = committeeKeys(s);
  const dag = generateSignedDag({ secretKeys: keys.map((k) => k.secretKey), eventCount: events, seed: new TextEncoder().encode(`${LABEL}/${s}`), skipPercent: 30, shard: s });
  const engine = new ConsensusEngine({ committee: { publicKeys: keys.map((k) => k.publicKey), stakes: keys.map(() => 1000n) }, coinRoundInterval: 8, parentsMax: 4, shard: s });
  return [...engine.addEvents(dag).finalized, ...engine.addEvents([]).finalized].map((f) => f.event);
}

function makeRig(s: number, events = 400): ShardRig {
  const verifyCalls: VerifyItem[][] = [];
  // Low-difficulty emission so the test mines with a loop; everything else from the shard's genesis view.
  const params: LedgerParams = {
    ...ledgerParamsFromGenesis(genesisForShard(genesis, s)),
    emission: testEmission,
    verify: (items) => {
      verifyCalls.push([...items]);
      return verifyBatch(items);
    },
  };
  const dir = tempDir();
  return {
    shard: s, params, dir, finalized: finalizedEvents(s, events), diffs: [], verifyCalls,
    sql: new SqliteStore({ storeDir: dir, emission: testEmission, fsync: false, genesisCommitment: genesis.commitment }),
    mem: new MemoryLedgerStore(testEmission),
  };
}

function contextAt(r: ShardRig, i: number): AnchorContext {
  const delay = Number(settlementDelay(r.params.economics!));
  expect(r.finalized.length).toBeGreaterThan(i);
  return { event: r.finalized[i]!, window: r.finalized.slice(Math.max(0, i - delay), i + 1) };
}

/** Applies the next anchor on both stores (through the payload's bytes on SQLite, as the node does); they must agree. */
function step(r: ShardRig, txs: PayloadTx[]): AnchorDiff {
  const i = r.diffs.length;
  const ctx = contextAt(r, i);
  const bytes = encodeAnchorPayload({ txs });
  const diff = applyAnchorBytes(r.sql, r.params, BigInt(i), bytes, ctx);
  const memDiff = applyAnchor(r.mem, r.params, BigInt(i), decodeAnchorPayload(bytes), undefined, ctx);
  expect(memDiff).toEqual(diff);
  r.sql.commitAnchor(diff);
  r.mem.commitAnchor(diff);
  r.diffs.push(diff);
  return diff;
}

function supplyOf(r: ShardRig): ShardSupply {
  const sqlSupply = { shard: r.shard, unspent: r.sql.unspentUnits(), pending: r.sql.pendingFeesUnits(), ...r.sql.shardSupply() };
  expect({ shard: r.shard, unspent: r.mem.unspentUnits(), pending: r.mem.pendingFees().reduce((a, p) => a + p.feesUnits, 0n), ...r.mem.shardSupply() }).toEqual(sqlSupply);
  return sqlSupply;
}

const outcome = (d: AnchorDiff, position: number): TxOutcome => d.outcomes.find((o) => o.position === position)!;
const codeOf = (o: TxOutcome): string => (o.applied ? "applied" : o.code);

/** A certificate over `root` signed by `signers` of its shard's committee. */
function certify(root: ShardRoot, signers: number[] = [0, 1, 2]): ShardCertificate {
  const keys = committeeKeys(root.shard);
  return assembleCertificate(root, signers.map((i) => signShardRoot(root, i, keys[i]!.secretKey)));
}

/** The claim for export `leaf` of `source`'s closed epoch, proved from that store's own records. */
function claimFor(source: SqliteStore, epoch: bigint, leaf: ExportLeaf, cert?: ShardCertificate): ImportClaim {
  const root = source.shardRoot(epoch)!;
  const proved = exportsWithProofsOf(source.exportsOfEpoch(epoch)).find((x) => equalBytes(exportLeafHash(x.leaf), exportLeafHash(leaf)));
  expect(proved).toBeDefined();
  expect(proved!.proof).toEqual(exportProof(source.exportsOfEpoch(epoch).map(exportLeafHash), proved!.proof.leafIndex));
  return { cert: cert ?? certify(root), leaf, proof: proved!.proof };
}

describe("sharded ledger on SQLite", () => {
  test("genesisForShard: the shard's committee re-indexed, the network's layout kept; ledger params of that shard", () => {
    for (let s = 0; s < S; s++) {
      const view = genesisForShard(genesis, s);
      expect(view.validators.map((v) => v.index)).toEqual([0, 1, 2, 3]);
      expect(view.validators.map((v) => toHex(v.publicKey))).toEqual(committeeKeys(s).map((k) => toHex(k.publicKey)));
      expect(view.totalStake).toBe(4000n);
      expect(view.commitment).toEqual(genesis.commitment);
      expect(view.shardCount).toBe(S);
      expect(view.k).toBe(K);
      expect(shardLayoutOf(view)).toEqual(shardLayoutOf(genesis));
      expect(genesisForShard(view, s)).toBe(view);
      const p = ledgerParamsFromGenesis(view);
      expect(p.sharding?.shard).toBe(s);
      expect(p.committee).toEqual(committeeKeys(s).map((k) => k.publicKey));
      expect(p.economics!.payoutLocks).toEqual(committeeKeys(s).map(lockOf));
      expect(ledgerParamsFromGenesis(genesis, s)).toEqual(p);
    }
    expect(thrownCode(() => genesisForShard(genesis, S), GenesisError, "none")).toBe("GENESIS_NO_SUCH_SHARD");
    const single = parseGenesis(createGenesis({ k: 4, devnetLabel: LABEL }).toml);
    expect(genesisForShard(single, 0)).toBe(single);
    expect(ledgerParamsFromGenesis(single).sharding).toBeUndefined();
  }, T);

  test("transfer 0 -> 1: exported, certified, imported once, spent; forged, voided, conflicting claims and off-shard mints are void; supply conserved after every anchor", () => {
    const r0 = makeRig(0);
    const r1 = makeRig(1);
    const rigs = [r0, r1];
    const checkSupply = (): void => {
      expect(globalSupplyCheck(rigs.map(supplyOf))).toEqual([]);
      for (const r of rigs) expect(r.sql.auditAccumulator()).toBe(true);
    };
    const run = (r: ShardRig, txs: PayloadTx[]): AnchorDiff => {
      const d = step(r, txs);
      checkSupply();
      // Epoch roots: exactly on the last anchor of each epoch, chained, over the epoch's exports.
      const i = BigInt(r.diffs.length - 1);
      if ((i + 1n) % E === 0n) {
        const epoch = i / E;
        const root = d.shardRoot!;
        expect(root.epoch).toBe(epoch);
        expect(root.shard).toBe(r.shard);
        expect(root.chain).toEqual(genesis.commitment);
        expect(root.stateCommitment).toEqual(d.commitment);
        expect(d.shardRootDigest).toEqual(shardRootDigest(root));
        expect(root.prevRoot).toEqual(epoch === 0n ? ZERO_ROOT : shardRootDigest(r.sql.shardRoot(epoch - 1n)!));
        const leaves = r.diffs.slice(Number(epoch * E), Number(i) + 1).flatMap((x) => x.exports);
        expect(r.sql.exportsOfEpoch(epoch)).toEqual(leaves);
        expect(root.exportCount).toBe(leaves.length);
        expect(root.exportRoot).toEqual(exportRoot(leaves));
        expect(r.sql.lastShardRoot()).toEqual(root);
        expect(r.mem.shardRoot(epoch)).toEqual(root);
      } else {
        expect(d.shardRoot).toBeUndefined();
      }
      return d;
    };

    // ---- shard 0, epoch 0: mints (the mint chain is on shard 0), one to a shard-1 lock is void ----
    let d = run(r0, [{ kind: "mint", tx: mineMint(r0.sql.mintTip(), lockOf(alice)) }]);
    expect(codeOf(outcome(d, 0))).toBe("applied");
    const m1: Outpoint = { txid: d.mints[0]!.id, index: 0 };
    const tipBefore = r0.sql.mintTip();
    d = run(r0, [{ kind: "mint", tx: mineMint(tipBefore, lockOf(bob)) }]);
    expect(codeOf(outcome(d, 0))).toBe("MINT_WRONG_SHARD");
    expect(r0.sql.mintTip()).toEqual(tipBefore);
    d = run(r0, [{ kind: "mint", tx: mineMint(r0.sql.mintTip(), lockOf(alice)) }]);
    expect(codeOf(outcome(d, 0))).toBe("applied");
    run(r0, []);
    expect(r0.sql.shardRoot(0n)!.exportCount).toBe(0);

    // ---- shard 1, anchor 0: shard 1 never mints ----
    d = run(r1, [{ kind: "mint", tx: mineMint(r1.sql.mintTip(), lockOf(bob)) }]);
    expect(codeOf(outcome(d, 0))).toBe("MINT_WRONG_SHARD");
    expect(d.mints).toEqual([]);

    // ---- shard 0, anchor 4: alice pays bob and carol (shard 1) with change; a double spend of the same coin is void ----
    const m1Amount = r0.sql.getUtxo(m1.txid, m1.index)!.amount;
    const pay = buildTx([sigSpend(m1, alice)], [out(1_000_000_000n, sigLock(bob)), out(500_000_000n, sigLock(carol)), out(m1Amount - 1_501_000_000n, sigLock(alice))]);
    const doubleSpend = buildTx([sigSpend(m1, alice)], [out(7_000n, sigLock(bob)), out(m1Amount - 1_000_000n - 7_000n, sigLock(alice))]);
    const payTxid = digestMicroTx(pay);
    // Spending an exported output on its source shard, in the same payload: it does not exist here.
    const spendExported = buildTx([sigSpend({ txid: payTxid, index: 0 }, bob)], [out(5_000n, sigLock(bob))]);
    d = run(r0, [{ kind: "micro", tx: pay }, { kind: "micro", tx: doubleSpend }, { kind: "micro", tx: spendExported }]);
    expect(d.outcomes.map(codeOf)).toEqual(["applied", "TX_DOUBLE_SPEND", "TX_MISSING_INPUT"]);
    expect(outcome(d, 0).id).toEqual(payTxid);
    expect(d.exports.map((e) => [e.destShard, e.outputIndex, e.amount])).toEqual([[1, 0, 1_000_000_000n], [1, 1, 500_000_000n]]);
    expect(d.exports.every((e) => e.sourceShard === 0 && e.anchorIndex === 4n && equalBytes(e.txid, payTxid))).toBe(true);
    // Exported outputs are not UTXOs of shard 0 (nor in its accumulator); the change is.
    expect(r0.sql.getUtxo(payTxid, 0)).toBeUndefined();
    expect(r0.sql.getUtxo(payTxid, 1)).toBeUndefined();
    expect(r0.sql.getUtxo(payTxid, 2)?.amount).toBe(m1Amount - 1_501_000_000n);
    expect(d.created.map((c) => c.index)).toEqual([2]);
    const [bobLeaf, carolLeaf] = d.exports as [ExportLeaf, ExportLeaf];
    // Nor in a later anchor.
    d = run(r0, [{ kind: "micro", tx: spendExported }]);
    expect(codeOf(outcome(d, 0))).toBe("TX_MISSING_INPUT");
    run(r0, []);
    run(r0, []);
    const root01 = r0.sql.shardRoot(1n)!;
    expect(root01.exportCount).toBe(2);

    // ---- shard 1, anchor 1: imports with a certificate signed by shard 0's committee ----
    const bobClaim = claimFor(r0.sql, 1n, bobLeaf);
    const carolClaim = claimFor(r0.sql, 1n, carolLeaf);
    const carolId = exportId(carolLeaf);
    const carolSpend = buildTx([sigSpend({ txid: carolId, index: 0 }, carol)], [out(499_000_000n, sigLock(carol))]);
    const verifyBefore = r1.verifyCalls.length;
    d = run(r1, [{ kind: "import", tx: bobClaim }, { kind: "import", tx: bobClaim }, { kind: "import", tx: carolClaim }, { kind: "micro", tx: carolSpend }]);
    expect(d.outcomes.map(codeOf)).toEqual(["applied", "IMPORT_DUPLICATE", "applied", "applied"]);
    // The certificate signatures went through the ledger's verify (the node's signature cache).
    const certMsg = certMessage(shardRootDigest(root01));
    expect(r1.verifyCalls.slice(verifyBefore).some((items) => items.some((x) => equalBytes(x.message, certMsg)))).toBe(true);
    const bobId = exportId(bobLeaf);
    expect(outcome(d, 0)).toMatchObject({ kind: "import", applied: true, id: bobId, amountUnits: 1_000_000_000n });
    expect(r1.sql.getUtxo(bobId, 0)).toEqual({ amount: 1_000_000_000n, lockCommitment: lockOf(bob), createdAt: 1n, coinbase: false });
    expect(r1.sql.isImported(bobId)).toBe(true);
    expect(r1.sql.isImported(carolId)).toBe(true);
    expect(r1.sql.importOf(bobId)).toMatchObject({ anchorIndex: 1n, sourceShard: 0, epoch: 1n, amount: 1_000_000_000n });
    expect(r1.sql.certifiedRoot(0, 1n)).toEqual(shardRootDigest(root01));
    expect(r1.sql.getUtxo(carolId, 0)).toBeUndefined(); // spent in the same payload
    expect(d.imports.map((a) => toHex(a.exportId))).toEqual([toHex(bobId), toHex(carolId)]);

    // ---- shard 1, anchor 2: replay, voided export, forged leaf, conflicting root, thin certificate ----
    const voidedLeaf: ExportLeaf = { ...bobLeaf, txid: digestMicroTx(doubleSpend), outputIndex: 0, amount: 7_000n };
    const voidedClaim: ImportClaim = { ...bobClaim, leaf: voidedLeaf };
    const forged: ImportClaim = { ...bobClaim, leaf: { ...bobLeaf, amount: bobLeaf.amount * 10n } };
    const fakeLeaf: ExportLeaf = { ...bobLeaf, outputIndex: 9, amount: 123n };
    const conflictingRoot: ShardRoot = { ...root01, stateCommitment: new Uint8Array(32).fill(7), exportRoot: exportRoot([fakeLeaf]), exportCount: 1 };
    const conflicting: ImportClaim = { cert: certify(conflictingRoot, [0, 1, 2, 3]), leaf: fakeLeaf, proof: { leafIndex: 0, siblings: [] } };
    const thin: ImportClaim = { ...bobClaim, cert: certify(root01, [0, 1]) };
    d = run(r1, [
      { kind: "import", tx: bobClaim },
      { kind: "import", tx: voidedClaim },
      { kind: "import", tx: forged },
      { kind: "import", tx: conflicting },
      { kind: "import", tx: thin },
      { kind: "import", tx: { ...bobClaim, leaf: { ...bobLeaf, destShard: 0 } } },
    ]);
    expect(d.outcomes.map(codeOf)).toEqual(["IMPORT_DUPLICATE", "IMPORT_NOT_PROVEN", "IMPORT_NOT_PROVEN", "IMPORT_ROOT_CONFLICT", "SHARD_CERT_BELOW_QUORUM", "IMPORT_WRONG_DESTINATION"]);
    expect(d.created).toEqual([]);
    expect(r1.sql.voidedAt(2n).map((v) => [v.kind, v.code])).toEqual(d.outcomes.map((o) => ["import", codeOf(o)]));

    // ---- shard 1, anchor 3: bob spends the imported coin, half back to alice on shard 0 (an export of shard 1) ----
    const bobSpend = buildTx([sigSpend({ txid: bobId, index: 0 }, bob)], [out(400_000_000n, sigLock(alice)), out(599_000_000n, sigLock(bob))]);
    d = run(r1, [{ kind: "micro", tx: bobSpend }]);
    expect(codeOf(outcome(d, 0))).toBe("applied");
    expect(r1.sql.getUtxo(bobId, 0)).toBeUndefined();
    expect(d.exports.map((e) => [e.sourceShard, e.destShard, e.amount])).toEqual([[1, 0, 400_000_000n]]);
    expect(r1.sql.shardRoot(0n)!.exportCount).toBe(1);

    // ---- shard 0, anchors 8..: the return trip is imported on shard 0; then run on to fee settlement ----
    const back = claimFor(r1.sql, 0n, d.exports[0]!);
    d = run(r0, [{ kind: "import", tx: back }]);
    expect(codeOf(outcome(d, 0))).toBe("applied");
    expect(r0.sql.getUtxo(exportId(back.leaf), 0)?.amount).toBe(400_000_000n);
    // A claim for shard 0's own export back into shard 0 comes from the wrong source.
    d = run(r0, [{ kind: "import", tx: bobClaim }]);
    expect(codeOf(outcome(d, 0))).toBe("IMPORT_WRONG_SOURCE");
    for (let i = r1.diffs.length; i < 24; i++) run(r1, []);
    let payoutExports = 0;
    let payoutLocal = 0;
    for (let i = r0.diffs.length; i < 24; i++) {
      d = run(r0, []);
      const s = d.settlement;
      if (!s || s.feesUnits === 0n) continue;
      // Fee payouts to locks on shard 1 are exports of shard 0, the rest are UTXOs (§9).
      for (const e of s.entries.filter((x) => x.amount > 0n)) {
        const exported = d.exports.some((x) => equalBytes(x.txid, s.txid) && x.outputIndex === e.index && x.amount === e.amount);
        const created = d.created.some((x) => equalBytes(x.txid, s.txid) && x.index === e.index);
        expect(exported).toBe(shardOfLock(e.recipient, S) !== 0);
        expect(created).toBe(!exported);
        if (exported) payoutExports++;
        else payoutLocal++;
      }
    }
    expect(payoutExports).toBeGreaterThan(0);
    expect(payoutLocal).toBeGreaterThan(0);
    // In flight: exactly the fee payouts exported to the other shard (every transfer was imported).
    const x0 = r0.sql.shardSupply();
    const x1 = r1.sql.shardSupply();
    expect(x0.imported + x1.imported).toBe(1_900_000_000n);
    const payoutsInFlight = rigs.flatMap((r) => r.diffs.flatMap((x) => x.exports.filter((e) => x.settlement !== undefined && equalBytes(e.txid, x.settlement.txid)))).reduce((a, e) => a + e.amount, 0n);
    expect(payoutsInFlight).toBeGreaterThan(0n);
    expect(x0.exported + x1.exported - x0.imported - x1.imported).toBe(payoutsInFlight);
    for (const r of rigs) r.sql.close();
  }, T);

  test("a store closed and reopened mid-epoch closes the epoch with the same root", () => {
    const a = makeRig(0, 200);
    const payloads: PayloadTx[][] = [];
    const stepA = (txs: PayloadTx[]): AnchorDiff => {
      payloads.push(txs);
      return step(a, txs);
    };
    const m = stepA([{ kind: "mint", tx: mineMint(a.sql.mintTip(), lockOf(alice)) }]).mints[0]!;
    for (let i = 1; i < 4; i++) stepA([]);
    const amount = m.rewardUnits;
    const t1 = buildTx([sigSpend({ txid: m.id, index: 0 }, alice)], [out(1_000n, sigLock(bob)), out(amount - 1_000n - 100_000n, sigLock(alice))]);
    stepA([{ kind: "micro", tx: t1 }]);
    const t1id = a.diffs[4]!.outcomes[0]!.id;
    const t2 = buildTx([sigSpend({ txid: t1id, index: 1 }, alice)], [out(2_000n, sigLock(carol)), out(amount - 3_000n - 200_000n, sigLock(alice))]);
    stepA([{ kind: "micro", tx: t2 }]);
    stepA([]);
    const last = stepA([]);
    expect(last.shardRoot!.exportCount).toBe(2);

    // Same anchors on a second store, closed and reopened after anchor 5 (epoch 1 half done).
    const b = makeRig(0, 200);
    for (let i = 0; i < 6; i++) b.sql.commitAnchor(applyAnchor(b.sql, b.params, BigInt(i), { txs: payloads[i]! }, undefined, contextAt(b, i)));
    b.sql.close();
    const reopened = new SqliteStore({ storeDir: b.dir, emission: testEmission, fsync: false, genesisCommitment: genesis.commitment });
    expect(reopened.exportsOfEpoch(1n)).toEqual(a.sql.exportsOfEpoch(1n).slice(0, 2));
    expect(reopened.lastShardRoot()).toEqual(a.sql.shardRoot(0n));
    let diff: AnchorDiff | undefined;
    for (let i = 6; i < 8; i++) {
      diff = applyAnchor(reopened, b.params, BigInt(i), { txs: payloads[i]! }, undefined, contextAt(b, i));
      reopened.commitAnchor(diff);
    }
    expect(diff!.shardRoot).toEqual(last.shardRoot);
    expect(diff!.shardRootDigest).toEqual(last.shardRootDigest);
    expect(reopened.shardRoot(1n)).toEqual(a.sql.shardRoot(1n));
    expect(reopened.shardSupply()).toEqual(a.sql.shardSupply());
    reopened.close();
    a.sql.close();
  }, T);

  test("applyAnchor and the simulator's CrossShardLedger agree on every export and every epoch root of a random transfer stream", () => {
    const layout = shardLayoutOf(genesis);
    const params: LedgerParams = { ...testParams(), sharding: { shard: 0, shardCount: S, layout, chain: genesis.commitment, rootInterval: 3n } };
    const store = new MemoryLedgerStore(params.emission);
    const model = new CrossShardLedger({ chain: genesis.commitment, layout, shard: 0, rootInterval: 3n });
    const rand = prng(7);
    const recipients = Array.from({ length: 12 }, (_, i) => key(400 + i));
    let coin: { op: Outpoint; amount: bigint } | undefined;
    let roots = 0;
    for (let i = 0n; i < 30n; i++) {
      const txs: PayloadTx[] = [];
      if (i < 2n) txs.push({ kind: "mint", tx: mineMint(store.mintTip(), lockOf(alice)) });
      // A chain of spends of alice's change inside the anchor, each paying 1–3 random recipients.
      let c = coin;
      for (let t = 0; c && i > testEmission.maturityAnchors && t < 3; t++) {
        const pays = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => out(BigInt(1_000 + Math.floor(rand() * 1_000_000)), sigLock(recipients[Math.floor(rand() * recipients.length)]!)));
        const paid = pays.reduce((a, o) => a + o.amount, 0n);
        const tx = buildTx([sigSpend(c.op, alice)], [...pays, out(c.amount - paid - 10_000n, sigLock(alice))]);
        txs.push({ kind: "micro", tx });
        c = { op: { txid: digestMicroTx(tx), index: pays.length }, amount: c.amount - paid - 10_000n };
      }
      const d = applyAnchor(store, params, i, { txs });
      store.commitAnchor(d);
      const modelExports: ExportLeaf[] = [];
      for (const o of d.outcomes) {
        if (o.kind === "mint" && o.applied) model.recordMint(o.rewardUnits);
        const t = txs[o.position]!;
        if (o.kind === "micro" && o.applied && t.kind === "micro") modelExports.push(...model.splitOutputs(i, o.id, t.tx.outputs).exports);
      }
      expect(d.exports).toEqual(modelExports);
      const modelRoot = model.endAnchor(i, d.commitment);
      expect(d.shardRoot).toEqual(modelRoot);
      if (modelRoot) roots++;
      expect(store.shardSupply()).toEqual(model.supply());
      coin = c ?? (d.mints[0] ? { op: { txid: d.mints[0].id, index: 0 }, amount: d.mints[0].rewardUnits } : coin);
    }
    expect(roots).toBe(10);
    expect(store.shardSupply().exported).toBeGreaterThan(0n);
    expect(model.rootOf(9n)!.exportCount).toBeGreaterThan(0);
  }, T);

  test("one shard: no exports, no roots, and a payload with an import claim applies as empty exactly as before the kind existed", () => {
    const params = testParams();
    const mem = new MemoryLedgerStore(params.emission);
    const mint = mineMint(mem.mintTip(), lockOf(bob));
    const d0 = applyAnchor(mem, params, 0n, { txs: [{ kind: "mint", tx: mint }] });
    expect(d0.exports).toEqual([]);
    expect(d0.imports).toEqual([]);
    expect(d0.shardRoot).toBeUndefined();
    expect(d0.shardEpoch).toBeUndefined();
    expect(codeOf(d0.outcomes[0]!)).toBe("applied");
    // A claim is a kind the single-shard ledger does not know: the whole payload applies as empty.
    const source = new CrossShardLedger({ chain: genesis.commitment, layout: shardLayoutOf(genesis), shard: 0, rootInterval: 1n });
    const leaf = source.splitOutputs(0n, new Uint8Array(32).fill(3), [{ amount: 5n, lockCommitment: lockOf(bob) }]).exports[0]!;
    const root = source.endAnchor(0n, new Uint8Array(32))!;
    const claim: ImportClaim = { cert: certify(root), leaf, proof: source.exportsWithProofs(0n)[0]!.proof };
    const bytes = encodeAnchorPayload({ txs: [{ kind: "mint", tx: mint }, { kind: "import", tx: claim }] });
    expect(decodeAnchorPayload(bytes).txs.map((t) => t.kind)).toEqual(["mint", "import"]);
    const withClaim = applyAnchorBytes(mem, params, 0n, bytes);
    const empty = applyAnchor(mem, params, 0n, { txs: [] });
    expect(withClaim).toEqual({ ...empty, payloadError: "CODEC_UNKNOWN_TAG" });
  }, T);

  test("a payload whose claim's certificate names a signer twice does not decode (CODEC_INVALID) and applies as empty", () => {
    const r = makeRig(1, 60);
    const source = new CrossShardLedger({ chain: genesis.commitment, layout: shardLayoutOf(genesis), shard: 0, rootInterval: 1n });
    const leaf = source.splitOutputs(0n, new Uint8Array(32).fill(4), [{ amount: 5_000n, lockCommitment: lockOf(bob) }]).exports[0]!;
    const root = source.endAnchor(0n, new Uint8Array(32))!;
    const claim: ImportClaim = { cert: certify(root), leaf, proof: source.exportsWithProofs(0n)[0]!.proof };
    const bytes = encodeAnchorPayload({ txs: [{ kind: "import", tx: claim }] });
    // The payload is 02 01 01 then the claim: 0b 01, the certificate 0a 01, its 144-byte root, the count, then (signer, signature) pairs.
    const firstSigner = 3 + 2 + 2 + 144 + 1;
    expect(bytes[firstSigner]).toBe(0);
    expect(bytes[firstSigner + 65]).toBe(1);
    const twice = bytes.slice();
    twice[firstSigner + 65] = 0;
    expect(thrownCode(() => decodeAnchorPayload(twice), CodecError, "none")).toBe("CODEC_INVALID");
    const d = applyAnchorBytes(r.sql, r.params, 0n, twice, contextAt(r, 0));
    expect(d.payloadError).toBe("CODEC_INVALID");
    expect(d.outcomes).toEqual([]);
    // The intact claim does decode and apply on shard 1.
    const ok = applyAnchorBytes(r.sql, r.params, 0n, bytes, contextAt(r, 0));
    expect(ok.outcomes.map(codeOf)).toEqual(["applied"]);
    r.sql.close();
  }, T);

  test("a store written before schema 6 opens, migrates and reports empty shard state", () => {
    const dir = tempDir();
    const db = new Database(join(dir, "phantom.sqlite"), { create: true, strict: true });
    migrate(db, MIGRATIONS.filter((m) => m.version <= 5));
    db.close();
    const store = new SqliteStore({ storeDir: dir, emission: testEmission, fsync: false });
    expect(store.shardSupply()).toEqual({ minted: 0n, exported: 0n, imported: 0n });
    expect(store.exportsOfEpoch(0n)).toEqual([]);
    expect(store.lastShardRoot()).toBeUndefined();
    expect(store.isImported(new Uint8Array(32))).toBe(false);
    expect(Number((store.db.query(`SELECT version FROM schema_version`).get() as { version: bigint }).version)).toBe(MIGRATIONS[MIGRATIONS.length - 1]!.version);
    store.close();
  }, T);
});
