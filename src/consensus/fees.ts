/**
 * Fee split of one finalized anchor (docs/SPEC_FEES.md). Pure bigint arithmetic;
 * the payouts always sum to exactly the fees, with all rounding dust going to the
 * proposer (the anchor's creator).
 */
import { PhantomError, invariant } from "../errors.ts";
import type { FeeParams } from "../genesis/genesis.ts";
import type { SignedEvent } from "../types/event.ts";
import { type AckDistances, ackDistances, buildHeaderDag } from "./ack-distance.ts";
import { type PayoutEntry, payoutRoot } from "./payout.ts";

export const BPS_DENOMINATOR = 10_000;
const BPS = BigInt(BPS_DENOMINATOR);
const U64_MAX = (1n << 64n) - 1n;

/** Fee parameters used when no genesis is given (local development): genesis.toml's defaults. */
export const DEFAULT_FEE_PARAMS: Readonly<FeeParams> = {
  floorBps: 4_000,
  proposerBps: 1_000,
  performanceBps: 2_000,
  attestorBps: 3_000,
  alphaBps: 2_500,
  dMax: 4,
};

export type FeesErrorCode = "FEES_OUT_OF_RANGE" | "FEES_BAD_PARAMS" | "FEES_BAD_COMMITTEE" | "FEES_BAD_PROPOSER";

export class FeesError extends PhantomError<FeesErrorCode> {
  constructor(code: FeesErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.name = "FeesError";
  }
}

export interface FeeSplitInput {
  feesUnits: bigint;
  params: FeeParams;
  /** Stake of validator i at index i (k = length). */
  stakes: readonly bigint[];
  /** Ack distance of validator i (0..D_max; D_max means not acknowledged). */
  ackDistances: readonly number[];
  /** The anchor's creator. */
  proposerIndex: number;
}

export interface ValidatorPayout {
  index: number;
  floor: bigint;
  proposer: bigint;
  bonus: bigint;
  attestor: bigint;
  /** Rounding dust (proposer only). */
  dust: bigint;
  total: bigint;
}

export interface FeeSplit {
  pools: { floor: bigint; proposer: bigint; performance: bigint; attestor: bigint };
  /** Performance pool not earned (distance decay); it joins the attestor pool. */
  unearnedBonus: bigint;
  /** Validators in the attestor pool (acknowledged, not the proposer), ascending. */
  attestors: number[];
  dust: bigint;
  payouts: ValidatorPayout[];
}

function checkInput(x: FeeSplitInput): void {
  const p = x.params;
  if (x.feesUnits < 0n || x.feesUnits > U64_MAX) throw new FeesError("FEES_OUT_OF_RANGE", `fees ${x.feesUnits} must be a u64`);
  const shares = [p.floorBps, p.proposerBps, p.performanceBps, p.attestorBps];
  if (shares.some((s) => !Number.isInteger(s) || s < 0) || shares.reduce((a, b) => a + b, 0) !== BPS_DENOMINATOR) {
    throw new FeesError("FEES_BAD_PARAMS", `fee shares must be non-negative and sum to ${BPS_DENOMINATOR}`);
  }
  if (!Number.isInteger(p.alphaBps) || p.alphaBps < 0 || p.alphaBps > BPS_DENOMINATOR) throw new FeesError("FEES_BAD_PARAMS", `alpha_bps must be 0..${BPS_DENOMINATOR}`);
  if (!Number.isSafeInteger(p.dMax) || p.dMax < 1) throw new FeesError("FEES_BAD_PARAMS", "d_max must be a positive integer");
  const k = x.stakes.length;
  if (k < 1 || k > 64) throw new FeesError("FEES_BAD_COMMITTEE", `committee size must be 1..64, got ${k}`);
  // A stake slashed to 0 is allowed (it only leaves the attestor pool, §3).
  if (x.stakes.some((s) => s < 0n || s > U64_MAX)) throw new FeesError("FEES_BAD_COMMITTEE", "every stake must be a u64");
  if (x.ackDistances.length !== k) throw new FeesError("FEES_BAD_COMMITTEE", `${x.ackDistances.length} ack distances for a committee of ${k}`);
  if (x.ackDistances.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new FeesError("FEES_BAD_COMMITTEE", "ack distances must be non-negative integers");
  if (!Number.isInteger(x.proposerIndex) || x.proposerIndex < 0 || x.proposerIndex >= k) {
    throw new FeesError("FEES_BAD_PROPOSER", `proposer index ${x.proposerIndex} is not in the committee of ${k}`);
  }
}

/** Bonus weight in basis points: 10000 − α·d for d < D_max (never below 0), else 0. */
export function bonusWeightBps(distance: number, params: Pick<FeeParams, "alphaBps" | "dMax">): number {
  if (distance >= params.dMax) return 0;
  return Math.max(0, BPS_DENOMINATOR - params.alphaBps * distance);
}

/** Splits an anchor's fees. Conservation: Σ payouts[i].total == feesUnits, always. */
export function splitFees(x: FeeSplitInput): FeeSplit {
  checkInput(x);
  const k = x.stakes.length;
  const kn = BigInt(k);
  const F = x.feesUnits;
  const pools = {
    floor: (F * BigInt(x.params.floorBps)) / BPS,
    proposer: (F * BigInt(x.params.proposerBps)) / BPS,
    performance: (F * BigInt(x.params.performanceBps)) / BPS,
    attestor: (F * BigInt(x.params.attestorBps)) / BPS,
  };
  // Capped bonus: at full weight a validator earns exactly its 1/k of the performance pool.
  const bonus = x.ackDistances.map((d) => (pools.performance * BigInt(bonusWeightBps(d, x.params))) / (BPS * kn));
  const unearnedBonus = pools.performance - bonus.reduce((a, b) => a + b, 0n);
  // Paid by stake, so a validator slashed to zero stake is no attestor.
  const attestors = x.ackDistances.flatMap((d, i) => (d < x.params.dMax && i !== x.proposerIndex && x.stakes[i]! > 0n ? [i] : []));
  const attestorTotal = pools.attestor + unearnedBonus;
  const attestorStake = attestors.reduce((s, i) => s + x.stakes[i]!, 0n);
  const attestor: bigint[] = new Array(k).fill(0n);
  for (const i of attestors) attestor[i] = (attestorTotal * x.stakes[i]!) / attestorStake;
  // With nobody to attest, the attestor pool is shared like the floor.
  const floorTotal = pools.floor + (attestors.length === 0 ? attestorTotal : 0n);
  const floorEach = floorTotal / kn;
  const paid = floorEach * kn + bonus.reduce((a, b) => a + b, 0n) + attestor.reduce((a, b) => a + b, 0n) + pools.proposer;
  const dust = F - paid;
  invariant(dust >= 0n, "fee split pays out more than the fees");
  const payouts = x.stakes.map((_, index): ValidatorPayout => {
    const isProposer = index === x.proposerIndex;
    const row = { index, floor: floorEach, proposer: isProposer ? pools.proposer : 0n, bonus: bonus[index]!, attestor: attestor[index]!, dust: isProposer ? dust : 0n };
    return { ...row, total: row.floor + row.proposer + row.bonus + row.attestor + row.dust };
  });
  invariant(payouts.reduce((s, p) => s + p.total, 0n) === F, "fee split does not conserve the fees");
  return { pools, unearnedBonus, attestors, dust, payouts };
}

export interface AnchorPayoutInput {
  events: readonly SignedEvent[];
  anchorId: Uint8Array;
  feesUnits: bigint;
  /** Recipient (32-byte lock commitment) of validator i at index i; its length is k. */
  recipients: readonly Uint8Array[];
  stakes: readonly bigint[];
  params: FeeParams;
  /** Must equal the anchor's creator when given. */
  proposerIndex?: number;
}

export interface AnchorPayout {
  ack: AckDistances;
  split: FeeSplit;
  entries: PayoutEntry[];
  root: Uint8Array;
}

/** Ack distances → fee split → payout list → Merkle root, for one anchor of a header set. */
export function anchorPayout(x: AnchorPayoutInput): AnchorPayout {
  const k = x.stakes.length;
  if (x.recipients.length !== k) throw new FeesError("FEES_BAD_COMMITTEE", `${x.recipients.length} recipients for a committee of ${k}`);
  const ack = ackDistances(buildHeaderDag(x.events), x.anchorId, k, x.params.dMax);
  if (x.proposerIndex !== undefined && x.proposerIndex !== ack.creator) {
    throw new FeesError("FEES_BAD_PROPOSER", `proposer index ${x.proposerIndex} is not the anchor's creator ${ack.creator}`);
  }
  const split = splitFees({ feesUnits: x.feesUnits, params: x.params, stakes: x.stakes, ackDistances: ack.distances.map((d) => d.distance), proposerIndex: ack.creator });
  const entries = split.payouts.map((p): PayoutEntry => ({ index: p.index, recipient: x.recipients[p.index]!, amount: p.total }));
  return { ack, split, entries, root: payoutRoot(entries) };
}
