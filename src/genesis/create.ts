/**
 * Creates a fresh committee and its genesis.toml text. Keys come from the OS
 * CSPRNG, or, for a throwaway devnet only, from a public label (anyone can derive
 * those keys: never use them for value).
 */
import { blake3DeriveKey, blake3_32 } from "../crypto/hash.ts";
import { keyPairFromSeed } from "../crypto/ed25519.ts";
import { toHex } from "../crypto/bytes.ts";

export interface CreateGenesisOptions {
  /** Committee size (of every shard when `shards` > 1). */
  k: number;
  /** shard_count S (default 1): S·k validators, validator i on shard floor(i / k) (docs/SPEC_SHARDING.md §3). */
  shards?: number;
  host?: string;
  basePort?: number;
  stake?: bigint;
  chainId?: string;
  /** Derive seeds from this public label instead of random bytes (devnets only). */
  devnetLabel?: string;
  initialTargetBits?: number;
  maturityAnchors?: bigint;
  /** `[chain] shard_root_interval` (written only with `shards` > 1; default: absent, i.e. 64). */
  shardRootInterval?: bigint;
}

export interface CreatedGenesis {
  toml: string;
  /** 32-byte Ed25519 seeds, index = validator index. Secret: write with mode 0600. */
  seeds: Uint8Array[];
}

export function devnetSeed(label: string, index: number): Uint8Array {
  return blake3DeriveKey("phantom devnet validator seed v0", new TextEncoder().encode(`${label}/${index}`));
}

export function createGenesis(opts: CreateGenesisOptions): CreatedGenesis {
  const { k } = opts;
  const shards = opts.shards ?? 1;
  const host = opts.host ?? "127.0.0.1";
  const basePort = opts.basePort ?? 9000;
  const stake = opts.stake ?? 1000n;
  const seeds: Uint8Array[] = [];
  for (let i = 0; i < shards * k; i++) seeds.push(opts.devnetLabel ? devnetSeed(opts.devnetLabel, i) : crypto.getRandomValues(new Uint8Array(32)));
  const note = opts.devnetLabel ? blake3_32(new TextEncoder().encode(`genesis note: ${opts.devnetLabel}`)) : crypto.getRandomValues(new Uint8Array(32));
  const lines = [
    "# Phantom genesis: consensus-critical configuration (docs/GENESIS.md).",
    "[chain]",
    `id = "${opts.chainId ?? "phantom-localnet"}"`,
    `shard_count = ${shards}`,
    ...(shards > 1 && opts.shardRootInterval !== undefined ? [`shard_root_interval = ${opts.shardRootInterval}`] : []),
    "",
    "[consensus]",
    `k = ${k}`,
    "coin_round_interval = 8",
    "parents_max = 4",
    `genesis_note = "${toHex(note)}"`,
    `commitment   = "${toHex(blake3_32(note))}" # blake3_32(genesis_note_raw)`,
    "",
    "[emission]",
    "initial_reward_units = 5000000000     # 50 PC at mint height 0",
    "halving_interval_mints = 500000       # 2 * 500000 * 50 PC = the 50,000,000 PC cap, never reached",
    `initial_target_bits = ${opts.initialTargetBits ?? 18}`,
    "retarget_window_mints = 32",
    "target_anchors_per_mint = 64",
    "retarget_step_bits_max = 2",
    "min_target_bits = 8",
    "max_target_bits = 64",
    `maturity_anchors = ${opts.maturityAnchors ?? 100n}`,
    "",
    "[fees]",
    "floor_bps = 4000",
    "proposer_bps = 1000",
    "performance_bps = 2000",
    "attestor_bps = 3000",
    "alpha_bps = 2500",
    "d_max = 4",
    "min_relay_fee_per_byte = 1",
  ];
  seeds.forEach((seed, i) => {
    lines.push("", "[[validators]]", `public_key = "${toHex(keyPairFromSeed(seed).publicKey)}"`, `stake = ${stake}`);
    // One shard: no `shard` key, so single-shard files stay as they were.
    if (shards > 1) lines.push(`shard = ${Math.floor(i / k)}`);
    lines.push(`address = "${host}:${basePort + i}"`);
  });
  return { toml: lines.join("\n") + "\n", seeds };
}
