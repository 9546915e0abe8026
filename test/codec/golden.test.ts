// The worked example of docs/SPEC_CODEC.md: these encodings and digests are the
// protocol; if this test fails, either the code or the spec changed the wire format.
import { describe, expect, test, setDefaultTimeout } from "bun:test";

// Generous per-test budget: the CI machine is shared; no test asserts a duration.
setDefaultTimeout(60_000);
import {
  encodeLock, lockCommitment, encodeEventHeader, signEvent, encodeSignedEvent, decodeSignedEvent, EMPTY_PAYLOAD_BYTES, payloadDigest,
  encodeMicroTxUnsigned, digestMicroTx, encodeMicroTx, decodeMicroTx, encodeMintTx, mintId, encodeAnchorPayload, decodeAnchorPayload,
  type Lock, type EventHeader, type MicroTx, type MintTx,
} from "../../src/types/index.ts";
import { keyPairFromSeed, sign, toHex, fromHex, blake3_32 } from "../../src/crypto/index.ts";
import golden from "../vectors/codec-golden.json";

const filled = (b: number) => new Uint8Array(32).fill(b);

describe("SPEC_CODEC worked example", () => {
  const kp = keyPairFromSeed(fromHex(golden.seed));
  const lock: Lock = { kind: "sig", publicKey: kp.publicKey };
  const header: EventHeader = { shard: 0, creator: 2, seq: 7, lamport: 12, parents: [filled(0xaa), filled(0xbb)], parentRounds: [5, 6], payloadDigest: payloadDigest(EMPTY_PAYLOAD_BYTES) };

  test("key, lock and lock_commitment", () => {
    expect(toHex(kp.publicKey)).toBe(golden.publicKey);
    expect(toHex(encodeLock(lock))).toBe(golden.lock);
    expect(toHex(lockCommitment(lock))).toBe(golden.lockCommitment);
    expect(golden.lockCommitment).toBe(toHex(blake3_32(fromHex(golden.lock))));
  });

  test("empty payload, event header, event_id and signed event", () => {
    expect(toHex(EMPTY_PAYLOAD_BYTES)).toBe(golden.emptyPayload);
    expect(toHex(payloadDigest(EMPTY_PAYLOAD_BYTES))).toBe(golden.emptyPayloadDigest);
    expect(toHex(encodeEventHeader(header))).toBe(golden.header);
    const ev = signEvent(header, kp.secretKey);
    expect(toHex(ev.id)).toBe(golden.eventId);
    expect(golden.eventId).toBe(toHex(blake3_32(fromHex(golden.header))));
    expect(toHex(encodeSignedEvent(ev))).toBe(golden.signedEvent);
    expect(decodeSignedEvent(fromHex(golden.signedEvent))).toEqual(ev);
  });

  test("MicroTx, its witness-free encoding and txid", () => {
    const unsigned = { inputs: [{ txid: filled(0xcc), index: 1 }], outputs: [{ amount: 150_000_000n, lockCommitment: lockCommitment(lock) }] };
    expect(toHex(encodeMicroTxUnsigned(unsigned))).toBe(golden.microTxUnsigned);
    const txid = digestMicroTx(unsigned);
    expect(toHex(txid)).toBe(golden.txid);
    const tx: MicroTx = { ...unsigned, witnesses: [{ lock, witness: { kind: "sig", signature: sign(kp.secretKey, txid) } }] };
    expect(toHex(encodeMicroTx(tx))).toBe(golden.microTx);
    expect(decodeMicroTx(fromHex(golden.microTx))).toEqual(tx);
  });

  test("MintTx, mint id, and a payload carrying it", () => {
    const mint: MintTx = { prevMint: new Uint8Array(32), height: 0n, targetBits: 14, recipient: lockCommitment(lock), nonce: 5n };
    expect(toHex(encodeMintTx(mint))).toBe(golden.mint);
    expect(toHex(mintId(mint))).toBe(golden.mintId);
    const payload = encodeAnchorPayload({ txs: [{ kind: "mint", tx: mint }] });
    expect(toHex(payload)).toBe(golden.payload);
    expect(toHex(payloadDigest(payload))).toBe(golden.payloadDigest);
    expect(decodeAnchorPayload(payload)).toEqual({ txs: [{ kind: "mint", tx: mint }] });
  });
});
