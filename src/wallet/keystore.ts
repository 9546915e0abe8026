/**
 * The encrypted wallet file (format v1, docs/OPERATIONS.md §11): the BIP39 mnemonic
 * sealed with ChaCha20-Poly1305 (RFC 8439) under a key derived from a passphrase with
 * scrypt (RFC 7914). All integers little-endian.
 *
 *   off  len  field
 *     0    8  magic "PHWALLET"
 *     8    1  version = 1
 *     9    1  kdf = 1 (scrypt)
 *    10    1  log2(N)            (scrypt cost, 10..20)
 *    11    1  r                  (1..16)
 *    12    1  p                  (1..4)
 *    13   32  salt               (random per file)
 *    45   12  nonce              (random per file)
 *    57   16  check              (scrypt output bytes 32..47: tells a wrong passphrase from tampering)
 *    73    n  ciphertext || 16-byte Poly1305 tag   (AAD = bytes 0..72)
 *  73+n   32  checksum = blake3_32(bytes 0..73+n-1)
 *
 * Reading: a bad checksum is WALLET_FILE_TAMPERED (any edit or corruption); a check
 * mismatch is WALLET_BAD_PASSPHRASE; a failed tag with the right passphrase is
 * WALLET_FILE_TAMPERED (an edit that also recomputed the checksum). The check value
 * lets a guesser test a passphrase no faster than the tag already does.
 */
import { scrypt } from "@noble/hashes/scrypt.js";
import { chacha20poly1305Open, chacha20poly1305Seal } from "../crypto/chacha.ts";
import { blake3_32 } from "../crypto/hash.ts";
import { equalBytes, wipe } from "../crypto/bytes.ts";
import { PhantomError } from "../errors.ts";

export type KeystoreErrorCode = "WALLET_BAD_PASSPHRASE" | "WALLET_FILE_TAMPERED" | "WALLET_FILE_INVALID" | "WALLET_WEAK_PASSPHRASE" | "WALLET_KDF_PARAMS";
export class KeystoreError extends PhantomError<KeystoreErrorCode> {}

export const KEYSTORE_MAGIC = new TextEncoder().encode("PHWALLET");
export const KEYSTORE_VERSION = 1;
const KDF_SCRYPT = 1;
const SALT_BYTES = 32;
const NONCE_BYTES = 12;
const CHECK_BYTES = 16;
const TAG_BYTES = 16;
const CHECKSUM_BYTES = 32;
/** Bytes before the ciphertext (the AEAD's associated data). */
export const KEYSTORE_HEADER_BYTES = 8 + 5 + SALT_BYTES + NONCE_BYTES + CHECK_BYTES;

export interface ScryptParams {
  logN: number;
  r: number;
  p: number;
}

/** Default cost: N = 2^17, r = 8 (128 MiB, about a second): costly for a guesser, bearable once per command. */
export const defaultScryptParams: ScryptParams = { logN: 17, r: 8, p: 1 };
/** Accepted bounds; a file asking for more memory than this is refused before any work. */
export const scryptLogNMin = 10;
export const scryptLogNMax = 20;
export const scryptMemoryBytesMax = 512 * 1024 * 1024;
/** Shortest passphrase accepted when encrypting. */
export const passphraseCharsMin = 8;
/** A mnemonic of 24 words is under 250 bytes; the plaintext bound. */
const plaintextBytesMax = 1_024;

export function checkScryptParams(k: ScryptParams): void {
  const ok = Number.isInteger(k.logN) && k.logN >= scryptLogNMin && k.logN <= scryptLogNMax
    && Number.isInteger(k.r) && k.r >= 1 && k.r <= 16 && Number.isInteger(k.p) && k.p >= 1 && k.p <= 4
    && 128 * k.r * 2 ** k.logN <= scryptMemoryBytesMax;
  if (!ok) throw new KeystoreError("WALLET_KDF_PARAMS", `scrypt parameters log2N=${k.logN} r=${k.r} p=${k.p} are outside log2N ${scryptLogNMin}..${scryptLogNMax}, r 1..16, p 1..4, memory <= ${scryptMemoryBytesMax / 2 ** 20} MiB`);
}

/** scrypt(passphrase, salt) -> 32-byte AEAD key || 16-byte check value. The caller wipes it. */
function deriveKey(passphrase: Uint8Array, salt: Uint8Array, k: ScryptParams): Uint8Array {
  return scrypt(passphrase, salt, { N: 2 ** k.logN, r: k.r, p: k.p, dkLen: 32 + CHECK_BYTES, maxmem: scryptMemoryBytesMax + 4096 });
}

/** NFKC UTF-8 bytes of a passphrase (as BIP39 does), so the same text typed anywhere unlocks the file. */
export function passphraseBytes(passphrase: string): Uint8Array {
  return new TextEncoder().encode(passphrase.normalize("NFKC"));
}

/** Seals `mnemonic` under `passphrase`; returns the whole file. */
export function sealMnemonic(mnemonic: string, passphrase: string, k: ScryptParams = defaultScryptParams): Uint8Array {
  if ([...passphrase].length < passphraseCharsMin) throw new KeystoreError("WALLET_WEAK_PASSPHRASE", `the passphrase must have at least ${passphraseCharsMin} characters`);
  checkScryptParams(k);
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const pass = passphraseBytes(passphrase);
  const derived = deriveKey(pass, salt, k);
  wipe(pass);
  const header = new Uint8Array(KEYSTORE_HEADER_BYTES);
  header.set(KEYSTORE_MAGIC, 0);
  header.set([KEYSTORE_VERSION, KDF_SCRYPT, k.logN, k.r, k.p], 8);
  header.set(salt, 13);
  header.set(nonce, 13 + SALT_BYTES);
  header.set(derived.subarray(32), 13 + SALT_BYTES + NONCE_BYTES);
  const plaintext = new TextEncoder().encode(mnemonic);
  const sealed = chacha20poly1305Seal(derived.subarray(0, 32), nonce, plaintext, header);
  wipe(derived);
  wipe(plaintext);
  const file = new Uint8Array(header.length + sealed.length + CHECKSUM_BYTES);
  file.set(header, 0);
  file.set(sealed, header.length);
  file.set(blake3_32(file.subarray(0, header.length + sealed.length)), header.length + sealed.length);
  return file;
}

export function isKeystore(file: Uint8Array): boolean {
  return file.length >= KEYSTORE_MAGIC.length && equalBytes(file.subarray(0, KEYSTORE_MAGIC.length), KEYSTORE_MAGIC);
}

/** The scrypt parameters a file asks for (checked against the bounds). */
export function keystoreParams(file: Uint8Array): ScryptParams {
  if (!isKeystore(file)) throw new KeystoreError("WALLET_FILE_INVALID", "not an encrypted wallet file (no PHWALLET magic)");
  if (file.length < KEYSTORE_HEADER_BYTES + TAG_BYTES + CHECKSUM_BYTES) throw new KeystoreError("WALLET_FILE_TAMPERED", `encrypted wallet file is truncated (${file.length} bytes)`);
  if (file[8] !== KEYSTORE_VERSION) throw new KeystoreError("WALLET_FILE_INVALID", `encrypted wallet file version ${file[8]} is not supported (this phantom reads version ${KEYSTORE_VERSION})`);
  if (file[9] !== KDF_SCRYPT) throw new KeystoreError("WALLET_FILE_INVALID", `unknown key derivation ${file[9]} (1 = scrypt)`);
  const k = { logN: file[10]!, r: file[11]!, p: file[12]! };
  checkScryptParams(k);
  return k;
}

/** Opens a sealed file with `passphrase`; returns the mnemonic. Typed errors as the module comment says. */
export function openMnemonic(file: Uint8Array, passphrase: string): string {
  const body = file.length - CHECKSUM_BYTES;
  if (file.length >= KEYSTORE_HEADER_BYTES + TAG_BYTES + CHECKSUM_BYTES && !equalBytes(blake3_32(file.subarray(0, body)), file.subarray(body))) {
    throw new KeystoreError("WALLET_FILE_TAMPERED", "the wallet file's checksum does not match: it was altered or corrupted; restore it from a backup or from the mnemonic");
  }
  const k = keystoreParams(file);
  const header = file.subarray(0, KEYSTORE_HEADER_BYTES);
  const salt = file.subarray(13, 13 + SALT_BYTES);
  const nonce = file.subarray(13 + SALT_BYTES, 13 + SALT_BYTES + NONCE_BYTES);
  const check = file.subarray(13 + SALT_BYTES + NONCE_BYTES, KEYSTORE_HEADER_BYTES);
  const sealed = file.subarray(KEYSTORE_HEADER_BYTES, body);
  if (sealed.length - TAG_BYTES > plaintextBytesMax) throw new KeystoreError("WALLET_FILE_INVALID", "encrypted wallet payload is too large for a mnemonic");
  const pass = passphraseBytes(passphrase);
  const derived = deriveKey(pass, salt, k);
  wipe(pass);
  try {
    if (!equalBytes(derived.subarray(32), check)) throw new KeystoreError("WALLET_BAD_PASSPHRASE", "wrong passphrase for this wallet file");
    const plaintext = chacha20poly1305Open(derived.subarray(0, 32), nonce, sealed, header);
    if (!plaintext) throw new KeystoreError("WALLET_FILE_TAMPERED", "the passphrase is right but the sealed mnemonic fails authentication: the file was altered; restore it from a backup or from the mnemonic");
    const mnemonic = new TextDecoder().decode(plaintext);
    wipe(plaintext);
    return mnemonic;
  } finally {
    wipe(derived);
  }
}
