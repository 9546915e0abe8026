// The encrypted wallet file: round trip, wrong passphrase, every kind of tampering,
// bounds on what a file may ask of the KDF, and the legacy plain file's conversion.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scrypt } from "@noble/hashes/scrypt.js";
import { KEYSTORE_HEADER_BYTES, KeystoreError, keystoreParams, openMnemonic, sealMnemonic, defaultScryptParams } from "../../src/wallet/keystore.ts";
import { convertToEncrypted, loadAccount, readWalletFile, WalletFileError, writeWalletFile } from "../../src/wallet/wallet-file.ts";
import { accountFromMnemonic, newMnemonic } from "../../src/wallet/keys.ts";
import { blake3_32 } from "../../src/crypto/hash.ts";
import { chacha20poly1305Open } from "../../src/crypto/chacha.ts";
import { thrownCode } from "../thrown-code.ts";

const dir = mkdtempSync(join(tmpdir(), "phantom-keystore-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fast = { logN: 10, r: 8, p: 1 };
const pass = "correct horse battery";
const code = (fn: () => unknown) => thrownCode(fn, KeystoreError, "none");

describe("keystore v1", () => {
  test("seal/open round trip; the layout is what the format says", () => {
    const m = newMnemonic();
    const file = sealMnemonic(m, pass, fast);
    expect(new TextDecoder().decode(file.subarray(0, 8))).toBe("PHWALLET");
    expect([...file.subarray(8, 13)]).toEqual([1, 1, 10, 8, 1]);
    expect(keystoreParams(file)).toEqual(fast);
    expect(openMnemonic(file, pass)).toBe(m);
    // Independent decryption from the documented layout: scrypt -> key || check, AEAD with the header as AAD.
    const derived = scrypt(new TextEncoder().encode(pass), file.subarray(13, 45), { N: 1024, r: 8, p: 1, dkLen: 48 });
    expect([...derived.subarray(32)]).toEqual([...file.subarray(57, 73)]);
    const body = file.length - 32;
    expect([...blake3_32(file.subarray(0, body))]).toEqual([...file.subarray(body)]);
    const plain = chacha20poly1305Open(derived.subarray(0, 32), file.subarray(45, 57), file.subarray(KEYSTORE_HEADER_BYTES, body), file.subarray(0, KEYSTORE_HEADER_BYTES));
    expect(new TextDecoder().decode(plain!)).toBe(m);
    // Salt and nonce are fresh per file: sealing twice differs.
    expect(sealMnemonic(m, pass, fast)).not.toEqual(file);
  });

  test("the default cost is scrypt N=2^17, r=8, p=1", () => {
    const file = sealMnemonic("abandon", "12345678", defaultScryptParams);
    expect(keystoreParams(file)).toEqual({ logN: 17, r: 8, p: 1 });
    expect(openMnemonic(file, "12345678")).toBe("abandon");
  }, 30_000);

  test("wrong passphrase and tampering are told apart", () => {
    const m = newMnemonic(128);
    const file = sealMnemonic(m, pass, fast);
    expect(code(() => openMnemonic(file, pass + "!"))).toBe("WALLET_BAD_PASSPHRASE");
    // Any flipped byte, header or ciphertext or checksum, breaks the checksum.
    for (const at of [9, 14, 50, 60, KEYSTORE_HEADER_BYTES + 3, file.length - 20, file.length - 1]) {
      const t = file.slice();
      t[at]! ^= 1;
      expect({ at, code: code(() => openMnemonic(t, pass)) }).toEqual({ at, code: "WALLET_FILE_TAMPERED" });
    }
    // A forger who recomputes the checksum: the right passphrase meets a failed AEAD tag.
    const forged = file.slice();
    forged[KEYSTORE_HEADER_BYTES + 1]! ^= 1;
    forged.set(blake3_32(forged.subarray(0, forged.length - 32)), forged.length - 32);
    expect(code(() => openMnemonic(forged, pass))).toBe("WALLET_FILE_TAMPERED");
    // Truncation.
    expect(code(() => openMnemonic(file.subarray(0, 80), pass))).toBe("WALLET_FILE_TAMPERED");
  });

  test("bounds: weak passphrases, KDF parameters a file may ask for, unknown versions", () => {
    expect(code(() => sealMnemonic("m", "short", fast))).toBe("WALLET_WEAK_PASSPHRASE");
    expect(code(() => sealMnemonic("m", pass, { logN: 9, r: 8, p: 1 }))).toBe("WALLET_KDF_PARAMS");
    expect(code(() => sealMnemonic("m", pass, { logN: 20, r: 8, p: 1 }))).toBe("WALLET_KDF_PARAMS"); // 1 GiB
    const file = sealMnemonic("m", pass, fast);
    const greedy = file.slice();
    greedy[10] = 30; // 2^30 * 8 * 128 bytes: refused before any work
    greedy.set(blake3_32(greedy.subarray(0, greedy.length - 32)), greedy.length - 32);
    expect(code(() => openMnemonic(greedy, pass))).toBe("WALLET_KDF_PARAMS");
    const v2 = file.slice();
    v2[8] = 2;
    v2.set(blake3_32(v2.subarray(0, v2.length - 32)), v2.length - 32);
    expect(code(() => openMnemonic(v2, pass))).toBe("WALLET_FILE_INVALID");
  });
});

describe("wallet file", () => {
  test("written 0600 and encrypted; a legacy plain file still opens with a warning and converts in place", async () => {
    const m = newMnemonic();
    const path = join(dir, "w1");
    writeWalletFile(path, m, pass, fast);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path).includes(Buffer.from(m.split(" ")[0]!))).toBe(false);
    const warnings: string[] = [];
    let asked = 0;
    const source = async () => (asked++, pass);
    expect(await readWalletFile(path, source, (l) => warnings.push(l))).toEqual({ mnemonic: m, encrypted: true });
    expect({ asked, warnings }).toEqual({ asked: 1, warnings: [] });
    expect(() => writeWalletFile(path, m, pass, fast)).toThrow(expect.objectContaining({ code: "WALLET_FILE_EXISTS" }));

    const legacy = join(dir, "legacy");
    writeFileSync(legacy, m + "\n", { mode: 0o600 });
    const plain = await readWalletFile(legacy, source, (l) => warnings.push(l));
    expect(plain).toEqual({ mnemonic: m, encrypted: false });
    expect(asked).toBe(1); // no passphrase asked for a plain file
    expect(warnings.join("\n")).toContain("unencrypted");
    await convertToEncrypted(legacy, pass, fast);
    expect(statSync(legacy).mode & 0o777).toBe(0o600);
    expect(readFileSync(legacy).includes(Buffer.from(m.split(" ")[1]!))).toBe(false);
    expect((await loadAccount(legacy, 3, source)).address).toBe(accountFromMnemonic(m, 3).address);
    await expect(convertToEncrypted(legacy, pass, fast)).rejects.toBeInstanceOf(WalletFileError);
    await expect(loadAccount(legacy, 0, async () => "not the passphrase")).rejects.toMatchObject({ code: "WALLET_BAD_PASSPHRASE" });
  }, 30_000);
});
