/**
 * A deterministic stream of finalized anchors for store and crash tests: mints at a
 * low target, transfers between a few Sig keys, and deliberate double spends. The
 * generator applies every anchor to its own MemoryLedgerStore, so it also yields the
 * clean-replay commitment of every anchor index.
 */
import { MemoryLedgerStore } from "../../src/ledger/memory-store.ts";
import { applyAnchor, type LedgerParams } from "../../src/ledger/apply.ts";
import type { MintTip } from "../../src/ledger/state.ts";
import { encodeAnchorPayload, type AnchorPayload, type PayloadTx } from "../../src/types/payload.ts";
import type { Outpoint } from "../../src/types/tx.ts";
import { lockCommitment } from "../../src/types/lock.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import type { Ed25519KeyPair } from "../../src/crypto/index.ts";
import { key, sigLock, mineMint, buildTx, sigSpend, out, prng, testParams } from "./fixtures.ts";

export interface GeneratedStream {
  params: LedgerParams;
  payloads: Uint8Array[];
  /** Clean-replay commitment after each anchor index. */
  commitments: Uint8Array[];
  /** Clean-replay mint tip after each anchor index. */
  tips: MintTip[];
  final: MemoryLedgerStore;
}

const WALLET_KEYS = 4;
const TXS_PER_ANCHOR_MAX = 6;

export function generateStream(anchors: number, seed: number, params: LedgerParams = testParams()): GeneratedStream {
  const rand = prng(seed);
  const keys: Ed25519KeyPair[] = Array.from({ length: WALLET_KEYS }, (_, i) => key(i + 1));
  const owner = new Map(keys.map((k) => [toHex(lockCommitment(sigLock(k))), k]));
  const mem = new MemoryLedgerStore(params.emission);
  const wallet: { op: Outpoint; amount: bigint; k: Ed25519KeyPair; createdAt: bigint; coinbase: boolean }[] = [];
  const payloads: Uint8Array[] = [];
  const tips: MintTip[] = [];
  for (let a = 0n; a < BigInt(anchors); a++) {
    const txs: PayloadTx[] = [];
    if (rand() < 0.4) txs.push({ kind: "mint", tx: mineMint(mem.mintTip(), lockCommitment(sigLock(keys[Math.floor(rand() * WALLET_KEYS)]!)), BigInt(Math.floor(rand() * 1e6))) });
    const spendable = wallet.filter((u) => !u.coinbase || a >= u.createdAt + params.emission.maturityAnchors);
    const n = Math.min(spendable.length, Math.floor(rand() * TXS_PER_ANCHOR_MAX));
    for (let i = 0; i < n; i++) {
      const u = spendable[Math.floor(rand() * spendable.length)]!;
      const to = keys[Math.floor(rand() * WALLET_KEYS)]!;
      const fee = 1_000n;
      if (u.amount < 2n * fee + 2_000n) continue;
      const first = (u.amount - fee) / 2n;
      // Picking an already-used u again in this anchor produces a deliberate double spend (voided).
      txs.push({ kind: "micro", tx: buildTx([sigSpend(u.op, u.k)], [out(first, sigLock(to)), out(u.amount - fee - first, sigLock(u.k))]) });
    }
    const payload: AnchorPayload = { txs };
    const bytes = encodeAnchorPayload(payload);
    payloads.push(bytes);
    const diff = applyAnchor(mem, params, a, payload);
    mem.commitAnchor(diff);
    tips.push(diff.mintTip);
    const spentKeys = new Set(diff.spent.map((s) => `${toHex(s.txid)}:${s.index}`));
    for (let i = wallet.length - 1; i >= 0; i--) if (spentKeys.has(`${toHex(wallet[i]!.op.txid)}:${wallet[i]!.op.index}`)) wallet.splice(i, 1);
    for (const c of diff.created) {
      const k = owner.get(toHex(c.entry.lockCommitment));
      if (k) wallet.push({ op: { txid: c.txid, index: c.index }, amount: c.entry.amount, k, createdAt: c.entry.createdAt, coinbase: c.entry.coinbase });
    }
  }
  return { params, payloads, commitments: mem.commitments, tips, final: mem };
}

/** Length-prefixed (u32 LE) concatenation of payloads, the crash child's input file. */
export function packPayloads(payloads: readonly Uint8Array[]): Uint8Array {
  const total = payloads.reduce((n, p) => n + 4 + p.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let o = 0;
  for (const p of payloads) {
    view.setUint32(o, p.length, true);
    out.set(p, o + 4);
    o += 4 + p.length;
  }
  return out;
}

export function unpackPayloads(bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Uint8Array[] = [];
  for (let o = 0; o < bytes.length; ) {
    const n = view.getUint32(o, true);
    out.push(bytes.subarray(o + 4, o + 4 + n));
    o += 4 + n;
  }
  return out;
}
