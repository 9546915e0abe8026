/** Validator key files: one line of hex (a 32-byte Ed25519 seed), mode 0600. */
import { statSync, readFileSync } from "node:fs";
import { PhantomError } from "../errors.ts";
import { fromHex, equalBytes } from "../crypto/bytes.ts";
import { keyPairFromSeed, type Ed25519KeyPair } from "../crypto/ed25519.ts";
import type { Genesis } from "../genesis/genesis.ts";

export interface ValidatorIdentity {
  index: number;
  keyPair: Ed25519KeyPair;
}

export function loadValidatorKey(path: string, genesis: Genesis, warn: (msg: string) => void): ValidatorIdentity {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new PhantomError("KEY_FILE_UNREADABLE", `cannot read key file ${path}`);
  }
  if ((statSync(path).mode & 0o077) !== 0) warn(`key file ${path} is readable by group/others; chmod 600 it`);
  const seed = fromHex(text.trim(), 32, "key file");
  const keyPair = keyPairFromSeed(seed);
  seed.fill(0);
  const index = genesis.validators.findIndex((v) => equalBytes(v.publicKey, keyPair.publicKey));
  if (index < 0) throw new PhantomError("KEY_NOT_IN_COMMITTEE", `the key in ${path} is not a validator of this genesis`);
  return { index, keyPair };
}
