/**
 * Validation of JSON-RPC params at the edge. Every failure is an RPC_BAD_PARAMS error
 * (-32602) naming the parameter; numbers are decimal strings or safe JSON integers, so
 * nothing is silently rounded (a JSON number above 2^53 has already lost its value).
 */
import { PhantomError } from "../errors.ts";
import { fromHex } from "../crypto/bytes.ts";

export type Params = Record<string, unknown>;

/** Largest anchor index a store can hold: SQLite INTEGER is a signed 64-bit value. */
export const anchorIndexMax = 2n ** 63n - 1n;
/** Digits a decimal string may have (u64 has 20); longer input is refused before BigInt sees it. */
const decimalDigitsMax = 20;

export function badParams(message: string): PhantomError<"RPC_BAD_PARAMS"> {
  return new PhantomError("RPC_BAD_PARAMS", message);
}

export function objectParams(raw: unknown): Params {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw badParams("params must be an object");
  return raw as Params;
}

export function stringParam(p: Params, key: string): string {
  const v = p[key];
  if (typeof v !== "string" || v.length === 0) throw badParams(`params.${key} must be a non-empty string`);
  return v;
}

export function hexValue(value: string, name: string, length?: number): Uint8Array {
  try {
    return fromHex(value, length, name);
  } catch (e) {
    throw badParams((e as Error).message);
  }
}

export const hexParam = (p: Params, key: string, length?: number): Uint8Array => hexValue(stringParam(p, key), `params.${key}`, length);

/**
 * A non-negative integer given as a decimal string or a safe JSON integer, at most `max`.
 * Undefined when absent.
 */
export function unsignedParam(p: Params, key: string, max: bigint): bigint | undefined {
  const v = p[key];
  if (v === undefined) return undefined;
  let n: bigint;
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v) || v < 0) throw badParams(`params.${key} must be a non-negative integer; above 2^53 send a decimal string`);
    n = BigInt(v);
  } else if (typeof v === "string" && v.length <= decimalDigitsMax && /^\d+$/.test(v)) {
    n = BigInt(v);
  } else {
    throw badParams(`params.${key} must be a non-negative integer (decimal string or JSON integer)`);
  }
  if (n > max) throw badParams(`params.${key} must be at most ${max}`);
  return n;
}

/** An anchor index: 0 .. 2^63-1. */
export function anchorIndexParam(p: Params, key: string): bigint {
  const n = unsignedParam(p, key, anchorIndexMax);
  if (n === undefined) throw badParams(`params.${key} is required (an anchor index)`);
  return n;
}

/** A count such as a page size: refused when malformed, capped at `cap` when merely large. */
export function countParam(p: Params, key: string, fallback: number, cap: number): number {
  const n = unsignedParam(p, key, BigInt(Number.MAX_SAFE_INTEGER));
  return n === undefined ? fallback : Math.min(Number(n), cap);
}
