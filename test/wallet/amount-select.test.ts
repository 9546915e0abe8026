import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { parseAmount, formatPc } from "../../src/wallet/amount.ts";
import { selectUtxos, isSpendable, type WalletUtxo } from "../../src/wallet/select.ts";
import { MAX_SUPPLY_UNITS, TX_INPUTS_MAX } from "../../src/types/constants.ts";
import { DUST_LIMIT_UNITS } from "../../src/ledger/validate.ts";

const code = (c: string) => expect.objectContaining({ code: c });

describe("amount parsing and formatting", () => {
  test("PC decimals parse exactly, without floats", () => {
    expect(parseAmount("1.5")).toBe(150_000_000n);
    expect(parseAmount("1.5pc")).toBe(150_000_000n);
    expect(parseAmount("0.1")).toBe(10_000_000n);
    expect(parseAmount("0.00000001")).toBe(1n);
    expect(parseAmount("1")).toBe(100_000_000n);
    expect(parseAmount("12345678.87654321")).toBe(1_234_567_887_654_321n);
    // 0.1 + 0.2 is the classic float trap; here it is exact.
    expect(parseAmount("0.1") + parseAmount("0.2")).toBe(parseAmount("0.3"));
    expect(parseAmount(" 2_000.5 ")).toBe(200_050_000_000n);
  });

  test("units parse with a u/units suffix", () => {
    expect(parseAmount("150000000u")).toBe(150_000_000n);
    expect(parseAmount("7units")).toBe(7n);
    expect(parseAmount("0u", { allowZero: true })).toBe(0n);
  });

  test("bad amounts are typed errors", () => {
    expect(() => parseAmount("1.123456789")).toThrow(code("WALLET_AMOUNT_PRECISION"));
    expect(() => parseAmount("0.000000001")).toThrow(code("WALLET_AMOUNT_PRECISION"));
    for (const bad of ["", "abc", "-1", "1e8", "1,5", ".5", "0x10", "1.5.2", "1.", "1.5u", "pc", "1 5", "٣"]) {
      expect(() => parseAmount(bad)).toThrow(code("WALLET_BAD_AMOUNT"));
    }
    expect(() => parseAmount("9".repeat(41))).toThrow(code("WALLET_BAD_AMOUNT"));
    expect(() => parseAmount("0")).toThrow(code("WALLET_AMOUNT_RANGE"));
    expect(() => parseAmount("0.00000000")).toThrow(code("WALLET_AMOUNT_RANGE"));
    expect(() => parseAmount(`${MAX_SUPPLY_UNITS + 1n}u`)).toThrow(code("WALLET_AMOUNT_RANGE"));
    expect(parseAmount(`${MAX_SUPPLY_UNITS}u`)).toBe(MAX_SUPPLY_UNITS);
  });

  test("formatPc prints 8 places and round-trips through parseAmount", () => {
    expect(formatPc(150_000_000n)).toBe("1.50000000");
    expect(formatPc(1n)).toBe("0.00000001");
    expect(formatPc(0n)).toBe("0.00000000");
    expect(formatPc(-5n)).toBe("-0.00000005");
    fc.assert(fc.property(fc.bigInt({ min: 1n, max: MAX_SUPPLY_UNITS }), (u) => parseAmount(formatPc(u)) === u && parseAmount(`${u}u`) === u));
  });
});

const utxo = (id: number, amount: bigint, over: Partial<WalletUtxo> = {}): WalletUtxo =>
  ({ txid: id.toString(16).padStart(64, "0"), index: 0, amount, createdAt: 0n, coinbase: false, ...over });

describe("UTXO selection", () => {
  test("picks the largest first and returns change", () => {
    const s = selectUtxos([utxo(1, 10_000n), utxo(2, 500_000n), utxo(3, 200_000n)], 600_000n, 1_000n);
    expect(s.inputs.map((u) => u.amount)).toEqual([500_000n, 200_000n]);
    expect(s.inputTotal).toBe(700_000n);
    expect(s.fee).toBe(1_000n);
    expect(s.change).toBe(99_000n);
    expect(s.inputTotal).toBe(600_000n + s.fee + s.change);
  });

  test("exact payment has no change; dust change goes to the fee", () => {
    expect(selectUtxos([utxo(1, 101_000n)], 100_000n, 1_000n)).toMatchObject({ change: 0n, fee: 1_000n });
    const s = selectUtxos([utxo(1, 101_500n)], 100_000n, 1_000n);
    expect(s.change).toBe(0n);
    expect(s.fee).toBe(1_500n);
    expect(selectUtxos([utxo(1, 100_000n + 1_000n + DUST_LIMIT_UNITS)], 100_000n, 1_000n).change).toBe(DUST_LIMIT_UNITS);
  });

  test("insufficient funds is a typed error that mentions immature rewards", () => {
    expect(() => selectUtxos([utxo(1, 5n)], 10n, 0n)).toThrow(code("WALLET_INSUFFICIENT_FUNDS"));
    expect(() => selectUtxos([], 1n, 0n)).toThrow(code("WALLET_INSUFFICIENT_FUNDS"));
    const maturity = { nextAnchorIndex: 50n, maturityAnchors: 100n };
    const coinbase = utxo(1, 5_000_000_000n, { coinbase: true, createdAt: 10n });
    expect(() => selectUtxos([coinbase], 1_000n, 0n, maturity)).toThrow(expect.objectContaining({ code: "WALLET_INSUFFICIENT_FUNDS", message: expect.stringContaining("immature") }));
    // Without maturity information the node is the judge: the coinbase output is offered.
    expect(selectUtxos([coinbase], 1_000n, 0n).inputs).toHaveLength(1);
  });

  test("maturity follows the ledger rule: next anchor >= createdAt + maturity", () => {
    const cb = utxo(1, 1n, { coinbase: true, createdAt: 10n });
    expect(isSpendable(cb, { nextAnchorIndex: 109n, maturityAnchors: 100n })).toBe(false);
    expect(isSpendable(cb, { nextAnchorIndex: 110n, maturityAnchors: 100n })).toBe(true);
    expect(isSpendable(utxo(2, 1n, { createdAt: 10n }), { nextAnchorIndex: 11n, maturityAnchors: 100n })).toBe(true);
    const s = selectUtxos([utxo(1, 9_000_000n, { coinbase: true, createdAt: 50n }), utxo(2, 3_000_000n, { coinbase: true, createdAt: 0n })], 2_000_000n, 0n, { nextAnchorIndex: 20n, maturityAnchors: 20n });
    expect(s.inputs.map((u) => u.amount)).toEqual([3_000_000n]);
  });

  test("more than TX_INPUTS_MAX inputs needed is refused", () => {
    const many = Array.from({ length: TX_INPUTS_MAX + 1 }, (_, i) => utxo(i, 10_000n));
    expect(() => selectUtxos(many, 10_000n * BigInt(TX_INPUTS_MAX + 1), 0n)).toThrow(code("WALLET_TOO_MANY_INPUTS"));
    expect(selectUtxos(many, 10_000n * BigInt(TX_INPUTS_MAX), 0n).inputs).toHaveLength(TX_INPUTS_MAX);
  });

  test("selection is deterministic and always covers amount + fee (property)", () => {
    const arbUtxos = fc.array(fc.record({ amount: fc.bigInt({ min: 1n, max: 10n ** 12n }), createdAt: fc.bigInt({ min: 0n, max: 1000n }) }), { maxLength: 40 });
    fc.assert(fc.property(arbUtxos, fc.bigInt({ min: 1n, max: 10n ** 13n }), fc.bigInt({ min: 0n, max: 10n ** 6n }), (list, amount, fee) => {
      const us = list.map((x, i) => utxo(i, x.amount, { createdAt: x.createdAt }));
      let s;
      try {
        s = selectUtxos(us, amount, fee);
      } catch (e) {
        expect((e as { code: string }).code).toBe("WALLET_INSUFFICIENT_FUNDS");
        return us.reduce((a, u) => a + u.amount, 0n) < amount + fee;
      }
      const again = selectUtxos([...us].reverse(), amount, fee);
      expect(again.inputs.map((u) => u.txid)).toEqual(s.inputs.map((u) => u.txid));
      return s.inputTotal === amount + s.fee + s.change && s.fee >= fee && (s.change === 0n || s.change >= DUST_LIMIT_UNITS);
    }), { numRuns: 300 });
  });
});
