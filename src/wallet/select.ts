/**
 * Coin selection for a single-key wallet. Spendable outputs are the non-coinbase ones
 * and the mature coinbase ones (anchorIndex >= createdAt + maturityAnchors, the ledger's
 * rule in src/ledger/validate.ts). Order: largest first, oldest first on ties, so few
 * inputs pay the target; the result is deterministic for the same UTXO list.
 */
import { PhantomError } from "../errors.ts";
import { TX_INPUTS_MAX } from "../types/constants.ts";
import { DUST_LIMIT_UNITS } from "../ledger/validate.ts";

export interface WalletUtxo {
  txid: string;
  index: number;
  amount: bigint;
  createdAt: bigint;
  coinbase: boolean;
}

export interface Maturity {
  /** Index of the next anchor (the one a new tx is validated against). */
  nextAnchorIndex: bigint;
  maturityAnchors: bigint;
}

export interface Selection {
  inputs: WalletUtxo[];
  inputTotal: bigint;
  /** Change back to the wallet; 0 when none. Change below the dust limit is given to the fee. */
  change: bigint;
  fee: bigint;
}

export type SelectErrorCode = "WALLET_INSUFFICIENT_FUNDS" | "WALLET_TOO_MANY_INPUTS";
export class SelectError extends PhantomError<SelectErrorCode> {}

export function isSpendable(u: WalletUtxo, maturity?: Maturity): boolean {
  if (!u.coinbase || !maturity) return true;
  return maturity.nextAnchorIndex >= u.createdAt + maturity.maturityAnchors;
}

function byLargestThenOldest(a: WalletUtxo, b: WalletUtxo): number {
  if (a.amount !== b.amount) return a.amount > b.amount ? -1 : 1;
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  if (a.txid !== b.txid) return a.txid < b.txid ? -1 : 1;
  return a.index - b.index;
}

/** Picks inputs paying `amount + fee`; throws typed errors when the wallet cannot pay. */
export function selectUtxos(utxos: readonly WalletUtxo[], amount: bigint, fee: bigint, maturity?: Maturity): Selection {
  const need = amount + fee;
  const spendable = utxos.filter((u) => isSpendable(u, maturity)).sort(byLargestThenOldest);
  const inputs: WalletUtxo[] = [];
  let total = 0n;
  for (const u of spendable) {
    if (total >= need) break;
    if (inputs.length === TX_INPUTS_MAX) {
      throw new SelectError("WALLET_TOO_MANY_INPUTS", `paying ${need} units needs more than ${TX_INPUTS_MAX} inputs; send a smaller amount first`);
    }
    inputs.push(u);
    total += u.amount;
  }
  if (total < need) {
    let all = 0n;
    let immature = 0n;
    for (const u of utxos) isSpendable(u, maturity) ? (all += u.amount) : (immature += u.amount);
    const note = immature > 0n ? ` (${immature} more units are immature mint rewards)` : "";
    throw new SelectError("WALLET_INSUFFICIENT_FUNDS", `need ${need} units (amount ${amount} + fee ${fee}), spendable ${all}${note}`, { need, spendable: all, immature });
  }
  const rest = total - need;
  // An output below the dust limit is invalid (TX_DUST): such change goes to the fee.
  if (rest > 0n && rest < DUST_LIMIT_UNITS) return { inputs, inputTotal: total, change: 0n, fee: fee + rest };
  return { inputs, inputTotal: total, change: rest, fee };
}
