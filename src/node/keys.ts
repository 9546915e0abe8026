/** Validator key files: one line of hex (a 32-byte Ed25519 seed), mode 0600. */
import { readFileSync } from "node:fs";
import { PhantomError } from "../errors.ts";
import { fromHex, equalBytes } from "../crypto/bytes.ts";
import { keyPairFromSeed, type Ed25519KeyPair } from "../crypto/ed25519.ts";
import type { Genesis } from "../genesis/genesis.ts";
import { checkSecretFileMode } from "../store/private-files.ts";

export interface ValidatorIdentity {
  index: number;
  keyPair: Ed25519KeyPair;
}

export interface KeyFileOptions {
  /** Use a key file group or others can access (with a warning) instead of refusing it. */
  allowInsecure: boolean;
  warn(message: string): void;
}

/** Reads a key file (mode checked first) into its key pair; the seed is zeroed after use. */
export function readKeyFile(path: string, opts: KeyFileOptions): Ed25519KeyPair {
  checkSecretFileMode(path, "key file", "KEY_FILE_PERMISSIONS", opts.allowInsecure, opts.warn);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new PhantomError("KEY_FILE_UNREADABLE", `cannot read key file ${path}`);
  }
  const seed = fromHex(text.trim(), 32, "key file");
  const keyPair = keyPairFromSeed(seed);
  seed.fill(0);
  return keyPair;
}

export function loadValidatorKey(path: string, genesis: Genesis, opts: KeyFileOptions): ValidatorIdentity {
  const keyPair = readKeyFile(path, opts);
  const index = genesis.validators.findIndex((v) => equalBytes(v.publicKey, keyPair.publicKey));
  if (index < 0) throw new PhantomError("KEY_NOT_IN_COMMITTEE", `the key in ${path} is not a validator of this genesis`);
  return { index, keyPair };
}

/**
 * The shard this validator serves: the `shard` of its key's `[[validators]]` entry
 * (docs/SPEC_SHARDING.md §3). `requested` (`--shard`, null when absent) must agree, else
 * NODE_SHARD_MISMATCH: running a key on another shard's DAG could only be refused by that
 * shard's peers.
 */
export function shardOfKey(genesis: Genesis, publicKey: Uint8Array, requested: number | null, keyFile = "the key file"): number {
  const entry = genesis.validators.find((v) => equalBytes(v.publicKey, publicKey));
  if (entry === undefined) throw new PhantomError("KEY_NOT_IN_COMMITTEE", `the key in ${keyFile} is not a validator of this genesis`);
  if (requested !== null && requested !== entry.shard) {
    throw new PhantomError("NODE_SHARD_MISMATCH", `--shard ${requested}, but this key is validator ${entry.index} of shard ${entry.shard} in the genesis (shard_count = ${genesis.shardCount}): drop --shard or give --shard ${entry.shard}`, { requested, shard: entry.shard });
  }
  return entry.shard;
}
