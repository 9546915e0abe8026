/**
 * Fee settlement (docs/SPEC_FEES.md §2–§4, §7): the fees of the anchor at index a
 * wait in the pending list until anchor index s = a + k·D_max, when the ack
 * distances over the finalized events a..s are final; then they are split
 * (src/consensus/fees.ts) and paid as one output per validator with a non-zero
 * share, and the payout root is committed in that anchor's state commitment.
 * Pure: the finalized headers of the window are an input.
 */
import { invariant } from "../errors.ts";
import { blake3_32 } from "../crypto/hash.ts";
import { equalBytes, toHex } from "../crypto/bytes.ts";
import type { FeeParams } from "../genesis/genesis.ts";
import type { SignedEvent } from "../types/event.ts";
import { ackDistances, buildHeaderDag } from "../consensus/ack-distance.ts";
import { splitFees } from "../consensus/fees.ts";
import { type PayoutEntry, payoutRoot } from "../consensus/payout.ts";
import type { StakeEntry } from "./stake.ts";

/** Fees of one finalized anchor, awaiting settlement. */
export interface PendingFee {
  anchorIndex: bigint;
  /** The anchor's event id and creator (the proposer of the split). */
  eventId: Uint8Array;
  creator: number;
  feesUnits: bigint;
}

/** What genesis fixes for fee settlement and stake. */
export interface EconomicsParams {
  /** Genesis stake of validator i at index i (k = length). */
  genesisStakes: readonly bigint[];
  fees: FeeParams;
  /** Lock commitment validator i is paid to (default: Sig(its genesis key), SPEC_FEES §7). */
  payoutLocks: readonly Uint8Array[];
}

/** One settled anchor. */
export interface SettlementRecord {
  /** The anchor whose fees were split (a). */
  anchorIndex: bigint;
  /** Where they were paid (s = a + k·D_max). */
  settledAt: bigint;
  eventId: Uint8Array;
  creator: number;
  feesUnits: bigint;
  /** Ack distance of each validator (D_max = not acknowledged); empty for a zero-fee anchor. */
  distances: number[];
  /** k entries in index order (amounts may be 0). */
  entries: PayoutEntry[];
  root: Uint8Array;
  /** Txid of the payout outputs (output index = validator index; zero amounts create none). */
  txid: Uint8Array;
}

/** Anchors between an anchor and its settlement: k·D_max. */
export const settlementDelay = (p: EconomicsParams): bigint => BigInt(p.genesisStakes.length) * BigInt(p.fees.dMax);

const PAYOUT_TXID_DOMAIN = new TextEncoder().encode("phantom/payout/v0");

/** blake3_32("phantom/payout/v0" || a u64 LE): no MicroTx id can equal it (different preimage domain). */
export function payoutTxid(anchorIndex: bigint): Uint8Array {
  const b = new Uint8Array(PAYOUT_TXID_DOMAIN.length + 8);
  b.set(PAYOUT_TXID_DOMAIN);
  new DataView(b.buffer).setBigUint64(PAYOUT_TXID_DOMAIN.length, anchorIndex, true);
  return blake3_32(b);
}

const PENDING_DOMAIN = new TextEncoder().encode("phantom/fees-pending/v0");
const PENDING_ENTRY_BYTES = 8 + 32 + 1 + 8;

/** blake3_32("phantom/fees-pending/v0" || count u32 LE || per entry in anchor order: anchor u64 LE, event id, creator u8, fees u64 LE). */
export function pendingRoot(pending: readonly PendingFee[]): Uint8Array {
  const out = new Uint8Array(PENDING_DOMAIN.length + 4 + pending.length * PENDING_ENTRY_BYTES);
  out.set(PENDING_DOMAIN);
  const view = new DataView(out.buffer);
  let o = PENDING_DOMAIN.length;
  view.setUint32(o, pending.length, true);
  o += 4;
  for (const p of pending) {
    view.setBigUint64(o, p.anchorIndex, true);
    out.set(p.eventId, o + 8);
    out[o + 40] = p.creator;
    view.setBigUint64(o + 41, p.feesUnits, true);
    o += PENDING_ENTRY_BYTES;
  }
  return blake3_32(out);
}

/**
 * Settles `pending` at anchor index `settledAt` over `window`: the finalized headers of
 * anchor indices pending.anchorIndex..settledAt, in order (window[0] is the anchor).
 * Stakes are the stake table after the settling anchor's own evidence.
 */
export function settleAnchor(p: EconomicsParams, pending: PendingFee, settledAt: bigint, window: readonly SignedEvent[], stakes: readonly StakeEntry[]): SettlementRecord {
  const k = p.genesisStakes.length;
  const base = { anchorIndex: pending.anchorIndex, settledAt, eventId: pending.eventId, creator: pending.creator, feesUnits: pending.feesUnits, txid: payoutTxid(pending.anchorIndex) };
  if (pending.feesUnits === 0n) {
    const entries = p.payoutLocks.map((recipient, index): PayoutEntry => ({ index, recipient, amount: 0n }));
    return { ...base, distances: [], entries, root: payoutRoot(entries) };
  }
  invariant(window.length === Number(settledAt - pending.anchorIndex) + 1, `settlement window of anchor ${pending.anchorIndex} has ${window.length} events`);
  invariant(equalBytes(window[0]!.id, pending.eventId), `settlement window of anchor ${pending.anchorIndex} starts at ${toHex(window[0]!.id)}, not its event`);
  const ack = ackDistances(buildHeaderDag(window), pending.eventId, k, p.fees.dMax);
  const distances = ack.distances.map((d) => d.distance);
  const split = splitFees({ feesUnits: pending.feesUnits, params: p.fees, stakes: stakes.map((s) => s.stakeUnits), ackDistances: distances, proposerIndex: pending.creator });
  const entries = split.payouts.map((x): PayoutEntry => ({ index: x.index, recipient: p.payoutLocks[x.index]!, amount: x.total }));
  return { ...base, distances, entries, root: payoutRoot(entries) };
}
