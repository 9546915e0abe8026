// Root signatures inside a running shard (in-process validators on the memory transport,
// real engines and stores): three honest validators of shard 0 of a 2-shard genesis sign
// every epoch root, gossip the signatures and certify each epoch (3 of 4 stake ≥ q); a
// committee member's connection that sends a truncated root_signature, one for the other
// shard, one with a bad signature and a duplicate is counted by code and scored, and the
// shard keeps finalizing and certifying.
import { afterAll, describe, expect, test } from "bun:test";
import { keyPairFromSeed } from "../../src/crypto/ed25519.ts";
import { genesisForShard } from "../../src/genesis/genesis.ts";
import { encodeMessage, frame } from "../../src/net/p2p/messages.ts";
import { signShardRoot } from "../../src/ledger/shard-root.ts";
import { TestNet, stopAll, until, rogue, metricValue, applied } from "./harness.ts";

const nets: TestNet[] = [];
afterAll(() => nets.forEach((n) => n.cleanup()));

describe("a shard's validators", () => {
  test("certify their epochs from gossiped root signatures; bad root signatures are refused by code and scored", async () => {
    const net = new TestNet({ k: 4, shards: 2, devnetLabel: "shard-node-test", initialTargetBits: 8, shardRootInterval: 2n });
    nets.push(net);
    const view = genesisForShard(net.genesis, 0);
    const nodes = [0, 1, 2].map((i) => net.node(i, undefined, { txProposer: false, genesis: view }));
    const keys = net.seeds.map((s) => keyPairFromSeed(s));
    for (const n of nodes) await n.node.start();
    const target = nodes[0]!;
    const certified = () => target.node.shardSide!.certs.store.lastCertifiedEpoch();
    try {
      expect(target.node.shardSide).not.toBeNull();
      await until(() => nodes.every((n) => n.node.shardSide!.certs.store.lastCertifiedEpoch() >= 2n));
      // Every honest validator assembled the same certificate of epoch 1, signed by the three of them.
      const certs = nodes.map((n) => n.node.shardSide!.certs.store.shardCertificate(1n)!);
      for (const c of certs) expect(c.signatures.length).toBe(3);
      expect(new Set(certs.map((c) => JSON.stringify(c.root, (_, v) => (typeof v === "bigint" ? v.toString() : v)))).size).toBe(1);

      const attacker = rogue(target.node, view, 3, keys[3]!.publicKey);
      await until(() => target.node.peers.isConnected(3));
      // On connect the node sends its newest own root signatures.
      await until(() => attacker.got.some((m) => m.kind === "root_signature" && m.signer === 0));
      const root = target.store.shardRoot(1n)!;
      const count = (outcome: string) => metricValue(target.registry, "pc_shard_root_signatures_total", { outcome });
      const good = { kind: "root_signature" as const, root, ...signShardRoot(root, 3, keys[3]!.secretKey) };
      // Truncated: a codec error, scored as malformed.
      attacker.raw(frame(encodeMessage(good).subarray(0, 100)));
      // Another shard's root (validator 3 of shard 1 is genesis validator 7).
      const other = { ...root, shard: 1 };
      attacker.send({ kind: "root_signature", root: other, ...signShardRoot(other, 3, keys[7]!.secretKey) });
      // Validator 3's index with validator 2's signature.
      attacker.send({ kind: "root_signature", root, signer: 3, signature: signShardRoot(root, 2, keys[2]!.secretKey).signature });
      // Valid, then the same again.
      attacker.send(good);
      attacker.send(good);
      const before = certified();
      const outcomes = async () => ({
        truncated: await metricValue(target.registry, "pc_p2p_errors_total", { code: "CODEC_TRUNCATED" }),
        wrongShard: await count("SHARD_CERT_WRONG_SHARD"), badSignature: await count("SHARD_CERT_BAD_SIGNATURE"), duplicate: await count("SHARD_SIG_DUPLICATE"),
      });
      const deadline = performance.now() + 30_000;
      while (JSON.stringify(await outcomes()) !== JSON.stringify({ truncated: 1, wrongShard: 1, badSignature: 1, duplicate: 1 }) && performance.now() < deadline) await Bun.sleep(20);
      expect(await outcomes()).toEqual({ truncated: 1, wrongShard: 1, badSignature: 1, duplicate: 1 });
      // Scored (25 + 20 + 20) but not banned; the valid signature was kept.
      expect(attacker.closed()).toBeNull();
      expect(target.node.peers.info().find((p) => p.validator === 3)?.score).toBe(65);
      expect(target.node.shardSide!.certs.store.signatures(1n).map((s) => s.signer)).toEqual([0, 1, 2, 3]);
      // The shard keeps finalizing and certifying.
      const at = applied(target);
      await until(() => applied(target) >= at + 6n && certified() > before);
    } finally {
      await stopAll(nodes);
    }
  }, 120_000);

  test("a restarted validator keeps its signatures and certificates, signs no epoch twice, and the shard certifies on", async () => {
    const net = new TestNet({ k: 4, shards: 2, devnetLabel: "shard-node-restart", initialTargetBits: 8, shardRootInterval: 2n });
    nets.push(net);
    // Shard 1 this time: its validators are genesis validators 4..7, indexes 0..3 in the view.
    const view = genesisForShard(net.genesis, 1);
    const nodes = [0, 1, 2].map((i) => net.node(i, undefined, { txProposer: false, genesis: view }));
    for (const n of nodes) await n.node.start();
    const certified = (n: (typeof nodes)[number]) => n.node.shardSide!.certs.store.lastCertifiedEpoch();
    try {
      await until(() => nodes.every((n) => certified(n) >= 3n));
      const old = nodes[2]!;
      const ownBefore = old.node.shardSide!.certs.store.ownLastEpoch(2);
      const certsBefore = old.node.shardSide!.certs.store.certificateCount();
      await old.node.stop();
      old.store.close();
      // Without it two of four cannot finalize; restarted on the same store it resumes.
      nodes[2] = net.node(2, old.dir, { txProposer: false, genesis: view });
      const again = nodes[2]!;
      expect(again.node.shardSide!.certs.store.certificateCount()).toBe(certsBefore);
      expect(again.node.shardSide!.certs.store.ownLastEpoch(2)).toBe(ownBefore);
      await again.node.start();
      await until(() => certified(again) >= ownBefore + 3n && certified(nodes[0]!) >= ownBefore + 3n);
      // Signed after the restart: only epochs it had not signed before (each once).
      const signedNow = await metricValue(again.registry, "pc_shard_roots_signed_total");
      const ownNow = again.node.shardSide!.certs.store.ownLastEpoch(2);
      expect(signedNow).toBeLessThanOrEqual(Number(ownNow - ownBefore));
      expect(signedNow).toBeGreaterThan(0);
      for (let e = 0n; e <= ownNow; e++) expect(again.node.shardSide!.certs.store.signatures(e).filter((x) => x.signer === 2).length).toBeLessThanOrEqual(1);
    } finally {
      await stopAll(nodes);
    }
  }, 120_000);
});
