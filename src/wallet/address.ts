/**
 * Addresses: bech32m (BIP 350) of a 32-byte lock commitment, human-readable part
 * "pc". An address names a Lock by its commitment; any Lock kind can be paid.
 */
import { bech32m } from "@scure/base";
import { PhantomError } from "../errors.ts";
import { shardOfLock } from "../ledger/shard.ts";

export const ADDRESS_HRP = "pc";

export function encodeAddress(lockCommitment: Uint8Array): string {
  if (lockCommitment.length !== 32) throw new PhantomError("ADDRESS_BAD_LENGTH", "a lock commitment is 32 bytes");
  return bech32m.encode(ADDRESS_HRP, bech32m.toWords(lockCommitment));
}

export function decodeAddress(address: string): Uint8Array {
  let decoded: { prefix: string; words: number[] };
  try {
    decoded = bech32m.decode(address as `${string}1${string}`);
  } catch (e) {
    throw new PhantomError("ADDRESS_INVALID", `not a valid address: ${(e as Error).message}`);
  }
  if (decoded.prefix !== ADDRESS_HRP) throw new PhantomError("ADDRESS_WRONG_NETWORK", `address prefix must be "${ADDRESS_HRP}", got "${decoded.prefix}"`);
  const bytes = bech32m.fromWords(decoded.words);
  if (bytes.length !== 32) throw new PhantomError("ADDRESS_BAD_LENGTH", `address carries ${bytes.length} bytes, expected 32`);
  return bytes;
}

/** The shard an address's outputs belong to (docs/SPEC_SHARDING.md §2): shard_of(lock commitment, S). */
export function shardOfAddress(address: string, shardCount: number): number {
  return shardOfLock(decodeAddress(address), shardCount);
}
