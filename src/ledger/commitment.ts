/**
 * The state commitment of an anchor (docs/SPEC_POW.md §10, v1): one hash over the
 * four parts of ledger state every node must agree on.
 *
 *   commitment = blake3_32("phantom/state/v1" || utxo_root || stake_root || pending_root || payout_root)
 *
 * utxo_root = blake3_32(LtHash accumulator), stake_root (src/ledger/stake.ts),
 * pending_root (src/ledger/settlement.ts: fees awaiting settlement), payout_root = the
 * payout Merkle root of the anchor settled at this index (32 zero bytes if none).
 */
import { blake3_32 } from "../crypto/hash.ts";
import { invariant } from "../errors.ts";
import { HASH_BYTES } from "../types/constants.ts";
import { type StakeEntry, stakeRoot } from "./stake.ts";
import { type PendingFee, pendingRoot } from "./settlement.ts";

const STATE_DOMAIN = new TextEncoder().encode("phantom/state/v1");
export const NO_PAYOUT_ROOT = new Uint8Array(HASH_BYTES);

export interface CommitmentParts {
  utxoRoot: Uint8Array;
  stakeRoot: Uint8Array;
  pendingRoot: Uint8Array;
  payoutRoot: Uint8Array;
}

export function stateCommitment(p: CommitmentParts): Uint8Array {
  const out = new Uint8Array(STATE_DOMAIN.length + 4 * HASH_BYTES);
  out.set(STATE_DOMAIN);
  let o = STATE_DOMAIN.length;
  for (const part of [p.utxoRoot, p.stakeRoot, p.pendingRoot, p.payoutRoot]) {
    invariant(part.length === HASH_BYTES, "commitment parts are 32 bytes");
    out.set(part, o);
    o += HASH_BYTES;
  }
  return blake3_32(out);
}

/** The commitment of a ledger state from its parts (audits, tests, the store's open check). */
export function commitmentOf(utxoRoot: Uint8Array, stakes: readonly StakeEntry[], pending: readonly PendingFee[], payoutRoot: Uint8Array = NO_PAYOUT_ROOT): Uint8Array {
  return stateCommitment({ utxoRoot, stakeRoot: stakeRoot(stakes), pendingRoot: pendingRoot(pending), payoutRoot });
}
