// Signed data availability: what a server signs for the payloads it serves, and what a
// receiver can prove from it. Only bytes that differ from the event's signed digest under
// the server's valid signature become conflicting-DA evidence, once per offense.
import { describe, expect, test } from "bun:test";
import { DataAvailabilityWatch, ServeSigner } from "../../src/node/data-availability.ts";
import { daServeMessage, signDaServe, verifyEvidence, type SlashingCommittee } from "../../src/consensus/slashing.ts";
import { verify, sign } from "../../src/crypto/ed25519.ts";
import { blake3_32 } from "../../src/crypto/hash.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { EMPTY_PAYLOAD_BYTES } from "../../src/types/payload.ts";
import type { Evidence } from "../../src/types/evidence.ts";
import { committeeKeys, DagBuilder } from "../consensus/tools-fixtures.ts";

const KEYS = committeeKeys(4, "data-availability");
const COMMITTEE: SlashingCommittee = { publicKeys: KEYS.map((k) => k.publicKey), shardCount: 1, parentsMax: 4 };
const dag = new DagBuilder(KEYS);
const e0 = dag.add(0);
const e1 = dag.add(1, e0);
const wrong = new TextEncoder().encode("not the payload validator 1 signed");
const sigBy = (server: number, eventId: Uint8Array, bytes: Uint8Array) => signDaServe(KEYS[server]!.secretKey, eventId, blake3_32(bytes));

describe("ServeSigner", () => {
  test("signs daServeMessage(event id, digest) with the validator's key; cached signatures are the same bytes, the cache is bounded", () => {
    const signer = new ServeSigner(KEYS[2]!.secretKey, 2);
    const d = blake3_32(EMPTY_PAYLOAD_BYTES);
    const first = signer.sign(e1.id, d);
    expect(verify(first, daServeMessage(e1.id, d), KEYS[2]!.publicKey)).toBe(true);
    expect(signer.sign(e1.id, d)).toBe(first); // the cached object
    signer.sign(e0.id, d);
    signer.sign(e0.id, blake3_32(wrong)); // evicts the oldest
    const again = signer.sign(e1.id, d);
    expect(again).not.toBe(first);
    expect(toHex(again)).toBe(toHex(first)); // Ed25519 is deterministic
  });
});

describe("DataAvailabilityWatch", () => {
  test("matching bytes say nothing, whatever the signature", () => {
    const watch = new DataAvailabilityWatch(COMMITTEE);
    expect(watch.check(e1, EMPTY_PAYLOAD_BYTES, new Uint8Array(64), 2)).toBe("match");
    expect(watch.check(e1, EMPTY_PAYLOAD_BYTES, sigBy(2, e1.id, EMPTY_PAYLOAD_BYTES), 2)).toBe("match");
  });

  test("a mismatch under the server's own signature is evidence against the server, once per (server, event)", () => {
    const watch = new DataAvailabilityWatch(COMMITTEE);
    const found = watch.check(e1, wrong, sigBy(3, e1.id, wrong), 3);
    expect(typeof found).toBe("object");
    const v = verifyEvidence(found as Evidence, COMMITTEE);
    expect(v).toMatchObject({ kind: "conflicting_da", offender: 3 });
    // The same offense with other bytes is not reported twice; another event is a new offense.
    expect(watch.check(e1, Uint8Array.of(7), sigBy(3, e1.id, Uint8Array.of(7)), 3)).toBe("repeated");
    expect(typeof watch.check(e0, wrong, sigBy(3, e0.id, wrong), 3)).toBe("object");
  });

  test("a mismatch the server did not sign proves nothing: no signature, someone else's, another message, the honest statement", () => {
    const watch = new DataAvailabilityWatch(COMMITTEE);
    expect(watch.check(e1, wrong, new Uint8Array(64), 2)).toBe("unproven");
    expect(watch.check(e1, wrong, sigBy(3, e1.id, wrong), 2)).toBe("unproven"); // signed by 3, served (claimed) by 2
    expect(watch.check(e1, wrong, sign(KEYS[2]!.secretKey, blake3_32(wrong)), 2)).toBe("unproven");
    expect(watch.check(e1, wrong, sigBy(2, e1.id, EMPTY_PAYLOAD_BYTES), 2)).toBe("unproven"); // 2 signed the true bytes
    expect(watch.check(e1, wrong, sigBy(2, e0.id, wrong), 2)).toBe("unproven"); // for another event
    expect(watch.check(e1, wrong, sigBy(2, e1.id, wrong), 9)).toBe("unproven"); // not a committee member
  });

  test("remembers a bounded number of reported offenses", () => {
    const watch = new DataAvailabilityWatch(COMMITTEE, 1);
    expect(typeof watch.check(e1, wrong, sigBy(3, e1.id, wrong), 3)).toBe("object");
    expect(typeof watch.check(e0, wrong, sigBy(3, e0.id, wrong), 3)).toBe("object");
    expect(typeof watch.check(e1, wrong, sigBy(3, e1.id, wrong), 3)).toBe("object"); // forgotten; the ledger still records it once
  });
});
