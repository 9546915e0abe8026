/**
 * The devnet faucet: pays a new user coins from the devnet miner account, the
 * account `phantom localnet`'s miner mints to. Its key derives from the public devnet
 * label, like the devnet validator keys, so a faucet exists only where the keys are
 * public anyway: the node's genesis commitment must be the devnet one for that label
 * (FAUCET_NOT_DEVNET otherwise). Bounded: at most `faucetAmountMaxUnits` a request, and
 * no request that would lift the recipient's balance above `faucetAddressCapUnits`.
 * Sharded devnet: the coins are on shard 0 (mints pay only shard-0 locks, SPEC_SHARDING §9),
 * so the faucet talks to a shard-0 node and a payment to another shard's address leaves as
 * an export that the network imports there.
 */
import { PhantomError } from "../errors.ts";
import { blake3DeriveKey, blake3_32 } from "../crypto/hash.ts";
import { toHex } from "../crypto/bytes.ts";
import { rpcCall } from "../rpc/client.ts";
import { accountFromSeed, type WalletAccount } from "./keys.ts";
import { checkRecipient, fetchAddress, sendPayment, SendError, type SendResult } from "./remote.ts";
import { formatPc } from "./amount.ts";
import { shardOfAddress } from "./address.ts";

/** One request pays at most 100 PC. */
export const faucetAmountMaxUnits = 100n * 100_000_000n;
/** The faucet stops paying an address holding 1,000 PC or more (balance + amount may not exceed it). */
export const faucetAddressCapUnits = 1_000n * 100_000_000n;
export const faucetAmountDefault = "10";

export type FaucetErrorCode = "FAUCET_NOT_DEVNET" | "FAUCET_AMOUNT_LIMIT" | "FAUCET_ADDRESS_LIMIT" | "FAUCET_EMPTY" | "FAUCET_WRONG_SHARD";
export class FaucetError extends PhantomError<FaucetErrorCode> {}

/** The devnet miner account for `label` (what `phantom localnet` mines to). */
export function devnetMinerAccount(label: string): WalletAccount {
  return accountFromSeed(blake3DeriveKey("phantom devnet miner seed v0", new TextEncoder().encode(label)));
}

/**
 * The account `phantom localnet` mines to and the faucet pays from: the devnet miner
 * account, or with several shards the first of its numbered variants (`<label>#1`, …)
 * whose lock is on shard 0.
 */
export function minerAccount(label: string, shardCount: number): WalletAccount {
  for (let n = 0; ; n++) {
    const account = devnetMinerAccount(n === 0 ? label : `${label}#${n}`);
    if (shardOfAddress(account.address, shardCount) === 0) return account;
    account.keyPair.secretKey.fill(0);
  }
}

/** The genesis commitment of a devnet genesis made from `label` (src/genesis/create.ts). */
export function devnetCommitment(label: string): string {
  return toHex(blake3_32(blake3_32(new TextEncoder().encode(`genesis note: ${label}`))));
}

interface NodeStatus { commitment: string; maturityAnchors: string; shard?: number; shardCount?: number }

/** Refuses unless the node at `rpc` runs the devnet genesis of `label`; returns its maturity (anchors) and shards. */
export async function checkDevnet(rpc: string, label: string, signal?: AbortSignal): Promise<{ maturityAnchors: bigint; shard: number; shardCount: number }> {
  const s = await rpcCall<NodeStatus>(rpc, "phantom_status", {}, signal);
  if (!s || typeof s.commitment !== "string" || !/^\d+$/.test(String(s.maturityAnchors))) throw new SendError("WALLET_BAD_RESPONSE", "phantom_status answered without commitment/maturityAnchors");
  if (s.commitment !== devnetCommitment(label)) {
    throw new FaucetError("FAUCET_NOT_DEVNET", `the node at ${rpc} does not run the devnet genesis of label "${label}" (commitment ${s.commitment}); the faucet serves only devnets whose keys are public (pass the label the localnet was started with: --devnet_label)`);
  }
  // A node from before sharding reports no shard fields: one shard.
  return { maturityAnchors: BigInt(s.maturityAnchors), shard: s.shard ?? 0, shardCount: s.shardCount ?? 1 };
}

/** Checks the limits, then pays `amount` units (plus `fee`) from the devnet miner account to `to`. */
export async function faucetSend(args: {
  rpc: string; label: string; to: string; amount: bigint; fee: bigint; signal?: AbortSignal;
  /** The limits; default faucetAmountMaxUnits / faucetAddressCapUnits. */
  limits?: { amountMaxUnits: bigint; addressCapUnits: bigint };
}): Promise<SendResult & { from: string }> {
  const { amountMaxUnits, addressCapUnits } = args.limits ?? { amountMaxUnits: faucetAmountMaxUnits, addressCapUnits: faucetAddressCapUnits };
  checkRecipient(args.to);
  if (args.amount > amountMaxUnits) throw new FaucetError("FAUCET_AMOUNT_LIMIT", `the faucet pays at most ${formatPc(amountMaxUnits)} PC a request; ask for less`);
  const { maturityAnchors, shard, shardCount } = await checkDevnet(args.rpc, args.label, args.signal);
  if (shard !== 0) throw new FaucetError("FAUCET_WRONG_SHARD", `the node at ${args.rpc} serves shard ${shard}; the faucet's coins are on shard 0 (mints pay only shard 0): pass --rpc of a shard-0 node (it pays any shard's address)`);
  const faucet = minerAccount(args.label, shardCount);
  try {
    if (args.to === faucet.address) throw new FaucetError("FAUCET_ADDRESS_LIMIT", "the recipient is the faucet itself");
    // The cap counts the balance this node holds: only an address of its own shard has one here
    // (another shard's address is paid by an export; the per-request limit still applies).
    const held = shardOfAddress(args.to, shardCount) === shard ? (await fetchAddress(args.rpc, args.to, args.signal)).balanceUnits : 0n;
    if (held + args.amount > addressCapUnits) {
      throw new FaucetError("FAUCET_ADDRESS_LIMIT", `${args.to} holds ${formatPc(held)} PC; the faucet tops an address up to at most ${formatPc(addressCapUnits)} PC`);
    }
    const res = await sendPayment({ rpc: args.rpc, account: faucet, to: args.to, amount: args.amount, fee: args.fee, maturityAnchors, signal: args.signal });
    return { ...res, from: faucet.address };
  } catch (e) {
    if (e instanceof PhantomError && e.code === "WALLET_INSUFFICIENT_FUNDS") {
      throw new FaucetError("FAUCET_EMPTY", `the faucet ${faucet.address} has not enough mature coins (${e.message}); on a localnet its miner mints to it: wait until rewards mature (maturity ${maturityAnchors} anchors) or run localnet with --miner true`);
    }
    throw e;
  } finally {
    faucet.keyPair.secretKey.fill(0);
  }
}
