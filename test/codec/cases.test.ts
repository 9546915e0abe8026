// Explicit bad-input cases for the canonical codec, each matched by its CodecError
// code: truncated, trailing bytes, non-minimal varint, varint overflow, overlong
// length/count, unknown version, unknown tag, and the structural limits.
import { describe, expect, test, setDefaultTimeout } from "bun:test";

// Generous per-test budget: the CI machine is shared; no test asserts a duration.
setDefaultTimeout(60_000);
import fc from "fast-check";
import { Writer, Reader, CodecError } from "../../src/codec/index.ts";
import {
  TAG, CODEC_VERSION, PARENTS_MAX, PAYLOAD_TXS_MAX, PAYLOAD_BYTES_MAX, HASHLOCK_PREIMAGE_BYTES_MAX, MULTISIG_KEYS_MAX, LOCK_DEPTH_MAX, LOCK_NODES_MAX,
  MAX_SUPPLY_UNITS, COMMITTEE_MAX, encodeEventHeader, encodeSignedEvent, decodeSignedEvent, encodeLock, decodeLock, encodeMicroTx,
  decodeMicroTx, encodeMintTx, decodeMintTx, encodeEvidence, decodeEvidence, encodeAnchorPayload, decodeAnchorPayload, EMPTY_PAYLOAD_BYTES,
  type EventHeader, type Lock, type Witness, type MicroTx,
} from "../../src/types/index.ts";
import { CODECS, decodeEventHeader, decodeWitness, encodeWitness } from "../types/codecs.ts";
import { concatBytes, fromHex, toHex } from "../../src/crypto/index.ts";
import { thrownCode } from "../thrown-code.ts";

const codeOf = (fn: () => unknown): string => thrownCode(fn, CodecError, "no error");

const concat = (...parts: (Uint8Array | number[])[]): Uint8Array =>
  concatBytes(...parts.map((p) => (p instanceof Uint8Array ? p : new Uint8Array(p))));

const h32 = (b: number) => new Uint8Array(32).fill(b);
const header: EventHeader = { shard: 1, creator: 2, seq: 3, parents: [h32(0xaa)], parentRounds: [2], lamport: 4, payloadDigest: h32(0xbb) };
/** Offset of the parents count inside an encoded header: tag, version, shard u16, creator u8, seq u64, lamport u64. */
const PARENTS_COUNT_OFFSET = 1 + 1 + 2 + 1 + 8 + 8;

describe("varint", () => {
  test("minimal unsigned LEB128 up to 32 bits", () => {
    const cases: [number, string][] = [[0, "00"], [1, "01"], [127, "7f"], [128, "8001"], [300, "ac02"], [16383, "ff7f"], [16384, "808001"], [0xffffffff, "ffffffff0f"]];
    for (const [v, hex] of cases) {
      expect(toHex(new Writer().varint(v).finish())).toBe(hex);
      const r = new Reader(fromHex(hex));
      expect(r.varint()).toBe(v);
      r.end("varint");
    }
  });

  test("non-minimal forms are rejected", () => {
    for (const hex of ["8000", "ff00", "808000", "8180808000"]) expect(codeOf(() => new Reader(fromHex(hex)).varint())).toBe("CODEC_NON_MINIMAL_VARINT");
  });

  test("values above 32 bits and encodings longer than 5 bytes overflow", () => {
    for (const hex of ["ffffffff10", "ffffffff7f", "808080808001", "ffffffffff01"]) expect(codeOf(() => new Reader(fromHex(hex)).varint())).toBe("CODEC_VARINT_OVERFLOW");
    expect(codeOf(() => new Writer().varint(2 ** 32))).toBe("CODEC_VALUE_OUT_OF_RANGE");
    expect(codeOf(() => new Writer().varint(-1))).toBe("CODEC_VALUE_OUT_OF_RANGE");
  });

  test("a varint cut short is truncated", () => {
    for (const hex of ["", "80", "ffff", "ffffffff"]) expect(codeOf(() => new Reader(fromHex(hex)).varint())).toBe("CODEC_TRUNCATED");
  });

  test("in an object: a non-minimal count and an overflowing count", () => {
    const enc = encodeEventHeader(header);
    expect(enc[PARENTS_COUNT_OFFSET]).toBe(1);
    const widened = concat(enc.subarray(0, PARENTS_COUNT_OFFSET), [0x81, 0x00], enc.subarray(PARENTS_COUNT_OFFSET + 1));
    expect(codeOf(() => decodeEventHeader(widened))).toBe("CODEC_NON_MINIMAL_VARINT");
    expect(codeOf(() => decodeAnchorPayload(fromHex("0201ffffffff7f")))).toBe("CODEC_VARINT_OVERFLOW");
    expect(codeOf(() => decodeAnchorPayload(fromHex("02018000")))).toBe("CODEC_NON_MINIMAL_VARINT");
  });
});

describe("fixed-width integers are little-endian", () => {
  test("u16, u32, u64 and their range checks", () => {
    const bytes = new Writer().u8(0xab).u16(0x0102).u32(0x01020304).u64(0x0102030405060708n).finish();
    expect(toHex(bytes)).toBe("ab" + "0201" + "04030201" + "0807060504030201");
    expect(codeOf(() => new Writer().u8(256))).toBe("CODEC_VALUE_OUT_OF_RANGE");
    expect(codeOf(() => new Writer().u16(-1))).toBe("CODEC_VALUE_OUT_OF_RANGE");
    expect(codeOf(() => new Writer().u32(1.5))).toBe("CODEC_VALUE_OUT_OF_RANGE");
    expect(codeOf(() => new Writer().u64(1n << 64n))).toBe("CODEC_VALUE_OUT_OF_RANGE");
    expect(codeOf(() => new Writer().u64n(Number.MAX_SAFE_INTEGER + 1))).toBe("CODEC_VALUE_OUT_OF_RANGE");
    expect(codeOf(() => new Reader(new Writer().u64((1n << 53n)).finish()).u64n())).toBe("CODEC_VALUE_OUT_OF_RANGE");
  });
});

describe("truncation and trailing bytes", () => {
  test("every strict prefix of a valid encoding is CODEC_TRUNCATED; one extra byte is CODEC_TRAILING_BYTES", () => {
    CODECS.forEach((c, i) => {
      for (const value of fc.sample(c.arb, { seed: 77 + i, numRuns: 10 })) {
        const bytes = c.encode(value);
        for (let n = 0; n < bytes.length; n++) expect({ codec: c.name, n, code: codeOf(() => c.decode(bytes.subarray(0, n))) }).toEqual({ codec: c.name, n, code: "CODEC_TRUNCATED" });
        expect(codeOf(() => c.decode(concat(bytes, [0])))).toBe("CODEC_TRAILING_BYTES");
      }
    });
  });
});

describe("tags and versions", () => {
  const encodings: [string, Uint8Array, (b: Uint8Array) => unknown][] = [
    ["SignedEvent", encodeSignedEvent({ header, signature: new Uint8Array(64), id: new Uint8Array(32) }), decodeSignedEvent],
    ["EventHeader", encodeEventHeader(header), decodeEventHeader],
    ["Lock", encodeLock({ kind: "sig", publicKey: h32(1) }), decodeLock],
    ["MicroTx", encodeMicroTx({ inputs: [], outputs: [], witnesses: [] }), decodeMicroTx],
    ["MintTx", encodeMintTx({ prevMint: h32(0), height: 0n, targetBits: 8, recipient: h32(2), nonce: 0n }), decodeMintTx],
    ["Evidence", encodeEvidence({ kind: "conflicting_da", event: { header, signature: new Uint8Array(64), id: new Uint8Array(32) }, servedDigest: h32(3), servedBy: 1, servedSignature: new Uint8Array(64) }), decodeEvidence],
    ["AnchorPayload", EMPTY_PAYLOAD_BYTES, decodeAnchorPayload],
  ];

  test("the empty payload is 02 01 00", () => {
    expect(toHex(EMPTY_PAYLOAD_BYTES)).toBe("020100");
    expect(toHex(encodeAnchorPayload({ txs: [] }))).toBe("020100");
  });

  for (const [name, bytes, decode] of encodings) {
    test(`${name}: any other tag is CODEC_UNKNOWN_TAG, any other version CODEC_UNKNOWN_VERSION`, () => {
      expect(() => decode(bytes)).not.toThrow();
      for (let t = 0; t < 256; t++) {
        if (t === bytes[0]) continue;
        const b = bytes.slice();
        b[0] = t;
        expect(codeOf(() => decode(b))).toBe("CODEC_UNKNOWN_TAG");
      }
      for (const v of [0, 2, 255]) {
        const b = bytes.slice();
        b[1] = v;
        expect(codeOf(() => decode(b))).toBe("CODEC_UNKNOWN_VERSION");
      }
    });
  }

  test("a signed event's nested header has its own tag and version", () => {
    const bytes = encodeSignedEvent({ header, signature: new Uint8Array(64), id: new Uint8Array(32) });
    expect([bytes[0], bytes[1], bytes[2], bytes[3]]).toEqual([TAG.signedEvent, CODEC_VERSION, TAG.eventHeader, CODEC_VERSION]);
    const badTag = bytes.slice();
    badTag[2] = TAG.lock;
    expect(codeOf(() => decodeSignedEvent(badTag))).toBe("CODEC_UNKNOWN_TAG");
    const badVersion = bytes.slice();
    badVersion[3] = 2;
    expect(codeOf(() => decodeSignedEvent(badVersion))).toBe("CODEC_UNKNOWN_VERSION");
  });

  test("unknown inner tags: lock kind, witness kind, evidence kind, invalid-event reason, payload transaction", () => {
    expect(codeOf(() => decodeLock(fromHex("060106")))).toBe("CODEC_UNKNOWN_TAG");
    expect(codeOf(() => decodeWitness(fromHex("09")))).toBe("CODEC_UNKNOWN_TAG");
    const ev = encodeEvidence({ kind: "invalid_event", event: { header, signature: new Uint8Array(64), id: new Uint8Array(32) }, reason: "bad_seq", parents: [] });
    const badKind = ev.slice();
    badKind[2] = 3;
    expect(codeOf(() => decodeEvidence(badKind))).toBe("CODEC_UNKNOWN_TAG");
    const badReason = ev.slice();
    badReason[ev.length - 2] = 5;
    expect(codeOf(() => decodeEvidence(badReason))).toBe("CODEC_UNKNOWN_TAG");
    expect(codeOf(() => decodeAnchorPayload(fromHex("02010109")))).toBe("CODEC_UNKNOWN_TAG");
    expect(codeOf(() => decodeAnchorPayload(fromHex("02010101")))).toBe("CODEC_UNKNOWN_TAG");
  });
});

describe("overlong lengths and counts, structural limits", () => {
  test("more than PARENTS_MAX parents", () => {
    const five = { ...header, parents: Array.from({ length: PARENTS_MAX + 1 }, (_, i) => h32(i)), parentRounds: Array.from({ length: PARENTS_MAX + 1 }, (_, i) => i) };
    expect(codeOf(() => encodeEventHeader(five))).toBe("CODEC_LENGTH_TOO_LARGE");
    const enc = encodeEventHeader({ ...header, parents: five.parents.slice(0, PARENTS_MAX), parentRounds: five.parentRounds.slice(0, PARENTS_MAX) });
    // A fifth parent reference: 32-byte id and a u32 round.
    const bumped = concat(enc.subarray(0, PARENTS_COUNT_OFFSET), [PARENTS_MAX + 1], enc.subarray(PARENTS_COUNT_OFFSET + 1), h32(9), [0, 0, 0, 0]);
    expect(codeOf(() => decodeEventHeader(bumped))).toBe("CODEC_LENGTH_TOO_LARGE");
  });

  test("payload transaction count above PAYLOAD_TXS_MAX, and a count larger than the bytes", () => {
    const count = new Writer().varint(PAYLOAD_TXS_MAX + 1).finish();
    expect(codeOf(() => decodeAnchorPayload(concat([TAG.anchorPayload, CODEC_VERSION], count)))).toBe("CODEC_LENGTH_TOO_LARGE");
    expect(codeOf(() => decodeAnchorPayload(fromHex("020105")))).toBe("CODEC_TRUNCATED");
  });

  test("a payload above PAYLOAD_BYTES_MAX is refused before decoding, and cannot be encoded", () => {
    const big = new Uint8Array(PAYLOAD_BYTES_MAX + 1);
    big.set([TAG.anchorPayload, CODEC_VERSION, 0]);
    expect(codeOf(() => decodeAnchorPayload(big))).toBe("CODEC_LENGTH_TOO_LARGE");
    // 820 transactions of 256 outputs (10,245 bytes each): few transactions, over 8 MiB.
    const tx: MicroTx = { inputs: [], outputs: Array.from({ length: 256 }, () => ({ amount: 1n, lockCommitment: h32(1) })), witnesses: [] };
    expect(encodeMicroTx(tx).length).toBe(10_245); // 03 01, 00 inputs, 80 02 outputs, 256 × 40
    const txs = Array.from({ length: 820 }, () => ({ kind: "micro" as const, tx }));
    expect(() => encodeAnchorPayload({ txs })).toThrow(/bytes exceeds 8388608/);
  });

  test("hashlock preimage longer than HASHLOCK_PREIMAGE_BYTES_MAX", () => {
    const w: Witness = { kind: "hashlock", preimage: new Uint8Array(HASHLOCK_PREIMAGE_BYTES_MAX) };
    const ok = encodeWitness(w);
    expect(decodeWitness(ok)).toEqual(w);
    expect(codeOf(() => encodeWitness({ kind: "hashlock", preimage: new Uint8Array(HASHLOCK_PREIMAGE_BYTES_MAX + 1) }))).toBe("CODEC_LENGTH_TOO_LARGE");
    const len = new Writer().varint(HASHLOCK_PREIMAGE_BYTES_MAX + 1).finish();
    expect(codeOf(() => decodeWitness(concat([2], len, new Uint8Array(HASHLOCK_PREIMAGE_BYTES_MAX + 1))))).toBe("CODEC_LENGTH_TOO_LARGE");
  });

  test("multisig: more than 16 keys, m = 0, m > n, indices not strictly increasing", () => {
    const keys = (n: number) => Array.from({ length: n }, (_, i) => h32(i));
    expect(codeOf(() => encodeLock({ kind: "multisig", m: 1, publicKeys: keys(MULTISIG_KEYS_MAX + 1) }))).toBe("CODEC_LENGTH_TOO_LARGE");
    expect(codeOf(() => encodeLock({ kind: "multisig", m: 0, publicKeys: keys(2) }))).toBe("CODEC_INVALID");
    expect(codeOf(() => encodeLock({ kind: "multisig", m: 3, publicKeys: keys(2) }))).toBe("CODEC_INVALID");
    const good = encodeLock({ kind: "multisig", m: 2, publicKeys: keys(2) });
    const mTooBig = good.slice();
    mTooBig[3] = 3;
    expect(codeOf(() => decodeLock(mTooBig))).toBe("CODEC_INVALID");
    const sig = new Uint8Array(64);
    const dup: Witness = { kind: "multisig", signatures: [{ index: 1, signature: sig }, { index: 1, signature: sig }] };
    expect(codeOf(() => encodeWitness(dup))).toBe("CODEC_INVALID");
    const down = encodeWitness({ kind: "multisig", signatures: [{ index: 1, signature: sig }, { index: 2, signature: sig }] });
    down[2 + 65] = 0; // second index below the first
    expect(codeOf(() => decodeWitness(down))).toBe("CODEC_INVALID");
  });

  test("lock and witness trees: depth above LOCK_DEPTH_MAX and more than LOCK_NODES_MAX nodes", () => {
    const leaf: Lock = { kind: "after", anchorIndex: 1n };
    const chain = (depth: number): Lock => (depth === 1 ? leaf : { kind: "and", left: leaf, right: chain(depth - 1) });
    expect(decodeLock(encodeLock(chain(LOCK_DEPTH_MAX)))).toEqual(chain(LOCK_DEPTH_MAX));
    expect(codeOf(() => encodeLock(chain(LOCK_DEPTH_MAX + 1)))).toBe("CODEC_INVALID");
    // Hand-built deeper encoding: 06 01, then (depth 9) "and" nodes each followed by a leaf on the left.
    const w = new Writer().u8(TAG.lock).u8(CODEC_VERSION);
    for (let d = 1; d < LOCK_DEPTH_MAX + 1; d++) w.u8(4).u8(3).u64(1n);
    w.u8(3).u64(1n);
    expect(codeOf(() => decodeLock(w.finish()))).toBe("CODEC_INVALID");
    // Node budget: 31 nodes pass, 33 (LOCK_NODES_MAX + 1; a lock tree has an odd node count) fail, at depth <= 6.
    const balanced = (levels: number): Lock => (levels === 0 ? leaf : { kind: "or", left: balanced(levels - 1), right: balanced(levels - 1) });
    expect(decodeLock(encodeLock(balanced(4)))).toEqual(balanced(4));
    const nodes33: Lock = { kind: "and", left: balanced(4), right: leaf };
    expect(codeOf(() => encodeLock(nodes33))).toBe("CODEC_INVALID");
    const w33 = new Writer().u8(TAG.lock).u8(CODEC_VERSION);
    const writeTree = (l: Lock): void => {
      if (l.kind === "after") w33.u8(3).u64(l.anchorIndex);
      else if (l.kind === "and" || l.kind === "or") {
        w33.u8(l.kind === "and" ? 4 : 5);
        writeTree(l.left);
        writeTree(l.right);
      }
    };
    writeTree(nodes33);
    expect(codeOf(() => decodeLock(w33.finish()))).toBe("CODEC_INVALID");
    // A witness tree of exactly 32 nodes is fine, 33 is not.
    const wAnd = (n: number): Witness => (n === 1 ? { kind: "after" } : { kind: "and", left: { kind: "after" }, right: wAnd(n - 2) });
    const wChain = (extra: Witness, orNodes: number): Witness => (orNodes === 0 ? extra : { kind: "or", branch: 0, witness: wChain(extra, orNodes - 1) });
    const w32: Witness = { kind: "and", left: wAnd(7), right: { kind: "and", left: wAnd(7), right: { kind: "and", left: wAnd(7), right: wChain(wAnd(7), 1) } } };
    expect(decodeWitness(encodeWitness(w32))).toEqual(w32);
    const w33w: Witness = { kind: "and", left: wAnd(7), right: { kind: "and", left: wAnd(7), right: { kind: "and", left: wAnd(7), right: { kind: "and", left: wAnd(7), right: { kind: "after" } } } } };
    expect(() => encodeWitness(w33w)).toThrow(/more than 32 nodes/);
    expect(() => encodeLock(nodes33)).toThrow(/more than 32 nodes/);
    const wit = (depth: number): Witness => (depth === 1 ? { kind: "after" } : { kind: "or", branch: 1, witness: wit(depth - 1) });
    expect(decodeWitness(encodeWitness(wit(LOCK_DEPTH_MAX)))).toEqual(wit(LOCK_DEPTH_MAX));
    expect(codeOf(() => encodeWitness(wit(LOCK_DEPTH_MAX + 1)))).toBe("CODEC_INVALID");
    expect(codeOf(() => decodeWitness(fromHex("0502" + "03")))).toBe("CODEC_INVALID"); // or-branch 2
    expect(LOCK_NODES_MAX).toBe(32);
  });

  test("amount above the supply cap, witness count mismatch, creator >= 64, seq above 2^53 - 1", () => {
    const tx: MicroTx = { inputs: [], outputs: [{ amount: MAX_SUPPLY_UNITS, lockCommitment: h32(1) }], witnesses: [] };
    const bytes = encodeMicroTx(tx);
    expect(decodeMicroTx(bytes)).toEqual(tx);
    expect(codeOf(() => encodeMicroTx({ ...tx, outputs: [{ amount: MAX_SUPPLY_UNITS + 1n, lockCommitment: h32(1) }] }))).toBe("CODEC_VALUE_OUT_OF_RANGE");
    const over = bytes.slice();
    new DataView(over.buffer).setBigUint64(4, MAX_SUPPLY_UNITS + 1n, true);
    expect(codeOf(() => decodeMicroTx(over))).toBe("CODEC_VALUE_OUT_OF_RANGE");
    expect(codeOf(() => encodeMicroTx({ inputs: [{ txid: h32(1), index: 0 }], outputs: [], witnesses: [] }))).toBe("CODEC_INVALID");
    expect(codeOf(() => encodeEventHeader({ ...header, creator: COMMITTEE_MAX }))).toBe("CODEC_VALUE_OUT_OF_RANGE");
    const enc = encodeEventHeader(header);
    const badCreator = enc.slice();
    badCreator[4] = COMMITTEE_MAX;
    expect(codeOf(() => decodeEventHeader(badCreator))).toBe("CODEC_VALUE_OUT_OF_RANGE");
    const bigSeq = enc.slice();
    new DataView(bigSeq.buffer).setBigUint64(5, 1n << 53n, true);
    expect(codeOf(() => decodeEventHeader(bigSeq))).toBe("CODEC_VALUE_OUT_OF_RANGE");
  });
});
