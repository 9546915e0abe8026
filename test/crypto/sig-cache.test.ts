// The verified-signature cache answers exactly as verifyBatch does, verifies only what
// it has not seen valid, and stays within its bound.
import { expect, test } from "bun:test";
import { keyPairFromSeed, sign, verifyBatch, type VerifyItem } from "../../src/crypto/index.ts";
import { SignatureCache } from "../../src/crypto/sig-cache.ts";

function items(n: number, seed: number): VerifyItem[] {
  return Array.from({ length: n }, (_, i) => {
    const kp = keyPairFromSeed(new Uint8Array(32).fill((seed + i) % 251));
    const message = new TextEncoder().encode(`message ${seed}/${i}`);
    return { signature: sign(kp.secretKey, message), message, publicKey: kp.publicKey };
  });
}

test("answers exactly as verifyBatch and skips signatures it already verified", () => {
  let verified = 0;
  const cache = new SignatureCache(1_000, (batch) => {
    verified += batch.length;
    return verifyBatch(batch);
  });
  const good = items(20, 1);
  const bad = items(5, 40).map((it) => ({ ...it, signature: it.signature.map((b, j) => (j === 0 ? b ^ 1 : b)) }));
  const swapped = good.slice(0, 3).map((it, j) => ({ ...it, publicKey: good[j + 3]!.publicKey })); // valid sig, wrong key
  const mixed = [...good, ...bad, ...swapped];
  expect(cache.verify(mixed)).toEqual(verifyBatch(mixed));
  expect(verified).toBe(28);
  // Second time: the 20 valid ones come from the cache, the invalid ones are checked again.
  expect(cache.verify([...mixed].reverse())).toEqual(verifyBatch([...mixed].reverse()));
  expect(verified).toBe(36);
  expect(cache.stats).toEqual({ hits: 20, misses: 36 });
  expect(cache.verify([])).toEqual([]);
});

test("keeps at most its capacity, dropping the oldest first", () => {
  const cache = new SignatureCache(8);
  const a = items(8, 100);
  const b = items(4, 200);
  cache.verify(a);
  cache.verify(b);
  expect(cache.size).toBe(8);
  const before = cache.stats.misses;
  cache.verify(b); // newest: still cached
  expect(cache.stats.misses).toBe(before);
  cache.verify(a.slice(0, 4)); // oldest: evicted, verified again
  expect(cache.stats.misses).toBe(before + 4);
});
