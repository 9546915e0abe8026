/**
 * The load generator: signed transfers from one wallet (funded only by the miner's
 * mints) submitted through `tx_submit`, spread round-robin over every validator —
 * faulty ones included, as a client cannot know. Every transaction a validator
 * answered `accepted: true` is recorded: the checks account for each one at the end.
 */
import { accountFromSeed } from "../../src/wallet/keys.ts";
import { blake3DeriveKey } from "../../src/crypto/hash.ts";
import { fromHex, toHex } from "../../src/crypto/bytes.ts";
import { buildMicroTx, payTo, sigSolution } from "../../src/wallet/tx-builder.ts";
import { digestMicroTx, encodeMicroTx, type Output } from "../../src/types/tx.ts";
import { call, rpc, type Status } from "./rpc.ts";

const payeeUnits = 1_000n;
const feeUnits = 2_000n;
const dustUnits = 1_000n;
/** Below this many spendable coins a transfer splits its change to grow the pool. */
const poolTarget = 24;
const splitOutputs = 4;
/** An input of a transfer that never became final is reused after this (it may be void). */
const reservationMs = 60_000;
const refreshEveryMs = 1_000;
/** Transactions submitted per tick at most (bounds a catch-up burst). */
const perTickMax = 64;
const submitTimeoutMs = 5_000;

export interface AckedTx {
  txid: string;
  validator: number;
  atMs: number;
}

interface Coin {
  txid: string;
  index: number;
  amount: bigint;
}

interface AddressInfo {
  utxos: { txid: string; index: number; amount: string; createdAt: string; coinbase: boolean }[];
}

interface SubmitResult {
  accepted: boolean;
  txid: string | null;
  code?: string;
}

export interface LoadOptions {
  seed: number;
  nodes: number;
  maturityAnchors: bigint;
  txPerSecond: number;
  rpcOf: (i: number) => string | null;
  /** The validator to read coins from now (healthy and most advanced), or null. */
  reader: () => number | null;
  now: () => number;
}

export class LoadGenerator {
  readonly wallet;
  private readonly payee;
  readonly acked = new Map<string, AckedTx>();
  readonly refused = new Map<string, number>();
  /** Submissions with no answer (timeout, unreachable): not acknowledged, not counted as lost. */
  unanswered = 0;
  private coins: Coin[] = [];
  private readonly reserved = new Map<string, number>();
  private lastRefreshMs = -Infinity;
  private credit = 0;
  private lastTickMs: number | null = null;
  private rr = 0;

  constructor(private readonly opts: LoadOptions) {
    const seedBytes = new TextEncoder().encode(`chaos/${opts.seed}`);
    this.wallet = accountFromSeed(blake3DeriveKey("phantom chaos wallet v0", seedBytes));
    this.payee = accountFromSeed(blake3DeriveKey("phantom chaos payee v0", seedBytes));
  }

  /** Reads the wallet's coins from a healthy validator; mint rewards count once mature. */
  private async refresh(): Promise<void> {
    const reader = this.opts.reader();
    if (reader === null) return;
    const url = this.opts.rpcOf(reader);
    const [status, info] = await Promise.all([call<Status>(url, "phantom_status"), call<AddressInfo>(url, "address_get", { address: this.wallet.address })]);
    if (!status || !info) return;
    const next = BigInt(status.anchorCount);
    const now = this.opts.now();
    for (const [k, until] of this.reserved) if (until < now) this.reserved.delete(k);
    this.coins = info.utxos
      .filter((u) => !u.coinbase || BigInt(u.createdAt) + this.opts.maturityAnchors <= next)
      .map((u) => ({ txid: u.txid, index: u.index, amount: BigInt(u.amount) }))
      .filter((c) => c.amount >= payeeUnits + feeUnits + dustUnits && !this.reserved.has(`${c.txid}:${c.index}`));
    this.lastRefreshMs = now;
  }

  private transfer(coin: Coin, spareCoins: number): { hex: string; txid: string } {
    const change = coin.amount - payeeUnits - feeUnits;
    const parts = spareCoins < poolTarget && change >= dustUnits * BigInt(splitOutputs) ? splitOutputs : 1;
    const each = change / BigInt(parts);
    const outputs: Output[] = [payTo(this.payee.lock, payeeUnits)];
    for (let i = 0; i < parts; i++) outputs.push(payTo(this.wallet.lock, i === parts - 1 ? change - each * BigInt(parts - 1) : each));
    const tx = buildMicroTx({ inputs: [{ outpoint: { txid: fromHex(coin.txid), index: coin.index }, lock: this.wallet.lock, solution: sigSolution(this.wallet.keyPair) }], outputs });
    return { hex: toHex(encodeMicroTx(tx)), txid: toHex(digestMicroTx(tx)) };
  }

  /** One step: refresh coins when due, then submit what the rate allows. */
  async tick(): Promise<void> {
    const now = this.opts.now();
    this.credit = Math.min(perTickMax, this.credit + (this.lastTickMs === null ? 0 : ((now - this.lastTickMs) / 1000) * this.opts.txPerSecond));
    this.lastTickMs = now;
    if (now - this.lastRefreshMs >= refreshEveryMs) await this.refresh();
    const count = Math.min(Math.floor(this.credit), this.coins.length);
    if (count === 0) return;
    this.credit -= count;
    const byValidator = new Map<number, { hex: string; txid: string; coin: Coin }[]>();
    for (let i = 0; i < count; i++) {
      const coin = this.coins.shift()!;
      this.reserved.set(`${coin.txid}:${coin.index}`, now + reservationMs);
      const v = this.rr++ % this.opts.nodes;
      const list = byValidator.get(v) ?? [];
      list.push({ ...this.transfer(coin, this.coins.length), coin });
      byValidator.set(v, list);
    }
    await Promise.all([...byValidator].map(async ([v, txs]) => {
      const r = await rpc<SubmitResult[]>(this.opts.rpcOf(v), "tx_submit", { txs: txs.map((t) => t.hex) }, submitTimeoutMs);
      const at = this.opts.now();
      if (!r.ok) {
        this.unanswered += txs.length;
        return;
      }
      r.value.forEach((res, i) => {
        const t = txs[i]!;
        if (res.accepted) this.acked.set(t.txid, { txid: t.txid, validator: v, atMs: at });
        else {
          this.refused.set(res.code ?? "?", (this.refused.get(res.code ?? "?") ?? 0) + 1);
          // Not relayed: it may still finalize, so its coin stays reserved until the reservation lapses.
          if (res.code !== "TX_NOT_RELAYED") this.reserved.delete(`${t.coin.txid}:${t.coin.index}`);
        }
      });
    }));
  }
}
