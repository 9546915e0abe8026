// The fuzz engine itself: a run is a pure function of its seed (so a printed seed
// replays), the crash it reports is the input that crashes, and the PRNG is stable.
import { describe, expect, test } from "bun:test";
import { runCampaign, runOne } from "../../fuzz/engine.ts";
import { Prng, targetSeed } from "../../fuzz/prng.ts";
import { targetByName } from "../../fuzz/targets/index.ts";
import { CodecError } from "../../src/codec/index.ts";
import type { FuzzTarget } from "../../fuzz/target.ts";

/** A decoder with a planted bug: an input holding both 0x42 and 0x99 throws a TypeError. */
const planted: FuzzTarget = {
  name: "micro-tx", // its corpus is the seed material
  description: "planted bug",
  extension: "bin",
  maxBytes: 512,
  run(input) {
    if (input.includes(0x42) && input.includes(0x99)) throw new TypeError("planted");
    if (input.length % 3 === 0) throw new CodecError("CODEC_INVALID", "refused");
  },
  rejection: (e) => (e instanceof CodecError ? e.code : undefined),
};

describe("fuzz engine", () => {
  test("the same seed gives the same campaign; another seed another one", async () => {
    const target = targetByName("mint-tx")!;
    const a = await runCampaign(target, { seed: 7, iterationsMax: 3000 });
    const b = await runCampaign(target, { seed: 7, iterationsMax: 3000 });
    const c = await runCampaign(target, { seed: 8, iterationsMax: 3000 });
    expect([b.accepted, [...b.rejected]]).toEqual([a.accepted, [...a.rejected]]);
    expect([c.accepted, [...c.rejected]]).not.toEqual([a.accepted, [...a.rejected]]);
  }, 30_000);

  test("a planted crash is found, and its seed and iteration replay exactly that input", async () => {
    const found = await runCampaign(planted, { seed: 1234, iterationsMax: 200_000 });
    expect(found.crash).toBeDefined();
    const crash = found.crash!;
    expect(crash.error).toBeInstanceOf(TypeError);
    expect(await runOne(planted, crash.input)).toMatchObject({ kind: "crash" });
    const again = await runCampaign(planted, { seed: 1234, iterationsMax: crash.iteration + 1 });
    expect(again.crash?.iteration).toBe(crash.iteration);
    expect(Buffer.from(again.crash!.input).equals(Buffer.from(crash.input))).toBe(true);
    // Refusals before it were counted as refusals, not crashes.
    expect(found.rejected.get("CODEC_INVALID")).toBeGreaterThan(0);
  }, 30_000);

  test("the PRNG is sfc32 from a 32-bit seed: fixed outputs, per-target streams differ", () => {
    // Pinned: a changed generator would silently change what every printed seed replays.
    const p = new Prng(1);
    expect([p.u32(), p.u32(), p.u32()]).toEqual([1828152527, 3394835397, 2967886022]);
    expect(new Prng(2).u32()).not.toBe(1828152527);
    expect(targetSeed(5, "rpc")).not.toBe(targetSeed(5, "http"));
    expect(targetSeed(5, "rpc")).toBe(targetSeed(5, "rpc"));
  });
});
