/**
 * `phantom wallet pubkey|lock|digest|build|sign|broadcast|history`: script outputs
 * (multisig, hash lock, timelock, in the lock text of src/wallet/lock-spec.ts),
 * offline signing through a tx file (src/wallet/tx-file.ts) and the history.
 * build and broadcast need a node; sign needs only the wallet.
 */
import { readFileSync, statSync, writeFileSync } from "node:fs";
import type { CommandContext } from "./command.ts";
import { CliError } from "./args.ts";
import { describeOsError } from "../errors.ts";
import { rpcUrl } from "./rpc-target.ts";
import { toHex, wipe } from "../crypto/bytes.ts";
import { blake3_32 } from "../crypto/hash.ts";
import { encodeLock, type Lock } from "../types/lock.ts";
import { formatPc, parseAmount } from "../wallet/amount.ts";
import { formatLockSpec, lockAddress, parseLockSpec } from "../wallet/lock-spec.ts";
import { finishTx, incompleteInputs, parseTxFile, signTxFile, txFileToJson, type TxFile } from "../wallet/tx-file.ts";
import { buildPayment, checkRecipient, fetchNextAnchorIndex, sendPayment, submitTx, waitForFinality } from "../wallet/remote.ts";
import { appendJournal, journalEntry, readJournal } from "../wallet/journal.ts";
import { walletHistory } from "../wallet/history.ts";
import { encodeAddress } from "../wallet/address.ts";
import { maturityFromGenesis, withAccount, journalPath } from "./wallet-common.ts";
import { checkServingShard, crossShardNotice, fetchNodeShard, shardFields, shardRoute, type NodeShard } from "../wallet/shards.ts";

/**
 * The node's shard, after refusing (WALLET_WRONG_SHARD) a node that does not serve the
 * shard of `from` (the address whose outputs are spent): it knows none of them.
 */
async function servingNode(ctx: CommandContext, from: string, role: string): Promise<NodeShard> {
  const rpc = rpcUrl(ctx.flags);
  const node = await fetchNodeShard(rpc, ctx.signal);
  checkServingShard(node, rpc, from, role);
  return node;
}

/** send/build/broadcast with several shards: the shards in the JSON line, and a cross-shard payment said in words on stderr. */
function noteRoute(ctx: CommandContext, node: NodeShard, from: string, to: string, txid: string): Record<string, number | boolean> {
  if (node.shardCount === 1) return {};
  const route = shardRoute(node, from, to);
  if (route.crossShard) ctx.err(crossShardNotice(route, txid));
  return shardFields(node, { fromShard: route.sourceShard, toShard: route.destShard, crossShard: route.crossShard });
}

/** A preimage file is read whole; hash-lock preimages are at most this long on chain. */
const preimageBytesMax = 1_024;

function readPreimages(ctx: CommandContext): Uint8Array[] {
  const path = ctx.flags.preimage_file as string | undefined;
  if (!path) return [];
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new CliError("CLI_BAD_VALUE", `--preimage_file ${path} cannot be read`);
  }
  if (size > preimageBytesMax) throw new CliError("CLI_BAD_VALUE", `--preimage_file ${path} is ${size} bytes; a hash-lock preimage is at most ${preimageBytesMax}`);
  return [new Uint8Array(readFileSync(path))];
}

function fromLockFlag(ctx: CommandContext): Lock | undefined {
  const text = ctx.flags.from_lock as string | undefined;
  return text ? parseLockSpec(text) : undefined;
}

function needPayment(ctx: CommandContext, sub: string): { to: string; amount: bigint; fee: bigint } {
  const to = ctx.flags.to as string | undefined;
  const amountText = ctx.flags.amount as string | undefined;
  if (!to || !amountText) throw new CliError("CLI_MISSING_FLAG", `wallet ${sub} needs --to <pc1… address> and --amount <PC, e.g. 1.5, or units, e.g. 150000000u>`);
  return { to, amount: parseAmount(amountText), fee: parseAmount(ctx.flags.fee as string, { allowZero: true }) };
}

/** Records an accepted tx in the journal and, with --wait_s, waits for it to be final. */
async function afterSubmit(ctx: CommandContext, file: TxFile, txid: string): Promise<void> {
  const journal = journalPath(ctx);
  try {
    appendJournal(journal, journalEntry(file));
  } catch (e) {
    // The tx is already accepted; only `history` loses it.
    ctx.err(`warning: could not record ${txid} in the journal ${journal} (${describeOsError(e)}); wallet history will not list it`);
  }
  const waitS = ctx.flags.wait_s as number;
  if (waitS > 0) {
    const anchor = await waitForFinality(rpcUrl(ctx.flags), txid, waitS * 1000, ctx.signal);
    ctx.out(JSON.stringify({ type: "tx_final", txid, anchorIndex: anchor.toString() }));
  }
}

/** `wallet pubkey`: the account's public key, for someone building a multisig or a timelocked lock. */
export async function runPubkey(ctx: CommandContext): Promise<number> {
  ctx.out(await withAccount(ctx, (a) => JSON.stringify({ type: "pubkey", account: a.index, publicKey: toHex(a.keyPair.publicKey), lock: formatLockSpec(a.lock), address: a.address })));
  return 0;
}

/** `wallet lock --spec TEXT`: the address paying a lock (send to it to create the output); offline. */
export async function runLock(ctx: CommandContext): Promise<number> {
  const text = ctx.flags.spec as string | undefined;
  if (!text) throw new CliError("CLI_MISSING_FLAG", "wallet lock needs --spec, e.g. 'multi(2,PK1,PK2,PK3)', 'hash(DIGEST)', 'after(1200)', 'and(after(1200),sig(PK))'");
  const lock = parseLockSpec(text);
  ctx.out(JSON.stringify({ type: "lock", lock: formatLockSpec(lock), address: lockAddress(lock), lockHex: toHex(encodeLock(lock)) }));
  return 0;
}

/** `wallet digest --preimage_file F`: blake3_32 of a secret, the digest of a hash lock; offline. */
export async function runDigest(ctx: CommandContext): Promise<number> {
  const [preimage] = readPreimages(ctx);
  if (!preimage) throw new CliError("CLI_MISSING_FLAG", "wallet digest needs --preimage_file FILE (the secret; its bytes as they are)");
  ctx.out(JSON.stringify({ type: "digest", digest: toHex(blake3_32(preimage)), lock: `hash(${toHex(blake3_32(preimage))})` }));
  wipe(preimage);
  return 0;
}

function summary(f: TxFile): Record<string, unknown> {
  return {
    txid: toHex(f.txid), inputs: f.inputs.length, inputUnits: f.inputs.reduce((s, i) => s + i.amount, 0n).toString(),
    outputs: f.outputs.map((o) => ({ address: encodeAddress(o.lockCommitment), amountUnits: o.amount.toString(), amountPc: formatPc(o.amount) })), feeUnits: f.fee.toString(),
  };
}

/**
 * `wallet build` (and `send --offline`): an unsigned tx file from the outputs of
 * --from_lock (default the wallet's own key; a watch-only machine gives
 * --from_lock 'sig(PK)' and needs no wallet file).
 */
export async function runBuild(ctx: CommandContext): Promise<number> {
  const pay = needPayment(ctx, "build");
  const out = ctx.flags.out as string | undefined;
  if (!out) throw new CliError("CLI_MISSING_FLAG", "wallet build (and send --offline) needs --out FILE (the unsigned tx file to carry to the signer)");
  checkRecipient(pay.to);
  const fromLock = fromLockFlag(ctx) ?? (await withAccount(ctx, (a) => a.lock));
  const change = ctx.flags.change as string | undefined;
  const changeTo = change ? checkRecipient(change) : undefined;
  const from = lockAddress(fromLock);
  const node = await servingNode(ctx, from, ctx.flags.from_lock ? "--from_lock" : "the wallet's address");
  const { file } = await buildPayment({ rpc: rpcUrl(ctx.flags), fromLock, ...pay, changeTo, maturityAnchors: await maturityFromGenesis(ctx), signal: ctx.signal });
  writeFileSync(out, txFileToJson(file), { mode: 0o600 });
  ctx.out(JSON.stringify({ type: "tx_built", file: out, from, ...summary(file), ...noteRoute(ctx, node, from, pay.to, toHex(file.txid)) }));
  return 0;
}

function readTxFile(ctx: CommandContext): { path: string; file: TxFile } {
  const path = ctx.flags.in as string | undefined;
  if (!path) throw new CliError("CLI_MISSING_FLAG", "needs --in FILE (a tx file written by wallet build)");
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new CliError("CLI_BAD_VALUE", `--in ${path} cannot be read`);
  }
  return { path, file: parseTxFile(text) };
}

/** `wallet sign --in F [--out G]`: adds this wallet's signatures (and --preimage_file); no network. */
export async function runSign(ctx: CommandContext): Promise<number> {
  const { path, file } = readTxFile(ctx);
  const preimages = readPreimages(ctx);
  const added = await withAccount(ctx, (a) => signTxFile(file, [a.keyPair], preimages)).finally(() => preimages.forEach(wipe));
  const out = (ctx.flags.out as string | undefined) ?? path;
  writeFileSync(out, txFileToJson(file), { mode: 0o600 });
  const missing = incompleteInputs(file);
  ctx.out(JSON.stringify({ type: "tx_signed", file: out, signaturesAdded: added.signatures, preimagesAdded: added.preimages, complete: missing.length === 0, incompleteInputs: missing, ...summary(file) }));
  if (added.signatures + added.preimages === 0) ctx.err("warning: this wallet holds no key (and --preimage_file no secret) that any input's lock asks for; nothing was added");
  return 0;
}

/** `wallet broadcast --in F`: assembles the witnesses and submits (tx_submit); no wallet needed. */
export async function runBroadcast(ctx: CommandContext): Promise<number> {
  const { file } = readTxFile(ctx);
  const rpc = rpcUrl(ctx.flags);
  // Every input must be on the node's shard (the tx spends on one shard only).
  const node = await fetchNodeShard(rpc, ctx.signal);
  for (const input of file.inputs) checkServingShard(node, rpc, lockAddress(input.lock), `input ${toHex(input.outpoint.txid)}:${input.outpoint.index}'s lock`);
  const tx = finishTx(file, await fetchNextAnchorIndex(rpc, ctx.signal));
  const res = await submitTx(rpc, tx, ctx.signal);
  const from = file.inputs[0] ? lockAddress(file.inputs[0].lock) : undefined;
  const to = file.outputs[0] ? encodeAddress(file.outputs[0].lockCommitment) : undefined;
  ctx.out(JSON.stringify({ type: "tx_submitted", accepted: true, ...summary(file), txBytes: res.txBytes, ...(from && to ? noteRoute(ctx, node, from, to, res.txid) : {}) }));
  await afterSubmit(ctx, file, res.txid);
  return 0;
}

/** `wallet send`: build, sign and submit in one step (--from_lock spends a script output); --offline --out only builds. */
export async function runSend(ctx: CommandContext): Promise<number> {
  if (ctx.flags.offline) return runBuild(ctx);
  const { to, amount, fee } = needPayment(ctx, "send");
  const fromLock = fromLockFlag(ctx);
  const preimages = readPreimages(ctx);
  const maturityAnchors = await maturityFromGenesis(ctx);
  checkRecipient(to);
  let from = "";
  let node: NodeShard | undefined;
  const res = await withAccount(ctx, async (account) => {
    from = fromLock ? lockAddress(fromLock) : account.address;
    node = await servingNode(ctx, from, fromLock ? "--from_lock" : "the wallet's address");
    // Change goes to the wallet's own key: from a script on another shard, that is an export too.
    if (fromLock && node.shardCount > 1 && shardRoute(node, from, account.address).crossShard) {
      ctx.err(`note: the change goes to the wallet's address ${account.address} on shard ${shardRoute(node, from, account.address).destShard}: a cross-shard output as well`);
    }
    return sendPayment({ rpc: rpcUrl(ctx.flags), account, to, amount, fee, fromLock, preimages, maturityAnchors, signal: ctx.signal });
  }).finally(() => preimages.forEach(wipe));
  ctx.out(JSON.stringify({
    type: "tx_submitted", accepted: true, txid: res.txid, to, amountPc: formatPc(res.amount), amountUnits: res.amount.toString(),
    feeUnits: res.fee.toString(), changeUnits: res.change.toString(), inputs: res.inputs, txBytes: res.txBytes, ...noteRoute(ctx, node!, from, to, res.txid),
  }));
  await afterSubmit(ctx, res.file, res.txid);
  return 0;
}

/** `wallet history`: received outputs and sent txs with fee and state, one JSON line each, oldest first. */
export async function runHistory(ctx: CommandContext): Promise<number> {
  const watch = ctx.flags.address as string | undefined;
  if (watch) checkRecipient(watch);
  const address = watch ?? (await withAccount(ctx, (a) => a.address));
  await servingNode(ctx, address, watch ? "--address" : "the wallet's address");
  const items = await walletHistory(rpcUrl(ctx.flags), [address], readJournal(journalPath(ctx)), ctx.signal);
  for (const item of items) ctx.out(JSON.stringify(item));
  let received = 0n;
  let sent = 0n;
  let fees = 0n;
  for (const i of items) {
    if (i.type === "received") received += BigInt(i.amountUnits);
    else if (i.state === "final") {
      sent += BigInt(i.amountUnits);
      fees += BigInt(i.feeUnits);
    }
  }
  ctx.out(JSON.stringify({ type: "history_summary", address, items: items.length, receivedUnits: received.toString(), sentFinalUnits: sent.toString(), feesFinalUnits: fees.toString() }));
  return 0;
}
