/**
 * Amounts as the wallet reads and prints them. 1 PC = 10^8 units; every value is a
 * bigint and parsing is exact string arithmetic (no floats): "1.5" is 150000000 units.
 * Forms: "1.5" or "1.5pc" (PC, at most 8 decimals), "150000000u" or "150000000units".
 */
import { PhantomError } from "../errors.ts";
import { MAX_SUPPLY_UNITS, UNITS_PER_PC } from "../types/constants.ts";

export type AmountErrorCode = "WALLET_BAD_AMOUNT" | "WALLET_AMOUNT_PRECISION" | "WALLET_AMOUNT_RANGE";
export class AmountError extends PhantomError<AmountErrorCode> {}

/** Decimal places of one PC. */
export const PC_DECIMALS = 8;
/** Longest amount text accepted (the supply cap in units has 16 digits). */
export const amountTextMax = 40;

const pcPattern = /^(\d+)(?:\.(\d+))?(?:pc)?$/i;
const unitsPattern = /^(\d+)(?:u|units)$/i;

/** Parses an amount; the result is in units, 0 < result <= supply cap (or 0 when allowZero). */
export function parseAmount(text: string, opts: { allowZero?: boolean } = {}): bigint {
  const s = text.trim().replace(/_/g, "");
  if (s.length === 0 || s.length > amountTextMax) throw new AmountError("WALLET_BAD_AMOUNT", `amount "${text}" is empty or too long`);
  let units: bigint;
  const u = unitsPattern.exec(s);
  if (u) units = BigInt(u[1]!);
  else {
    const m = pcPattern.exec(s);
    if (!m) throw new AmountError("WALLET_BAD_AMOUNT", `amount "${text}" is not a decimal PC amount ("1.5") or units ("150000000u")`);
    const frac = m[2] ?? "";
    if (frac.length > PC_DECIMALS) throw new AmountError("WALLET_AMOUNT_PRECISION", `amount "${text}" has ${frac.length} decimals; 1 unit = 0.00000001 PC (8 decimals at most)`);
    units = BigInt(m[1]!) * UNITS_PER_PC + BigInt(frac.padEnd(PC_DECIMALS, "0") || "0");
  }
  if (units === 0n && !opts.allowZero) throw new AmountError("WALLET_AMOUNT_RANGE", "amount must be above zero");
  if (units > MAX_SUPPLY_UNITS) throw new AmountError("WALLET_AMOUNT_RANGE", `amount ${units} units exceeds the supply cap ${MAX_SUPPLY_UNITS}`);
  return units;
}

/** Units as a PC decimal with all 8 places: 150000000n -> "1.50000000". */
export function formatPc(units: bigint): string {
  if (units < 0n) return "-" + formatPc(-units);
  return `${units / UNITS_PER_PC}.${(units % UNITS_PER_PC).toString().padStart(PC_DECIMALS, "0")}`;
}
