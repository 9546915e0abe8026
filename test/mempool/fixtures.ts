/**
 * Mempool/proposer fixtures. Most txs spend After(0) outputs: valid without
 * signatures, so property tests run thousands of real validations quickly. Tests
 * about signatures use real Sig locks.
 */
import { blake3_32 } from "../../src/crypto/hash.ts";
import { afterLock, payTo } from "../../src/wallet/tx-builder.ts";
import type { MicroTx, Outpoint, Output } from "../../src/types/tx.ts";
import type { ValidationContext } from "../../src/ledger/validate.ts";
import { MapUtxoView, outpoint } from "../ledger/validate-fixtures.ts";

export const FREE_LOCK = afterLock(0n);
export const CTX: ValidationContext = { anchorIndex: 10n, maturityAnchors: 5n };
export const FUND_UNITS = 1_000_000n;

/** A view with `n` After(0) outputs of FUND_UNITS each. */
export function fundedView(n: number): { view: MapUtxoView; ops: Outpoint[] } {
  const view = new MapUtxoView();
  const ops = Array.from({ length: n }, (_, i) => view.add(outpoint(i), FREE_LOCK, FUND_UNITS));
  return { view, ops };
}

/** Lock commitment standing for fairness group `g` (any 32 bytes can be paid). */
export const groupCommitment = (g: number): Uint8Array => blake3_32(new Uint8Array([0x67, g & 0xff, g >> 8]));

/** Spends After(0) outputs of FUND_UNITS each; `fee` is left over; `extraOutputs` change the size. */
export function freeTx(inputs: Outpoint[], fee: bigint, opts: { group?: number; extraOutputs?: number } = {}): MicroTx {
  const total = FUND_UNITS * BigInt(inputs.length) - fee;
  const extra = opts.extraOutputs ?? 0;
  const outputs: Output[] = [];
  const each = 10_000n;
  outputs.push({ amount: total - each * BigInt(extra), lockCommitment: groupCommitment(opts.group ?? 0) });
  for (let i = 0; i < extra; i++) outputs.push(payTo(afterLock(BigInt(i)), each));
  return { inputs, outputs, witnesses: inputs.map(() => ({ lock: FREE_LOCK, witness: { kind: "after" as const } })) };
}
