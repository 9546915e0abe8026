// An equivocating validator is slashed to zero on every node, and consensus weighs it
// with stake 0 from round roundReceived(evidence anchor) + L on (SPEC_CONSENSUS §1a):
// every node switches at the same round, a node restarted from its shutdown snapshot and
// one restarted with a full replay derive the same weights, and finality goes on with the
// remaining stake in the same order everywhere.
import { afterAll, expect, test } from "bun:test";
import { keyPairFromSeed } from "../../src/crypto/ed25519.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { buildEventHeader } from "../../src/consensus/engine.ts";
import { encodeSignedEvent, signEvent, type SignedEvent } from "../../src/types/event.ts";
import { EMPTY_PAYLOAD_BYTES } from "../../src/types/payload.ts";
import { blake3_32 } from "../../src/crypto/hash.ts";
import { ChainIndex } from "../../src/store/chain-index.ts";
import { TestNet, stopAll, until, rogue, applied, type TestNode } from "./harness.ts";

const nets: TestNet[] = [];
afterAll(() => nets.forEach((n) => n.cleanup()));

test("a slashed equivocator loses its consensus weight at the same round on every node, also after a restart", async () => {
  const net = new TestNet({ k: 4, devnetLabel: "stake-weights-test", initialTargetBits: 8 });
  nets.push(net);
  const genesis = net.genesis;
  const keys = net.seeds.map((s) => keyPairFromSeed(s));
  const nodes: TestNode[] = [0, 1, 2].map((i) => net.node(i, undefined, { txProposer: false }));
  for (const n of nodes) await n.node.start();
  const L = genesis.horizonRounds;
  const stake = genesis.validators[3]!.stake;
  try {
    await until(() => nodes.every((n) => applied(n) >= 5n));
    const target = nodes[0]!;
    const attacker = rogue(target.node, genesis, 3, keys[3]!.publicKey);
    await until(() => target.node.peers.isConnected(3));
    const other = target.store.eventsByCreatorFrom(1, 0, 1)[0]!;
    const fork = (parents: SignedEvent[]) =>
      signEvent(buildEventHeader({ shard: 0, creator: 3, seq: 0, parents: parents.map((p) => ({ id: p.id, lamport: p.header.lamport, round: target.node.engine.describe(p.id)?.round ?? 0 })), payloadDigest: blake3_32(EMPTY_PAYLOAD_BYTES) }), keys[3]!.secretKey);
    attacker.send({ kind: "events", items: [fork([]), fork([other])].map((e) => ({ event: encodeSignedEvent(e), payload: EMPTY_PAYLOAD_BYTES, serveSignature: new Uint8Array(64) })) });

    // Slashed to zero on every node, at one anchor.
    await until(() => nodes.every((n) => n.store.slashes(10).length > 0), 90_000);
    const anchors = new Set(nodes.map((n) => n.store.slashes(10)[0]!.anchorIndex));
    expect(anchors.size).toBe(1);
    const anchor = [...anchors][0]!;
    for (const n of nodes) expect(n.store.stakeTable()[3]!.stakeUnits).toBe(0n);
    const received = new ChainIndex(target.store).anchor(anchor)!.round;
    const boundary = received + L;

    // Every node decides past the boundary (with 3 of 4 genesis stakes, then 3 of 3).
    await until(() => nodes.every((n) => n.node.engine.stats().lastDecidedRound > boundary + 2), 150_000);
    const q = (total: bigint) => Number((2n * total) / 3n + 1n);
    const total = genesis.validators.reduce((a, v) => a + v.stake, 0n);
    const weightsAt = (n: TestNode) => ({
      below: { s3: n.node.engine.weightsForRound(boundary - 1)?.stake[3], quorum: n.node.engine.weightsForRound(boundary - 1)?.quorum },
      at: { s3: n.node.engine.weightsForRound(boundary)?.stake[3], quorum: n.node.engine.weightsForRound(boundary)?.quorum },
    });
    const expected = { below: { s3: Number(stake), quorum: q(total) }, at: { s3: 0, quorum: q(total - stake) } };
    for (const n of nodes) expect(weightsAt(n)).toEqual(expected);

    // Restarted from its shutdown snapshot (taken after the slashing anchor), node 2 has the
    // same weights: the snapshot carries the engine's stake reports and the stake feed
    // resumes from the store's slash records.
    const weightsAround = (n: TestNode) => {
      const out: (string | undefined)[] = [];
      for (let r = boundary - 3; r <= boundary + 3; r++) {
        const w = n.node.engine.weightsForRound(r);
        out.push(w === undefined ? undefined : `${Array.from(w.stake).join(",")}/${w.quorum}`);
      }
      return out;
    };
    const reference = weightsAround(nodes[0]!);
    expect(reference.every((w) => w !== undefined)).toBe(true);
    await stopAll([nodes[2]!]);
    const lines: Record<string, unknown>[] = [];
    const log = (l: Record<string, unknown>) => void lines.push(l);
    nodes[2] = net.node(2, nodes[2]!.dir, { txProposer: false, log });
    await nodes[2]!.node.start();
    expect(lines.find((l) => l.type === "snapshot_ignored")).toBeUndefined();
    expect(lines.find((l) => l.type === "store_replayed")?.fromSnapshot).toBe(true);
    expect(weightsAt(nodes[2]!)).toEqual(expected);
    expect(weightsAround(nodes[2]!)).toEqual(reference);
    const fromSnapshot = nodes[2]!.node.engine.stats();

    // Restarted again with its snapshots deleted (full replay), it derives the same weights
    // (penalties from the store's slash records) and the same engine position.
    await stopAll([nodes[2]!]);
    const before = applied(nodes[2]!);
    lines.length = 0;
    nodes[2] = net.node(2, nodes[2]!.dir, { txProposer: false, log });
    nodes[2]!.store.db.exec("DELETE FROM snapshots");
    await nodes[2]!.node.start();
    expect(lines.find((l) => l.type === "store_replayed")?.fromSnapshot).toBe(false);
    expect(weightsAt(nodes[2]!)).toEqual(expected);
    expect(weightsAround(nodes[2]!)).toEqual(reference);
    expect(nodes[2]!.node.engine.stats().finalizedCount).toBeGreaterThanOrEqual(fromSnapshot.finalizedCount);

    // Finality goes on with the remaining stake, and the nodes agree on the state.
    await until(() => applied(nodes[2]!) >= before + 5n, 90_000);
    const at = applied(nodes[2]!);
    await until(() => nodes.every((n) => applied(n) >= at), 90_000);
    expect(new Set(nodes.map((n) => toHex(n.store.commitmentAt(at)!))).size).toBe(1);
    // The same order on every node, through the slashing anchor and past the weight boundary.
    const orderOf = (n: TestNode) => {
      const index = new ChainIndex(n.store);
      const ids: string[] = [];
      for (let a = 0n; a <= at; a++) ids.push(toHex(index.anchor(a)!.eventId));
      return ids.join(" ");
    };
    expect(new Set(nodes.map(orderOf)).size).toBe(1);
  } finally {
    await stopAll(nodes);
  }
}, 300_000);
