/** Shared fixtures for validation, mempool and proposer tests: real keys, a Map-backed UTXO view. */
import { keyPairFromSeed, type Ed25519KeyPair } from "../../src/crypto/ed25519.ts";
import { blake3_32 } from "../../src/crypto/hash.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { lockCommitment, type Lock } from "../../src/types/lock.ts";
import type { Outpoint } from "../../src/types/tx.ts";
import type { UtxoEntry, UtxoReader } from "../../src/ledger/validate.ts";

export function key(n: number): Ed25519KeyPair {
  const seed = new Uint8Array(32);
  new DataView(seed.buffer).setUint32(0, n, true);
  seed[31] = 0x5a;
  return keyPairFromSeed(seed);
}

/** Deterministic distinct outpoint number `n`. */
export function outpoint(n: number, index = 0): Outpoint {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return { txid: blake3_32(b), index };
}

export class MapUtxoView implements UtxoReader {
  readonly entries = new Map<string, UtxoEntry>();
  getUtxo(txid: Uint8Array, index: number): UtxoEntry | undefined {
    return this.entries.get(`${toHex(txid)}:${index}`);
  }
  add(op: Outpoint, lock: Lock, amount: bigint, opts: { createdAt?: bigint; coinbase?: boolean } = {}): Outpoint {
    this.entries.set(`${toHex(op.txid)}:${op.index}`, { amount, lockCommitment: lockCommitment(lock), createdAt: opts.createdAt ?? 0n, coinbase: opts.coinbase ?? false });
    return op;
  }
  spend(op: Outpoint): void {
    this.entries.delete(`${toHex(op.txid)}:${op.index}`);
  }
}
