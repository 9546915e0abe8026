/**
 * Emission (docs/SPEC_POW.md): the mint chain. A MintTx is accepted only on the
 * current tip, at the next height, at the current target, with enough leading zero
 * bits in blake3(mint header), and while the reward keeps the total under the cap.
 * Difficulty retargets every `retargetWindowMints` mints from the anchor-index span
 * of the window; no clock is involved.
 */
import { PhantomError } from "../errors.ts";
import { equalBytes, toHex } from "../crypto/bytes.ts";
import { leadingZeroBits, powHashOf } from "../crypto/pow.ts";
import { rewardAtHeight } from "../genesis/emission-schedule.ts";
import type { EmissionParams } from "../genesis/genesis.ts";
import { MAX_SUPPLY_UNITS } from "../types/constants.ts";
import { type MintTx, encodeMintTx, decodeMintTx, MINT_NONCE_OFFSET } from "../types/mint.ts";
import { type MintTip, ZERO_ID } from "./state.ts";

export type MintVoidCode =
  | "MINT_NOT_ON_TIP"
  | "MINT_BAD_HEIGHT"
  | "MINT_BAD_TARGET"
  | "MINT_INSUFFICIENT_WORK"
  | "MINT_CAP_EXCEEDED"
  | "MINT_EMISSION_ENDED"
  | "MINT_MALFORMED";

/** Why a mint is void. Raised from bytes that came from outside (a payload or an RPC submission). */
export class MintRejected extends PhantomError<MintVoidCode> {
  constructor(code: MintVoidCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.name = "MintRejected";
  }
}

/** The mint tip before the first mint. */
export function genesisMintTip(params: EmissionParams): MintTip {
  return { tipId: ZERO_ID, nextHeight: 0n, targetBits: params.initialTargetBits, windowStartAnchor: 0n, emittedUnits: 0n };
}

export interface AcceptedMint {
  id: Uint8Array;
  rewardUnits: bigint;
}

/** Checks a mint against the tip; returns its id (= its PoW hash) and reward, or throws MintRejected. */
export function checkMint(tip: MintTip, params: EmissionParams, mint: MintTx): AcceptedMint {
  if (!equalBytes(mint.prevMint, tip.tipId)) throw new MintRejected("MINT_NOT_ON_TIP", "mint does not extend the current mint tip");
  if (mint.height !== tip.nextHeight) {
    throw new MintRejected("MINT_BAD_HEIGHT", `mint height ${mint.height}, expected ${tip.nextHeight}`, { expected: tip.nextHeight.toString() });
  }
  if (mint.targetBits !== tip.targetBits) {
    throw new MintRejected("MINT_BAD_TARGET", `mint claims ${mint.targetBits} target bits, the current target is ${tip.targetBits}`);
  }
  const id = powHashOf(encodeMintTx(mint));
  const work = leadingZeroBits(id);
  if (work < tip.targetBits) throw new MintRejected("MINT_INSUFFICIENT_WORK", `mint hash has ${work} leading zero bits, needs ${tip.targetBits}`);
  const rewardUnits = rewardAtHeight(mint.height, params.initialRewardUnits, params.halvingIntervalMints);
  if (rewardUnits === 0n) throw new MintRejected("MINT_EMISSION_ENDED", `the schedule pays nothing at height ${mint.height}`);
  if (tip.emittedUnits + rewardUnits > MAX_SUPPLY_UNITS) {
    throw new MintRejected("MINT_CAP_EXCEEDED", `reward ${rewardUnits} would take emission above the cap of ${MAX_SUPPLY_UNITS}`);
  }
  return { id, rewardUnits };
}

/**
 * The new difficulty after a window of `window` mints spanned `spanAnchors` anchor
 * indices. Targets move in whole bits: one more bit halves the expected rate. The
 * change is the largest d <= stepMax with span * 2^d <= expected (harder) or
 * expected * 2^d <= span (easier), then clamped to [min, max] target bits.
 */
export function retargetBits(currentBits: number, spanAnchors: bigint, params: EmissionParams): number {
  const expected = params.targetAnchorsPerMint * BigInt(params.retargetWindowMints);
  const span = spanAnchors < 1n ? 1n : spanAnchors;
  let delta = 0;
  if (span * 2n <= expected) {
    while (delta < params.retargetStepBitsMax && span << BigInt(delta + 1) <= expected) delta++;
  } else if (expected * 2n <= span) {
    while (delta > -params.retargetStepBitsMax && expected << BigInt(-delta + 1) <= span) delta--;
  }
  return Math.min(params.maxTargetBits, Math.max(params.minTargetBits, currentBits + delta));
}

/** The tip after `mint` (already checked) was accepted at `anchorIndex`. */
export function advanceMintTip(tip: MintTip, params: EmissionParams, accepted: AcceptedMint, height: bigint, anchorIndex: bigint): MintTip {
  const next: MintTip = {
    tipId: accepted.id,
    nextHeight: height + 1n,
    targetBits: tip.targetBits,
    windowStartAnchor: tip.windowStartAnchor,
    emittedUnits: tip.emittedUnits + accepted.rewardUnits,
  };
  if ((height + 1n) % BigInt(params.retargetWindowMints) === 0n) {
    next.targetBits = retargetBits(tip.targetBits, anchorIndex - tip.windowStartAnchor, params);
    next.windowStartAnchor = anchorIndex;
  }
  return next;
}

/** What a miner needs: the header (nonce zero), where the nonce goes, and the target. */
export interface MintTemplate {
  header: Uint8Array;
  nonceOffset: number;
  targetBits: number;
  height: bigint;
  prevMint: Uint8Array;
  /** Reward the mint would pay, in units. */
  rewardUnits: bigint;
}

/** The template for the next mint on the current tip (the node's `mint_getTemplate`). */
export function mintTemplate(state: { mintTip(): MintTip }, params: EmissionParams, recipientLockCommitment: Uint8Array): MintTemplate {
  const tip = state.mintTip();
  const mint: MintTx = { prevMint: tip.tipId, height: tip.nextHeight, targetBits: tip.targetBits, recipient: recipientLockCommitment, nonce: 0n };
  return {
    header: encodeMintTx(mint),
    nonceOffset: MINT_NONCE_OFFSET,
    targetBits: tip.targetBits,
    height: tip.nextHeight,
    prevMint: tip.tipId,
    rewardUnits: rewardAtHeight(tip.nextHeight, params.initialRewardUnits, params.halvingIntervalMints),
  };
}

/** The JSON shape `phantom mine` reads from `mint_getTemplate`. */
export function mintTemplateToRpc(t: MintTemplate): { header: string; nonceOffset: number; targetBits: number; height: string; prevMint: string; rewardUnits: string } {
  return { header: toHex(t.header), nonceOffset: t.nonceOffset, targetBits: t.targetBits, height: t.height.toString(), prevMint: toHex(t.prevMint), rewardUnits: t.rewardUnits.toString() };
}

/**
 * Pre-checks a submitted mint header against the current tip (`mint_submit`): decodes
 * it (MINT_MALFORMED on bad bytes) and runs `checkMint`. Acceptance is still decided
 * when the mint is finalized: another mint may take the tip first.
 */
export function precheckMintSubmission(state: { mintTip(): MintTip }, params: EmissionParams, header: Uint8Array): { mint: MintTx } & AcceptedMint {
  let mint: MintTx;
  try {
    mint = decodeMintTx(header);
  } catch (e) {
    throw new MintRejected("MINT_MALFORMED", `mint header does not decode: ${(e as Error).message}`);
  }
  return { mint, ...checkMint(state.mintTip(), params, mint) };
}
