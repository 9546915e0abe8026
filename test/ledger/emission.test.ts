import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseGenesis } from "../../src/genesis/genesis.ts";
import { rewardAtHeight, totalEmissionUnits } from "../../src/genesis/emission-schedule.ts";
import { MAX_SUPPLY_UNITS, UNITS_PER_PC } from "../../src/types/constants.ts";
import { checkMint, advanceMintTip, genesisMintTip, retargetBits, mintTemplate, mintTemplateToRpc, precheckMintSubmission, MintRejected } from "../../src/ledger/emission.ts";
import { decodeMintTx, MINT_HEADER_BYTES, MINT_NONCE_OFFSET } from "../../src/types/mint.ts";
import { powSearch, leadingZeroBits } from "../../src/crypto/pow.ts";
import { blake3_32 } from "../../src/crypto/hash.ts";
import { fromHex, toHex } from "../../src/crypto/bytes.ts";
import type { EmissionParams } from "../../src/genesis/genesis.ts";
import { testEmission, mineMint, weakMint } from "./fixtures.ts";

const repoGenesis = parseGenesis(readFileSync(join(import.meta.dir, "..", "..", "genesis.toml"), "utf8"));

/** Sums the schedule by walking period boundaries with rewardAtHeight (independent of totalEmissionUnits). */
function sumSchedule(initial: bigint, interval: bigint): bigint {
  let total = 0n;
  for (let period = 0n; ; period++) {
    const reward = rewardAtHeight(period * interval, initial, interval);
    // Within a period the reward is constant: check both ends of it.
    expect(rewardAtHeight(period * interval + interval - 1n, initial, interval)).toBe(reward);
    if (reward === 0n) return total;
    total += reward * interval;
  }
}

test("total emission of the repo genesis stays within 50,000,000 PC, summed exactly", () => {
  const e = repoGenesis.emission;
  const total = sumSchedule(e.initialRewardUnits, e.halvingIntervalMints);
  expect(total).toBe(totalEmissionUnits(e.initialRewardUnits, e.halvingIntervalMints));
  expect(total <= MAX_SUPPLY_UNITS).toBe(true);
  expect(MAX_SUPPLY_UNITS).toBe(50_000_000n * UNITS_PER_PC);
  // 50 PC halving every 500,000 mints: 2 * 25,000,000 PC minus the integer-shift dust.
  expect(total).toBe(4_999_999_994_500_000n); // docs/SPEC_POW.md §4: 5,500,000 units of shift dust below the cap
});

test("extreme schedules: the largest allowed ones stay under the cap; anything larger is refused by genesis", () => {
  const extremes: [bigint, bigint][] = [
    [MAX_SUPPLY_UNITS / 2n, 1n], // half the cap at once, halving every mint
    [1n, MAX_SUPPLY_UNITS], // one unit per mint for cap-many mints
    [MAX_SUPPLY_UNITS / 4n, 2n],
    [MAX_SUPPLY_UNITS / 8n, 4n],
    [MAX_SUPPLY_UNITS / 2n ** 40n, 2n ** 39n],
  ];
  for (const [initial, interval] of extremes) {
    const total = sumSchedule(initial, interval);
    expect(total).toBe(totalEmissionUnits(initial, interval));
    expect(total <= MAX_SUPPLY_UNITS).toBe(true);
  }
  // The largest initial reward that fits for a given halving interval (found by bisection on the
  // monotone total) is accepted; one more unit per mint crosses the cap.
  for (const interval of [1n, 2n, 7n, 500_000n]) {
    let lo = 1n;
    let hi = MAX_SUPPLY_UNITS;
    while (lo < hi) {
      const mid = (lo + hi + 1n) / 2n;
      if (totalEmissionUnits(mid, interval) <= MAX_SUPPLY_UNITS) lo = mid;
      else hi = mid - 1n;
    }
    expect(sumSchedule(lo, interval) <= MAX_SUPPLY_UNITS).toBe(true);
    expect(sumSchedule(lo + 1n, interval) > MAX_SUPPLY_UNITS).toBe(true);
  }
  expect(totalEmissionUnits(1n, MAX_SUPPLY_UNITS + 1n) > MAX_SUPPLY_UNITS).toBe(true);
  const text = readFileSync(join(import.meta.dir, "..", "..", "genesis.toml"), "utf8").replace(/initial_reward_units = \d+/, `initial_reward_units = ${MAX_SUPPLY_UNITS}`).replace(/halving_interval_mints = \d+/, "halving_interval_mints = 1");
  expect(() => parseGenesis(text)).toThrow(/hard cap/);
});

test("the ledger enforces the cap itself even with a schedule that would exceed it", () => {
  const greedy: EmissionParams = { ...testEmission, initialRewardUnits: MAX_SUPPLY_UNITS / 2n + 1n, halvingIntervalMints: 1n << 40n };
  let tip = genesisMintTip(greedy);
  const first = mineMint(tip, new Uint8Array(32).fill(1));
  tip = advanceMintTip(tip, greedy, checkMint(tip, greedy, first), first.height, 0n);
  const second = mineMint(tip, new Uint8Array(32).fill(1));
  expect(() => checkMint(tip, greedy, second)).toThrow(expect.objectContaining({ code: "MINT_CAP_EXCEEDED" }));
});

test("void mints carry typed reasons", () => {
  const tip = genesisMintTip(testEmission);
  const r = new Uint8Array(32).fill(2);
  const good = mineMint(tip, r);
  expect(checkMint(tip, testEmission, good).rewardUnits).toBe(testEmission.initialRewardUnits);
  const code = (m: Parameters<typeof checkMint>[2], t = tip) => {
    try {
      checkMint(t, testEmission, m);
      return "accepted";
    } catch (e) {
      expect(e).toBeInstanceOf(MintRejected);
      return (e as MintRejected).code;
    }
  };
  expect(code({ ...good, prevMint: new Uint8Array(32).fill(1) })).toBe("MINT_NOT_ON_TIP");
  expect(code({ ...good, height: 1n })).toBe("MINT_BAD_HEIGHT");
  expect(code({ ...good, targetBits: tip.targetBits - 1 })).toBe("MINT_BAD_TARGET");
  expect(code(weakMint(tip, r))).toBe("MINT_INSUFFICIENT_WORK");
  const ended = { ...tip, nextHeight: testEmission.halvingIntervalMints * 64n };
  expect(code(mineMint(ended, r), ended)).toBe("MINT_EMISSION_ENDED");
  expect(() => precheckMintSubmission({ mintTip: () => tip }, testEmission, new Uint8Array(5))).toThrow(expect.objectContaining({ code: "MINT_MALFORMED" }));
});

test("retarget moves whole bits within the step and the [min, max] bounds", () => {
  const p = testEmission; // expected span = 4 mints * 4 anchors = 16
  expect(retargetBits(4, 16n, p)).toBe(4);
  expect(retargetBits(4, 9n, p)).toBe(4); // within a factor of 2: unchanged
  expect(retargetBits(4, 8n, p)).toBe(5);
  expect(retargetBits(4, 4n, p)).toBe(6);
  expect(retargetBits(4, 1n, p)).toBe(6); // 16x too fast, capped at step 2
  expect(retargetBits(4, 0n, p)).toBe(6);
  expect(retargetBits(4, 32n, p)).toBe(3);
  expect(retargetBits(4, 1000n, p)).toBe(2); // step 2 and min 2
  expect(retargetBits(3, 1000n, p)).toBe(2); // min bound
  expect(retargetBits(9, 1n, p)).toBe(10); // max bound
});

test("difficulty retargets exactly at window boundaries from the anchor span", () => {
  let tip = genesisMintTip(testEmission);
  const r = new Uint8Array(32).fill(3);
  // Four mints in anchors 0..3: span 3 < 16/2, so +2 bits after the 4th mint.
  for (let h = 0; h < 4; h++) {
    expect(tip.targetBits).toBe(4);
    const m = mineMint(tip, r);
    tip = advanceMintTip(tip, testEmission, checkMint(tip, testEmission, m), m.height, BigInt(h));
  }
  expect(tip.targetBits).toBe(6);
  expect(tip.windowStartAnchor).toBe(3n);
  // Next window spans 3 -> 3 + 64: 4x slower than 16, so -2 bits.
  for (let h = 0; h < 4; h++) {
    const m = mineMint(tip, r);
    tip = advanceMintTip(tip, testEmission, checkMint(tip, testEmission, m), m.height, 3n + BigInt((h + 1) * 16));
  }
  expect(tip.targetBits).toBe(4);
  expect(tip.nextHeight).toBe(8n);
  expect(tip.emittedUnits).toBe(8n * testEmission.initialRewardUnits);
});

test("mintTemplate gives the miner a header whose native PoW hit the ledger accepts", async () => {
  const tip = genesisMintTip(testEmission);
  const recipient = new Uint8Array(32).fill(4);
  const t = mintTemplate({ mintTip: () => tip }, testEmission, recipient);
  expect(t.header.length).toBe(MINT_HEADER_BYTES);
  expect(t.nonceOffset).toBe(MINT_NONCE_OFFSET);
  expect(t.nonceOffset + 8).toBe(t.header.length);
  const rpc = mintTemplateToRpc(t);
  expect(rpc).toMatchObject({ nonceOffset: MINT_NONCE_OFFSET, targetBits: 4, height: "0", prevMint: toHex(new Uint8Array(32)) });
  // Exactly what src/cli/commands/mine.ts does with the template.
  const header = fromHex(rpc.header);
  const result = await powSearch(header, { nonceOffset: rpc.nonceOffset, targetBits: rpc.targetBits, startNonce: 0n, maxIters: 1n << 20n, threads: 1 });
  expect(result.outcome).toBe("found");
  new DataView(header.buffer).setBigUint64(rpc.nonceOffset, result.nonce!, true);
  expect(leadingZeroBits(blake3_32(header))).toBeGreaterThanOrEqual(4);
  const accepted = precheckMintSubmission({ mintTip: () => tip }, testEmission, header);
  expect(toHex(accepted.id)).toBe(toHex(result.hash!));
  expect(decodeMintTx(header).recipient).toEqual(recipient);
});
