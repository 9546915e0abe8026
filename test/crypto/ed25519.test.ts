// Ed25519 against @noble/curves: random valid and invalid signatures must agree;
// on the edge cases (small-order A/R, S >= L, non-canonical encodings, zero keys)
// libsodium's strict rule is what consensus uses, so those are checked against an
// independent model of that rule (below), and noble's looser ZIP-215 answers are
// shown to be a superset. verifyBatch must give exactly verify()'s answer per item.
import { describe, expect, test, setDefaultTimeout } from "bun:test";

// Generous per-test budget: the CI machine is shared; no test asserts a duration.
setDefaultTimeout(60_000);
import fc from "fast-check";
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { keyPairFromSeed, sign, verify, verifyBatch, fromHex, toHex, concatBytes, type VerifyItem } from "../../src/crypto/index.ts";
import speccheck from "../vectors/ed25519-speccheck.json";
import { L, bigintToLe, leToBigint } from "./scalars.ts";

const Point = ed25519.Point;
type EdPoint = InstanceType<typeof Point>;
/** Field prime p (RFC 8032 §5.1); the group order L is in scalars.ts. */
const P = (1n << 255n) - 19n;
const SEED = 0x5eed_2026;

function decode(bytes: Uint8Array, zip215: boolean): EdPoint | null {
  try {
    return Point.fromBytes(bytes, zip215);
  } catch {
    return null;
  }
}

/** k = SHA-512(R || A || M) mod L over the raw bytes, as RFC 8032 §5.1.7 says. */
const challenge = (r: Uint8Array, a: Uint8Array, m: Uint8Array): bigint => leToBigint(sha512(concatBytes(r, a, m))) % L;

/**
 * The documented strict rule (docs/SPEC_CODEC.md, src/crypto/ed25519.ts), written
 * independently of libsodium: S < L; A canonical (y < p), decodable, not of small
 * order; R not of small order in any encoding; and the cofactorless equation
 * encode([S]B - [k]A) == R byte for byte (so R must be canonical).
 */
function strictModel(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  const r = signature.subarray(0, 32);
  const s = leToBigint(signature.subarray(32));
  if (s >= L) return false;
  const a = decode(publicKey, false);
  if (a === null || a.isSmallOrder()) return false;
  const rPoint = decode(r, true);
  if (rPoint === null || rPoint.isSmallOrder()) return false;
  const k = challenge(r, publicKey, message);
  const check = Point.BASE.multiplyUnsafe(s).subtract(a.multiplyUnsafe(k));
  return toHex(check.toBytes()) === toHex(r);
}

const nobleZip215 = (s: Uint8Array, m: Uint8Array, a: Uint8Array): boolean => ed25519.verify(s, m, a, { zip215: true });
const nobleStrict = (s: Uint8Array, m: Uint8Array, a: Uint8Array): boolean => ed25519.verify(s, m, a, { zip215: false });

/** The 8 points of small order: multiples of a point of order 8 (speccheck case 0's key). */
function smallOrderPoints(): EdPoint[] {
  const t = Point.fromBytes(fromHex(speccheck.cases[0]!.pub_key), false);
  const points: EdPoint[] = [Point.ZERO];
  for (let i = 1; i < 8; i++) points.push(points[i - 1]!.add(t));
  expect(points[7]!.add(t).equals(Point.ZERO)).toBe(true);
  expect(new Set(points.map((p) => toHex(p.toBytes()))).size).toBe(8);
  return points;
}

/** Every 32-byte encoding of a small-order point: canonical, with the x sign bit flipped, and y + p where that fits. */
function smallOrderEncodings(): Uint8Array[] {
  const out = new Map<string, Uint8Array>();
  for (const p of smallOrderPoints()) {
    const enc = p.toBytes();
    const y = leToBigint(enc) & ((1n << 255n) - 1n);
    for (const yy of [y, y + P]) {
      if (yy >= 1n << 255n) continue;
      for (const signBit of [0n, 1n]) {
        const bytes = bigintToLe(yy | (signBit << 255n), 32);
        out.set(toHex(bytes), bytes);
      }
    }
  }
  return [...out.values()];
}

function assertBatchMatchesSingle(items: VerifyItem[]): boolean[] {
  const single = items.map((it) => verify(it.signature, it.message, it.publicKey));
  expect(verifyBatch(items, 1)).toEqual(single);
  expect(verifyBatch(items, 2)).toEqual(single);
  return single;
}

const messageArb = fc.uint8Array({ minLength: 0, maxLength: 200 });
const seedArb = fc.uint8Array({ minLength: 32, maxLength: 32 });

describe("Ed25519 differential against @noble/curves", () => {
  test("random keys and messages: identical keys, signatures, and verify answers (2,000 cases)", () => {
    const samples = fc.sample(fc.tuple(seedArb, messageArb), { seed: SEED, numRuns: 2000 });
    const items: VerifyItem[] = [];
    for (const [seed, message] of samples) {
      const kp = keyPairFromSeed(seed);
      expect(toHex(kp.publicKey)).toBe(toHex(ed25519.getPublicKey(seed)));
      const signature = sign(kp.secretKey, message);
      expect(toHex(signature)).toBe(toHex(ed25519.sign(message, seed)));
      expect(verify(signature, message, kp.publicKey)).toBe(true);
      expect(nobleZip215(signature, message, kp.publicKey)).toBe(true);
      items.push({ signature, message, publicKey: kp.publicKey });
    }
    expect(assertBatchMatchesSingle(items).every(Boolean)).toBe(true);
  });

  test("random corruptions (bit flips in R, S, A or M; swapped keys): noble and we agree on every one (3,000 cases)", () => {
    const base = fc.sample(fc.tuple(seedArb, messageArb), { seed: SEED + 1, numRuns: 300 }).map(([seed, message]) => {
      const kp = keyPairFromSeed(seed);
      return { signature: sign(kp.secretKey, message), message, publicKey: kp.publicKey };
    });
    const mutation = fc.record({
      which: fc.integer({ min: 0, max: base.length - 1 }),
      part: fc.constantFrom("signature", "publicKey", "message", "swapKey"),
      bit: fc.nat({ max: 511 }),
    });
    const items: VerifyItem[] = [];
    let disagreements = 0;
    for (const m of fc.sample(mutation, { seed: SEED + 2, numRuns: 3000 })) {
      const it = base[m.which]!;
      const signature = it.signature.slice();
      let publicKey: Uint8Array = it.publicKey.slice();
      let message: Uint8Array = it.message.slice();
      if (m.part === "signature") signature[(m.bit >> 3) % 64]! ^= 1 << (m.bit & 7);
      else if (m.part === "publicKey") publicKey[(m.bit >> 3) % 32]! ^= 1 << (m.bit & 7);
      else if (m.part === "message" && message.length) message[(m.bit >> 3) % message.length]! ^= 1 << (m.bit & 7);
      else if (m.part === "message") message = new Uint8Array([1]);
      else publicKey = base[(m.which + 1) % base.length]!.publicKey;
      const ours = verify(signature, message, publicKey);
      expect(ours).toBe(strictModel(signature, message, publicKey));
      if (ours !== nobleZip215(signature, message, publicKey)) disagreements++;
      items.push({ signature, message, publicKey });
    }
    expect(disagreements).toBe(0);
    const answers = assertBatchMatchesSingle(items);
    // Every corruption of a signed (key, message, signature) triple is invalid.
    expect(answers.filter(Boolean).length).toBe(0);
  });
});

describe("Ed25519 edge cases follow the strict rule", () => {
  const seed = fromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  const kp = keyPairFromSeed(seed);
  const scalarA = ed25519.utils.getExtendedPublicKey(seed).scalar;
  const message = new TextEncoder().encode("phantom edge case");

  test("the published speccheck cases: we answer exactly as the strict model; noble (ZIP-215) accepts a superset", () => {
    const items = speccheck.cases.map((c) => ({ signature: fromHex(c.signature), message: fromHex(c.message), publicKey: fromHex(c.pub_key) }));
    const ours = assertBatchMatchesSingle(items);
    items.forEach((it, i) => {
      expect({ i, ok: ours[i] }).toEqual({ i, ok: strictModel(it.signature, it.message, it.publicKey) });
      if (ours[i]) {
        expect(nobleStrict(it.signature, it.message, it.publicKey)).toBe(true);
        expect(nobleZip215(it.signature, it.message, it.publicKey)).toBe(true);
      }
    });
    const accepted = ours.flatMap((ok, i) => (ok ? [i] : []));
    const acceptedByZip215 = items.flatMap((it, i) => (nobleZip215(it.signature, it.message, it.publicKey) ? [i] : []));
    // Strict libsodium accepts only the case with mixed-order A and R whose
    // cofactorless equation holds; ZIP-215 also accepts the small-order ones.
    // The published results: we accept exactly what libsodium accepts, and noble's
    // ZIP-215 mode accepts exactly what Zebra (the ZIP-215 reference) accepts.
    expect(accepted).toEqual(speccheck.published_results.LibSodium);
    expect(acceptedByZip215).toEqual(speccheck.published_results.Zebra);
    expect(accepted.length).toBeLessThan(acceptedByZip215.length);
    for (const i of accepted) expect(acceptedByZip215).toContain(i);
  });

  test("non-canonical S (S + L, S + 2L, ...) is rejected although S mod L is valid", () => {
    const good = sign(kp.secretKey, message);
    const s = leToBigint(good.subarray(32));
    const items: VerifyItem[] = [{ signature: good, message, publicKey: kp.publicKey }];
    for (let j = 1n; s + j * L < 1n << 256n; j++) {
      const signature = concatBytes(good.subarray(0, 32), bigintToLe(s + j * L, 32));
      expect(verify(signature, message, kp.publicKey)).toBe(false);
      expect(strictModel(signature, message, kp.publicKey)).toBe(false);
      items.push({ signature, message, publicKey: kp.publicKey });
    }
    expect(items.length).toBeGreaterThan(2);
    expect(assertBatchMatchesSingle(items)).toEqual([true, ...items.slice(1).map(() => false)]);
  });

  test("small-order R with S = k·a satisfies the cofactored equation; strict rejects all of them, noble ZIP-215 accepts", () => {
    const items: VerifyItem[] = [];
    for (const r of smallOrderEncodings()) {
      const k = challenge(r, kp.publicKey, message);
      const signature = concatBytes(r, bigintToLe((k * scalarA) % L, 32));
      expect(verify(signature, message, kp.publicKey)).toBe(false);
      expect(strictModel(signature, message, kp.publicKey)).toBe(false);
      // [8][S]B = [8]R + [8][k]A holds because [8]R = 0: the cofactored verifier says yes.
      expect(nobleZip215(signature, message, kp.publicKey)).toBe(true);
      items.push({ signature, message, publicKey: kp.publicKey });
    }
    expect(items.length).toBeGreaterThanOrEqual(14);
    expect(assertBatchMatchesSingle(items).some(Boolean)).toBe(false);
  });

  test("small-order A (all 8 points, every encoding) is rejected, even where the equation holds", () => {
    const rPoints = smallOrderPoints();
    const items: VerifyItem[] = [];
    let equationHolds = 0;
    for (const a of smallOrderEncodings()) {
      const aPoint = Point.fromBytes(a, true);
      // S = 0 and R = -[k]A makes [S]B = R + [k]A; try messages until the hash lands on R.
      for (let n = 0; n < 64; n++) {
        const m = new TextEncoder().encode(`small A ${n}`);
        for (const rp of rPoints) {
          const r = rp.toBytes();
          const k = challenge(r, a, m);
          if (!rp.equals(aPoint.multiplyUnsafe(k).negate())) continue;
          const signature = concatBytes(r, new Uint8Array(32));
          equationHolds++;
          expect(verify(signature, m, a)).toBe(false);
          expect(strictModel(signature, m, a)).toBe(false);
          items.push({ signature, message: m, publicKey: a });
        }
        if (items.length && toHex(items[items.length - 1]!.publicKey) === toHex(a)) break;
      }
      // Also a plain signature by a real key presented under the small-order key.
      items.push({ signature: sign(kp.secretKey, message), message, publicKey: a });
    }
    expect(equationHolds).toBeGreaterThan(10);
    expect(assertBatchMatchesSingle(items).some(Boolean)).toBe(false);
  });

  test("non-canonical A (y >= p) and R (y >= p) encodings are rejected", () => {
    const items: VerifyItem[] = [];
    // y in [p, 2^255) encodes y - p in 0..18; test every one that decodes under ZIP-215.
    for (let d = 0n; d < 19n; d++) {
      for (const signBit of [0n, 1n]) {
        const enc = bigintToLe((P + d) | (signBit << 255n), 32);
        if (decode(enc, true) === null) continue;
        expect(decode(enc, false)).toBeNull();
        items.push({ signature: sign(kp.secretKey, message), message, publicKey: enc });
        // As R: pair it with S = k·a so that only the encoding is wrong when it is the identity.
        const k = challenge(enc, kp.publicKey, message);
        items.push({ signature: concatBytes(enc, bigintToLe((k * scalarA) % L, 32)), message, publicKey: kp.publicKey });
      }
    }
    expect(items.length).toBeGreaterThanOrEqual(4);
    for (const it of items) {
      expect(verify(it.signature, it.message, it.publicKey)).toBe(false);
      expect(strictModel(it.signature, it.message, it.publicKey)).toBe(false);
    }
    expect(assertBatchMatchesSingle(items).some(Boolean)).toBe(false);
  });

  test("zero keys and zero signatures: rejected (noble ZIP-215 accepts the all-zero triple)", () => {
    const zero32 = new Uint8Array(32);
    const zero64 = new Uint8Array(64);
    const items: VerifyItem[] = [
      { signature: zero64, message, publicKey: zero32 },
      { signature: zero64, message: new Uint8Array(0), publicKey: zero32 },
      { signature: zero64, message, publicKey: kp.publicKey },
      { signature: sign(kp.secretKey, message), message, publicKey: zero32 },
      { signature: sign(kp.secretKey, message), message, publicKey: new Uint8Array(32).fill(0xff) },
      { signature: new Uint8Array(64).fill(0xff), message, publicKey: kp.publicKey },
    ];
    for (const it of items) {
      expect(verify(it.signature, it.message, it.publicKey)).toBe(false);
      expect(strictModel(it.signature, it.message, it.publicKey)).toBe(false);
    }
    // A = (sqrt(-1), 0) and R = the same point have order 4, S = 0: [8](R + kA) = 0.
    expect(nobleZip215(zero64, message, zero32)).toBe(true);
    expect(assertBatchMatchesSingle(items).some(Boolean)).toBe(false);
  });

  test("a batch with one bad signature names which one, on 1 and 2 threads", () => {
    const samples = fc.sample(fc.tuple(seedArb, messageArb), { seed: SEED + 3, numRuns: 96 });
    const items = samples.map(([s, m]) => {
      const k = keyPairFromSeed(s);
      return { signature: sign(k.secretKey, m), message: m, publicKey: k.publicKey };
    });
    for (const bad of [0, 17, 50, 95]) {
      const copy = items.map((it) => ({ ...it }));
      const sig = copy[bad]!.signature.slice();
      sig[40]! ^= 0x04;
      copy[bad]!.signature = sig;
      for (const threads of [1, 2]) {
        const answers = verifyBatch(copy, threads);
        expect(answers.flatMap((ok, i) => (ok ? [] : [i]))).toEqual([bad]);
      }
    }
  });
});
