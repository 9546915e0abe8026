/**
 * The mint reward schedule (docs/SPEC_POW.md): the reward at mint height h is
 * initialReward >> floor(h / halvingInterval); it reaches zero after at most 64
 * halvings. Pure bigint arithmetic: the total is exact.
 */
export function rewardAtHeight(height: bigint, initialRewardUnits: bigint, halvingIntervalMints: bigint): bigint {
  if (height < 0n) return 0n;
  const halvings = height / halvingIntervalMints;
  if (halvings >= 64n) return 0n;
  return initialRewardUnits >> halvings;
}

/** Sum of every reward the schedule will ever pay. */
export function totalEmissionUnits(initialRewardUnits: bigint, halvingIntervalMints: bigint): bigint {
  let total = 0n;
  for (let period = 0n; period < 64n; period++) {
    const reward = initialRewardUnits >> period;
    if (reward === 0n) break;
    total += reward * halvingIntervalMints;
  }
  return total;
}
