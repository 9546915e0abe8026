import { describe, expect, test } from "bun:test";
import { newMnemonic, accountFromMnemonic, accountFromSeed } from "../../src/wallet/keys.ts";
import { encodeAddress, decodeAddress } from "../../src/wallet/address.ts";
import { lockCommitment } from "../../src/types/lock.ts";
import { equalBytes } from "../../src/crypto/bytes.ts";
import { bech32m, bech32 } from "@scure/base";

describe("wallet", () => {
  test("a mnemonic derives stable, distinct accounts", () => {
    const m = newMnemonic();
    expect(m.split(" ")).toHaveLength(24);
    const a0 = accountFromMnemonic(m, 0);
    expect(accountFromMnemonic(m, 0).address).toBe(a0.address);
    expect(accountFromMnemonic(m, 1).address).not.toBe(a0.address);
    expect(accountFromMnemonic(m, 0, "passphrase").address).not.toBe(a0.address);
    expect(equalBytes(a0.lockCommitment, lockCommitment(a0.lock))).toBe(true);
  });

  test("bad mnemonics are typed errors", () => {
    expect(() => accountFromMnemonic("abandon abandon")).toThrow(expect.objectContaining({ code: "WALLET_BAD_MNEMONIC" }));
    // The BIP39 reference phrase "abandon x11 about" is valid; "abandon x12" fails its checksum.
    expect(accountFromMnemonic(`${"abandon ".repeat(11)}about`).address).toStartWith("pc1");
    expect(() => accountFromMnemonic("abandon ".repeat(12).trim())).toThrow(expect.objectContaining({ code: "WALLET_BAD_MNEMONIC" }));
  });

  test("addresses round-trip and reject corruption, wrong network and wrong length", () => {
    const acct = accountFromSeed(new Uint8Array(32).fill(7));
    expect(acct.address).toStartWith("pc1");
    expect(equalBytes(decodeAddress(acct.address), acct.lockCommitment)).toBe(true);
    const chars = acct.address.split("");
    chars[10] = chars[10] === "q" ? "p" : "q";
    expect(() => decodeAddress(chars.join(""))).toThrow(expect.objectContaining({ code: "ADDRESS_INVALID" }));
    expect(() => decodeAddress(bech32m.encode("tb", bech32m.toWords(acct.lockCommitment)))).toThrow(expect.objectContaining({ code: "ADDRESS_WRONG_NETWORK" }));
    expect(() => decodeAddress(bech32m.encode("pc", bech32m.toWords(new Uint8Array(20))))).toThrow(expect.objectContaining({ code: "ADDRESS_BAD_LENGTH" }));
    // bech32 (not bech32m) checksums are refused: BIP 350.
    expect(() => decodeAddress(bech32.encode("pc", bech32.toWords(acct.lockCommitment)))).toThrow(expect.objectContaining({ code: "ADDRESS_INVALID" }));
    expect(() => encodeAddress(new Uint8Array(31))).toThrow(expect.objectContaining({ code: "ADDRESS_BAD_LENGTH" }));
  });
});
