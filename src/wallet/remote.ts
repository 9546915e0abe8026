/**
 * The wallet's view of a node over JSON-RPC: read an address (address_get), pick
 * inputs, build and sign a transfer (tx-builder.ts), submit it (tx_submit). The
 * node stays the judge of validity; its typed rejection codes are passed through.
 */
import { rpcCall } from "../rpc/client.ts";
import { PhantomError } from "../errors.ts";
import { fromHex, toHex } from "../crypto/bytes.ts";
import { encodeMicroTx } from "../types/tx.ts";
import { decodeAddress } from "./address.ts";
import { selectUtxos, type Maturity, type Selection, type WalletUtxo } from "./select.ts";
import type { WalletAccount } from "./keys.ts";
import type { Lock } from "../types/lock.ts";
import { lockCommitment } from "../types/lock.ts";
import type { MicroTx } from "../types/tx.ts";
import { lockAddress } from "./lock-spec.ts";
import { finishTx, newTxFile, signTxFile, type TxFile } from "./tx-file.ts";

export interface AddressInfo {
  address: string;
  balanceUnits: bigint;
  /** Part of the balance that is validator rewards (fee payout outputs); 0 from a node that does not say. */
  rewardsUnits: bigint;
  utxos: WalletUtxo[];
}

interface AddressGetJson {
  address: string;
  balanceUnits: string;
  rewardsUnits?: string;
  utxos: { txid: string; index: number; amount: string; createdAt: string; coinbase: boolean }[];
}

type SubmitJson = { accepted: true; txid: string; fee: string } | { accepted: false; txid: string | null; code: string; message: string };

export type SendErrorCode =
  | "WALLET_BAD_ADDRESS" | "WALLET_TX_NOT_RELAYED" | "WALLET_TX_REJECTED" | "WALLET_BAD_RESPONSE" | "WALLET_RPC_TIMEOUT" | "WALLET_NOT_FINAL" | "WALLET_TX_FAILED"
  | "WALLET_WRONG_SHARD" | "WALLET_NO_SHARD_STATUS";
export class SendError extends PhantomError<SendErrorCode> {}

const isDigits = (v: unknown): v is string => typeof v === "string" && /^\d+$/.test(v);

/** Reads an address's balance and UTXOs; checks the node's answer before trusting its shape. */
export async function fetchAddress(rpc: string, address: string, signal?: AbortSignal): Promise<AddressInfo> {
  const r = await rpcCall<AddressGetJson>(rpc, "address_get", { address }, signal);
  if (!r || !isDigits(r.balanceUnits) || !Array.isArray(r.utxos)) throw new SendError("WALLET_BAD_RESPONSE", "address_get answered without balanceUnits/utxos");
  const utxos = r.utxos.map((u): WalletUtxo => {
    if (!isDigits(u.amount) || !isDigits(u.createdAt) || typeof u.txid !== "string" || !Number.isSafeInteger(u.index)) {
      throw new SendError("WALLET_BAD_RESPONSE", "address_get returned a malformed utxo");
    }
    return { txid: u.txid, index: u.index, amount: BigInt(u.amount), createdAt: BigInt(u.createdAt), coinbase: u.coinbase === true };
  });
  return { address: r.address, balanceUnits: BigInt(r.balanceUnits), rewardsUnits: isDigits(r.rewardsUnits) ? BigInt(r.rewardsUnits) : 0n, utxos };
}

/** The next anchor index from phantom_status (anchorCount), for the maturity filter. */
export async function fetchNextAnchorIndex(rpc: string, signal?: AbortSignal): Promise<bigint> {
  const s = await rpcCall<{ anchorCount: string }>(rpc, "phantom_status", {}, signal);
  if (!s || !isDigits(s.anchorCount)) throw new SendError("WALLET_BAD_RESPONSE", "phantom_status answered without anchorCount");
  return BigInt(s.anchorCount);
}

export function checkRecipient(to: string): Uint8Array {
  try {
    return decodeAddress(to);
  } catch (e) {
    throw new SendError("WALLET_BAD_ADDRESS", `--to: ${(e as Error).message}`);
  }
}

/**
 * Builds an unsigned tx file (tx-file.ts) paying `amount` to `to` from the outputs of
 * `fromLock`'s address, change to the `changeTo` commitment (default `fromLock`'s). Needs the
 * node, never a key: a watch-only machine builds what an offline one signs.
 */
export async function buildPayment(args: {
  rpc: string;
  fromLock: Lock;
  to: string;
  amount: bigint;
  fee: bigint;
  changeTo?: Uint8Array;
  maturityAnchors?: bigint;
  signal?: AbortSignal;
}): Promise<{ file: TxFile; selection: Selection }> {
  const recipient = checkRecipient(args.to);
  const info = await fetchAddress(args.rpc, lockAddress(args.fromLock), args.signal);
  let maturity: Maturity | undefined;
  if (args.maturityAnchors !== undefined) maturity = { nextAnchorIndex: await fetchNextAnchorIndex(args.rpc, args.signal), maturityAnchors: args.maturityAnchors };
  const selection = selectUtxos(info.utxos, args.amount, args.fee, maturity);
  const outputs = [{ amount: args.amount, lockCommitment: recipient }];
  if (selection.change > 0n) outputs.push({ amount: selection.change, lockCommitment: args.changeTo ?? lockCommitment(args.fromLock) });
  const inputs = selection.inputs.map((u) => ({ outpoint: { txid: fromHex(u.txid, 32, "utxo txid"), index: u.index }, amount: u.amount, lock: args.fromLock }));
  return { file: newTxFile(inputs, outputs), selection };
}

/** Submissions of the same bytes while the node answers TX_NOT_RELAYED (each waits up to 2 s there). */
const notRelayedAttempts = 3;

/**
 * Submits one signed tx (tx_submit); a refusal is WALLET_TX_REJECTED with the node's code.
 * TX_NOT_RELAYED (no other validator confirmed holding it yet) is retried with the same
 * bytes, then WALLET_TX_NOT_RELAYED: the node still holds the tx, which may finalize.
 * Returns the node's fee.
 */
export async function submitTx(rpc: string, tx: MicroTx, signal?: AbortSignal): Promise<{ txid: string; fee: bigint; txBytes: number }> {
  const bytes = encodeMicroTx(tx);
  let res: SubmitJson | undefined;
  for (let attempt = 1; attempt <= notRelayedAttempts; attempt++) {
    [res] = await rpcCall<SubmitJson[]>(rpc, "tx_submit", { tx: toHex(bytes) }, signal);
    if (!res || res.accepted || res.code !== "TX_NOT_RELAYED") break;
  }
  if (!res) throw new SendError("WALLET_BAD_RESPONSE", "tx_submit returned no result");
  if (!res.accepted && res.code === "TX_NOT_RELAYED") {
    throw new SendError("WALLET_TX_NOT_RELAYED", `the node holds tx ${res.txid} but no other validator confirmed holding it (${notRelayedAttempts} tries); it may still finalize: check \`phantom wallet status --txid ${res.txid}\` before sending again, since a new send may spend the same coins`, { code: res.code, txid: res.txid });
  }
  if (!res.accepted) throw new SendError("WALLET_TX_REJECTED", `node rejected the tx: [${res.code}] ${res.message}`, { code: res.code, txid: res.txid });
  if (!isDigits(res.fee)) throw new SendError("WALLET_BAD_RESPONSE", "tx_submit accepted without a fee");
  return { txid: res.txid, fee: BigInt(res.fee), txBytes: bytes.length };
}

export interface SendResult {
  txid: string;
  amount: bigint;
  fee: bigint;
  change: bigint;
  inputs: number;
  txBytes: number;
  /** What was submitted, for the journal. */
  file: TxFile;
}

/**
 * Pays `amount` units to `to` from `fromLock` (default the account's own key),
 * `fee` units to the validators, in one step: build, sign with the account (and any
 * `preimages`), submit. Change goes to the account's own key, never back to a script
 * (a spent hash lock's preimage is public). Throws typed errors.
 */
export async function sendPayment(args: {
  rpc: string;
  account: WalletAccount;
  to: string;
  amount: bigint;
  fee: bigint;
  fromLock?: Lock;
  preimages?: Uint8Array[];
  maturityAnchors?: bigint;
  signal?: AbortSignal;
}): Promise<SendResult> {
  const { file, selection } = await buildPayment({ ...args, fromLock: args.fromLock ?? args.account.lock, changeTo: args.account.lockCommitment });
  signTxFile(file, [args.account.keyPair], args.preimages ?? []);
  const next = args.fromLock ? await fetchNextAnchorIndex(args.rpc, args.signal) : undefined;
  const res = await submitTx(args.rpc, finishTx(file, next), args.signal);
  return { txid: res.txid, amount: args.amount, fee: selection.fee, change: selection.change, inputs: selection.inputs.length, txBytes: res.txBytes, file };
}

/** What a node's `tx_status` says about a tx (docs/RPC.md). */
export interface TxStatusInfo {
  txid: string;
  state: "pending" | "final" | "void" | "expired" | "replaced" | "evicted" | "unknown";
  reason: string | null;
  message: string;
  anchorIndex: bigint | null;
  /** void: the winning tx; replaced: the replacement. */
  by: string | null;
}

const TX_STATES = new Set<string>(["pending", "final", "void", "expired", "replaced", "evicted", "unknown"]);
/** States after which the tx can no longer become final through this node. */
const FAILED_STATES = new Set<string>(["void", "expired", "replaced", "evicted"]);

export interface TxStatusJson {
  txid: string;
  state: string;
  reason: string | null;
  message: string;
  anchorIndex: string | null;
  by: string | null;
}

/** Asks the node what became of `txid` (tx_status); checks the answer's shape. */
export async function fetchTxStatus(rpc: string, txid: string, signal?: AbortSignal): Promise<TxStatusInfo> {
  return parseTxStatus(await rpcCall<TxStatusJson>(rpc, "tx_status", { txid }, signal));
}

/** tx_status's JSON (also tx_get's `status`), its shape checked. */
export function parseTxStatus(r: TxStatusJson | null | undefined): TxStatusInfo {
  if (!r || typeof r.state !== "string" || !TX_STATES.has(r.state) || typeof r.message !== "string" || (r.anchorIndex !== null && !isDigits(r.anchorIndex))) {
    throw new SendError("WALLET_BAD_RESPONSE", "tx_status answered without a known state");
  }
  return {
    txid: String(r.txid), state: r.state as TxStatusInfo["state"], reason: typeof r.reason === "string" ? r.reason : null, message: r.message,
    anchorIndex: r.anchorIndex === null ? null : BigInt(r.anchorIndex), by: typeof r.by === "string" ? r.by : null,
  };
}

/** How often `waitForFinality` asks the node about the tx. */
export const finalityPollMs = 250;

/**
 * Polls tx_status until the tx is final; returns its anchor index. A tx that ends
 * void, expired, replaced or evicted is WALLET_TX_FAILED with the node's reason (and
 * the winning or replacing txid); still pending after `limitMs` is WALLET_NOT_FINAL.
 */
export async function waitForFinality(rpc: string, txid: string, limitMs: number, signal?: AbortSignal): Promise<bigint> {
  const deadline = performance.now() + limitMs;
  for (;;) {
    const st = await fetchTxStatus(rpc, txid, signal);
    if (st.state === "final" && st.anchorIndex !== null) return st.anchorIndex;
    if (FAILED_STATES.has(st.state)) {
      throw new SendError("WALLET_TX_FAILED", `tx ${txid} is ${st.state} [${st.reason ?? "?"}]: ${st.message}`, { txid, state: st.state, reason: st.reason, by: st.by });
    }
    if (performance.now() + finalityPollMs > deadline) throw new SendError("WALLET_NOT_FINAL", `tx ${txid} is not final after ${limitMs} ms (state ${st.state}; it may still be: \`phantom wallet status --txid ${txid}\` later)`, { txid });
    await Bun.sleep(finalityPollMs);
  }
}
