/**
 * The wallet file: the BIP39 mnemonic sealed under a passphrase (keystore.ts, format
 * v1), mode 0600, created exclusively (an existing wallet is never overwritten).
 * A legacy file holding the plain mnemonic on one line is still read, with a
 * warning, and `convertToEncrypted` seals it in place.
 */
import { openSync, writeSync, closeSync, readFileSync, statSync, mkdirSync, renameSync, fsyncSync, rmSync } from "node:fs";
import { dirname, join, basename } from "node:path";
import { PhantomError } from "../errors.ts";
import { wipe } from "../crypto/bytes.ts";
import { accountFromMnemonic, type WalletAccount } from "./keys.ts";
import { isKeystore, openMnemonic, sealMnemonic, type ScryptParams } from "./keystore.ts";

export type WalletFileErrorCode = "WALLET_FILE_EXISTS" | "WALLET_FILE_MISSING" | "WALLET_FILE_INVALID" | "WALLET_BAD_ACCOUNT" | "WALLET_ALREADY_ENCRYPTED";
export class WalletFileError extends PhantomError<WalletFileErrorCode> {}

/** A sealed 24-word mnemonic is under 400 bytes; anything far larger is not a wallet file. */
export const walletFileBytesMax = 4_096;
/** Accounts are numbered 0..accountIndexMax (u32 in the derivation). */
export const accountIndexMax = 0xffff_ffff;

/** Supplies the passphrase only when the file is encrypted (a prompt is not shown for a legacy file). */
export type PassphraseSource = () => Promise<string>;

/** Writes `bytes` to a new file at `path` (mode 0600, exclusive), synced to disk. */
function writeExclusive(path: string, bytes: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    fd = openSync(path, "wx", 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new WalletFileError("WALLET_FILE_EXISTS", `${path} already exists; refusing to overwrite a wallet`);
    throw e;
  }
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Creates an encrypted wallet file holding `mnemonic`. */
export function writeWalletFile(path: string, mnemonic: string, passphrase: string, kdf?: ScryptParams): void {
  writeExclusive(path, sealMnemonic(mnemonic, passphrase, kdf));
}

function readBounded(path: string, warn?: (line: string) => void): Uint8Array {
  let size: number;
  let mode: number;
  try {
    ({ size, mode } = statSync(path));
  } catch {
    throw new WalletFileError("WALLET_FILE_MISSING", `no wallet at ${path} (create one with: phantom wallet new --wallet ${path})`);
  }
  if (size > walletFileBytesMax) throw new WalletFileError("WALLET_FILE_INVALID", `${path} is ${size} bytes; a wallet file holds one sealed mnemonic`);
  if ((mode & 0o077) !== 0) warn?.(`warning: ${path} is readable by other users (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
  return new Uint8Array(readFileSync(path));
}

/** Reads the mnemonic; asks `passphrase` only for an encrypted file; `warn` hears about a legacy or readable file. */
export async function readWalletFile(path: string, passphrase: PassphraseSource, warn?: (line: string) => void): Promise<{ mnemonic: string; encrypted: boolean }> {
  const bytes = readBounded(path, warn);
  try {
    if (isKeystore(bytes)) return { mnemonic: openMnemonic(bytes, await passphrase()), encrypted: true };
    warn?.(`warning: ${path} holds the mnemonic unencrypted; whoever reads it can spend (encrypt it: phantom wallet encrypt --wallet ${path})`);
    return { mnemonic: new TextDecoder().decode(bytes).trim().replace(/\s+/g, " "), encrypted: false };
  } finally {
    wipe(bytes);
  }
}

export async function loadAccount(path: string, index: number, passphrase: PassphraseSource, warn?: (line: string) => void): Promise<WalletAccount> {
  if (!Number.isSafeInteger(index) || index < 0 || index > accountIndexMax) throw new WalletFileError("WALLET_BAD_ACCOUNT", `account index must be 0..${accountIndexMax}`);
  return accountFromMnemonic((await readWalletFile(path, passphrase, warn)).mnemonic, index);
}

/**
 * Seals a legacy plain wallet file in place: the sealed copy is written beside it and
 * renamed over it (atomic), after the plain bytes are overwritten with zeros (best
 * effort: a journaling or copy-on-write file system may keep old blocks).
 */
export async function convertToEncrypted(path: string, passphrase: string, kdf?: ScryptParams): Promise<void> {
  const bytes = readBounded(path);
  if (isKeystore(bytes)) throw new WalletFileError("WALLET_ALREADY_ENCRYPTED", `${path} is already encrypted`);
  const mnemonic = new TextDecoder().decode(bytes).trim().replace(/\s+/g, " ");
  accountFromMnemonic(mnemonic); // refuses a file that is not a valid phrase before touching anything
  const tmp = join(dirname(path), `.${basename(path)}.sealing`);
  rmSync(tmp, { force: true });
  writeExclusive(tmp, sealMnemonic(mnemonic, passphrase, kdf));
  const fd = openSync(path, "r+");
  try {
    writeSync(fd, new Uint8Array(bytes.length), 0, bytes.length, 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  wipe(bytes);
  renameSync(tmp, path);
}
