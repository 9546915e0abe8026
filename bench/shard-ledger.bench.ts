/**
 * The sharded ledger path (docs/SPEC_SHARDING.md §13a) against the single-shard one, same
 * run, same anchor: 1,024 single-input transfers, each paying a lock on shard 1 and its
 * change to a lock on shard 0, applied (not committed) by applyAnchor on a memory store
 * whose UTXO set holds the inputs. With S = 1 every output is a UTXO; with S = 2 the
 * payments are exports and the anchor closes an epoch (its root over the 1,024 exports).
 * The two are measured alternately; the ratio is the sharded path's cost.
 *   bun run bench/shard-ledger.bench.ts [--txs 1024] [--rounds 5]
 */
import { emit, measure, median } from "./lib.ts";
import { loadavg } from "node:os";
import { keyPairFromSeed, sign, type Ed25519KeyPair } from "../src/crypto/ed25519.ts";
import { blake3_32 } from "../src/crypto/hash.ts";
import { applyAnchor, type LedgerParams } from "../src/ledger/apply.ts";
import { MemoryLedgerStore } from "../src/ledger/memory-store.ts";
import { shardLayout, shardOfLock } from "../src/ledger/shard.ts";
import { type Lock, lockCommitment } from "../src/types/lock.ts";
import { type MicroTx, type Outpoint, type Output, digestMicroTx } from "../src/types/tx.ts";
import type { AnchorPayload, PayloadTx } from "../src/types/payload.ts";
import type { MintTx } from "../src/types/mint.ts";
import type { EmissionParams } from "../src/genesis/genesis.ts";
import { encodeMintTx, MINT_NONCE_OFFSET } from "../src/types/mint.ts";
import { leadingZeroBits } from "../src/crypto/index.ts";
import type { MintTip } from "../src/ledger/state.ts";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const TXS = flag("txs", 1024);
const ROUNDS = flag("rounds", 5);
const S = 2;
const E = 8n;
const enc = new TextEncoder();
const emission: EmissionParams = {
  initialRewardUnits: 5_000_000_000n, halvingIntervalMints: 1_000n, initialTargetBits: 4, retargetWindowMints: 4, targetAnchorsPerMint: 4n,
  retargetStepBitsMax: 2, minTargetBits: 2, maxTargetBits: 10, maturityAnchors: 0n,
};
const sigLock = (k: Ed25519KeyPair): Lock => ({ kind: "sig", publicKey: k.publicKey });
function keyOn(shard: number, label: string): Ed25519KeyPair {
  for (let i = 0; ; i++) {
    const k = keyPairFromSeed(blake3_32(enc.encode(`${label}/${i}`)));
    if (shardOfLock(lockCommitment(sigLock(k)), S) === shard) return k;
  }
}
const alice = keyOn(0, "bench alice");
const bob = keyOn(1, "bench bob");
const chain = blake3_32(enc.encode("bench shard ledger"));
const committee = Array.from({ length: S * 4 }, (_, i) => keyPairFromSeed(blake3_32(enc.encode(`bench committee ${i}`))));
const layout = shardLayout(S, committee.map((k, i) => ({ publicKey: k.publicKey, stake: 1000n, shard: Math.floor(i / 4) })));
const single: LedgerParams = { emission, committee: committee.slice(0, 4).map((k) => k.publicKey), evidenceRules: { shardCount: 1, parentsMax: 4 } };
const sharded: LedgerParams = { ...single, evidenceRules: { shardCount: S, parentsMax: 4 }, sharding: { shard: 0, shardCount: S, layout, chain, rootInterval: E } };

function mine(tip: MintTip, recipient: Uint8Array): MintTx {
  const mint: MintTx = { prevMint: tip.tipId, height: tip.nextHeight, targetBits: tip.targetBits, recipient, nonce: 0n };
  const header = encodeMintTx(mint);
  const view = new DataView(header.buffer);
  for (let nonce = 0n; ; nonce++) {
    view.setBigUint64(MINT_NONCE_OFFSET, nonce, true);
    if (leadingZeroBits(blake3_32(header)) >= tip.targetBits) return { ...mint, nonce };
  }
}

function signedTx(inputs: Outpoint[], outputs: Output[], k: Ed25519KeyPair): MicroTx {
  const txid = digestMicroTx({ inputs, outputs });
  return { inputs, outputs, witnesses: inputs.map(() => ({ lock: sigLock(k), witness: { kind: "sig" as const, signature: sign(k.secretKey, txid) } })) };
}

/** A store (of either kind) holding TXS coins of alice after anchor E − 2, so the next anchor closes epoch 0. */
function setUp(params: LedgerParams): { store: MemoryLedgerStore; coins: Outpoint[] } {
  const store = new MemoryLedgerStore(emission);
  const apply = (txs: PayloadTx[]) => {
    const last = store.lastApplied();
    const d = applyAnchor(store, params, last ? last.anchorIndex + 1n : 0n, { txs });
    store.commitAnchor(d);
    return d;
  };
  const minted = apply([{ kind: "mint", tx: mine(store.mintTip(), lockCommitment(sigLock(alice))) }]).mints[0]!;
  // Fan out the reward to TXS coins of alice, 200 per transaction, chained through the change.
  const coins: Outpoint[] = [];
  let change: Outpoint = { txid: minted.id, index: 0 };
  let left = minted.rewardUnits;
  const per = 1_000_000n;
  const txs: PayloadTx[] = [];
  while (coins.length < TXS) {
    const n = Math.min(200, TXS - coins.length);
    const outputs: Output[] = Array.from({ length: n }, () => ({ amount: per, lockCommitment: lockCommitment(sigLock(alice)) }));
    left -= per * BigInt(n) + 10_000n;
    outputs.push({ amount: left, lockCommitment: lockCommitment(sigLock(alice)) });
    const tx = signedTx([change], outputs, alice);
    const txid = digestMicroTx(tx);
    for (let i = 0; i < n; i++) coins.push({ txid, index: i });
    change = { txid, index: n };
    txs.push({ kind: "micro", tx });
  }
  apply(txs);
  while (store.lastApplied()!.anchorIndex < E - 2n) apply([]);
  return { store, coins };
}

const a = setUp(single);
const b = setUp(sharded);
const payload: AnchorPayload = {
  txs: a.coins.map((c) => ({ kind: "micro", tx: signedTx([c], [{ amount: 600_000n, lockCommitment: lockCommitment(sigLock(bob)) }, { amount: 390_000n, lockCommitment: lockCommitment(sigLock(alice)) }], alice) })),
};
const index = E - 1n;
// Same coins on both stores: the fan-out transactions are identical (same keys, amounts, mint).
const check = applyAnchor(b.store, sharded, index, payload);
if (check.exports.length !== TXS || check.shardRoot?.exportCount !== TXS) throw new Error("bench setup: the sharded anchor must export every payment and close the epoch");
if (applyAnchor(a.store, single, index, payload).created.length !== 2 * TXS) throw new Error("bench setup: the single-shard anchor must create every output");

const singleMs: number[] = [];
const shardedMs: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  singleMs.push(measure(() => void applyAnchor(a.store, single, index, payload), { minMs: 600, warmup: 1 }).perIterMs);
  shardedMs.push(measure(() => void applyAnchor(b.store, sharded, index, payload), { minMs: 600, warmup: 1 }).perIterMs);
}
const load = loadavg()[0]!.toFixed(2);
emit({ suite: "shard", name: "ledger_apply_sharded_txs", value: TXS / (median(shardedMs) / 1000), unit: "tx/s", higher_is_better: true, params: { txs: TXS, exports: TXS, closes_epoch: true, rounds: ROUNDS, load1: load } });
emit({ suite: "shard", name: "ledger_apply_single_txs", value: TXS / (median(singleMs) / 1000), unit: "tx/s", higher_is_better: true, params: { txs: TXS, rounds: ROUNDS, load1: load } });
emit({ suite: "shard", name: "ledger_apply_sharded_vs_single", value: median(shardedMs) / median(singleMs), unit: "ratio", higher_is_better: false, params: { txs: TXS, load1: load } });
