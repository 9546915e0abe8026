// powSearch on native threads: correctness of a hit (recomputed here), the
// exhausted and cancelled outcomes, an event loop that keeps running during a
// search, and typed errors for bad arguments. No test asserts a duration.
import { describe, expect, test, setDefaultTimeout } from "bun:test";

// Generous per-test budget: the CI machine is shared; no test asserts a duration.
setDefaultTimeout(60_000);
import { powSearch, leadingZeroBits, blake3, toHex, POW_HEADER_BYTES_MAX } from "../../src/crypto/index.ts";
import { PhantomError } from "../../src/errors.ts";

/** Effectively unbounded work: cancelled by the test long before it ends. */
const ITERS_HUGE = 1n << 50n;
const TICKS_WANTED = 20;

function header(length: number, fill: number): Uint8Array {
  return new Uint8Array(length).map((_, i) => (i * 31 + fill) & 0xff);
}

function withNonce(h: Uint8Array, offset: number, nonce: bigint): Uint8Array {
  const out = h.slice();
  new DataView(out.buffer).setBigUint64(offset, nonce, true);
  return out;
}

describe("powSearch", () => {
  for (const threads of [1, 2]) {
    test(`finds a nonce whose BLAKE3 has >= target leading zero bits (${threads} thread(s))`, async () => {
      const h = header(90, threads);
      const offset = 82;
      const start = 1_000_000n;
      const r = await powSearch(h, { nonceOffset: offset, targetBits: 12, startNonce: start, maxIters: 1n << 30n, threads });
      expect(r.outcome).toBe("found");
      const nonce = r.nonce!;
      expect(nonce >= start).toBe(true);
      const recomputed = blake3(withNonce(h, offset, nonce));
      expect(toHex(recomputed)).toBe(toHex(r.hash!));
      expect(leadingZeroBits(recomputed)).toBeGreaterThanOrEqual(12);
      expect(r.hashes >= 1n).toBe(true);
    });
  }

  test("target 0 is met by the first nonce tried", async () => {
    const h = header(16, 7);
    const r = await powSearch(h, { nonceOffset: 8, targetBits: 0, startNonce: 42n, maxIters: 10n, threads: 1 });
    expect(r.outcome).toBe("found");
    expect(r.nonce).toBe(42n);
    expect(toHex(r.hash!)).toBe(toHex(blake3(withNonce(h, 8, 42n))));
  });

  test("'exhausted' when maxIters is too small for a hard target; every nonce was tried once", async () => {
    for (const threads of [1, 2]) {
      const r = await powSearch(header(40, 3), { nonceOffset: 0, targetBits: 200, maxIters: 5000n, threads });
      expect(r.outcome).toBe("exhausted");
      expect(r.nonce).toBeNull();
      expect(r.hash).toBeNull();
      expect(r.hashes).toBe(5000n);
    }
    const none = await powSearch(header(8, 1), { nonceOffset: 0, targetBits: 1, maxIters: 0n, threads: 2 });
    expect(none.outcome).toBe("exhausted");
    expect(none.hashes).toBe(0n);
  });

  test("cancellation through an AbortSignal, before and during the search", async () => {
    const pre = new AbortController();
    pre.abort();
    const r1 = await powSearch(header(40, 4), { nonceOffset: 32, targetBits: 255, maxIters: ITERS_HUGE, threads: 2, signal: pre.signal });
    expect(r1.outcome).toBe("cancelled");

    const during = new AbortController();
    const pending = powSearch(header(40, 5), { nonceOffset: 32, targetBits: 255, maxIters: ITERS_HUGE, threads: 2, signal: during.signal, pollMs: 1 });
    await Bun.sleep(1);
    during.abort();
    const r2 = await pending;
    expect(r2.outcome).toBe("cancelled");
    expect(r2.nonce).toBeNull();
  });

  test("the event loop keeps running while a search runs", async () => {
    const ac = new AbortController();
    let ticks = 0;
    let ticksWhileRunning = 0;
    let running = true;
    const timer = setInterval(() => {
      ticks++;
      if (running) ticksWhileRunning++;
      // The search only ends when the timer has fired enough times to cancel it.
      if (ticks === TICKS_WANTED) ac.abort();
    }, 1);
    try {
      const r = await powSearch(header(64, 9), { nonceOffset: 0, targetBits: 255, maxIters: ITERS_HUGE, threads: 2, signal: ac.signal });
      running = false;
      expect(r.outcome).toBe("cancelled");
      expect(r.hashes > 0n).toBe(true);
    } finally {
      clearInterval(timer);
    }
    expect(ticksWhileRunning).toBeGreaterThanOrEqual(TICKS_WANTED);
  }, 60_000);

  test("bad arguments are typed PhantomErrors", async () => {
    const h = header(40, 0);
    const cases: [Uint8Array, Parameters<typeof powSearch>[1], string][] = [
      [new Uint8Array(POW_HEADER_BYTES_MAX + 1), { nonceOffset: 0, targetBits: 1, maxIters: 1n }, "POW_HEADER_TOO_LARGE"],
      [h, { nonceOffset: 33, targetBits: 1, maxIters: 1n }, "BAD_ARGUMENT"],
      [h, { nonceOffset: -1, targetBits: 1, maxIters: 1n }, "BAD_ARGUMENT"],
      [h, { nonceOffset: 1.5, targetBits: 1, maxIters: 1n }, "BAD_ARGUMENT"],
      [new Uint8Array(7), { nonceOffset: 0, targetBits: 1, maxIters: 1n }, "BAD_ARGUMENT"],
      [h, { nonceOffset: 0, targetBits: 257, maxIters: 1n }, "BAD_ARGUMENT"],
      [h, { nonceOffset: 0, targetBits: -1, maxIters: 1n }, "BAD_ARGUMENT"],
      [h, { nonceOffset: 0, targetBits: 2.5, maxIters: 1n }, "BAD_ARGUMENT"],
      [h, { nonceOffset: 0, targetBits: 1, maxIters: 1n, threads: 0 }, "BAD_ARGUMENT"],
      [h, { nonceOffset: 0, targetBits: 1, maxIters: 1n, threads: 65 }, "BAD_ARGUMENT"],
      [h, { nonceOffset: 0, targetBits: 1, maxIters: -1n }, "BAD_ARGUMENT"],
      [h, { nonceOffset: 0, targetBits: 1, maxIters: 1n << 64n }, "BAD_ARGUMENT"],
      [h, { nonceOffset: 0, targetBits: 1, maxIters: 1n, startNonce: -1n }, "BAD_ARGUMENT"],
      [h, { nonceOffset: 0, targetBits: 1, maxIters: 1n, startNonce: 1n << 64n }, "BAD_ARGUMENT"],
      [h, { nonceOffset: 0, targetBits: 1, maxIters: 1n, pollMs: -1 }, "BAD_ARGUMENT"],
      [h, { nonceOffset: 0, targetBits: 1, maxIters: 1n, pollMs: Number.NaN }, "BAD_ARGUMENT"],
    ];
    for (const [bytes, opts, code] of cases) {
      let caught: unknown = null;
      try {
        await powSearch(bytes, opts);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(PhantomError);
      expect({ opts: String(opts.nonceOffset) + "/" + String(opts.targetBits), code: (caught as PhantomError).code }).toEqual({ opts: String(opts.nonceOffset) + "/" + String(opts.targetBits), code });
    }
  });

  test("leadingZeroBits counts from the most significant bit of byte 0", () => {
    expect(leadingZeroBits(new Uint8Array(32))).toBe(256);
    const h = new Uint8Array(32);
    h[1] = 0x10;
    expect(leadingZeroBits(h)).toBe(11);
    h[0] = 0x80;
    expect(leadingZeroBits(h)).toBe(0);
  });
});
