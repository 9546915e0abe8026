/**
 * The wallet's view of a node over JSON-RPC: read an address (address_get), pick
 * inputs, build and sign a transfer (tx-builder.ts), submit it (tx_submit). The
 * node stays the judge of validity; its typed rejection codes are passed through.
 */
import { rpcCall } from "../rpc/client.ts";
import { PhantomError, isPhantomError } from "../errors.ts";
import { fromHex, toHex } from "../crypto/bytes.ts";
import { encodeMicroTx } from "../types/tx.ts";
import { decodeAddress } from "./address.ts";
import { buildTransfer } from "./tx-builder.ts";
import { selectUtxos, type Maturity, type Selection, type WalletUtxo } from "./select.ts";
import type { WalletAccount } from "./keys.ts";

export interface AddressInfo {
  address: string;
  balanceUnits: bigint;
  utxos: WalletUtxo[];
}

interface AddressGetJson {
  address: string;
  balanceUnits: string;
  utxos: { txid: string; index: number; amount: string; createdAt: string; coinbase: boolean }[];
}

type SubmitJson = { accepted: true; txid: string; fee: string } | { accepted: false; txid: string | null; code: string; message: string };

export type SendErrorCode = "WALLET_BAD_ADDRESS" | "WALLET_TX_REJECTED" | "WALLET_BAD_RESPONSE" | "WALLET_RPC_TIMEOUT" | "WALLET_NOT_FINAL";
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
  return { address: r.address, balanceUnits: BigInt(r.balanceUnits), utxos };
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

export interface SendResult {
  txid: string;
  amount: bigint;
  fee: bigint;
  change: bigint;
  inputs: number;
  txBytes: number;
}

/** Pays `amount` units to `to` from `account`, `fee` units to the validators. Throws typed errors. */
export async function sendPayment(args: {
  rpc: string;
  account: WalletAccount;
  to: string;
  amount: bigint;
  fee: bigint;
  maturityAnchors?: bigint;
  signal?: AbortSignal;
}): Promise<SendResult> {
  const recipient = checkRecipient(args.to);
  const info = await fetchAddress(args.rpc, args.account.address, args.signal);
  let maturity: Maturity | undefined;
  if (args.maturityAnchors !== undefined) maturity = { nextAnchorIndex: await fetchNextAnchorIndex(args.rpc, args.signal), maturityAnchors: args.maturityAnchors };
  const sel: Selection = selectUtxos(info.utxos, args.amount, args.fee, maturity);
  const tx = buildTransfer({
    keyPair: args.account.keyPair,
    spend: sel.inputs.map((u) => ({ outpoint: { txid: fromHex(u.txid, 32, "utxo txid"), index: u.index }, amount: u.amount })),
    to: [{ amount: args.amount, lockCommitment: recipient }],
    fee: sel.fee,
  });
  const bytes = encodeMicroTx(tx);
  const [res] = await rpcCall<SubmitJson[]>(args.rpc, "tx_submit", { tx: toHex(bytes) }, args.signal);
  if (!res) throw new SendError("WALLET_BAD_RESPONSE", "tx_submit returned no result");
  if (!res.accepted) throw new SendError("WALLET_TX_REJECTED", `node rejected the tx: [${res.code}] ${res.message}`, { code: res.code, txid: res.txid });
  return { txid: res.txid, amount: args.amount, fee: sel.fee, change: sel.change, inputs: sel.inputs.length, txBytes: bytes.length };
}

/** How often `waitForFinality` asks the node whether the tx is in a finalized anchor. */
export const finalityPollMs = 250;

/**
 * Polls chain_lookup until the tx's outputs exist (it was applied by a finalized
 * anchor); returns that anchor index. Bounded by `limitMs`: WALLET_NOT_FINAL after it.
 */
export async function waitForFinality(rpc: string, txid: string, limitMs: number, signal?: AbortSignal): Promise<bigint> {
  const deadline = performance.now() + limitMs;
  for (;;) {
    const found = await rpcCall<{ type: string; outputs?: { createdAt: string }[] }>(rpc, "chain_lookup", { id: txid }, signal).catch((e) => {
      if (isPhantomError(e) && e.code === "RPC_NOT_FOUND") return null;
      throw e;
    });
    const createdAt = found?.type === "tx" ? found.outputs?.[0]?.createdAt : undefined;
    if (createdAt !== undefined && isDigits(createdAt)) return BigInt(createdAt);
    if (performance.now() + finalityPollMs > deadline) throw new SendError("WALLET_NOT_FINAL", `tx ${txid} is not final after ${limitMs} ms (it may still be; check chain_lookup later)`, { txid });
    await Bun.sleep(finalityPollMs);
  }
}
