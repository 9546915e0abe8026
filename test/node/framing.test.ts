// A Byzantine validator tries to frame honest ones on a running 4-validator network
// (validators 0..2 honest nodes with real engines, SQLite stores and timers; validator 3's
// key held by the test). It puts forged evidence into the payloads of its own events —
// a valid event reported as invalid, forged data-availability statements, offenses
// replayed under other evidence ids — and every honest node voids each one with the same
// code at the same anchor and position, records nothing against an honest validator, and
// ends in the same state. Its own real offenses (signed payload mismatches it served, an
// equivocation) are recorded once each, against it.
import { afterAll, expect, test } from "bun:test";
import { keyPairFromSeed, verify } from "../../src/crypto/ed25519.ts";
import { blake3_32 } from "../../src/crypto/hash.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { buildEventHeader } from "../../src/consensus/engine.ts";
import { daServeMessage, equivocationEvidence, signDaServe } from "../../src/consensus/slashing.ts";
import { evidenceId } from "../../src/ledger/evidence.ts";
import { decodeSignedEvent, encodeSignedEvent, signEvent, type SignedEvent } from "../../src/types/event.ts";
import { encodeAnchorPayload } from "../../src/types/payload.ts";
import type { Evidence } from "../../src/types/evidence.ts";
import { TestNet, stopAll, until, rogue, metricValue, applied, type TestNode } from "./harness.ts";

const nets: TestNet[] = [];
afterAll(() => nets.forEach((n) => n.cleanup()));

const evidenceRows = (n: TestNode) =>
  (n.store.db.query("SELECT kind, offender, anchor FROM evidence ORDER BY anchor, kind").all() as { kind: string; offender: number; anchor: bigint }[]).map((r) => ({ kind: r.kind, offender: Number(r.offender), anchor: BigInt(r.anchor) }));
const voidedRow = (n: TestNode, id: Uint8Array) =>
  n.store.db.query("SELECT anchor, position, code FROM voided WHERE kind = 'evidence' AND id = ?").get(id) as { anchor: bigint; position: bigint; code: string } | null;

test("framing attempts are refused identically on every honest node; real offenses are recorded once, against the offender", async () => {
  const net = new TestNet({ k: 4, devnetLabel: "framing-test", initialTargetBits: 8 });
  nets.push(net);
  const nodes = [0, 1, 2].map((i) => net.node(i, undefined, { txProposer: false }));
  const keys = net.seeds.map((s) => keyPairFromSeed(s));
  const target = nodes[0]!;
  for (const n of nodes) await n.node.start();
  try {
    await until(() => nodes.every((n) => applied(n) >= 5n));
    const attacker = rogue(target.node, net.genesis, 3, keys[3]!.publicKey);
    await until(() => target.node.peers.isConnected(3));
    // What node 0 serves, with its serve signatures: the attacker asks for everything.
    attacker.send({ kind: "sync_request", highestSeq: [-1, -1, -1, -1] });
    await until(() => attacker.got.some((m) => m.kind === "events"));
    const served = attacker.got.flatMap((m) => (m.kind === "events" ? m.items : []));

    const ref = (p: SignedEvent) => ({ id: p.id, lamport: p.header.lamport, round: target.node.engine.describe(p.id)?.round ?? 0 });
    const newestOf = (c: number) => target.store.eventsByCreatorFrom(c, target.node.engine.highestSeq()[c]!, 1)[0]!;
    /** Validator 3's next event carrying `evidence`, served with its own (honest) signature. */
    const carry = (seq: number, parents: SignedEvent[], evidence: Evidence[]) => {
      const payload = encodeAnchorPayload({ txs: evidence.map((tx) => ({ kind: "evidence" as const, tx })) });
      const event = signEvent(buildEventHeader({ shard: 0, creator: 3, seq, parents: parents.map(ref), payloadDigest: blake3_32(payload) }), keys[3]!.secretKey);
      attacker.send({ kind: "events", items: [{ event: encodeSignedEvent(event), payload, serveSignature: signDaServe(keys[3]!.secretKey, event.id, blake3_32(payload)) }] });
      return event;
    };

    // The framed event: a valid event of validator 1, with its signed parents.
    const h = target.store.eventsByCreatorFrom(1, 2, 1)[0]!;
    const hParents = h.header.parents.map((id) => target.store.getEvent(id)!);
    const wrong = new TextEncoder().encode("bytes nobody served");
    const wrongDigest = blake3_32(wrong);
    // Node 0's real signature over bytes that match: an honest statement about event s.
    const honestItem = served[0]!;
    const s = decodeSignedEvent(honestItem.event);
    // Validator 3 really forks at seq 9 (never gossiped, only shown in evidence).
    const forks = [1, 2, 3].map((n) => signEvent(buildEventHeader({ shard: 0, creator: 3, seq: 9, parents: [], payloadDigest: blake3_32(Uint8Array.of(n)) }), keys[3]!.secretKey));

    // Validator 3 serves validator 1's event with other bytes, under its own signature, in an
    // `events` item and in a `payload` answer (another event): node 0 turns each into
    // conflicting-DA evidence against 3 and carries it.
    attacker.send({ kind: "events", items: [{ event: encodeSignedEvent(h), payload: wrong, serveSignature: signDaServe(keys[3]!.secretKey, h.id, wrongDigest) }] });
    const h2 = target.store.eventsByCreatorFrom(2, 2, 1)[0]!;
    attacker.send({ kind: "payload", eventId: h2.id, payload: wrong, serveSignature: signDaServe(keys[3]!.secretKey, h2.id, wrongDigest) });
    // Node 0 answers get_payload with the event's bytes under its own serve signature.
    attacker.send({ kind: "get_payload", eventId: h2.id });
    await until(() => attacker.got.some((m) => m.kind === "payload"));
    const answer = attacker.got.find((m) => m.kind === "payload")!;
    if (answer.kind !== "payload") throw new Error("unreachable");
    expect(toHex(blake3_32(answer.payload))).toBe(toHex(h2.header.payloadDigest));
    expect(verify(answer.serveSignature, daServeMessage(h2.id, h2.header.payloadDigest), keys[0]!.publicKey)).toBe(true);

    const framing1: [Evidence, string][] = [
      [{ kind: "invalid_event", event: h, reason: "bad_lamport", parents: hParents }, "EVIDENCE_RULE_NOT_BROKEN"],
      [{ kind: "invalid_event", event: h, reason: "bad_seq", parents: hParents }, "EVIDENCE_RULE_NOT_BROKEN"],
      [{ kind: "invalid_event", event: h, reason: "bad_lamport", parents: hParents.slice(1) }, "EVIDENCE_INCOMPLETE"],
      [{ kind: "conflicting_da", event: h, servedDigest: wrongDigest, servedBy: 1, servedSignature: signDaServe(keys[3]!.secretKey, h.id, wrongDigest) }, "EVIDENCE_BAD_SIGNATURE"],
      [{ kind: "conflicting_da", event: h, servedDigest: wrongDigest, servedBy: 2, servedSignature: new Uint8Array(64) }, "EVIDENCE_BAD_SIGNATURE"],
      [{ kind: "conflicting_da", event: s, servedDigest: s.header.payloadDigest, servedBy: 0, servedSignature: honestItem.serveSignature }, "EVIDENCE_DIGEST_MATCHES"],
      [{ kind: "conflicting_da", event: s, servedDigest: wrongDigest, servedBy: 0, servedSignature: honestItem.serveSignature }, "EVIDENCE_BAD_SIGNATURE"],
      [equivocationEvidence(forks[0]!, forks[2]!), "EVIDENCE_DUPLICATE"], // same offense as the pair before it
    ];
    const genuineFork = equivocationEvidence(forks[0]!, forks[1]!);
    const a0 = carry(0, [newestOf(1)], [genuineFork, ...framing1.map(([e]) => e)]);

    const expectedRecords = [{ kind: "conflicting_da", offender: 3 }, { kind: "conflicting_da", offender: 3 }, { kind: "equivocation", offender: 3 }];
    const records = (n: TestNode) => evidenceRows(n).map(({ kind, offender }) => ({ kind, offender })).sort((x, y) => x.kind.localeCompare(y.kind));
    await until(() => nodes.every((n) => records(n).length === 3 && framing1.every(([e]) => voidedRow(n, evidenceId(e)) !== null)));

    // Both offenses again, under other evidence ids: other bytes for the same (server, event), another pair of the forks.
    const otherBytes = Uint8Array.of(1, 2, 3);
    const framing2: [Evidence, string][] = [
      [{ kind: "conflicting_da", event: h, servedDigest: blake3_32(otherBytes), servedBy: 3, servedSignature: signDaServe(keys[3]!.secretKey, h.id, blake3_32(otherBytes)) }, "EVIDENCE_DUPLICATE"],
      [equivocationEvidence(forks[1]!, forks[2]!), "EVIDENCE_DUPLICATE"],
    ];
    carry(1, [a0, newestOf(2)], framing2.map(([e]) => e));
    const all = [...framing1, ...framing2];
    await until(() => nodes.every((n) => all.every(([e]) => voidedRow(n, evidenceId(e)) !== null)));

    for (const n of nodes) {
      expect(all.map(([e]) => voidedRow(n, evidenceId(e))!.code)).toEqual(all.map(([, code]) => code));
      // Identically: the same anchor and position everywhere.
      expect(all.map(([e]) => voidedRow(n, evidenceId(e)))).toEqual(all.map(([e]) => voidedRow(target, evidenceId(e))));
      expect(records(n)).toEqual(expectedRecords);
      expect(evidenceRows(n)).toEqual(evidenceRows(target));
    }
    expect(await metricValue(target.registry, "pc_node_evidence_total", { kind: "conflicting_da" })).toBe(2);
    expect(target.node.peers.isConnected(3)).toBe(true); // two signed mismatches cost 40 of its 100 points
    // Finality goes on, and the honest nodes agree on the state.
    const at = applied(target) + 3n;
    await until(() => nodes.every((n) => applied(n) >= at));
    expect(new Set(nodes.map((n) => toHex(n.store.commitmentAt(at)!))).size).toBe(1);
    expect(new Set(nodes.map((n) => evidenceRows(n).length))).toEqual(new Set([3]));
  } finally {
    await stopAll(nodes);
  }
}, 120_000);
