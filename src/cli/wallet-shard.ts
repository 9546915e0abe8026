/**
 * `phantom wallet transfer-status TXID` and the shard notes of address/balance/send
 * (docs/SPEC_SHARDING.md; src/wallet/shards.ts). With one shard nothing is printed
 * beyond what the wallet printed before sharding.
 */
import type { CommandContext } from "./command.ts";
import { CliError } from "./args.ts";
import { rpcUrl } from "./rpc-target.ts";
import { rpcCall } from "../rpc/client.ts";
import { isPhantomError } from "../errors.ts";
import { loadGenesis } from "../genesis/index.ts";
import { shardOfAddress } from "../wallet/address.ts";
import { parseTxStatus, SendError, type TxStatusJson } from "../wallet/remote.ts";
import {
  crossShardOutputs, epochOfAnchor, fetchExports, fetchImportStatus, fetchNodeShard, transferMessage, transferStates,
  type ExportInfo, type NodeShard, type TxOutputJson,
} from "../wallet/shards.ts";

/**
 * `wallet address`: the address on stdout as before; with more than one shard, its shard
 * on stderr (stdout stays one address for scripts). The shard count comes from --genesis,
 * or from the node when --rpc is given explicitly; otherwise nothing is asked.
 */
export async function addressShardNote(ctx: CommandContext, address: string): Promise<void> {
  const genesisFile = ctx.flags.genesis as string | undefined;
  let shardCount: number | undefined;
  let node: NodeShard | undefined;
  if (genesisFile) shardCount = (await loadGenesis(genesisFile)).shardCount;
  else if (ctx.explicit.has("rpc")) {
    // Best effort: the address is printed already and needs no node; a silent node only loses the note.
    try {
      node = await fetchNodeShard(rpcUrl(ctx.flags), ctx.signal);
      shardCount = node.shardCount;
    } catch (e) {
      ctx.err(`note: the node at --rpc did not say its shard (${(e as Error).message}); the address's shard is not shown`);
      return;
    }
  }
  if (shardCount === undefined || shardCount === 1) return;
  const shard = shardOfAddress(address, shardCount);
  const serving = node === undefined ? "" : node.shard === shard ? `; the node at --rpc serves it` : `; the node at --rpc serves shard ${node.shard}: use a node of shard ${shard} for balance and send`;
  ctx.err(`address ${address} is on shard ${shard} of ${shardCount}${serving}`);
}

interface TxGetJson {
  status: TxStatusJson;
  outputs: TxOutputJson[];
}

/** tx_get on the source node; undefined when it knows no such tx. */
async function fetchTx(rpc: string, txid: string, signal: AbortSignal): Promise<TxGetJson | undefined> {
  let r: TxGetJson;
  try {
    r = await rpcCall<TxGetJson>(rpc, "tx_get", { txid }, signal);
  } catch (e) {
    if (isPhantomError(e) && e.code === "RPC_NOT_FOUND") return undefined;
    throw e;
  }
  const okOutputs = Array.isArray(r?.outputs) && r.outputs.every((o) => o && Number.isSafeInteger(o.index) && typeof o.address === "string" && (o.amount === null || /^\d+$/.test(String(o.amount))));
  if (!r || !okOutputs) throw new SendError("WALLET_BAD_RESPONSE", "tx_get answered without its outputs");
  return r;
}

/**
 * `wallet transfer-status TXID [--rpc SOURCE] [--dest_rpc DEST]`: where the cross-shard
 * outputs of a tx stand. --rpc is a node of the tx's source shard: tx_get gives the tx
 * and its outputs, the export ids follow from (source shard, txid, output index), its
 * shard_exports the state of each export in the tx's epoch; shard_importStatus (at
 * --dest_rpc, a node of the destination shard, else at --rpc) whether it is imported.
 */
export async function runTransferStatus(ctx: CommandContext, positional: string | undefined): Promise<number> {
  const txidArg = positional ?? (ctx.flags.txid as string | undefined);
  if (!txidArg || !/^[0-9a-f]{64}$/i.test(txidArg)) throw new CliError("CLI_MISSING_FLAG", "wallet transfer-status needs the TXID (64 hex characters, printed by wallet send): phantom wallet transfer-status TXID --rpc <a node of the source shard>");
  const txid = txidArg.toLowerCase();
  const rpc = rpcUrl(ctx.flags);
  const node = await fetchNodeShard(rpc, ctx.signal);
  const tx = await fetchTx(rpc, txid, ctx.signal);
  const base = { type: "transfer_status", txid, sourceShard: node.shard, shardCount: node.shardCount };
  if (!tx) {
    const ask = node.shardCount > 1 ? `; ask a node of the tx's source shard (the shard of the address that paid)` : "";
    ctx.out(JSON.stringify({ ...base, txState: "unknown", crossShard: null, complete: false, outputs: [], message: `the node (shard ${node.shard}) knows no tx ${txid}${ask}` }));
    return 0;
  }
  const st = parseTxStatus(tx.status);
  const cross = crossShardOutputs(node, txid, tx.outputs);
  const anchorIndex = st.state === "final" ? st.anchorIndex : null;
  const epoch = anchorIndex === null ? null : epochOfAnchor(anchorIndex, node.rootInterval);
  if (cross.length === 0) {
    const message = node.shardCount === 1 ? "a single-shard network: no transfer crosses shards (see wallet status)" : `no output of this tx leaves shard ${node.shard}`;
    ctx.out(JSON.stringify({ ...base, txState: st.state, anchorIndex: anchorIndex?.toString() ?? null, crossShard: false, complete: st.state === "final", outputs: [], message }));
    return 0;
  }
  let exports: ExportInfo[] = [];
  let imported = new Map<string, boolean>();
  if (epoch !== null) {
    exports = await fetchExports(rpc, epoch, ctx.signal);
    const dest = ctx.flags.dest_rpc as string | undefined;
    imported = await fetchImportStatus(dest && dest.length > 0 ? dest : rpc, cross.map((o) => o.exportId), ctx.signal);
  }
  const outputs = transferStates(st, cross, exports, imported);
  ctx.out(JSON.stringify({
    ...base, txState: st.state, anchorIndex: anchorIndex?.toString() ?? null, epoch: epoch?.toString() ?? null, crossShard: true,
    complete: outputs.every((o) => o.state === "imported"),
    outputs: outputs.map((o) => ({ ...o, message: transferMessage(node, epoch, o) })),
  }));
  return 0;
}
