/** Protocol constants (docs/SPEC_CODEC.md). Amount constants are bigint. */

/** Object tags: the first byte of every top-level encoding (domain separation for hashes). */
export const TAG = {
  eventHeader: 0x01,
  anchorPayload: 0x02,
  microTx: 0x03,
  mintTx: 0x04,
  evidence: 0x05,
  lock: 0x06,
  signedEvent: 0x07,
} as const;

/** Wire/codec version of every object in protocol v0. */
export const CODEC_VERSION = 1;

export const UNITS_PER_PC = 100_000_000n;
export const MAX_SUPPLY_PC = 50_000_000n;
export const MAX_SUPPLY_UNITS = MAX_SUPPLY_PC * UNITS_PER_PC;

export const HASH_BYTES = 32;
export const PUBLIC_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;

/** Parents per event (self-parent included). */
export const PARENTS_MAX = 4;
/** Committee size limit: one bit per validator in a u64 vote_mask. */
export const COMMITTEE_MAX = 64;

export const TX_INPUTS_MAX = 256;
export const TX_OUTPUTS_MAX = 256;
export const PAYLOAD_TXS_MAX = 65_536;
export const PAYLOAD_BYTES_MAX = 8 * 1024 * 1024;
export const LOCK_DEPTH_MAX = 8;
export const LOCK_NODES_MAX = 32;
export const MULTISIG_KEYS_MAX = 16;
export const HASHLOCK_PREIMAGE_BYTES_MAX = 256;
export const EVENT_BYTES_MAX = 1024;

/**
 * A parent whose claimed round is more than this many rounds below the highest parent
 * round an event claims is ancient: every node ignores that reference (SPEC_CONSENSUS §12).
 */
export const ANCIENT_ROUNDS = 8;
