/**
 * Shard assignment and the per-shard committee layout (docs/SPEC_SHARDING.md §2, §3).
 * Pure: a function of the lock commitment and genesis data alone. With one shard every
 * output is on shard 0 and the layout is the genesis committee as it is.
 */
import { PhantomError } from "../errors.ts";
import { COMMITTEE_MAX, HASH_BYTES } from "../types/constants.ts";

/** Largest `[chain] shard_count` (docs/GENESIS.md). */
export const SHARD_COUNT_MAX = 1024;
/** Default `[chain] shard_root_interval`: anchors per shard root (SPEC_SHARDING §6). */
export const SHARD_ROOT_INTERVAL_DEFAULT = 64n;
export const SHARD_ROOT_INTERVAL_MAX = 1n << 20n;

export type ShardErrorCode =
  | "SHARD_BAD_COUNT"
  | "SHARD_BAD_LOCK"
  | "SHARD_LAYOUT_BAD_SHARD"
  | "SHARD_LAYOUT_COMMITTEE_SIZE"
  | "SHARD_LAYOUT_DUPLICATE_KEY"
  | "SHARD_LAYOUT_STAKE";

export class ShardError extends PhantomError<ShardErrorCode> {
  constructor(code: ShardErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.name = "ShardError";
  }
}

function checkShardCount(shardCount: number): void {
  if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > SHARD_COUNT_MAX) {
    throw new ShardError("SHARD_BAD_COUNT", `shard count must be an integer 1..${SHARD_COUNT_MAX}, got ${shardCount}`);
  }
}

/** shard_of(lock_commitment, S) = u64_le(lock_commitment[0..8]) mod S. */
export function shardOfLock(lockCommitment: Uint8Array, shardCount: number): number {
  checkShardCount(shardCount);
  if (lockCommitment.length !== HASH_BYTES) throw new ShardError("SHARD_BAD_LOCK", `a lock commitment is ${HASH_BYTES} bytes, got ${lockCommitment.length}`);
  if (shardCount === 1) return 0;
  const v = new DataView(lockCommitment.buffer, lockCommitment.byteOffset, 8).getBigUint64(0, true);
  return Number(v % BigInt(shardCount));
}

export interface ShardValidatorEntry {
  publicKey: Uint8Array;
  stake: bigint;
  /** `[[validators]] shard`; absent means 0. */
  shard?: number;
}

export interface ShardCommittee {
  shard: number;
  /** By creator index within the shard (file order). */
  publicKeys: Uint8Array[];
  stakes: bigint[];
  /** Positions in the genesis `[[validators]]` list. */
  genesisIndices: number[];
  totalStake: bigint;
  /** q = floor(2·T/3) + 1 (SPEC_CONSENSUS §1). */
  quorum: bigint;
}

export interface ShardLayout {
  shardCount: number;
  committees: ShardCommittee[];
}

/** Quorum of a committee: floor(2·total/3) + 1, the consensus rule. */
export function quorumOf(totalStake: bigint): bigint {
  return (2n * totalStake) / 3n + 1n;
}

/**
 * The committees of S shards from `[[validators]]` entries (SPEC_SHARDING §3). S = 1:
 * one committee of every validator (all `shard` absent or 0). S > 1: every shard has the
 * same size k ≤ 64, and `validators.length = S·k`.
 */
export function shardLayout(shardCount: number, validators: readonly ShardValidatorEntry[]): ShardLayout {
  checkShardCount(shardCount);
  const committees: ShardCommittee[] = Array.from({ length: shardCount }, (_, shard) => ({ shard, publicKeys: [], stakes: [], genesisIndices: [], totalStake: 0n, quorum: 0n }));
  const seen = new Set<string>();
  validators.forEach((v, i) => {
    const shard = v.shard ?? 0;
    if (!Number.isInteger(shard) || shard < 0 || shard >= shardCount) {
      throw new ShardError("SHARD_LAYOUT_BAD_SHARD", `validators[${i}].shard must be 0..${shardCount - 1}, got ${shard}`, { field: `validators[${i}].shard` });
    }
    const key = Buffer.from(v.publicKey).toString("hex");
    if (seen.has(key)) throw new ShardError("SHARD_LAYOUT_DUPLICATE_KEY", `validators[${i}].public_key serves a shard already: a validator serves one shard`, { field: `validators[${i}].public_key` });
    seen.add(key);
    if (v.stake < 1n) throw new ShardError("SHARD_LAYOUT_STAKE", `validators[${i}].stake must be at least 1`, { field: `validators[${i}].stake` });
    const c = committees[shard]!;
    c.publicKeys.push(v.publicKey);
    c.stakes.push(v.stake);
    c.genesisIndices.push(i);
    c.totalStake += v.stake;
  });
  const k = committees[0]!.publicKeys.length;
  for (const c of committees) {
    if (c.publicKeys.length === 0 || c.publicKeys.length > COMMITTEE_MAX || c.publicKeys.length !== k) {
      throw new ShardError("SHARD_LAYOUT_COMMITTEE_SIZE", `every shard needs the same committee size k (1..${COMMITTEE_MAX}): shard 0 has ${k}, shard ${c.shard} has ${c.publicKeys.length}`, { field: "validators" });
    }
    c.quorum = quorumOf(c.totalStake);
  }
  return { shardCount, committees };
}

/** The shard layout of a parsed genesis (which already checked the layout rules, docs/GENESIS.md). */
export function shardLayoutOf(g: { shardCount: number; validators: readonly ShardValidatorEntry[]; shardView?: { validators: readonly ShardValidatorEntry[] } }): ShardLayout {
  // A one-shard view (genesisForShard) keeps the whole list: the layout is the network's.
  return shardLayout(g.shardCount, g.shardView?.validators ?? g.validators);
}
