/**
 * The wallet file: one BIP39 English mnemonic on one line, mode 0600, created
 * exclusively (an existing wallet is never overwritten). The mnemonic is the whole
 * secret: whoever reads the file can spend.
 */
import { openSync, writeSync, closeSync, readFileSync, statSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { PhantomError } from "../errors.ts";
import { accountFromMnemonic, type WalletAccount } from "./keys.ts";

export type WalletFileErrorCode = "WALLET_FILE_EXISTS" | "WALLET_FILE_MISSING" | "WALLET_FILE_INVALID" | "WALLET_BAD_ACCOUNT";
export class WalletFileError extends PhantomError<WalletFileErrorCode> {}

/** A 24-word mnemonic is under 250 bytes; anything far larger is not a wallet file. */
export const walletFileBytesMax = 4_096;
/** Accounts are numbered 0..accountIndexMax (u32 in the derivation). */
export const accountIndexMax = 0xffff_ffff;

export function writeWalletFile(path: string, mnemonic: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    fd = openSync(path, "wx", 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new WalletFileError("WALLET_FILE_EXISTS", `${path} already exists; refusing to overwrite a wallet`);
    throw e;
  }
  try {
    writeSync(fd, mnemonic + "\n");
  } finally {
    closeSync(fd);
  }
}

/** Reads the mnemonic; `warn` hears about a file others can read. */
export function readWalletFile(path: string, warn?: (line: string) => void): string {
  let size: number;
  let mode: number;
  try {
    ({ size, mode } = statSync(path));
  } catch {
    throw new WalletFileError("WALLET_FILE_MISSING", `no wallet at ${path} (create one with: phantom wallet new --wallet ${path})`);
  }
  if (size > walletFileBytesMax) throw new WalletFileError("WALLET_FILE_INVALID", `${path} is ${size} bytes; a wallet file holds one mnemonic line`);
  if ((mode & 0o077) !== 0) warn?.(`warning: ${path} is readable by other users (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
  return readFileSync(path, "utf8").trim().replace(/\s+/g, " ");
}

export function loadAccount(path: string, index: number, warn?: (line: string) => void): WalletAccount {
  if (!Number.isSafeInteger(index) || index < 0 || index > accountIndexMax) throw new WalletFileError("WALLET_BAD_ACCOUNT", `account index must be 0..${accountIndexMax}`);
  return accountFromMnemonic(readWalletFile(path, warn), index);
}
