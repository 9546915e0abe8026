/**
 * `phantom wallet …`: a single-key wallet over a node's RPC. The mnemonic lives in a
 * 0600 file sealed under a passphrase (src/wallet/keystore.ts) and is printed only
 * with --show_mnemonic.
 */
import { RPC_TOKEN_FILE_FLAG, rpcUrl } from "../rpc-target.ts";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Command, CommandContext } from "../command.ts";
import { CliError } from "../args.ts";
import { newMnemonic, accountFromMnemonic } from "../../wallet/keys.ts";
import { writeWalletFile, convertToEncrypted } from "../../wallet/wallet-file.ts";
import { defaultScryptParams } from "../../wallet/keystore.ts";
import { PASSPHRASE_FILE_FLAG, readPassphrase } from "../passphrase.ts";
import { runBroadcast, runBuild, runDigest, runHistory, runLock, runPubkey, runSend, runSign } from "../wallet-tx.ts";
import { kdfParams, maturityFromGenesis, withAccount, withDeadline, walletRpcTimeoutMs } from "../wallet-common.ts";
import { formatPc } from "../../wallet/amount.ts";
import { checkRecipient, fetchAddress, fetchNextAnchorIndex, fetchTxStatus } from "../../wallet/remote.ts";
import { isSpendable } from "../../wallet/select.ts";
import { checkServingShard, fetchNodeShard, shardFields } from "../../wallet/shards.ts";
import { addressShardNote, runTransferStatus } from "../wallet-shard.ts";

const defaultWalletPath = join(homedir(), ".phantom", "wallet.mnemonic");
const subcommands = ["new", "encrypt", "address", "pubkey", "balance", "send", "status", "history", "lock", "digest", "build", "sign", "broadcast", "transfer-status"] as const;
async function runNew(ctx: CommandContext): Promise<number> {
  const words = ctx.flags.words as number;
  if (words !== 12 && words !== 24) throw new CliError("CLI_BAD_VALUE", "--words must be 12 or 24");
  const mnemonic = newMnemonic(words === 12 ? 128 : 256);
  const path = ctx.flags.wallet as string;
  const kdf = kdfParams(ctx);
  const passphrase = await readPassphrase(ctx.flags, { confirm: true, purpose: `encrypt the new wallet ${path}` });
  writeWalletFile(path, mnemonic, passphrase, kdf);
  const first = accountFromMnemonic(mnemonic, 0);
  first.keyPair.secretKey.fill(0);
  ctx.out(JSON.stringify({ type: "wallet_created", file: path, address: first.address, encrypted: true, ...(ctx.flags.show_mnemonic ? { mnemonic } : {}) }));
  ctx.err(`wallet: mnemonic encrypted into ${path} (mode 0600); back the phrase up offline (--show_mnemonic prints it) — with the passphrase lost, only the phrase recovers the funds`);
  return 0;
}

/** `wallet encrypt`: seals a legacy plain mnemonic file in place. */
async function runEncrypt(ctx: CommandContext): Promise<number> {
  const path = ctx.flags.wallet as string;
  const kdf = kdfParams(ctx);
  const passphrase = await readPassphrase(ctx.flags, { confirm: true, purpose: `encrypt ${path}` });
  await convertToEncrypted(path, passphrase, kdf);
  ctx.out(JSON.stringify({ type: "wallet_encrypted", file: path }));
  return 0;
}

async function runBalance(ctx: CommandContext): Promise<number> {
  const watch = ctx.flags.address as string | undefined;
  if (watch) checkRecipient(watch);
  // --address: watch-only, the wallet file is not opened (no passphrase).
  const acct = watch ? { address: watch, index: null } : await withAccount(ctx, (a) => ({ address: a.address, index: a.index as number | null }));
  const rpc = rpcUrl(ctx.flags);
  // A node of another shard holds none of the address's outputs: its 0 would mislead.
  const node = await fetchNodeShard(rpc, ctx.signal);
  const shard = checkServingShard(node, rpc, acct.address, watch ? "--address" : "the wallet's address");
  const info = await fetchAddress(rpc, acct.address, ctx.signal);
  const maturityAnchors = await maturityFromGenesis(ctx);
  let spendable = info.balanceUnits;
  if (maturityAnchors !== undefined) {
    const maturity = { nextAnchorIndex: await fetchNextAnchorIndex(rpc, ctx.signal), maturityAnchors };
    spendable = info.utxos.filter((u) => isSpendable(u, maturity)).reduce((s, u) => s + u.amount, 0n);
  }
  ctx.out(JSON.stringify({
    address: acct.address, account: acct.index, ...shardFields(node, { shard }), balancePc: formatPc(info.balanceUnits), balanceUnits: info.balanceUnits.toString(),
    rewardsPc: formatPc(info.rewardsUnits), rewardsUnits: info.rewardsUnits.toString(),
    utxos: info.utxos.length, ...(maturityAnchors !== undefined ? { spendablePc: formatPc(spendable), spendableUnits: spendable.toString() } : {}),
  }));
  return 0;
}

/** `wallet status --txid`: what the node knows of a sent tx (tx_status). */
async function runStatus(ctx: CommandContext): Promise<number> {
  const txid = ctx.flags.txid as string | undefined;
  if (!txid || !/^[0-9a-f]{64}$/i.test(txid)) throw new CliError("CLI_MISSING_FLAG", "wallet status needs --txid <64 hex characters> (printed by wallet send)");
  const st = await fetchTxStatus(ctx.flags.rpc as string, txid.toLowerCase(), ctx.signal);
  ctx.out(JSON.stringify({ type: "tx_status", txid: st.txid, state: st.state, reason: st.reason, message: st.message, anchorIndex: st.anchorIndex?.toString() ?? null, by: st.by }));
  return 0;
}

export const command: Command = {
  name: "wallet",
  aliases: [],
  summary: "wallet: encrypted key file, send, history, multisig/hash/timelock outputs, offline sign and broadcast",
  usage: [
    `phantom wallet <${subcommands.join("|")}> [flags]`,
    "  phantom wallet new [--wallet FILE] [--words 24] [--show_mnemonic]   (asks for a passphrase; or --passphrase_file / env PHANTOM_WALLET_PASSPHRASE)",
    "  phantom wallet encrypt [--wallet FILE]   (seals a legacy plain mnemonic file in place)",
    "  phantom wallet address [--account i] [--genesis FILE | --rpc URL]   (with several shards, the address's shard on stderr)",
    "  phantom wallet balance --rpc http://127.0.0.1:8645 [--genesis genesis.toml] [--address pc1… (watch-only)]",
    "  phantom wallet send --rpc URL --to pc1… --amount 1.5 [--fee 10000u] [--wait_s 30]",
    "  phantom wallet status --rpc URL --txid <txid printed by send>   (pending | final | void | expired | replaced | evicted | unknown, with the reason)",
    "  phantom wallet transfer-status TXID --rpc URL [--dest_rpc URL]   (a cross-shard transfer: final on the source, certified, relayed, imported)",
    "  phantom wallet history --rpc URL [--address pc1…]   (received outputs, sent txs with fee and state)",
    "  phantom wallet pubkey                                  (this account's public key, for multisig and timelocked locks)",
    "  phantom wallet lock --spec 'multi(2,PK1,PK2,PK3)'       (the address of a lock; pay it with send --to to create the output)",
    "  phantom wallet digest --preimage_file SECRET           (the digest for hash(DIGEST))",
    "  phantom wallet send --from_lock 'hash(…)' --preimage_file SECRET --to pc1… --amount 1   (spend a script output)",
    "  phantom wallet build --rpc URL [--from_lock TEXT] --to pc1… --amount 1.5 --out tx.json   (or send --offline --out; no key needed)",
    "  phantom wallet sign --in tx.json [--out signed.json] [--preimage_file F]   (offline; each multisig signer signs in turn)",
    "  phantom wallet broadcast --rpc URL --in signed.json [--wait_s 30]",
    "amounts: \"1.5\" or \"1.5pc\" is PC (at most 8 decimals); \"150000000u\" is units (1 PC = 10^8 units)",
  ].join("\n"),
  positionals: true,
  flags: [
    { name: "wallet", type: "string", help: "wallet file (the BIP39 mnemonic sealed under a passphrase, mode 0600)", default: defaultWalletPath },
    PASSPHRASE_FILE_FLAG,
    { name: "scrypt_log_n", type: "int", help: "new/encrypt: scrypt cost log2(N), 10..20 (lower is faster to open and to guess)", default: String(defaultScryptParams.logN) },
    { name: "account", type: "int", help: "account index derived from the mnemonic", default: "0" },
    { name: "rpc", type: "string", help: "node RPC URL", default: "http://127.0.0.1:8645" },
    RPC_TOKEN_FILE_FLAG,
    { name: "rpc_timeout_ms", type: "int", help: "give up on an RPC call after this long", default: String(walletRpcTimeoutMs) },
    { name: "to", type: "string", help: "send: recipient address (pc1…)" },
    { name: "amount", type: "string", help: "send: amount, PC decimal (1.5) or units (150000000u)" },
    { name: "fee", type: "string", help: "send: fee, PC decimal or units", default: "10000u" },
    { name: "wait_s", type: "int", help: "send: then wait up to this long for the tx to be final (0 = do not wait); a void/expired/replaced/evicted tx stops the wait with WALLET_TX_FAILED", default: "0" },
    { name: "txid", type: "string", help: "status, transfer-status: the txid to ask about" },
    { name: "dest_rpc", type: "string", help: "transfer-status: a node of the destination shard, asked whether the transfer is imported (default: --rpc)" },
    { name: "from_lock", type: "string", help: "send/build: spend outputs of this lock (lock text, see `wallet lock`) instead of the wallet's own key" },
    { name: "preimage_file", type: "string", help: "send/sign: the secret that opens a hash lock; digest: the secret to hash" },
    { name: "spec", type: "string", help: "lock: the lock text, e.g. multi(2,PK1,PK2,PK3) | hash(DIGEST) | after(N) | sig(PK) | and(A,B) | or(A,B)" },
    { name: "offline", type: "bool", help: "send: only build the unsigned tx file (--out) for an offline signer", default: "false" },
    { name: "out", type: "string", help: "build/send --offline: write the tx file here; sign: write the signed file here (default: over --in)" },
    { name: "in", type: "string", help: "sign/broadcast: the tx file" },
    { name: "change", type: "string", help: "build: change address (default: the address spent from)" },
    { name: "address", type: "string", help: "balance/history: watch this address without opening the wallet" },
    { name: "history_file", type: "string", help: "journal of submitted txs (default: <wallet>.history.jsonl)" },
    { name: "genesis", type: "string", help: "genesis file: lets balance/send skip immature mint rewards (maturity_anchors); address: names its shard when there are several" },
    { name: "words", type: "int", help: "new: mnemonic length, 12 or 24", default: "24" },
    { name: "show_mnemonic", type: "bool", help: "new: also print the mnemonic", default: "false" },
  ],
  async run(ctx) {
    const [sub, ...extra] = ctx.positionals;
    if (!sub || !(subcommands as readonly string[]).includes(sub)) throw new CliError("CLI_BAD_VALUE", `usage: phantom wallet <${subcommands.join("|")}> (see --help)`);
    // transfer-status takes the txid as its one argument.
    const positional = sub === "transfer-status" ? extra.shift() : undefined;
    if (extra.length > 0) throw new CliError("CLI_UNEXPECTED_ARGUMENT", `unexpected argument "${extra[0]}" (see --help)`);
    switch (sub as (typeof subcommands)[number]) {
      case "new":
        return runNew(ctx);
      case "encrypt":
        return runEncrypt(ctx);
      case "address": {
        const address = await withAccount(ctx, (a) => a.address);
        ctx.out(address);
        await withDeadline(ctx, (c) => addressShardNote(c, address).then(() => 0));
        return 0;
      }
      case "balance":
        return withDeadline(ctx, runBalance);
      case "send":
        return withDeadline(ctx, runSend);
      case "status":
        return withDeadline(ctx, runStatus);
      case "pubkey":
        return runPubkey(ctx);
      case "lock":
        return runLock(ctx);
      case "digest":
        return runDigest(ctx);
      case "sign":
        return runSign(ctx);
      case "history":
        return withDeadline(ctx, runHistory);
      case "build":
        return withDeadline(ctx, runBuild);
      case "broadcast":
        return withDeadline(ctx, runBroadcast);
      case "transfer-status":
        return withDeadline(ctx, (c) => runTransferStatus(c, positional));
    }
  },
};
