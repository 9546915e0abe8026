// Slashing evidence with real signed events: valid evidence of each kind verifies
// (also from its encoded bytes); forged or unproven evidence is rejected with a code.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  verifyEvidence, verifyEvidenceBytes, equivocationEvidence, signDaServe, penaltyBps, slashAmountUnits, findRuleViolation, checkRule,
  SlashingError, INVALID_EVENT_PENALTY_BPS, type SlashingCommittee,
} from "../../src/consensus/slashing.ts";
import { generateSignedDag } from "../../src/consensus/headers-gen.ts";
import { type Evidence, type InvalidEventReason, encodeEvidence, INVALID_EVENT_REASONS } from "../../src/types/evidence.ts";
import type { SignedEvent } from "../../src/types/event.ts";
import { committeeKeys, DagBuilder, signed, EMPTY_DIGEST } from "./tools-fixtures.ts";
import { digest } from "./helpers.ts";
import { thrownCode } from "../thrown-code.ts";

const KEYS = committeeKeys(5, "slashing");
const COMMITTEE: SlashingCommittee = { publicKeys: KEYS.slice(0, 4).map((k) => k.publicKey), shardCount: 1, parentsMax: 4 };
const RULES = { k: 4, shardCount: 1, parentsMax: 4 };

const code = (f: () => unknown): string => thrownCode(f, SlashingError, "OK");

/** Verifies both the object and its canonical bytes, which must agree. */
function check(e: Evidence): string {
  const direct = code(() => verifyEvidence(e, COMMITTEE));
  expect(code(() => verifyEvidenceBytes(encodeEvidence(e), COMMITTEE))).toBe(direct);
  return direct;
}

// A small honest DAG: 0 and 1 start, 2 links both, 3 links 2.
const dag = new DagBuilder(KEYS);
const e0 = dag.add(0);
const e1 = dag.add(1, e0);
const e2 = dag.add(2, e0, e1);
const e3 = dag.add(3, e2);
const e0b = dag.add(0, e3); // seq 1 of validator 0

describe("equivocation", () => {
  const fork = signed(KEYS, { creator: 0, seq: 1, parents: [e0.id, e1.id], lamport: 2 }); // a second seq-1 event of 0

  test("two signed events with one creator and seq are slashed 100%", () => {
    const ev = equivocationEvidence(fork, e0b);
    expect(check(ev)).toBe("OK");
    const v = verifyEvidence(ev, COMMITTEE);
    expect(v.offender).toBe(0);
    expect(penaltyBps(v, 0)).toBe(10_000);
    expect(v.offenseKey).toBe(verifyEvidence(equivocationEvidence(e0b, fork), COMMITTEE).offenseKey);
  });

  test("forged, mismatched or non-canonical pairs are rejected with typed codes", () => {
    const { a, b } = equivocationEvidence(fork, e0b) as Extract<Evidence, { kind: "equivocation" }>;
    const forged = { ...b, signature: a.signature };
    expect(check({ kind: "equivocation", a, b: forged })).toBe("EVIDENCE_BAD_SIGNATURE");
    expect(check({ kind: "equivocation", a: b, b: a })).toBe("EVIDENCE_NOT_CANONICAL");
    expect(check({ kind: "equivocation", a, b: a })).toBe("EVIDENCE_SAME_EVENT");
    expect(check(equivocationEvidence(e0, e0b))).toBe("EVIDENCE_SEQ_MISMATCH");
    const other = signed(KEYS, { creator: 1, seq: 1, parents: [e1.id, e0.id], lamport: 2 });
    expect(check(equivocationEvidence(fork, other))).toBe("EVIDENCE_CREATOR_MISMATCH");
    const otherShard = signed(KEYS, { creator: 0, seq: 1, shard: 1, parents: [e0.id, e1.id], lamport: 2 });
    expect(check(equivocationEvidence(fork, otherShard))).toBe("EVIDENCE_SHARD_MISMATCH");
    const outsider1 = signed(KEYS, { creator: 4, seq: 0 });
    const outsider2 = signed(KEYS, { creator: 4, seq: 0, lamport: 0, payloadDigest: digest("x") });
    expect(check(equivocationEvidence(outsider1, outsider2))).toBe("EVIDENCE_UNKNOWN_VALIDATOR");
  });
});

describe("invalid_event", () => {
  /** One real violation per reason, with the parents that prove it. */
  const cases: Record<InvalidEventReason, { event: SignedEvent; parents: SignedEvent[] }> = {
    bad_seq: { event: signed(KEYS, { creator: 3, seq: 5, parents: [e3.id, e2.id], lamport: 4 }), parents: [e3] },
    bad_parents: { event: signed(KEYS, { creator: 2, seq: 1, parents: [e2.id, e1.id, e1.id], lamport: 3 }), parents: [] },
    bad_lamport: { event: signed(KEYS, { creator: 1, seq: 1, parents: [e1.id, e3.id], lamport: 2 }), parents: [e1, e3] },
    missing_cross_link: { event: signed(KEYS, { creator: 3, seq: 1, parents: [e3.id], lamport: 4 }), parents: [e3] },
    bad_shard: { event: signed(KEYS, { creator: 1, seq: 0, shard: 3, parents: [e0.id], lamport: 1 }), parents: [] },
  };

  test("each reason is proven by a real signed event and its parents", () => {
    for (const reason of INVALID_EVENT_REASONS) {
      const c = cases[reason];
      const ev: Evidence = { kind: "invalid_event", event: c.event, reason, parents: c.parents };
      expect([reason, check(ev)]).toEqual([reason, "OK"]);
      const v = verifyEvidence(ev, COMMITTEE);
      expect(v.offender).toBe(c.event.header.creator);
      const bps = penaltyBps(v, 0);
      expect(bps).toBe(INVALID_EVENT_PENALTY_BPS[reason]);
      expect(bps >= 5_000 && bps <= 10_000).toBe(true);
    }
  });

  test("self-parent rules: first parent by someone else is bad_parents, a first event with an own parent is bad_seq", () => {
    const notFirst = signed(KEYS, { creator: 2, seq: 1, parents: [e1.id, e2.id], lamport: 3 });
    expect(check({ kind: "invalid_event", event: notFirst, reason: "bad_parents", parents: [e1, e2] })).toBe("OK");
    expect(check({ kind: "invalid_event", event: notFirst, reason: "bad_seq", parents: [e1, e2] })).toBe("EVIDENCE_RULE_NOT_BROKEN");
    const ownAtSeq0 = signed(KEYS, { creator: 2, seq: 0, parents: [e1.id, e2.id], lamport: 3 });
    expect(check({ kind: "invalid_event", event: ownAtSeq0, reason: "bad_seq", parents: [e2] })).toBe("OK");
    expect(check({ kind: "invalid_event", event: ownAtSeq0, reason: "bad_parents", parents: [e1, e2] })).toBe("EVIDENCE_RULE_NOT_BROKEN");
    const selfTwice = signed(KEYS, { creator: 2, seq: 1, parents: [e2.id, e1.id, signed(KEYS, { creator: 2, seq: 0, payloadDigest: digest("fork") }).id], lamport: 2 });
    expect(check({ kind: "invalid_event", event: selfTwice, reason: "bad_parents", parents: [signed(KEYS, { creator: 2, seq: 0, payloadDigest: digest("fork") })] })).toBe("OK");
  });

  test("honest events cannot be slashed for any reason", () => {
    for (const e of [e1, e2, e3, e0b]) {
      const parents = e.header.parents.map((p) => dag.events.find((x) => x.id.every((b, i) => b === p[i]))!);
      for (const reason of INVALID_EVENT_REASONS) {
        expect(check({ kind: "invalid_event", event: e, reason, parents })).toBe("EVIDENCE_RULE_NOT_BROKEN");
      }
    }
  });

  test("unproven, forged or malformed parent sets are rejected", () => {
    const lamport = cases.bad_lamport;
    expect(check({ kind: "invalid_event", event: lamport.event, reason: "bad_lamport", parents: [lamport.parents[0]!] })).toBe("EVIDENCE_INCOMPLETE");
    expect(check({ kind: "invalid_event", event: lamport.event, reason: "bad_lamport", parents: [lamport.parents[1]!, lamport.parents[0]!] })).toBe("EVIDENCE_NOT_CANONICAL");
    expect(check({ kind: "invalid_event", event: lamport.event, reason: "bad_lamport", parents: [lamport.parents[0]!, lamport.parents[0]!] })).toBe("EVIDENCE_DUPLICATE_PARENT");
    expect(check({ kind: "invalid_event", event: lamport.event, reason: "bad_lamport", parents: [e1, e2] })).toBe("EVIDENCE_PARENT_NOT_REFERENCED");
    // A fabricated parent with a made-up Lamport is not signed by its creator.
    const fake = { ...e3, header: { ...e3.header, lamport: 0 } };
    expect(check({ kind: "invalid_event", event: lamport.event, reason: "bad_lamport", parents: [e1, fake] })).toBe("EVIDENCE_BAD_SIGNATURE");
    // Validator 3 really signing a lower-Lamport twin makes a different event, not the referenced parent.
    const fakeSigned = signed(KEYS, { ...e3.header, lamport: 0 });
    expect(check({ kind: "invalid_event", event: lamport.event, reason: "bad_lamport", parents: [e1, fakeSigned] })).toBe("EVIDENCE_PARENT_NOT_REFERENCED");
    const forged = { ...lamport.event, signature: e1.signature };
    expect(check({ kind: "invalid_event", event: forged, reason: "bad_lamport", parents: lamport.parents })).toBe("EVIDENCE_BAD_SIGNATURE");
    expect(check({ kind: "invalid_event", event: cases.bad_seq.event, reason: "bad_seq", parents: [] })).toBe("EVIDENCE_INCOMPLETE");
  });

  test("rules hold on every event of generated DAGs", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.string({ maxLength: 6 }), (k, seed) => {
        const events = generateSignedDag({ secretKeys: KEYS.slice(0, k).map((x) => x.secretKey), eventCount: 30, seed: new TextEncoder().encode(seed) });
        const byId = new Map(events.map((e) => [Buffer.from(e.id).toString("hex"), e]));
        for (const e of events) {
          const parents = e.header.parents.map((p) => byId.get(Buffer.from(p).toString("hex"))!);
          expect(findRuleViolation(e, parents, { ...RULES, k })).toBeNull();
        }
      }),
      { numRuns: 20 },
    );
  });

  test("checkRule says incomplete only when a needed parent is missing", () => {
    expect(checkRule("bad_lamport", e2, [e0, undefined], RULES)).toBe("incomplete");
    expect(checkRule("bad_lamport", e2, [e0, e1], RULES)).toBe(false);
    expect(checkRule("bad_shard", cases.bad_shard.event, [undefined], RULES)).toBe(true);
  });
});

describe("conflicting_da", () => {
  const served = digest("wrong payload bytes");

  test("a server's signed attestation of bytes that do not match the digest is slashed 25/50/100%", () => {
    const ev: Evidence = { kind: "conflicting_da", event: e2, servedDigest: served, servedBy: 3, servedSignature: signDaServe(KEYS[3]!.secretKey, e2.id, served) };
    expect(check(ev)).toBe("OK");
    const v = verifyEvidence(ev, COMMITTEE);
    expect(v.offender).toBe(3);
    expect([0, 1, 2, 3, 10].map((n) => penaltyBps(v, n))).toEqual([2_500, 5_000, 10_000, 10_000, 10_000]);
    expect(() => penaltyBps(v, -1)).toThrow(RangeError);
  });

  test("matching digests, signatures over something else and unknown servers are rejected", () => {
    const sig = signDaServe(KEYS[3]!.secretKey, e2.id, served);
    expect(check({ kind: "conflicting_da", event: e2, servedDigest: EMPTY_DIGEST, servedBy: 3, servedSignature: signDaServe(KEYS[3]!.secretKey, e2.id, EMPTY_DIGEST) })).toBe("EVIDENCE_DIGEST_MATCHES");
    expect(check({ kind: "conflicting_da", event: e2, servedDigest: digest("other"), servedBy: 3, servedSignature: sig })).toBe("EVIDENCE_BAD_SIGNATURE");
    expect(check({ kind: "conflicting_da", event: e3, servedDigest: served, servedBy: 3, servedSignature: sig })).toBe("EVIDENCE_BAD_SIGNATURE");
    expect(check({ kind: "conflicting_da", event: e2, servedDigest: served, servedBy: 2, servedSignature: sig })).toBe("EVIDENCE_BAD_SIGNATURE");
    expect(check({ kind: "conflicting_da", event: e2, servedDigest: served, servedBy: 4, servedSignature: signDaServe(KEYS[4]!.secretKey, e2.id, served) })).toBe("EVIDENCE_UNKNOWN_VALIDATOR");
  });
});

describe("evidence bytes and penalties", () => {
  test("truncated or corrupted evidence bytes are EVIDENCE_MALFORMED, never a crash", () => {
    const bytes = encodeEvidence(equivocationEvidence(e0b, signed(KEYS, { creator: 0, seq: 1, parents: [e0.id, e1.id], lamport: 2 })));
    for (let n = 0; n < bytes.length; n += 7) expect(code(() => verifyEvidenceBytes(bytes.subarray(0, n), COMMITTEE))).toBe("EVIDENCE_MALFORMED");
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const b = bytes.slice();
        b[at] = b[at]! ^ x;
        expect(code(() => verifyEvidenceBytes(b, COMMITTEE))).not.toBe("OK");
      }),
      { numRuns: 200 },
    );
  });

  test("slash amounts are exact bigint fractions of stake", () => {
    expect(slashAmountUnits(1_000n, 10_000)).toBe(1_000n);
    expect(slashAmountUnits(1_001n, 2_500)).toBe(250n);
    const big = (1n << 64n) - 1n;
    expect(slashAmountUnits(big, 10_000)).toBe(big);
    expect(slashAmountUnits(big, 5_000)).toBe(big / 2n);
    expect(() => slashAmountUnits(1n, 10_001)).toThrow(RangeError);
  });
});
