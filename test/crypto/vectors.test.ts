// Published vectors first: BLAKE3 (official test_vectors.json), RFC 8032 Ed25519,
// RFC 7748 X25519, RFC 8439 ChaCha20 / ChaCha20-Poly1305. Sources are cited in
// each test/vectors/*.json file.
import { describe, expect, test, setDefaultTimeout } from "bun:test";

// Generous per-test budget: the CI machine is shared; no test asserts a duration.
setDefaultTimeout(60_000);
import {
  blake3, blake3_32, blake3Keyed, blake3DeriveKey, blake3Batch, keyPairFromSeed, sign, verify, verifyBatch,
  x25519, x25519PublicKey, chacha20poly1305Seal, chacha20poly1305Open, chacha20Xor, fromHex, toHex, BLAKE3_OUT_BYTES_MAX,
} from "../../src/crypto/index.ts";
import { PhantomError } from "../../src/errors.ts";
import blake3Vectors from "../vectors/blake3.json";
import ed25519Vectors from "../vectors/ed25519-rfc8032.json";
import x25519Vectors from "../vectors/x25519-rfc7748.json";
import chachaVectors from "../vectors/chacha20poly1305-rfc8439.json";

const utf8 = new TextEncoder();

/** The official input: the bytes 0, 1, ..., 250 repeated. */
/** `fn` throws a PhantomError with `code`. */
function expectCode(fn: () => unknown, code: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(PhantomError);
  expect((thrown as PhantomError).code).toBe(code);
}

function blake3TestInput(length: number): Uint8Array {
  const input = new Uint8Array(length);
  for (let i = 0; i < length; i++) input[i] = i % 251;
  return input;
}

describe("BLAKE3 official vectors", () => {
  const key = utf8.encode(blake3Vectors.key);
  expect(key.length).toBe(32);

  for (const c of blake3Vectors.cases) {
    test(`input_len ${c.input_len}: hash, keyed_hash, derive_key (extended and default length)`, () => {
      const input = blake3TestInput(c.input_len);
      const outLength = c.hash.length / 2;
      expect(toHex(blake3(input, outLength))).toBe(c.hash);
      expect(toHex(blake3Keyed(key, input, outLength))).toBe(c.keyed_hash);
      expect(toHex(blake3DeriveKey(blake3Vectors.context_string, input, outLength))).toBe(c.derive_key);
      // The default 32-byte output is the prefix of the extended output.
      expect(toHex(blake3_32(input))).toBe(c.hash.slice(0, 64));
      expect(toHex(blake3Keyed(key, input))).toBe(c.keyed_hash.slice(0, 64));
      expect(toHex(blake3DeriveKey(blake3Vectors.context_string, input))).toBe(c.derive_key.slice(0, 64));
      // Every shorter XOF length is a prefix too (catches length-dependent output).
      for (const n of [1, 31, 33, 64, 65]) expect(toHex(blake3(input, n))).toBe(c.hash.slice(0, 2 * n));
    });
  }

  test("blake3Batch equals one-by-one hashing, including empty inputs", () => {
    const inputs = blake3Vectors.cases.map((c) => blake3TestInput(c.input_len));
    inputs.push(new Uint8Array(0), new Uint8Array(0), new Uint8Array([0]), new Uint8Array(0));
    const batch = blake3Batch(inputs);
    expect(batch.length).toBe(inputs.length);
    inputs.forEach((input, i) => expect(toHex(batch[i]!)).toBe(toHex(blake3_32(input))));
    expect(blake3Batch([])).toEqual([]);
    // Only empty inputs: the packed buffer is empty.
    const empties = blake3Batch([new Uint8Array(0), new Uint8Array(0)]);
    expect(empties.map(toHex)).toEqual([blake3Vectors.cases[0]!.hash.slice(0, 64), blake3Vectors.cases[0]!.hash.slice(0, 64)]);
  });

  test("output lengths: 0 is empty, non-integers, negatives and more than BLAKE3_OUT_BYTES_MAX are typed errors", () => {
    expect(blake3(new Uint8Array(3), 0).length).toBe(0);
    expect(blake3(new Uint8Array(3), BLAKE3_OUT_BYTES_MAX).length).toBe(BLAKE3_OUT_BYTES_MAX);
    for (const n of [-1, 1.5, Number.NaN, BLAKE3_OUT_BYTES_MAX + 1]) {
      for (const call of [() => blake3(new Uint8Array(1), n), () => blake3Keyed(new Uint8Array(32), new Uint8Array(1), n), () => blake3DeriveKey("ctx", new Uint8Array(1), n)]) {
        expectCode(call, "BAD_ARGUMENT");
      }
    }
  });

  test("a keyed hash needs a 32-byte key (typed error)", () => {
    for (const n of [0, 16, 31, 33]) {
      expectCode(() => blake3Keyed(new Uint8Array(n), new Uint8Array(1)), "BAD_LENGTH");
    }
  });
});

describe("Ed25519 RFC 8032 §7.1", () => {
  for (const c of ed25519Vectors.cases) {
    test(c.name, () => {
      const kp = keyPairFromSeed(fromHex(c.secret_key));
      expect(toHex(kp.publicKey)).toBe(c.public_key);
      const message = fromHex(c.message);
      const signature = sign(kp.secretKey, message);
      expect(toHex(signature)).toBe(c.signature);
      expect(verify(signature, message, kp.publicKey)).toBe(true);
      expect(verifyBatch([{ signature, message, publicKey: kp.publicKey }], 1)).toEqual([true]);
      // Any other message fails.
      expect(verify(signature, utf8.encode("not the message"), kp.publicKey)).toBe(false);
    });
  }

  test("bad key lengths are typed errors; bad verify inputs are just invalid", () => {
    expect(() => keyPairFromSeed(new Uint8Array(31))).toThrow(PhantomError);
    expect(() => sign(new Uint8Array(32), new Uint8Array(1))).toThrow(PhantomError);
    const c = ed25519Vectors.cases[0]!;
    const sig = fromHex(c.signature);
    const pk = fromHex(c.public_key);
    expect(verify(sig.subarray(0, 63), new Uint8Array(0), pk)).toBe(false);
    expect(verify(sig, new Uint8Array(0), pk.subarray(0, 31))).toBe(false);
    expect(verifyBatch([{ signature: sig.subarray(0, 63), message: new Uint8Array(0), publicKey: pk }, { signature: sig, message: new Uint8Array(0), publicKey: pk }], 1)).toEqual([false, true]);
    for (const threads of [0, 65, 1.5]) {
      expectCode(() => verifyBatch([{ signature: sig, message: new Uint8Array(0), publicKey: pk }], threads), "BAD_ARGUMENT");
    }
  });
});

describe("X25519 RFC 7748", () => {
  test("§5.2 scalar multiplication vectors", () => {
    for (const c of x25519Vectors.scalar_mult) expect(toHex(x25519(fromHex(c.scalar), fromHex(c.u)))).toBe(c.output);
  });

  test("§5.2 iterated vector: 1 and 1,000 rounds", () => {
    let k = fromHex(x25519Vectors.iterated.start);
    let u = fromHex(x25519Vectors.iterated.start);
    for (let i = 1; i <= 1000; i++) {
      const next = x25519(k, u);
      u = k;
      k = next;
      if (i === 1) expect(toHex(k)).toBe(x25519Vectors.iterated.after_1);
    }
    expect(toHex(k)).toBe(x25519Vectors.iterated.after_1000);
  });

  test("§6.1 Diffie-Hellman", () => {
    const d = x25519Vectors.diffie_hellman;
    const alice = fromHex(d.alice_private);
    const bob = fromHex(d.bob_private);
    expect(toHex(x25519PublicKey(alice))).toBe(d.alice_public);
    expect(toHex(x25519PublicKey(bob))).toBe(d.bob_public);
    expect(toHex(x25519(alice, fromHex(d.bob_public)))).toBe(d.shared);
    expect(toHex(x25519(bob, fromHex(d.alice_public)))).toBe(d.shared);
  });

  test("a small-order peer point is refused with a typed error", () => {
    const scalar = fromHex(x25519Vectors.diffie_hellman.alice_private);
    for (const point of [new Uint8Array(32), fromHex("0100000000000000000000000000000000000000000000000000000000000000")]) {
      expectCode(() => x25519(scalar, point), "X25519_SMALL_ORDER");
    }
    expect(() => x25519(new Uint8Array(31), new Uint8Array(32))).toThrow(PhantomError);
  });
});

describe("ChaCha20 / ChaCha20-Poly1305 RFC 8439", () => {
  test("§2.4.2 keystream (chacha20Xor, counter 1)", () => {
    const c = chachaVectors.chacha20;
    const plaintext = utf8.encode(c.plaintext_ascii);
    const ct = chacha20Xor(fromHex(c.key), fromHex(c.nonce), c.counter, plaintext);
    expect(toHex(ct)).toBe(c.ciphertext);
    // XOR is its own inverse.
    expect(new TextDecoder().decode(chacha20Xor(fromHex(c.key), fromHex(c.nonce), c.counter, ct))).toBe(c.plaintext_ascii);
    expect(chacha20Xor(fromHex(c.key), fromHex(c.nonce), 0, new Uint8Array(0)).length).toBe(0);
  });

  test("the block counter must be a u32 (no silent wrap-around)", () => {
    const c = chachaVectors.chacha20;
    const key = fromHex(c.key);
    const nonce = fromHex(c.nonce);
    expect(chacha20Xor(key, nonce, 0xffffffff, new Uint8Array(64)).length).toBe(64);
    for (const counter of [-1, 2 ** 32, 0.5, Number.NaN]) {
      expectCode(() => chacha20Xor(key, nonce, counter, new Uint8Array(1)), "BAD_ARGUMENT");
    }
  });

  test("§2.8.2 AEAD seal and open", () => {
    const a = chachaVectors.aead;
    const key = fromHex(a.key);
    const nonce = fromHex(a.nonce);
    const aad = fromHex(a.aad);
    const sealed = chacha20poly1305Seal(key, nonce, utf8.encode(a.plaintext_ascii), aad);
    expect(toHex(sealed)).toBe(a.ciphertext + a.tag);
    const opened = chacha20poly1305Open(key, nonce, sealed, aad);
    expect(opened).not.toBeNull();
    expect(new TextDecoder().decode(opened!)).toBe(a.plaintext_ascii);
  });

  test("any tampering makes open return null", () => {
    const a = chachaVectors.aead;
    const key = fromHex(a.key);
    const nonce = fromHex(a.nonce);
    const aad = fromHex(a.aad);
    const sealed = fromHex(a.ciphertext + a.tag);
    for (const at of [0, 57, sealed.length - 16, sealed.length - 1]) {
      const bad = sealed.slice();
      bad[at]! ^= 0x01;
      expect(chacha20poly1305Open(key, nonce, bad, aad)).toBeNull();
    }
    const badAad = aad.slice();
    badAad[0]! ^= 0x80;
    expect(chacha20poly1305Open(key, nonce, sealed, badAad)).toBeNull();
    const badNonce = nonce.slice();
    badNonce[11]! ^= 1;
    expect(chacha20poly1305Open(key, badNonce, sealed, aad)).toBeNull();
    expect(chacha20poly1305Open(key, nonce, sealed.subarray(0, 15), aad)).toBeNull();
    expect(chacha20poly1305Open(key, nonce, sealed.subarray(0, sealed.length - 1), aad)).toBeNull();
  });

  test("empty plaintext and empty AAD round-trip; wrong key/nonce sizes are typed errors", () => {
    const key = new Uint8Array(32).fill(7);
    const nonce = new Uint8Array(12).fill(9);
    const sealed = chacha20poly1305Seal(key, nonce, new Uint8Array(0), new Uint8Array(0));
    expect(sealed.length).toBe(16);
    expect(chacha20poly1305Open(key, nonce, sealed, new Uint8Array(0))).toEqual(new Uint8Array(0));
    expect(() => chacha20poly1305Seal(new Uint8Array(31), nonce, new Uint8Array(1), new Uint8Array(0))).toThrow(PhantomError);
    expect(() => chacha20poly1305Open(key, new Uint8Array(8), sealed, new Uint8Array(0))).toThrow(PhantomError);
    expect(() => chacha20Xor(key, new Uint8Array(13), 0, new Uint8Array(1))).toThrow(PhantomError);
  });
});
