// Bad input from the network: a committee member's connection sends garbage frames,
// events with bad signatures, payloads that do not match their digest, duplicates and
// children before their parents. The node counts each by its typed code, bans the
// peer when its score is spent, keeps finalizing with the honest validators, and its
// committed anchors are untouched.
import { afterAll, describe, expect, test } from "bun:test";
import { keyPairFromSeed } from "../../src/crypto/ed25519.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { frame } from "../../src/net/p2p/messages.ts";
import { buildEventHeader } from "../../src/consensus/engine.ts";
import { encodeSignedEvent, signEvent, type SignedEvent } from "../../src/types/event.ts";
import { EMPTY_PAYLOAD_BYTES } from "../../src/types/payload.ts";
import { blake3_32 } from "../../src/crypto/hash.ts";
import { TestNet, stopAll, until, rogue, metricValue } from "./harness.ts";

const nets: TestNet[] = [];
afterAll(() => nets.forEach((n) => n.cleanup()));

/** Validators 0..2 run as honest nodes; validator 3's key is held by the test (the attacker). */
function honestNetwork(label: string) {
  const net = new TestNet({ k: 4, devnetLabel: label, initialTargetBits: 8 });
  nets.push(net);
  const nodes = [0, 1, 2].map((i) => net.node(i, undefined, { txProposer: false }));
  return { genesis: net.genesis, keys: net.seeds.map((s) => keyPairFromSeed(s)), registries: nodes.map((n) => n.registry), nodes };
}

describe("bad network input", () => {
  test("is counted by code, bans the sender, and never stops finality", async () => {
    const { genesis, keys, registries, nodes } = honestNetwork("bad-input-test");
    for (const n of nodes) await n.node.start();
    const target = nodes[0]!;
    const applied = () => target.store.lastApplied()?.anchorIndex ?? -1n;
    try {
      // Three honest validators hold 3/4 of the stake: finality needs all of them.
      await until(() => applied() >= 10n);
      const committedBefore = applied();
      const rootBefore = toHex(target.store.commitmentAt(committedBefore)!);
      const attacker = rogue(target.node, genesis, 3, keys[3]!.publicKey);
      await until(() => target.node.peers.isConnected(3));

      const head = (seq: number, parents: SignedEvent[], digest = blake3_32(EMPTY_PAYLOAD_BYTES)) =>
        signEvent(buildEventHeader({ shard: 0, creator: 3, seq, parents: parents.map((p) => ({ id: p.id, lamport: p.header.lamport, round: target.node.engine.describe(p.id)?.round ?? 0 })), payloadDigest: digest }), keys[3]!.secretKey);
      const e0 = head(0, []);
      const e1 = head(1, [e0, target.store.eventsByCreatorFrom(1, 0, 1)[0]!]);
      // Served without a signature: a mismatch among them proves nothing (peer score only).
      const item = (e: SignedEvent, payload = EMPTY_PAYLOAD_BYTES) => ({ event: encodeSignedEvent(e), payload, serveSignature: new Uint8Array(64) });

      // Child before parent (reordered): buffered as an orphan, then accepted with its parent.
      attacker.send({ kind: "events", items: [item(e1)] });
      attacker.send({ kind: "events", items: [item(e0)] });
      await until(() => target.node.engine.getEvent(e1.id) !== undefined);
      // Duplicate: ignored, not punished.
      attacker.send({ kind: "events", items: [item(e0), item(e1)] });
      // Payload that does not hash to the signed digest.
      attacker.send({ kind: "events", items: [item(head(2, [e1]), new Uint8Array([9, 9, 9]))] });
      // Bad signature.
      const forged = head(2, [e1]);
      forged.signature[0]! ^= 1;
      attacker.send({ kind: "events", items: [item(forged)] });
      // Truncated event bytes.
      attacker.send({ kind: "events", items: [{ event: encodeSignedEvent(head(2, [e1])).subarray(0, 40), payload: EMPTY_PAYLOAD_BYTES, serveSignature: new Uint8Array(64) }] });
      await until(() => attacker.closed() !== null || target.node.peers.isConnected(3) === false, 10_000).catch(() => {});
      // Garbage frames until the score runs out.
      for (let i = 0; i < 8 && attacker.closed() === null; i++) attacker.raw(frame(new Uint8Array([0xee, i])));
      await until(() => attacker.closed() !== null);

      const reg = registries[0]!;
      expect(await metricValue(reg, "pc_node_events_rejected_total", { code: "EVENT_PAYLOAD_MISMATCH" })).toBeGreaterThanOrEqual(1);
      expect(await metricValue(reg, "pc_node_events_rejected_total", { code: "EVENT_BAD_SIGNATURE" })).toBeGreaterThanOrEqual(1);
      expect(await metricValue(reg, "pc_node_events_rejected_total", { code: "CODEC_TRUNCATED" })).toBeGreaterThanOrEqual(1);
      expect(await metricValue(reg, "pc_p2p_errors_total", { code: "CODEC_UNKNOWN_TAG" })).toBeGreaterThanOrEqual(1);
      expect(await metricValue(reg, "pc_p2p_bans_total")).toBe(1);
      // A banned validator cannot come straight back.
      const again = rogue(target.node, genesis, 3, keys[3]!.publicKey);
      await until(() => again.closed() !== null);

      // Finality goes on with the honest validators, and nothing committed changed.
      await until(() => applied() >= committedBefore + 10n);
      expect(toHex(target.store.commitmentAt(committedBefore)!)).toBe(rootBefore);
      const at = applied();
      await until(() => (nodes[1]!.store.lastApplied()?.anchorIndex ?? -1n) >= at);
      expect(toHex(nodes[1]!.store.commitmentAt(at)!)).toBe(toHex(target.store.commitmentAt(at)!));
    } finally {
      await stopAll(nodes);
    }
  }, 120_000);

  test("an equivocating validator is caught: the evidence goes on chain at every honest node", async () => {
    const { genesis, keys, registries, nodes } = honestNetwork("equivocation-test");
    for (const n of nodes) await n.node.start();
    const target = nodes[0]!;
    try {
      await until(() => nodes.every((n) => (n.store.lastApplied()?.anchorIndex ?? -1n) >= 5n));
      const attacker = rogue(target.node, genesis, 3, keys[3]!.publicKey);
      await until(() => target.node.peers.isConnected(3));
      // Two signed events with seq 0 by validator 3: one without parents, one linked to validator 1.
      const other = target.store.eventsByCreatorFrom(1, 0, 1)[0]!;
      const fork = (parents: SignedEvent[]) =>
        signEvent(buildEventHeader({ shard: 0, creator: 3, seq: 0, parents: parents.map((p) => ({ id: p.id, lamport: p.header.lamport, round: target.node.engine.describe(p.id)?.round ?? 0 })), payloadDigest: blake3_32(EMPTY_PAYLOAD_BYTES) }), keys[3]!.secretKey);
      const [a, b] = [fork([]), fork([other])];
      attacker.send({ kind: "events", items: [a, b].map((e) => ({ event: encodeSignedEvent(e), payload: EMPTY_PAYLOAD_BYTES, serveSignature: new Uint8Array(64) })) });
      const evidenceRows = (n: (typeof nodes)[number]) => (n.store.db.query("SELECT COUNT(*) AS n FROM evidence WHERE offender = 3 AND kind = 'equivocation'").get() as { n: bigint }).n;
      await until(() => nodes.every((n) => evidenceRows(n) === 1n));
      expect(await metricValue(registries[0]!, "pc_node_evidence_total", { kind: "equivocation" })).toBeGreaterThanOrEqual(1);
      // Finality goes on, and the honest nodes agree on the state that records it.
      const at = target.store.lastApplied()!.anchorIndex + 5n;
      await until(() => nodes.every((n) => (n.store.lastApplied()?.anchorIndex ?? -1n) >= at));
      expect(new Set(nodes.map((n) => toHex(n.store.commitmentAt(at)!))).size).toBe(1);
    } finally {
      await stopAll(nodes);
    }
  }, 120_000);
});
