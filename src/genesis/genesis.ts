/**
 * genesis.toml: the authoritative, consensus-critical configuration
 * (docs/GENESIS.md). Loading validates every field; any problem is a
 * GenesisError naming the field.
 */
import { parse as parseToml } from "smol-toml";
import { PhantomError } from "../errors.ts";
import { blake3_32 } from "../crypto/hash.ts";
import { fromHex, toHex, equalBytes } from "../crypto/bytes.ts";
import { COMMITTEE_MAX, MAX_SUPPLY_UNITS, PARENTS_MAX } from "../types/constants.ts";
import { totalEmissionUnits } from "./emission-schedule.ts";

export type GenesisErrorCode = "GENESIS_PARSE" | "GENESIS_FIELD" | "GENESIS_IO" | "GENESIS_NO_SUCH_SHARD";

export class GenesisError extends PhantomError<GenesisErrorCode> {
  constructor(code: GenesisErrorCode, message: string, readonly field?: string) {
    super(code, message, field ? { field } : undefined);
    this.name = "GenesisError";
  }
}

export interface GenesisValidator {
  index: number;
  publicKey: Uint8Array;
  stake: bigint;
  /** host:port of its P2P (QUIC) listener. */
  address: string;
  /** `[[validators]] shard` (default 0): the one shard it serves (docs/SPEC_SHARDING.md §3). */
  shard: number;
}

export interface EmissionParams {
  /** Reward of mint height 0, in units. */
  initialRewardUnits: bigint;
  /** Mints per halving period. */
  halvingIntervalMints: bigint;
  initialTargetBits: number;
  /** Mints per difficulty window. */
  retargetWindowMints: number;
  /** Desired anchor indices per mint; the retarget aims the window's span at window × this. */
  targetAnchorsPerMint: bigint;
  /** Largest difficulty change, in bits, per retarget. */
  retargetStepBitsMax: number;
  minTargetBits: number;
  maxTargetBits: number;
  /** Anchor indices a mint output waits before it can be spent. */
  maturityAnchors: bigint;
}

export interface FeeParams {
  /** Shares of an anchor's fees in basis points; they sum to 10,000. */
  floorBps: number;
  proposerBps: number;
  performanceBps: number;
  attestorBps: number;
  /** Performance bonus decay per unit of ack distance, in basis points of the bonus. */
  alphaBps: number;
  /** Ack distances at or above D_max earn no performance bonus. */
  dMax: number;
}

export interface Genesis {
  chainId: string;
  shardCount: number;
  /** `[chain] shard_root_interval`: anchors per shard root (SPEC_SHARDING §6); unused with one shard. */
  shardRootInterval: bigint;
  k: number;
  coinRoundInterval: number;
  /** Rounds an event may wait to be ordered before it is stale; memory keeps this plus ANCIENT_ROUNDS (SPEC_CONSENSUS §10, §12). */
  horizonRounds: number;
  parentsMax: number;
  genesisNote: Uint8Array;
  commitment: Uint8Array;
  validators: GenesisValidator[];
  totalStake: bigint;
  emission: EmissionParams;
  fees: FeeParams;
  /**
   * Relay policy, not validity: the least fee per encoded byte a node's mempool admits
   * (`[fees] min_relay_fee_per_byte`, default 1; 0 only where the genesis says so).
   */
  minRelayFeePerByte: bigint;
  /**
   * Set on the view of one shard (genesisForShard): that shard, and the whole file's
   * validators in file order (every shard's committee, to check other shards' certificates).
   */
  shardView?: { shard: number; validators: GenesisValidator[] };
}

/** Default of `[fees] min_relay_fee_per_byte`: 1 unit per encoded byte. */
export const MIN_RELAY_FEE_PER_BYTE_DEFAULT = 1n;
/** Upper bound of `[fees] min_relay_fee_per_byte` (1 PC per byte). */
export const MIN_RELAY_FEE_PER_BYTE_MAX = 100_000_000n;

type Table = Record<string, unknown>;

function table(v: unknown, field: string): Table {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new GenesisError("GENESIS_FIELD", `genesis: [${field}] must be a table`, field);
  return v as Table;
}

function int(t: Table, key: string, field: string, min: bigint, max: bigint, fallback?: bigint): bigint {
  const v = t[key];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== "bigint") throw new GenesisError("GENESIS_FIELD", `genesis: ${field} must be an integer${v === undefined ? " (missing)" : ""}`, field);
  if (v < min || v > max) throw new GenesisError("GENESIS_FIELD", `genesis: ${field} must be between ${min} and ${max}, got ${v}`, field);
  return v;
}

const small = (t: Table, key: string, field: string, min: number, max: number, fallback?: number): number =>
  Number(int(t, key, field, BigInt(min), BigInt(max), fallback === undefined ? undefined : BigInt(fallback)));

function str(t: Table, key: string, field: string, fallback?: string): string {
  const v = t[key];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== "string") throw new GenesisError("GENESIS_FIELD", `genesis: ${field} must be a string${v === undefined ? " (missing)" : ""}`, field);
  return v;
}

function hex32(t: Table, key: string, field: string): Uint8Array {
  const v = str(t, key, field);
  if (!/^[0-9a-fA-F]{64}$/.test(v)) throw new GenesisError("GENESIS_FIELD", `genesis: ${field} must be 64 hex characters (32 bytes), got ${v.length} characters`, field);
  return fromHex(v);
}

const U64_MAX = (1n << 64n) - 1n;

function parseValidators(raw: unknown): GenesisValidator[] {
  if (!Array.isArray(raw) || raw.length === 0) throw new GenesisError("GENESIS_FIELD", "genesis: [[validators]] must list at least one validator", "validators");
  const seen = new Set<string>();
  const addresses = new Set<string>();
  return raw.map((entry, i) => {
    const f = `validators[${i}]`;
    const t = table(entry, f);
    const publicKey = hex32(t, "public_key", `${f}.public_key`);
    const key = toHex(publicKey);
    if (seen.has(key)) throw new GenesisError("GENESIS_FIELD", `genesis: ${f}.public_key duplicates an earlier validator`, `${f}.public_key`);
    seen.add(key);
    const stake = int(t, "stake", `${f}.stake`, 1n, U64_MAX);
    const address = str(t, "address", `${f}.address`);
    // Canonical port (no leading zeros) so that the duplicate check below cannot be dodged.
    if (!/^[^\s:]+:(0|[1-9]\d{0,4})$/.test(address) || Number(address.split(":").pop()) > 65535) {
      throw new GenesisError("GENESIS_FIELD", `genesis: ${f}.address must be host:port, got "${address}"`, `${f}.address`);
    }
    // Host names are case-insensitive.
    const addressKey = address.toLowerCase();
    if (addresses.has(addressKey)) throw new GenesisError("GENESIS_FIELD", `genesis: ${f}.address duplicates an earlier validator`, `${f}.address`);
    addresses.add(addressKey);
    const shard = small(t, "shard", `${f}.shard`, 0, SHARD_COUNT_MAX - 1, 0);
    return { index: i, publicKey, stake, address, shard };
  });
}

function parseEmission(t: Table): EmissionParams {
  const e: EmissionParams = {
    initialRewardUnits: int(t, "initial_reward_units", "emission.initial_reward_units", 1n, MAX_SUPPLY_UNITS),
    halvingIntervalMints: int(t, "halving_interval_mints", "emission.halving_interval_mints", 1n, U64_MAX),
    initialTargetBits: small(t, "initial_target_bits", "emission.initial_target_bits", 0, 255),
    retargetWindowMints: small(t, "retarget_window_mints", "emission.retarget_window_mints", 1, 1_000_000),
    targetAnchorsPerMint: int(t, "target_anchors_per_mint", "emission.target_anchors_per_mint", 1n, 1n << 32n),
    retargetStepBitsMax: small(t, "retarget_step_bits_max", "emission.retarget_step_bits_max", 1, 8, 2),
    minTargetBits: small(t, "min_target_bits", "emission.min_target_bits", 0, 255, 1),
    maxTargetBits: small(t, "max_target_bits", "emission.max_target_bits", 1, 255, 64),
    maturityAnchors: int(t, "maturity_anchors", "emission.maturity_anchors", 0n, U64_MAX),
  };
  if (e.minTargetBits > e.initialTargetBits || e.initialTargetBits > e.maxTargetBits) {
    throw new GenesisError("GENESIS_FIELD", "genesis: emission.initial_target_bits must lie within [min_target_bits, max_target_bits]", "emission.initial_target_bits");
  }
  const total = totalEmissionUnits(e.initialRewardUnits, e.halvingIntervalMints);
  if (total > MAX_SUPPLY_UNITS) {
    throw new GenesisError(
      "GENESIS_FIELD",
      `genesis: emission.initial_reward_units with halving_interval_mints = ${e.halvingIntervalMints} issues ${total} units in all, above the hard cap of ${MAX_SUPPLY_UNITS} (50,000,000 PC)`,
      "emission.initial_reward_units",
    );
  }
  return e;
}

function parseFees(t: Table): FeeParams {
  const f: FeeParams = {
    floorBps: small(t, "floor_bps", "fees.floor_bps", 0, 10_000),
    proposerBps: small(t, "proposer_bps", "fees.proposer_bps", 0, 10_000),
    performanceBps: small(t, "performance_bps", "fees.performance_bps", 0, 10_000),
    attestorBps: small(t, "attestor_bps", "fees.attestor_bps", 0, 10_000),
    alphaBps: small(t, "alpha_bps", "fees.alpha_bps", 0, 10_000),
    dMax: small(t, "d_max", "fees.d_max", 1, 1_000_000),
  };
  const sum = f.floorBps + f.proposerBps + f.performanceBps + f.attestorBps;
  if (sum !== 10_000) throw new GenesisError("GENESIS_FIELD", `genesis: fees.*_bps must sum to 10000, got ${sum}`, "fees");
  return f;
}

/** Largest `[chain] shard_count`. */
export const SHARD_COUNT_MAX = 1024;

/**
 * k against the validators (SPEC_SHARDING §3): one shard, k = their number (every `shard`
 * 0); S shards, k per shard, S·k validators, exactly k per shard. An invalid shard_count is
 * reported later, in its own place of the check order, and counts as 1 here.
 */
function checkShardLayout(chain: Table, k: number, validators: readonly GenesisValidator[]): void {
  const raw = chain.shard_count;
  const S = typeof raw === "bigint" && raw >= 1n && raw <= BigInt(SHARD_COUNT_MAX) ? Number(raw) : 1;
  for (const v of validators) {
    if (v.shard >= S) throw new GenesisError("GENESIS_FIELD", `genesis: validators[${v.index}].shard = ${v.shard} but chain.shard_count = ${S} (shards 0..${S - 1})`, `validators[${v.index}].shard`);
  }
  if (validators.length !== S * k) {
    const rule = S === 1 ? "" : ` per shard, and shard_count = ${S} needs ${S * k} validators`;
    throw new GenesisError("GENESIS_FIELD", `genesis: consensus.k = ${k}${rule} but [[validators]] lists ${validators.length}`, "consensus.k");
  }
  const perShard = new Array<number>(S).fill(0);
  for (const v of validators) perShard[v.shard]!++;
  const uneven = perShard.findIndex((n) => n !== k);
  if (uneven >= 0) throw new GenesisError("GENESIS_FIELD", `genesis: shard ${uneven} has ${perShard[uneven]} validators, every shard needs consensus.k = ${k}`, "validators");
}

/** Parses and validates genesis TOML text. */
export function parseGenesis(text: string): Genesis {
  let doc: Table;
  try {
    doc = parseToml(text, { integersAsBigInt: true }) as Table;
  } catch (e) {
    throw new GenesisError("GENESIS_PARSE", `genesis: not valid TOML: ${(e as Error).message.split("\n")[0]}`);
  }
  const chain = table(doc.chain ?? {}, "chain");
  const consensus = table(doc.consensus, "consensus");
  const k = small(consensus, "k", "consensus.k", 1, COMMITTEE_MAX);
  const genesisNote = hex32(consensus, "genesis_note", "consensus.genesis_note");
  const commitment = hex32(consensus, "commitment", "consensus.commitment");
  if (!equalBytes(blake3_32(genesisNote), commitment)) {
    throw new GenesisError("GENESIS_FIELD", `genesis: consensus.commitment does not match blake3_32(genesis_note) = ${toHex(blake3_32(genesisNote))}`, "consensus.commitment");
  }
  const validators = parseValidators(doc.validators);
  checkShardLayout(chain, k, validators);
  const totalStake = validators.reduce((s, v) => s + v.stake, 0n);
  if (totalStake > U64_MAX) throw new GenesisError("GENESIS_FIELD", "genesis: total stake exceeds u64", "validators");
  return {
    chainId: str(chain, "id", "chain.id", "phantom-localnet"),
    shardCount: small(chain, "shard_count", "chain.shard_count", 1, SHARD_COUNT_MAX, 1),
    shardRootInterval: int(chain, "shard_root_interval", "chain.shard_root_interval", 1n, 1n << 20n, 64n),
    k,
    coinRoundInterval: small(consensus, "coin_round_interval", "consensus.coin_round_interval", 2, 1000, 8),
    parentsMax: small(consensus, "parents_max", "consensus.parents_max", 2, PARENTS_MAX, PARENTS_MAX),
    horizonRounds: small(consensus, "horizon_rounds", "consensus.horizon_rounds", 16, 100_000, 64),
    genesisNote,
    commitment,
    validators,
    totalStake,
    emission: parseEmission(table(doc.emission, "emission")),
    fees: parseFees(table(doc.fees, "fees")),
    minRelayFeePerByte: int(table(doc.fees, "fees"), "min_relay_fee_per_byte", "fees.min_relay_fee_per_byte", 0n, MIN_RELAY_FEE_PER_BYTE_MAX, MIN_RELAY_FEE_PER_BYTE_DEFAULT),
  };
}

/** Reads and validates a genesis file. */
export async function loadGenesis(path: string): Promise<Genesis> {
  const file = Bun.file(path);
  if (!(await file.exists())) throw new GenesisError("GENESIS_IO", `genesis: file not found: ${path}`);
  return parseGenesis(await file.text());
}

/** The exact line the node prints after a successful load (seed: "Log (on successful load)"). */
export function genesisLoadedLine(g: Genesis): string {
  return JSON.stringify({ type: "genesis_loaded", k: g.k, commitment: toHex(g.commitment) });
}

/** Quorum q = floor(2 * total stake / 3) + 1. */
export function quorumStake(g: Pick<Genesis, "totalStake">): bigint {
  return (2n * g.totalStake) / 3n + 1n;
}

/**
 * The genesis as seen by the validators of one shard (docs/SPEC_SHARDING.md §3): the
 * validators are that shard's committee in file order, re-indexed 0..k−1 (their creator
 * indices in its DAG), and the total stake is the committee's; everything else (k,
 * commitment, shard_count, emission, fees) is the file's. With one shard it is `g` itself.
 * `shardView` keeps the whole validator list. Throws GENESIS_NO_SUCH_SHARD.
 */
export function genesisForShard(g: Genesis, shard: number): Genesis {
  if (!Number.isInteger(shard) || shard < 0 || shard >= g.shardCount) {
    throw new GenesisError("GENESIS_NO_SUCH_SHARD", `genesis: shard ${shard} does not exist: chain.shard_count = ${g.shardCount} (shards 0..${g.shardCount - 1})`, "chain.shard_count");
  }
  if (g.shardCount === 1) return g;
  if (g.shardView?.shard === shard) return g;
  const all = g.shardView?.validators ?? g.validators;
  const validators = all.filter((v) => v.shard === shard).map((v, index) => ({ ...v, index }));
  return { ...g, validators, totalStake: validators.reduce((s, v) => s + v.stake, 0n), shardView: { shard, validators: all } };
}
