/**
 * fast-check arbitraries for every protocol object, within the codec's limits
 * (src/types/constants.ts). Shared by test/types and test/codec.
 */
import fc from "fast-check";
import {
  type EventHeader, type SignedEvent, type Lock, type Witness, type MicroTx, type MintTx, type Evidence,
  type AnchorPayload, type PayloadTx, eventId, INVALID_EVENT_REASONS,
  COMMITTEE_MAX, PARENTS_MAX, MULTISIG_KEYS_MAX, HASHLOCK_PREIMAGE_BYTES_MAX, LOCK_DEPTH_MAX, MAX_SUPPLY_UNITS,
} from "../../src/types/index.ts";
import type { ExportLeaf } from "../../src/ledger/export-tree.ts";
import type { ShardRoot } from "../../src/ledger/shard-root.ts";
import type { ImportClaim } from "../../src/ledger/cross-shard.ts";

const U64_MAX = (1n << 64n) - 1n;
/** Small sizes keep each property run fast; limits themselves have explicit tests. */
const TX_INPUTS_SAMPLE_MAX = 4;
const TX_OUTPUTS_SAMPLE_MAX = 4;
const PAYLOAD_TXS_SAMPLE_MAX = 5;
/** A balanced tree of this many and/or levels has at most 31 nodes (LOCK_NODES_MAX = 32). */
const TREE_BRANCH_LEVELS_MAX = 4;

export const bytesArb = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
export const hashArb = bytesArb(32);
export const signatureArb = bytesArb(64);
/** u64 values held in JS numbers: the whole safe range, with edges. */
const safeU64Arb = fc.oneof(fc.constantFrom(0, 1, 0xffffffff, 2 ** 32, Number.MAX_SAFE_INTEGER), fc.nat(), fc.maxSafeNat());
const u64Arb = fc.oneof(fc.constantFrom(0n, 1n, U64_MAX), fc.bigInt({ min: 0n, max: U64_MAX }));

export const eventHeaderArb: fc.Arbitrary<EventHeader> = fc.record({
  shard: fc.integer({ min: 0, max: 0xffff }),
  creator: fc.integer({ min: 0, max: COMMITTEE_MAX - 1 }),
  seq: safeU64Arb,
  refs: fc.array(fc.record({ id: hashArb, round: fc.oneof(fc.constantFrom(0, 0xffffffff), fc.nat({ max: 0xffffffff })) }), { maxLength: PARENTS_MAX }),
  lamport: safeU64Arb,
  payloadDigest: hashArb,
}).map(({ refs, ...h }) => ({ ...h, parents: refs.map((r) => r.id), parentRounds: refs.map((r) => r.round) }));

export const signedEventArb: fc.Arbitrary<SignedEvent> = fc
  .tuple(eventHeaderArb, signatureArb)
  .map(([header, signature]) => ({ header, signature, id: eventId(header) }));

const multisigLockArb = fc
  .array(bytesArb(32), { minLength: 1, maxLength: MULTISIG_KEYS_MAX })
  .chain((publicKeys) => fc.integer({ min: 1, max: publicKeys.length }).map((m): Lock => ({ kind: "multisig", m, publicKeys })));

const lockLeafArb: fc.Arbitrary<Lock> = fc.oneof(
  bytesArb(32).map((publicKey): Lock => ({ kind: "sig", publicKey })),
  multisigLockArb,
  hashArb.map((digest): Lock => ({ kind: "hashlock", digest })),
  u64Arb.map((anchorIndex): Lock => ({ kind: "after", anchorIndex })),
);

const balancedLockArb: fc.Arbitrary<Lock> = fc.letrec<{ lock: Lock }>((tie) => ({
  lock: fc.oneof(
    { maxDepth: TREE_BRANCH_LEVELS_MAX, depthIdentifier: "lock" },
    lockLeafArb,
    fc.tuple(tie("lock"), tie("lock")).map(([left, right]): Lock => ({ kind: "and", left, right })),
    fc.tuple(tie("lock"), tie("lock")).map(([left, right]): Lock => ({ kind: "or", left, right })),
  ),
})).lock;

/** A one-sided chain reaching the depth limit (2·depth − 1 nodes). */
const deepLockArb: fc.Arbitrary<Lock> = fc
  .tuple(fc.integer({ min: 1, max: LOCK_DEPTH_MAX }), fc.array(lockLeafArb, { minLength: LOCK_DEPTH_MAX * 2, maxLength: LOCK_DEPTH_MAX * 2 }), fc.boolean())
  .map(([depth, leaves, useOr]) => {
    let lock = leaves[0]!;
    for (let d = 1; d < depth; d++) lock = { kind: useOr ? "or" : "and", left: leaves[d]!, right: lock };
    return lock;
  });

export const lockArb: fc.Arbitrary<Lock> = fc.oneof(balancedLockArb, deepLockArb);

const multisigWitnessArb: fc.Arbitrary<Witness> = fc
  .uniqueArray(fc.integer({ min: 0, max: 255 }), { maxLength: MULTISIG_KEYS_MAX })
  .chain((indices) => {
    const sorted = [...indices].sort((a, b) => a - b);
    return fc.array(signatureArb, { minLength: sorted.length, maxLength: sorted.length }).map(
      (sigs): Witness => ({ kind: "multisig", signatures: sorted.map((index, i) => ({ index, signature: sigs[i]! })) }),
    );
  });

const witnessLeafArb: fc.Arbitrary<Witness> = fc.oneof(
  signatureArb.map((signature): Witness => ({ kind: "sig", signature })),
  multisigWitnessArb,
  fc.uint8Array({ maxLength: HASHLOCK_PREIMAGE_BYTES_MAX }).map((preimage): Witness => ({ kind: "hashlock", preimage })),
  fc.constant<Witness>({ kind: "after" }),
);

const balancedWitnessArb: fc.Arbitrary<Witness> = fc.letrec<{ witness: Witness }>((tie) => ({
  witness: fc.oneof(
    { maxDepth: TREE_BRANCH_LEVELS_MAX, depthIdentifier: "witness" },
    witnessLeafArb,
    fc.tuple(tie("witness"), tie("witness")).map(([left, right]): Witness => ({ kind: "and", left, right })),
    fc.tuple(fc.constantFrom<0 | 1>(0, 1), tie("witness")).map(([branch, witness]): Witness => ({ kind: "or", branch, witness })),
  ),
})).witness;

const deepWitnessArb: fc.Arbitrary<Witness> = fc
  .tuple(fc.integer({ min: 1, max: LOCK_DEPTH_MAX }), witnessLeafArb, fc.array(fc.constantFrom<0 | 1>(0, 1), { minLength: LOCK_DEPTH_MAX, maxLength: LOCK_DEPTH_MAX }))
  .map(([depth, leaf, branches]) => {
    let w = leaf;
    for (let d = 1; d < depth; d++) w = { kind: "or", branch: branches[d]!, witness: w };
    return w;
  });

export const witnessArb: fc.Arbitrary<Witness> = fc.oneof(balancedWitnessArb, deepWitnessArb);

const amountArb = fc.oneof(fc.constantFrom(0n, 1n, MAX_SUPPLY_UNITS), fc.bigInt({ min: 0n, max: MAX_SUPPLY_UNITS }));

export const microTxArb: fc.Arbitrary<MicroTx> = fc
  .array(fc.record({ txid: hashArb, index: fc.oneof(fc.constantFrom(0, 0xffffffff), fc.nat({ max: 0xffffffff })) }), { maxLength: TX_INPUTS_SAMPLE_MAX })
  .chain((inputs) =>
    fc.record({
      inputs: fc.constant(inputs),
      outputs: fc.array(fc.record({ amount: amountArb, lockCommitment: hashArb }), { maxLength: TX_OUTPUTS_SAMPLE_MAX }),
      witnesses: fc.array(fc.record({ lock: lockArb, witness: witnessArb }), { minLength: inputs.length, maxLength: inputs.length }),
    }),
  );

export const mintTxArb: fc.Arbitrary<MintTx> = fc.record({
  prevMint: hashArb,
  height: u64Arb,
  targetBits: fc.integer({ min: 0, max: 255 }),
  recipient: hashArb,
  nonce: u64Arb,
});

export const evidenceArb: fc.Arbitrary<Evidence> = fc.oneof(
  fc.record({ kind: fc.constant("equivocation" as const), a: signedEventArb, b: signedEventArb }),
  fc.record({
    kind: fc.constant("invalid_event" as const),
    event: signedEventArb,
    reason: fc.constantFrom(...INVALID_EVENT_REASONS),
    parents: fc.array(signedEventArb, { maxLength: 4 }),
  }),
  fc.record({
    kind: fc.constant("conflicting_da" as const),
    event: signedEventArb,
    servedDigest: hashArb,
    servedBy: fc.integer({ min: 0, max: 255 }),
    servedSignature: signatureArb,
  }),
);

export const exportLeafArb: fc.Arbitrary<ExportLeaf> = fc.record({
  sourceShard: fc.integer({ min: 0, max: 0xffff }),
  destShard: fc.integer({ min: 0, max: 0xffff }),
  anchorIndex: u64Arb,
  txid: hashArb,
  outputIndex: fc.integer({ min: 0, max: 0xffffffff }),
  amount: fc.bigInt({ min: 0n, max: MAX_SUPPLY_UNITS }),
  lockCommitment: hashArb,
});

/** Canonical roots: the zero export root exactly when the count is 0, the zero prev root at epoch 0. */
export const shardRootArb: fc.Arbitrary<ShardRoot> = fc
  .record({ chain: hashArb, shard: fc.integer({ min: 0, max: 0xffff }), epoch: u64Arb, stateCommitment: hashArb, exportRoot: hashArb, exportCount: fc.integer({ min: 0, max: 0xffffffff }), prevRoot: hashArb })
  .map((r) => ({ ...r, exportRoot: r.exportCount === 0 ? new Uint8Array(32) : r.exportRoot, prevRoot: r.epoch === 0n ? new Uint8Array(32) : r.prevRoot }));

export const importClaimArb: fc.Arbitrary<ImportClaim> = fc.record({
  cert: fc.record({
    root: shardRootArb,
    signatures: fc.uniqueArray(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 4 }).chain((signers) =>
      fc.array(signatureArb, { minLength: signers.length, maxLength: signers.length }).map((sigs) => [...signers].sort((a, b) => a - b).map((signer, i) => ({ signer, signature: sigs[i]! })))),
  }),
  leaf: exportLeafArb,
  proof: fc.record({ leafIndex: fc.integer({ min: 0, max: 0xffffffff }), siblings: fc.array(hashArb, { maxLength: 4 }) }),
});

export const payloadTxArb: fc.Arbitrary<PayloadTx> = fc.oneof(
  microTxArb.map((tx): PayloadTx => ({ kind: "micro", tx })),
  mintTxArb.map((tx): PayloadTx => ({ kind: "mint", tx })),
  evidenceArb.map((tx): PayloadTx => ({ kind: "evidence", tx })),
  importClaimArb.map((tx): PayloadTx => ({ kind: "import", tx })),
);

export const anchorPayloadArb: fc.Arbitrary<AnchorPayload> = fc.record({ txs: fc.array(payloadTxArb, { maxLength: PAYLOAD_TXS_SAMPLE_MAX }) });
