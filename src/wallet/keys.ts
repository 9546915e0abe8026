/**
 * Wallet keys from a BIP39 mnemonic: seed = BIP39(mnemonic, passphrase); the
 * Ed25519 seed of account i is BLAKE3 derive_key("phantom wallet ed25519 v0",
 * seed || u32le(i)). A single-signature address pays Lock Sig(pk).
 */
import { generateMnemonic, mnemonicToSeedSync, validateMnemonic } from "@scure/bip39";
import { wordlist } from "@scure/bip39/wordlists/english.js";
import { blake3DeriveKey } from "../crypto/hash.ts";
import { keyPairFromSeed, type Ed25519KeyPair } from "../crypto/ed25519.ts";
import { lockCommitment, type Lock } from "../types/lock.ts";
import { encodeAddress } from "./address.ts";
import { PhantomError } from "../errors.ts";

export function newMnemonic(strengthBits: 128 | 256 = 256): string {
  return generateMnemonic(wordlist, strengthBits);
}

export interface WalletAccount {
  index: number;
  keyPair: Ed25519KeyPair;
  lock: Lock;
  lockCommitment: Uint8Array;
  address: string;
}

export function accountFromSeed(seed32: Uint8Array, index = 0): WalletAccount {
  const keyPair = keyPairFromSeed(seed32);
  const lock: Lock = { kind: "sig", publicKey: keyPair.publicKey };
  const commitment = lockCommitment(lock);
  return { index, keyPair, lock, lockCommitment: commitment, address: encodeAddress(commitment) };
}

export function accountFromMnemonic(mnemonic: string, index = 0, passphrase = ""): WalletAccount {
  if (!validateMnemonic(mnemonic.trim(), wordlist)) throw new PhantomError("WALLET_BAD_MNEMONIC", "mnemonic is not a valid BIP39 English phrase (check words and checksum)");
  const seed = mnemonicToSeedSync(mnemonic.trim(), passphrase);
  const input = new Uint8Array(seed.length + 4);
  input.set(seed);
  new DataView(input.buffer).setUint32(seed.length, index, true);
  const edSeed = blake3DeriveKey("phantom wallet ed25519 v0", input);
  seed.fill(0);
  input.fill(0);
  const account = accountFromSeed(edSeed, index);
  edSeed.fill(0);
  return account;
}
