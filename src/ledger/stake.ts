/**
 * The stake table (docs/SPEC_SLASHING.md §5): one entry per committee member,
 * initialised from the genesis stakes and changed only by finalized slashing
 * evidence. Pure; amounts are bigint. Consensus reads it (read-only) through the
 * store's `stakeTable()`.
 */
import { invariant } from "../errors.ts";
import { blake3_32 } from "../crypto/hash.ts";
import type { Evidence } from "../types/evidence.ts";
import { type VerifiedEvidence, penaltyBps, slashAmountUnits } from "../consensus/slashing.ts";

export interface StakeEntry {
  /** Stake still bonded, in units. */
  stakeUnits: bigint;
  /** Distinct conflicting-DA offenses already ordered (sets the next DA penalty: 25/50/100%). */
  daOffenses: number;
}

/** One applied penalty. */
export interface SlashRecord {
  anchorIndex: bigint;
  evidenceId: Uint8Array;
  kind: Evidence["kind"];
  offender: number;
  bps: number;
  /** Stake before and units taken (burned: they leave the stake table, see SPEC_SLASHING §6). */
  stakeBeforeUnits: bigint;
  slashedUnits: bigint;
}

const STAKE_DOMAIN = new TextEncoder().encode("phantom/stake/v0");
const U64_MAX = (1n << 64n) - 1n;

export function genesisStakeTable(stakes: readonly bigint[]): StakeEntry[] {
  return stakes.map((s) => {
    invariant(s >= 0n && s <= U64_MAX, "genesis stake is a u64");
    return { stakeUnits: s, daOffenses: 0 };
  });
}

export function applySlash(table: StakeEntry[], verified: VerifiedEvidence, evidenceId: Uint8Array, anchorIndex: bigint): SlashRecord | undefined {
  const offender = verified.offender;
  const entry = table[offender];
  if (entry === undefined) return undefined;
  const bps = penaltyBps(verified, entry.daOffenses);
  const slashed = slashAmountUnits(entry.stakeUnits, bps);
  table[offender] = { stakeUnits: entry.stakeUnits - slashed, daOffenses: entry.daOffenses + (verified.kind === "conflicting_da" ? 1 : 0) };
  return { anchorIndex, evidenceId, kind: verified.kind, offender, bps, stakeBeforeUnits: entry.stakeUnits, slashedUnits: slashed };
}

/** blake3_32("phantom/stake/v0" || k u8 || per validator: stake u64 LE || da_offenses u32 LE). */
export function stakeRoot(table: readonly StakeEntry[]): Uint8Array {
  const out = new Uint8Array(STAKE_DOMAIN.length + 1 + table.length * 12);
  out.set(STAKE_DOMAIN);
  const view = new DataView(out.buffer);
  let o = STAKE_DOMAIN.length;
  out[o++] = table.length;
  for (const e of table) {
    view.setBigUint64(o, e.stakeUnits, true);
    view.setUint32(o + 8, e.daOffenses, true);
    o += 12;
  }
  return blake3_32(out);
}
