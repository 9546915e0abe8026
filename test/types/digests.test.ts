// The identifiers consensus relies on: event_id, digest_microtx (txid),
// lock_commitment, mint id and payload digest — what they cover and what not.
import { describe, expect, test, setDefaultTimeout } from "bun:test";

// Generous per-test budget: the CI machine is shared; no test asserts a duration.
setDefaultTimeout(60_000);
import fc from "fast-check";
import {
  eventId, encodeEventHeader, signEvent, verifyEventSignature, encodeSignedEvent, decodeSignedEvent, digestMicroTx, encodeMicroTx,
  encodeMicroTxUnsigned, lockCommitment, encodeLock, mintId, encodeMintTx, decodeMintTx, MINT_HEADER_BYTES, MINT_NONCE_OFFSET,
  encodeAnchorPayload, decodeAnchorPayload, payloadDigest, EMPTY_PAYLOAD_BYTES, type EventHeader, type MicroTx, type Lock,
} from "../../src/types/index.ts";
import { blake3_32, keyPairFromSeed, toHex } from "../../src/crypto/index.ts";
import { eventHeaderArb, microTxArb, lockArb, mintTxArb, anchorPayloadArb, witnessArb, hashArb } from "./arbitraries.ts";

const SEED = 0xd16e57;
const hex = toHex;

/** One change to each header field in turn. */
const headerTweaks: [string, (h: EventHeader) => EventHeader][] = [
  ["shard", (h) => ({ ...h, shard: h.shard ^ 1 })],
  ["creator", (h) => ({ ...h, creator: h.creator ^ 1 })],
  ["seq", (h) => ({ ...h, seq: h.seq === 0 ? 1 : h.seq - 1 })],
  ["lamport", (h) => ({ ...h, lamport: h.lamport === 0 ? 1 : h.lamport - 1 })],
  ["payloadDigest", (h) => ({ ...h, payloadDigest: h.payloadDigest.map((b, i) => (i === 31 ? b ^ 1 : b)) })],
  ["parents: one byte", (h) => (h.parents.length ? { ...h, parents: [h.parents[0]!.map((b, i) => (i === 0 ? b ^ 0x80 : b)), ...h.parents.slice(1)] } : { ...h, parents: [new Uint8Array(32)], parentRounds: [0] })],
  ["parents: one more or one fewer", (h) => (h.parents.length < 4 ? { ...h, parents: [...h.parents, new Uint8Array(32).fill(7)], parentRounds: [...h.parentRounds, 1] } : { ...h, parents: h.parents.slice(1), parentRounds: h.parentRounds.slice(1) })],
  ["parent round", (h) => (h.parents.length ? { ...h, parentRounds: [(h.parentRounds[0]! ^ 1) >>> 0, ...h.parentRounds.slice(1)] } : { ...h, parents: [new Uint8Array(32)], parentRounds: [1] })],
];

describe("event_id", () => {
  test("is blake3_32 of the canonical header, and changes with every header field (300 headers)", () => {
    fc.assert(
      fc.property(eventHeaderArb, (h) => {
        const id = hex(eventId(h));
        expect(id).toBe(hex(blake3_32(encodeEventHeader(h))));
        for (const [, tweak] of headerTweaks) expect(hex(eventId(tweak(h)))).not.toBe(id);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  test("reordering parents changes the id (parent order is part of the event)", () => {
    const h: EventHeader = { shard: 0, creator: 1, seq: 5, lamport: 9, parents: [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)], parentRounds: [3, 4], payloadDigest: new Uint8Array(32) };
    expect(hex(eventId({ ...h, parents: [h.parents[1]!, h.parents[0]!], parentRounds: [4, 3] }))).not.toBe(hex(eventId(h)));
  });

  test("does not depend on the signature: two signers, and a decoded event recomputes the same id", () => {
    const h: EventHeader = { shard: 0, creator: 3, seq: 0, lamport: 0, parents: [], parentRounds: [], payloadDigest: payloadDigest(EMPTY_PAYLOAD_BYTES) };
    const a = keyPairFromSeed(new Uint8Array(32).fill(1));
    const b = keyPairFromSeed(new Uint8Array(32).fill(2));
    const ea = signEvent(h, a.secretKey);
    const eb = signEvent(h, b.secretKey);
    expect(hex(ea.signature)).not.toBe(hex(eb.signature));
    expect(hex(ea.id)).toBe(hex(eb.id));
    expect(hex(ea.id)).toBe(hex(eventId(h)));
    const decoded = decodeSignedEvent(encodeSignedEvent(ea));
    expect(hex(decoded.id)).toBe(hex(ea.id));
    // A different signature on the wire: same id (never trusted from the wire), signature check fails.
    const forged = encodeSignedEvent({ ...ea, signature: eb.signature });
    const d2 = decodeSignedEvent(forged);
    expect(hex(d2.id)).toBe(hex(ea.id));
    expect(verifyEventSignature(decoded, a.publicKey)).toBe(true);
    expect(verifyEventSignature(d2, a.publicKey)).toBe(false);
    expect(verifyEventSignature(decoded, b.publicKey)).toBe(false);
  });
});

describe("digest_microtx (txid)", () => {
  test("excludes witnesses: replacing every lock and witness keeps the txid; the unsigned encoding is a prefix (300 txs)", () => {
    fc.assert(
      fc.property(microTxArb, fc.array(fc.tuple(lockArb, witnessArb), { minLength: 4, maxLength: 4 }), (tx, replacements) => {
        const txid = hex(digestMicroTx(tx));
        expect(txid).toBe(hex(blake3_32(encodeMicroTxUnsigned(tx))));
        const unsigned = encodeMicroTxUnsigned(tx);
        const full = encodeMicroTx(tx);
        expect(hex(full.subarray(0, unsigned.length))).toBe(hex(unsigned));
        const rewitnessed: MicroTx = { ...tx, witnesses: tx.inputs.map((_, i) => ({ lock: replacements[i]![0], witness: replacements[i]![1] })) };
        expect(hex(digestMicroTx(rewitnessed))).toBe(txid);
      }),
      { seed: SEED + 1, numRuns: 300 },
    );
  });

  test("changes with every input and output field", () => {
    fc.assert(
      fc.property(microTxArb, hashArb, (tx, other) => {
        const txid = hex(digestMicroTx(tx));
        const changed: MicroTx[] = [
          { ...tx, inputs: [...tx.inputs, { txid: other, index: 0 }] },
          { ...tx, outputs: [...tx.outputs, { amount: 0n, lockCommitment: other }] },
        ];
        if (tx.inputs.length) {
          const [first, ...rest] = tx.inputs;
          changed.push({ ...tx, inputs: [{ ...first!, index: (first!.index ^ 1) >>> 0 }, ...rest] });
          changed.push({ ...tx, inputs: [{ ...first!, txid: first!.txid.map((b, i) => (i === 5 ? b ^ 4 : b)) }, ...rest] });
        }
        if (tx.outputs.length) {
          const [first, ...rest] = tx.outputs;
          changed.push({ ...tx, outputs: [{ ...first!, amount: first!.amount === 0n ? 1n : first!.amount - 1n }, ...rest] });
          changed.push({ ...tx, outputs: [{ ...first!, lockCommitment: first!.lockCommitment.map((b, i) => (i === 9 ? b ^ 2 : b)) }, ...rest] });
        }
        for (const c of changed) expect(hex(digestMicroTx(c))).not.toBe(txid);
      }),
      { seed: SEED + 2, numRuns: 200 },
    );
  });
});

describe("lock_commitment", () => {
  test("is blake3_32 of the canonical lock; equal locks give equal commitments, distinct locks distinct ones", () => {
    const seen = new Map<string, string>();
    fc.assert(
      fc.property(lockArb, (lock) => {
        const commitment = hex(lockCommitment(lock));
        const bytes = hex(encodeLock(lock));
        expect(commitment).toBe(hex(blake3_32(encodeLock(lock))));
        expect(hex(lockCommitment(structuredClone(lock)))).toBe(commitment);
        const prior = seen.get(commitment);
        if (prior !== undefined) expect(prior).toBe(bytes);
        seen.set(commitment, bytes);
      }),
      { seed: SEED + 3, numRuns: 500 },
    );
  });

  test("the order of and/or branches and of multisig keys matters", () => {
    const a: Lock = { kind: "sig", publicKey: new Uint8Array(32).fill(1) };
    const b: Lock = { kind: "hashlock", digest: new Uint8Array(32).fill(2) };
    const ids = [
      { kind: "and", left: a, right: b },
      { kind: "and", left: b, right: a },
      { kind: "or", left: a, right: b },
      { kind: "multisig", m: 1, publicKeys: [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)] },
      { kind: "multisig", m: 1, publicKeys: [new Uint8Array(32).fill(2), new Uint8Array(32).fill(1)] },
      { kind: "multisig", m: 2, publicKeys: [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)] },
    ].map((l) => hex(lockCommitment(l as Lock)));
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe("mint id and payload digest", () => {
  test("mint id = blake3_32(mint header); the nonce is the last 8 bytes, little-endian", () => {
    fc.assert(
      fc.property(mintTxArb, (m) => {
        const bytes = encodeMintTx(m);
        expect(bytes.length).toBe(MINT_HEADER_BYTES);
        expect(new DataView(bytes.buffer).getBigUint64(MINT_NONCE_OFFSET, true)).toBe(m.nonce);
        expect(hex(mintId(m))).toBe(hex(blake3_32(bytes)));
        expect(decodeMintTx(bytes)).toEqual(m);
        expect(hex(mintId({ ...m, nonce: m.nonce ^ 1n }))).not.toBe(hex(mintId(m)));
      }),
      { seed: SEED + 4, numRuns: 200 },
    );
    expect(MINT_HEADER_BYTES).toBe(83);
  });

  test("payload digest = blake3_32(canonical payload bytes)", () => {
    fc.assert(
      fc.property(anchorPayloadArb, (p) => {
        const bytes = encodeAnchorPayload(p);
        expect(hex(payloadDigest(bytes))).toBe(hex(blake3_32(bytes)));
        expect(hex(payloadDigest(encodeAnchorPayload(decodeAnchorPayload(bytes))))).toBe(hex(payloadDigest(bytes)));
      }),
      { seed: SEED + 5, numRuns: 100 },
    );
  });
});
