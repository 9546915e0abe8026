// decodePayloadIndexed must agree with decodeAnchorPayload on every input, and its txids
// and sizes with digestMicroTx and encodeMicroTx.
import { expect, test } from "bun:test";
import fc from "fast-check";
import { decodePayloadIndexed, unsignedMicroTxBytes } from "../../src/ledger/payload-index.ts";
import { decodeAnchorPayload, encodeAnchorPayload } from "../../src/types/payload.ts";
import { digestMicroTx, encodeMicroTx, encodeMicroTxUnsigned } from "../../src/types/tx.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { generateStream } from "./stream.ts";

const payloads = generateStream(25, 5).payloads;

function outcome(decode: () => unknown): string {
  try {
    decode();
    return "ok";
  } catch (e) {
    return (e as { code?: string }).code ?? "THROW";
  }
}

test("txids and sizes equal digestMicroTx and the canonical encoding length", () => {
  let micro = 0;
  for (const bytes of payloads) {
    const { payload, hints } = decodePayloadIndexed(bytes);
    expect(encodeAnchorPayload(payload)).toEqual(bytes);
    payload.txs.forEach((t, i) => {
      if (t.kind !== "micro") return expect(hints.txids[i]).toBeUndefined();
      micro++;
      expect(toHex(hints.txids[i]!)).toBe(toHex(digestMicroTx(t.tx)));
      expect(hints.encodedBytes[i]).toBe(encodeMicroTx(t.tx).length);
      expect(unsignedMicroTxBytes(t.tx.inputs.length, t.tx.outputs.length)).toBe(encodeMicroTxUnsigned(t.tx).length);
    });
  }
  expect(micro).toBeGreaterThan(20);
});

test("unsigned length formula holds across varint boundaries", () => {
  for (const n of [0, 1, 127, 128, 256, 16383, 16384]) {
    const tx = { inputs: Array.from({ length: Math.min(n, 256) }, () => ({ txid: new Uint8Array(32), index: 1 })), outputs: Array.from({ length: Math.min(n, 256) }, () => ({ amount: 1n, lockCommitment: new Uint8Array(32) })) };
    expect(unsignedMicroTxBytes(tx.inputs.length, tx.outputs.length)).toBe(encodeMicroTxUnsigned(tx).length);
  }
});

test("fuzz: accepts and rejects exactly what decodeAnchorPayload does, with the same code", () => {
  fc.assert(
    fc.property(fc.nat({ max: payloads.length - 1 }), fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 }), fc.nat(), (which, flips, cut) => {
      const base = payloads[which]!;
      const mutated = base.slice(0, base.length - (cut % 3 === 0 ? cut % 7 : 0));
      for (const f of flips) if (mutated.length) mutated[f.at % mutated.length] = f.byte;
      const a = outcome(() => decodeAnchorPayload(mutated));
      const b = outcome(() => decodePayloadIndexed(mutated));
      expect(b).toBe(a);
      if (a === "ok") expect(decodePayloadIndexed(mutated).payload).toEqual(decodeAnchorPayload(mutated));
    }),
    { numRuns: 400 },
  );
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (junk) => expect(outcome(() => decodePayloadIndexed(junk))).toBe(outcome(() => decodeAnchorPayload(junk)))), { numRuns: 300 });
});
