// Agreement between the engine's event validation (src/consensus/validate.ts, with its
// code → evidence-reason table) and the slashing rules: whenever the engine rejects a
// signed event for a slashable reason, evidence for that reason verifies, and events
// the engine accepts break no slashing rule.
import { expect, test } from "bun:test";
import fc from "fast-check";
import { checkHeader, checkParents } from "../../src/consensus/validate.ts";
import { EVIDENCE_REASON } from "../../src/consensus/errors.ts";
import { verifyEvidence, findRuleViolation, type SlashingCommittee } from "../../src/consensus/slashing.ts";
import { generateSignedDag } from "../../src/consensus/headers-gen.ts";
import type { SignedEvent } from "../../src/types/event.ts";
import { committeeKeys, signed } from "./tools-fixtures.ts";

const K = 4;
const KEYS = committeeKeys(K, "agreement");
const COMMITTEE: SlashingCommittee = { publicKeys: KEYS.map((k) => k.publicKey), shardCount: 1, parentsMax: 4 };
const EVENTS = generateSignedDag({ secretKeys: KEYS.map((k) => k.secretKey), eventCount: 40, seed: new TextEncoder().encode("agreement") });

test("engine rejections and slashing rules agree on mutated signed events", () => {
  let slashable = 0;
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: K - 1 }),
      fc.integer({ min: 0, max: 12 }),
      fc.uniqueArray(fc.integer({ min: 0, max: EVENTS.length - 1 }), { maxLength: 4 }),
      fc.integer({ min: -1, max: 1 }),
      fc.boolean(),
      (creator, seq, parentIdx, lamportDelta, duplicate) => {
        const parents: SignedEvent[] = parentIdx.map((i) => EVENTS[i]!);
        if (duplicate && parents.length > 0 && parents.length < 4) parents.push(parents[0]!);
        const lamport = Math.max(0, (parents.length ? 1 + Math.max(...parents.map((p) => p.header.lamport)) : 0) + lamportDelta);
        const event = signed(KEYS, { creator, seq, parents: parents.map((p) => p.id), parentRounds: parents.map(() => 0), lamport });
        const ctx = { k: K, shard: 0, parentsMax: 4 };
        const info = parents.map((p) => ({ creator: p.header.creator, seq: p.header.seq, lamport: p.header.lamport, round: 0 }));
        const err = checkHeader(event.header, ctx) ?? checkParents(event.header, info, ctx);
        if (err === null) {
          expect(findRuleViolation(event, parents, { k: K, shardCount: 1, parentsMax: 4 })).toBeNull();
          return;
        }
        const reason = EVIDENCE_REASON[err.code];
        if (reason === undefined) return;
        slashable++;
        const unique = parents.filter((p, i) => parents.findIndex((q) => q.id.every((b, j) => b === p.id[j])) === i);
        const v = verifyEvidence({ kind: "invalid_event", event, reason, parents: unique }, COMMITTEE);
        expect([err.code, v.reason]).toEqual([err.code, reason]);
      },
    ),
    { numRuns: 400 },
  );
  expect(slashable).toBeGreaterThan(100);
});
