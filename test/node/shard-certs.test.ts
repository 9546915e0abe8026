// Root signatures and certificates of a shard (src/node/shard-certs.ts, docs/P2P.md
// `root_signature`): bad input is refused with its code and counted, a quorum of valid
// signatures over the node's own root gives a certificate that verifies, and everything
// survives reopening the SQLite file.
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { keyPairFromSeed } from "../../src/crypto/ed25519.ts";
import { shardLayout } from "../../src/ledger/shard.ts";
import { signShardRoot, verifyShardCertificate, type ShardRoot } from "../../src/ledger/shard-root.ts";
import { ShardCerts, createShardMetrics, SHARD_SIG_EPOCHS_AHEAD_MAX } from "../../src/node/shard-certs.ts";
import { decodeMessage, encodeMessage } from "../../src/net/p2p/messages.ts";

const dir = mkdtempSync(join(tmpdir(), "phantom-shard-certs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const chain = new Uint8Array(32).fill(7);
const keys = Array.from({ length: 8 }, (_, i) => keyPairFromSeed(new Uint8Array(32).fill(i + 1)));
// Two shards of four: validators 0-3 on shard 0, 4-7 on shard 1.
const layout = shardLayout(2, keys.map((k, i) => ({ publicKey: k.publicKey, stake: 1000n, shard: Math.floor(i / 4) })));
const root = (epoch: bigint, state = 1): ShardRoot => ({
  chain, shard: 0, epoch, stateCommitment: new Uint8Array(32).fill(state), exportRoot: new Uint8Array(32), exportCount: 0, prevRoot: new Uint8Array(32),
});

function node(file: string, myIndex: number) {
  const registry = new Registry();
  const metrics = createShardMetrics(registry);
  const db = new Database(join(dir, file));
  const certs = new ShardCerts({ db, chain, shard: 0, layout, myIndex, secretKey: keys[myIndex]!.secretKey, metrics });
  const count = async (outcome: string) => {
    const m = (await registry.getSingleMetric("pc_shard_root_signatures_total")!.get()).values.find((v) => v.labels.outcome === outcome);
    return m?.value ?? 0;
  };
  return { db, certs, registry, count };
}

describe("root signatures", () => {
  test("a truncated root_signature message is a typed codec error", () => {
    const sig = signShardRoot(root(0n), 1, keys[1]!.secretKey);
    const bytes = encodeMessage({ kind: "root_signature", root: root(0n), ...sig });
    expect(decodeMessage(bytes)).toMatchObject({ kind: "root_signature", signer: 1 });
    for (const cut of [1, 20, 146, bytes.length - 1]) {
      expect(() => decodeMessage(bytes.subarray(0, cut))).toThrow(expect.objectContaining({ code: expect.stringMatching(/^CODEC_/) }));
    }
    // A non-canonical root (epoch 0 with a previous root) is refused by the decoder too.
    const bad = encodeMessage({ kind: "root_signature", root: { ...root(1n), prevRoot: new Uint8Array(32).fill(9) }, ...sig });
    bad.set(new Uint8Array(8), 1 + 2 + 32 + 2); // epoch := 0
    expect(() => decodeMessage(bad)).toThrow(expect.objectContaining({ code: "CODEC_INVALID" }));
  });

  test("wrong shard, wrong chain, unknown signer, bad signature, duplicate and far-ahead epochs are refused and counted", async () => {
    const n = node("refuse.sqlite", 0);
    n.certs.ownRoot(root(0n));
    const good = signShardRoot(root(0n), 1, keys[1]!.secretKey);
    expect(n.certs.receive({ root: root(0n), ...good })).toMatchObject({ ok: true, certified: null });
    expect(n.certs.receive({ root: root(0n), ...good })).toMatchObject({ ok: false, code: "SHARD_SIG_DUPLICATE" });
    const other = { ...root(0n), shard: 1 };
    expect(n.certs.receive({ root: other, ...signShardRoot(other, 1, keys[5]!.secretKey) })).toMatchObject({ ok: false, code: "SHARD_CERT_WRONG_SHARD" });
    const foreign = { ...root(0n), chain: new Uint8Array(32).fill(8) };
    expect(n.certs.receive({ root: foreign, ...signShardRoot(foreign, 2, keys[2]!.secretKey) })).toMatchObject({ ok: false, code: "SHARD_CERT_WRONG_CHAIN" });
    expect(n.certs.receive({ root: root(0n), signer: 4, signature: signShardRoot(root(0n), 4, keys[4]!.secretKey).signature })).toMatchObject({ ok: false, code: "SHARD_CERT_UNKNOWN_SIGNER" });
    // Validator 2's index with validator 3's key: does not verify.
    expect(n.certs.receive({ root: root(0n), signer: 2, signature: signShardRoot(root(0n), 3, keys[3]!.secretKey).signature })).toMatchObject({ ok: false, code: "SHARD_CERT_BAD_SIGNATURE" });
    const far = root(SHARD_SIG_EPOCHS_AHEAD_MAX + 1n);
    expect(n.certs.receive({ root: far, ...signShardRoot(far, 2, keys[2]!.secretKey) })).toMatchObject({ ok: false, code: "SHARD_SIG_EPOCH_AHEAD" });
    // Nothing refused was stored: one more valid signature (stake 3/4 > 2/3) certifies.
    expect(n.certs.store.certificateCount()).toBe(0);
    for (const code of ["SHARD_SIG_DUPLICATE", "SHARD_CERT_WRONG_SHARD", "SHARD_CERT_WRONG_CHAIN", "SHARD_CERT_UNKNOWN_SIGNER", "SHARD_CERT_BAD_SIGNATURE", "SHARD_SIG_EPOCH_AHEAD"]) {
      expect(await n.count(code)).toBe(1);
    }
    expect(await n.count("accepted")).toBe(1);
    n.db.close();
  });

  test("a quorum over the node's own root gives a certificate that verifies; a different root never counts; it survives a reopen", () => {
    const n = node("quorum.sqlite", 3);
    // Signatures that arrive before the node computed its own root are kept.
    expect(n.certs.receive({ root: root(4n), ...signShardRoot(root(4n), 0, keys[0]!.secretKey) })).toMatchObject({ ok: true, certified: null });
    // Validator 1 signed a different root for epoch 4: kept, never counted for ours.
    expect(n.certs.receive({ root: root(4n, 2), ...signShardRoot(root(4n, 2), 1, keys[1]!.secretKey) })).toMatchObject({ ok: true, certified: null });
    const mine = n.certs.ownRoot(root(4n));
    expect(mine.certified).toBeNull(); // 0 and 3: 2000 of 4000 < q = 2667
    expect(decodeMessage(encodeMessage(mine.message))).toEqual(mine.message);
    const third = n.certs.receive({ root: root(4n), ...signShardRoot(root(4n), 2, keys[2]!.secretKey) });
    expect(third.ok).toBe(true);
    const cert = third.ok ? third.certified : null;
    expect(cert).not.toBeNull();
    expect(cert!.signatures.map((s) => s.signer)).toEqual([0, 2, 3]);
    expect(verifyShardCertificate(cert!, { chain, layout, expectShard: 0 }).signedStake).toBe(3000n);
    // A late signature for a certified epoch: accepted, no second certificate, flagged late.
    expect(n.certs.receive({ root: root(4n), ...signShardRoot(root(4n), 1, keys[1]!.secretKey) })).toMatchObject({ ok: true, certified: null, lateEpoch: true });
    expect(n.certs.store.certificateCount()).toBe(1);
    // A second own call (a replay after restart) signs nothing new and returns the same signature.
    expect(n.certs.ownRoot(root(4n)).message.signature).toEqual(mine.message.signature);
    n.db.close();
    const again = node("quorum.sqlite", 3);
    expect(again.certs.store.shardCertificate(4n)).toEqual(cert!);
    expect(again.certs.store.lastCertifiedEpoch()).toBe(4n);
    expect(again.certs.ownSignatureMessage(4n)?.signature).toEqual(mine.message.signature);
    again.db.close();
  });
});
