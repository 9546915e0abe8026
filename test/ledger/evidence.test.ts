// Evidence in the ledger path (SPEC_SLASHING §3–§4): the ledger runs the full verifier on
// each evidence transaction of an anchor and records each offense once. A Byzantine
// accuser's framing attempts against honest validators — a valid event reported as
// invalid, a forged data-availability statement, a replayed offense — are void with the
// verifier's code, and the evidence records stay as they were.
import { describe, expect, test } from "bun:test";
import { MemoryLedgerStore } from "../../src/ledger/memory-store.ts";
import { applyAnchor, type LedgerParams } from "../../src/ledger/apply.ts";
import { evidenceId, offenseId } from "../../src/ledger/evidence.ts";
import type { AnchorDiff } from "../../src/ledger/state.ts";
import type { PayloadTx } from "../../src/types/payload.ts";
import { type Evidence, type InvalidEventReason, INVALID_EVENT_REASONS, decodeEvidence } from "../../src/types/evidence.ts";
import type { SignedEvent } from "../../src/types/event.ts";
import { daServeMessage, equivocationEvidence, signDaServe } from "../../src/consensus/slashing.ts";
import { concatBytes, equalBytes, toHex } from "../../src/crypto/bytes.ts";
import { blake3_32 } from "../../src/crypto/hash.ts";
import { keyPairFromSeed, sign } from "../../src/crypto/ed25519.ts";
import { blake3 as nobleBlake3 } from "@noble/hashes/blake3.js";
import { ed25519 as nobleEd25519 } from "@noble/curves/ed25519.js";
import { committeeKeys, DagBuilder, signed } from "../consensus/tools-fixtures.ts";
import { testParams } from "./fixtures.ts";

const KEYS = committeeKeys(4, "ledger-evidence");
const params: LedgerParams = { ...testParams(), committee: KEYS.map((k) => k.publicKey), evidenceRules: { shardCount: 1, parentsMax: 4 } };

// An honest DAG: 0 and 1 start, 2 links both, 3 links 2, then 0 and 1 go on.
const dag = new DagBuilder(KEYS);
const e0 = dag.add(0);
const e1 = dag.add(1, e0);
const e2 = dag.add(2, e0, e1);
const e3 = dag.add(3, e2);
const e0b = dag.add(0, e3);
const e1b = dag.add(1, e0b);
const honest = [e1, e2, e3, e0b, e1b];
const parentsOf = (e: SignedEvent): SignedEvent[] => e.header.parents.map((p) => dag.events.find((x) => equalBytes(x.id, p))!);

function ledger() {
  const mem = new MemoryLedgerStore(params.emission);
  const step = (evidence: Evidence[]): AnchorDiff => {
    const next = mem.lastApplied() ? mem.lastApplied()!.anchorIndex + 1n : 0n;
    const diff = applyAnchor(mem, params, next, { txs: evidence.map((tx): PayloadTx => ({ kind: "evidence", tx })) });
    mem.commitAnchor(diff);
    return diff;
  };
  return { mem, step };
}

const codes = (d: AnchorDiff) => d.outcomes.map((o) => (o.applied ? "ok" : o.code));
const da = (event: SignedEvent, servedBytes: Uint8Array, servedBy: number, signer = servedBy): Evidence => {
  const servedDigest = blake3_32(servedBytes);
  return { kind: "conflicting_da", event, servedDigest, servedBy, servedSignature: signDaServe(KEYS[signer]!.secretKey, event.id, servedDigest) };
};

describe("a valid event reported as invalid", () => {
  test("every reason against every honest event, with all its parents, is EVIDENCE_RULE_NOT_BROKEN", () => {
    const { mem, step } = ledger();
    const attempts = honest.flatMap((e) => INVALID_EVENT_REASONS.map((reason): Evidence => ({ kind: "invalid_event", event: e, reason, parents: parentsOf(e) })));
    const d = step(attempts);
    expect(new Set(codes(d))).toEqual(new Set(["EVIDENCE_RULE_NOT_BROKEN"]));
    expect(d.evidence).toEqual([]);
    expect(honest.every((e) => !mem.hasEvidence(offenseId(`invalid_event/${toHex(e.id)}`)))).toBe(true);
  });

  test("a rule that the included parents cannot decide is EVIDENCE_INCOMPLETE, never a slash", () => {
    const { step } = ledger();
    // Leaving out a parent makes the Lamport and seq rules undecidable: the accuser cannot hide the parents that clear the event.
    const d = step([
      { kind: "invalid_event", event: e2, reason: "bad_lamport", parents: [e0] },
      { kind: "invalid_event", event: e0b, reason: "bad_seq", parents: [] },
      { kind: "invalid_event", event: e0b, reason: "missing_cross_link", parents: [] },
      { kind: "invalid_event", event: e0b, reason: "bad_shard", parents: [] },
    ]);
    expect(codes(d)).toEqual(["EVIDENCE_INCOMPLETE", "EVIDENCE_INCOMPLETE", "EVIDENCE_INCOMPLETE", "EVIDENCE_INCOMPLETE"]);
    expect(d.evidence).toEqual([]);
  });

  test("parents the accuser made up are refused: not signed, not referenced", () => {
    const { step } = ledger();
    const fakeLamport = { ...e1, header: { ...e1.header, lamport: 7 } }; // claims a higher Lamport under e1's signature
    const twin = signed(KEYS, { ...e1.header, lamport: 7 }); // really signed by 1, but a different event than e2's parent
    const d = step([
      { kind: "invalid_event", event: e2, reason: "bad_lamport", parents: [e0, fakeLamport] },
      { kind: "invalid_event", event: e2, reason: "bad_lamport", parents: [e0, twin] },
    ]);
    expect(codes(d)).toEqual(["EVIDENCE_BAD_SIGNATURE", "EVIDENCE_PARENT_NOT_REFERENCED"]);
  });

  test("a really invalid event is recorded against its creator, keyed by its offense", () => {
    const { mem, step } = ledger();
    const bad = signed(KEYS, { creator: 1, seq: 1, parents: [e1.id, e3.id], parentRounds: e1b.header.parentRounds, lamport: 2 });
    const d = step([{ kind: "invalid_event", event: bad, reason: "bad_lamport", parents: [e1, e3] }]);
    expect(codes(d)).toEqual(["ok"]);
    expect(d.evidence).toHaveLength(1);
    expect(d.evidence[0]).toMatchObject({ kind: "invalid_event", offender: 1 });
    expect(toHex(d.evidence[0]!.id)).toBe(toHex(offenseId(`invalid_event/${toHex(bad.id)}`)));
    expect(mem.hasEvidence(offenseId(`invalid_event/${toHex(bad.id)}`))).toBe(true);
  });
});

describe("a forged data-availability statement", () => {
  const wrongBytes = new TextEncoder().encode("bytes validator 2 never served");

  test("without the server's signature, or signed by someone else, is EVIDENCE_BAD_SIGNATURE", () => {
    const { step } = ledger();
    const genuine = da(e1, wrongBytes, 2);
    const d = step([
      { ...genuine, servedSignature: new Uint8Array(64) } as Evidence, // no signature at all
      da(e1, wrongBytes, 2, 3), // the accuser (3) signs in 2's name
      { ...genuine, servedSignature: sign(KEYS[2]!.secretKey, e1.id) } as Evidence, // 2's signature over another message
      { ...genuine, event: e0 } as Evidence, // 2's statement about e1 moved to e0
    ]);
    expect(codes(d)).toEqual(["EVIDENCE_BAD_SIGNATURE", "EVIDENCE_BAD_SIGNATURE", "EVIDENCE_BAD_SIGNATURE", "EVIDENCE_BAD_SIGNATURE"]);
    expect(d.evidence).toEqual([]);
  });

  test("a real server signature over the bytes that match the event is EVIDENCE_DIGEST_MATCHES", () => {
    const { step } = ledger();
    // What an honest server signs when it serves e1's real (empty) payload, replayed as an accusation.
    const honestStatement: Evidence = { kind: "conflicting_da", event: e1, servedDigest: e1.header.payloadDigest, servedBy: 2, servedSignature: signDaServe(KEYS[2]!.secretKey, e1.id, e1.header.payloadDigest) };
    // The same honest signature with the digest swapped for the wrong bytes' digest.
    const swapped: Evidence = { ...honestStatement, servedDigest: blake3_32(wrongBytes) } as Evidence;
    const d = step([honestStatement, swapped, { ...honestStatement, servedBy: 9 } as Evidence]);
    expect(codes(d)).toEqual(["EVIDENCE_DIGEST_MATCHES", "EVIDENCE_BAD_SIGNATURE", "EVIDENCE_UNKNOWN_VALIDATOR"]);
    expect(d.evidence).toEqual([]);
  });

  test("a genuine signed mismatch is recorded against the server, not the event's creator", () => {
    const { step } = ledger();
    const d = step([da(e1, wrongBytes, 3)]);
    expect(codes(d)).toEqual(["ok"]);
    expect(d.evidence[0]).toMatchObject({ kind: "conflicting_da", offender: 3 });
  });
});

describe("a replayed offense", () => {
  test("the same offense under another evidence id is EVIDENCE_DUPLICATE, in the same anchor and in later ones", () => {
    const { mem, step } = ledger();
    // Validator 3 really forks at seq 1, three ways: every pair is the one offense (shard 0, creator 3, seq 1).
    const forks = [0, 1, 2].map((n) => signed(KEYS, { creator: 3, seq: 1, parents: [e3.id, e1.id], parentRounds: [0, 0], lamport: 4, payloadDigest: blake3_32(Uint8Array.of(n)) }));
    const [ab, ac, bc] = [equivocationEvidence(forks[0]!, forks[1]!), equivocationEvidence(forks[0]!, forks[2]!), equivocationEvidence(forks[1]!, forks[2]!)];
    expect(new Set([ab, ac, bc].map((e) => toHex(evidenceId(e)))).size).toBe(3);
    const reversed = { kind: "equivocation", a: (ab as { b: SignedEvent }).b, b: (ab as { a: SignedEvent }).a } as Evidence;
    const first = step([ab, ac, reversed]);
    expect(codes(first)).toEqual(["ok", "EVIDENCE_DUPLICATE", "EVIDENCE_DUPLICATE"]);
    expect(first.evidence).toHaveLength(1);
    expect(first.evidence[0]).toMatchObject({ kind: "equivocation", offender: 3 });
    expect(toHex(first.evidence[0]!.id)).toBe(toHex(offenseId("equivocation/0/3/1")));
    // The record holds the canonical bytes of the evidence that was first.
    expect(toHex(evidenceId(decodeEvidence(first.evidence[0]!.bytes)))).toBe(toHex(evidenceId(ab)));

    // Later anchors: the other pair, and a DA offense replayed with other served bytes.
    const daFirst = da(e2, Uint8Array.of(1), 3);
    expect(codes(step([bc, daFirst]))).toEqual(["EVIDENCE_DUPLICATE", "ok"]);
    const third = step([da(e2, Uint8Array.of(2), 3), da(e1, Uint8Array.of(2), 3)]);
    expect(codes(third)).toEqual(["EVIDENCE_DUPLICATE", "ok"]); // same (server, event); a new event is a new offense
    expect(third.evidence[0]!.offender).toBe(3);
  });

  test("an invalid event cited again for another reason or with other parents is the same offense", () => {
    const { step } = ledger();
    // Breaks two rules at once: a seq-2 event whose self-parent is seq 0, and a Lamport number off by one.
    const bad = signed(KEYS, { creator: 0, seq: 2, parents: [e0.id, e1.id], parentRounds: [0, 0], lamport: 9 });
    const cite = (reason: InvalidEventReason, parents: SignedEvent[]): Evidence => ({ kind: "invalid_event", event: bad, reason, parents });
    expect(codes(step([cite("bad_seq", [e0])]))).toEqual(["ok"]);
    expect(codes(step([cite("bad_lamport", [e0, e1]), cite("bad_seq", [e0, e1])]))).toEqual(["EVIDENCE_DUPLICATE", "EVIDENCE_DUPLICATE"]);
  });
});

describe("worked examples of SPEC_SLASHING (checked against @noble)", () => {
  const utf8 = (s: string) => new TextEncoder().encode(s);
  const E = new Uint8Array(32).fill(0x11);
  const D = new Uint8Array(32).fill(0x22);

  test("the serve message and a serve signature", () => {
    const m = "5a9996bf989dc02a8606e846b09409005198db7393954b4a3a9a4e0993760e26";
    expect(toHex(daServeMessage(E, D))).toBe(m);
    expect(toHex(nobleBlake3(concatBytes(utf8("phantom/v0/da-serve"), E, D)))).toBe(m);
    const seed = new Uint8Array(32).fill(1);
    const sig = "1a1cc9fc426561c76bcc8805959021c7d5564148f524ca0420ec71f6299207df42ff7583cad3aaa024aee7086bac6f7777076160e5b361bb36ca32095d5e2801";
    expect(toHex(nobleEd25519.getPublicKey(seed))).toBe("8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c");
    expect(toHex(nobleEd25519.sign(daServeMessage(E, D), seed))).toBe(sig);
    expect(toHex(signDaServe(keyPairFromSeed(seed).secretKey, E, D))).toBe(sig);
  });

  test("offense ids", () => {
    const cases: [string, string][] = [
      ["equivocation/0/3/9", "3c421ff91be7d5d5e7e13a5d9c2d08e95142b636502a9f4406374da3609c584b"],
      [`invalid_event/${"11".repeat(32)}`, "d3484cdaa8d5abcabe6f0a79f73bbbdb91fd80935685398c0a0c9d38e4d5ba89"],
      [`conflicting_da/3/${"11".repeat(32)}`, "80c08b0c3483b07f4c163f265408db222dfeafd44ea0fd795d16690359f861ab"],
    ];
    for (const [key, id] of cases) {
      expect(toHex(offenseId(key))).toBe(id);
      expect(toHex(nobleBlake3(concatBytes(utf8("phantom/v0/offense"), utf8(key))))).toBe(id);
    }
  });
});
