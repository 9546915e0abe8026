/**
 * The wallet's view of shards (docs/SPEC_SHARDING.md §2, §5, §8): which shard a node
 * serves (phantom_status), which shard an address is on (shardOfAddress, no network),
 * whether a payment crosses shards, and where a cross-shard transfer stands (the source
 * node's shard_exports, shard_importStatus). With one shard nothing here changes what
 * the wallet prints: every address is on shard 0 and no payment crosses.
 */
import { rpcCall, rpcEndpoint } from "../rpc/client.ts";
import { isPhantomError } from "../errors.ts";
import { fromHex, toHex } from "../crypto/bytes.ts";
import { exportId } from "../ledger/export-tree.ts";
import { SHARD_COUNT_MAX, SHARD_ROOT_INTERVAL_DEFAULT } from "../ledger/shard.ts";
import { shardOfAddress } from "./address.ts";
import { SendError, type TxStatusInfo } from "./remote.ts";

/** The shard a node serves and the network's shard layout, from its phantom_status. */
export interface NodeShard {
  shard: number;
  shardCount: number;
  /** E: anchors per shard root epoch (SPEC_SHARDING §6). */
  rootInterval: bigint;
}

interface StatusShardJson {
  shard?: unknown;
  shardCount?: unknown;
  shardRootInterval?: unknown;
}

const isDigits = (v: unknown): v is string => typeof v === "string" && /^\d+$/.test(v);

/**
 * The node's shard from phantom_status. A node that names no shard (built before
 * sharding) runs the single-shard network: shard 0 of 1. Fields that are present but
 * malformed are WALLET_BAD_RESPONSE.
 */
export function nodeShardFromStatus(s: StatusShardJson): NodeShard {
  if (s.shard === undefined && s.shardCount === undefined) return { shard: 0, shardCount: 1, rootInterval: SHARD_ROOT_INTERVAL_DEFAULT };
  const count = s.shardCount;
  const shard = s.shard;
  if (!Number.isSafeInteger(count) || (count as number) < 1 || (count as number) > SHARD_COUNT_MAX || !Number.isSafeInteger(shard) || (shard as number) < 0 || (shard as number) >= (count as number)) {
    throw new SendError("WALLET_BAD_RESPONSE", `phantom_status answered shard ${String(shard)} of shardCount ${String(count)}, not a shard 0..S-1 of S 1..${SHARD_COUNT_MAX}`);
  }
  const interval = isDigits(s.shardRootInterval) && BigInt(s.shardRootInterval) > 0n ? BigInt(s.shardRootInterval) : SHARD_ROOT_INTERVAL_DEFAULT;
  return { shard: shard as number, shardCount: count as number, rootInterval: interval };
}

export async function fetchNodeShard(rpc: string, signal?: AbortSignal): Promise<NodeShard> {
  const s = await rpcCall<StatusShardJson | null>(rpc, "phantom_status", {}, signal);
  if (!s || typeof s !== "object") throw new SendError("WALLET_BAD_RESPONSE", "phantom_status answered no object");
  return nodeShardFromStatus(s);
}

/** The node's endpoint as messages show it (never its token). */
const nodeName = (rpc: string): string => rpcEndpoint(rpc).endpoint.replace(/\/rpc$/, "");

/**
 * Refuses to read or spend `address` through a node of another shard: that node holds
 * none of its outputs (its balance there is 0 and its inputs are missing), so it could
 * only mislead. `role` names the address in the message ("the wallet's address", "--from_lock").
 */
export function checkServingShard(node: NodeShard, rpc: string, address: string, role: string): number {
  const shard = shardOfAddress(address, node.shardCount);
  if (shard !== node.shard) {
    throw new SendError(
      "WALLET_WRONG_SHARD",
      `${role} ${address} is on shard ${shard} of ${node.shardCount}, but the node at ${nodeName(rpc)} serves shard ${node.shard}, which holds none of its outputs: ` +
        `pass --rpc of a node of shard ${shard} (a validator listed with shard = ${shard} in the genesis file)`,
      { addressShard: shard, nodeShard: node.shard, shardCount: node.shardCount },
    );
  }
  return shard;
}

/** Source and destination shard of a payment from `from` to `to`. */
export interface ShardRoute {
  sourceShard: number;
  destShard: number;
  crossShard: boolean;
}

export function shardRoute(node: NodeShard, from: string, to: string): ShardRoute {
  const sourceShard = shardOfAddress(from, node.shardCount);
  const destShard = shardOfAddress(to, node.shardCount);
  return { sourceShard, destShard, crossShard: sourceShard !== destShard };
}

/** The person-readable line `send` prints for a cross-shard payment. */
export function crossShardNotice(route: ShardRoute, txid: string): string {
  return (
    `cross-shard transfer: shard ${route.sourceShard} → shard ${route.destShard}. The amount leaves shard ${route.sourceShard} when this tx is final there; ` +
    `the network completes it on shard ${route.destShard} after shard ${route.sourceShard} certifies the epoch of that anchor (no further step by you). ` +
    `Follow it with: phantom wallet transfer-status ${txid}`
  );
}

/** JSON fields `address`/`balance`/`send` add when the network has more than one shard (none with one shard). */
export function shardFields(node: NodeShard, fields: Record<string, number | boolean>): Record<string, number | boolean> {
  return node.shardCount > 1 ? { ...fields, shardCount: node.shardCount } : {};
}

/** One export leaf as shard_exports lists it (the fields the wallet reads). */
export interface ExportInfo {
  exportId: string;
  destShard: number;
  amount: bigint;
  /** The source node's word for it: certified, relayed, imported, … */
  state: string;
}

/** Where one cross-shard output of a transfer stands, from the wallet's point of view. */
export type TransferState =
  | "not_final" // the tx is not final on the source shard (yet, or never: see the tx state)
  | "awaiting_certificate" // final; its epoch has no certified root listing the export yet
  | "certified" // in a certified root: the network relays it to the destination
  | "relayed" // claim delivered to the destination, not yet imported there
  | "imported"; // an output on the destination shard: complete

export interface TransferOutput {
  outputIndex: number;
  address: string;
  destShard: number;
  amountUnits: string;
  exportId: string;
  state: TransferState;
}

/** A method missing on the node (JSON-RPC -32601): a node without cross-shard status. */
const isMethodMissing = (e: unknown): boolean => isPhantomError(e) && e.code === "RPC_METHOD_NOT_FOUND";

function noShardStatus(rpc: string, method: string): SendError {
  return new SendError("WALLET_NO_SHARD_STATUS", `the node at ${nodeName(rpc)} does not support cross-shard status (it has no ${method} method: a node built before sharding); ask a node of the source shard that runs a sharding-aware version`);
}

/** Reads one leaf of a shard_exports answer; undefined for a leaf the wallet cannot read. */
function exportInfoOf(raw: unknown): ExportInfo | undefined {
  if (!raw || typeof raw !== "object") return undefined;
  const r = raw as Record<string, unknown>;
  const amount = r.amountUnits;
  if (typeof r.exportId !== "string" || !/^[0-9a-f]{64}$/i.test(r.exportId) || !Number.isSafeInteger(r.destShard) || !isDigits(amount) || typeof r.state !== "string") return undefined;
  return { exportId: r.exportId.toLowerCase(), destShard: r.destShard as number, amount: BigInt(amount), state: r.state };
}

/** shard_exports {epoch}: the exports the node lists for that epoch of its shard. */
export async function fetchExports(rpc: string, epoch: bigint, signal?: AbortSignal): Promise<ExportInfo[]> {
  let res: unknown;
  try {
    res = await rpcCall<unknown>(rpc, "shard_exports", { epoch: epoch.toString() }, signal);
  } catch (e) {
    if (isMethodMissing(e)) throw noShardStatus(rpc, "shard_exports");
    throw e;
  }
  // docs/RPC.md shard_exports: { epoch, closed, certified, root, certificate, signers, exports: [...] }
  const list = res && typeof res === "object" && Array.isArray((res as { exports?: unknown }).exports) ? (res as { exports: unknown[] }).exports : undefined;
  if (!list) throw new SendError("WALLET_BAD_RESPONSE", "shard_exports answered without an exports list");
  return list.flatMap((l) => {
    const e = exportInfoOf(l);
    return e ? [e] : [];
  });
}

/** shard_importStatus {exportIds}: which of these exports are imported (as the node knows). */
export async function fetchImportStatus(rpc: string, exportIds: string[], signal?: AbortSignal): Promise<Map<string, boolean>> {
  let res: unknown;
  try {
    res = await rpcCall<unknown>(rpc, "shard_importStatus", { exportIds }, signal);
  } catch (e) {
    if (isMethodMissing(e)) throw noShardStatus(rpc, "shard_importStatus");
    throw e;
  }
  // docs/RPC.md shard_importStatus: one { exportId, status: imported | pending | unknown } per id.
  if (!Array.isArray(res)) throw new SendError("WALLET_BAD_RESPONSE", "shard_importStatus answered without a list");
  const out = new Map<string, boolean>();
  for (const x of res as unknown[]) {
    const r = x as Record<string, unknown> | null;
    if (r && typeof r.exportId === "string" && typeof r.status === "string") out.set(r.exportId.toLowerCase(), r.status === "imported");
  }
  return out;
}

/** The outputs of a tx as tx_get lists them. */
export interface TxOutputJson {
  index: number;
  amount: string | null;
  address: string;
}

/** The cross-shard outputs of a tx final (or not) on `sourceShard`, with their export ids (SPEC_SHARDING §5.2). */
export function crossShardOutputs(node: NodeShard, txid: string, outputs: TxOutputJson[]): Omit<TransferOutput, "state">[] {
  const id = fromHex(txid, 32, "txid");
  return outputs.flatMap((o) => {
    const destShard = shardOfAddress(o.address, node.shardCount);
    if (destShard === node.shard) return [];
    return [{ outputIndex: o.index, address: o.address, destShard, amountUnits: o.amount ?? "0", exportId: toHex(exportId({ sourceShard: node.shard, txid: id, outputIndex: o.index })) }];
  });
}

/** The epoch (SPEC_SHARDING §6) holding an anchor. */
export const epochOfAnchor = (anchorIndex: bigint, rootInterval: bigint): bigint => anchorIndex / rootInterval;

/**
 * The state of each cross-shard output: not_final until the tx is final on the source;
 * then the source's word for the export (awaiting_certificate while its epoch's root is
 * not certified, i.e. not listed or listed without a certified state); imported as soon
 * as either the source's export state or an import status says so.
 */
export function transferStates(tx: Pick<TxStatusInfo, "state">, outputs: Omit<TransferOutput, "state">[], exports: ExportInfo[], imported: Map<string, boolean>): TransferOutput[] {
  const byId = new Map(exports.map((e) => [e.exportId, e]));
  return outputs.map((o) => {
    if (tx.state !== "final") return { ...o, state: "not_final" };
    if (imported.get(o.exportId) === true) return { ...o, state: "imported" };
    const leaf = byId.get(o.exportId);
    const state: TransferState = leaf === undefined ? "awaiting_certificate" : leaf.state === "imported" ? "imported" : leaf.state === "relayed" ? "relayed" : leaf.state === "certified" ? "certified" : "awaiting_certificate";
    return { ...o, state };
  });
}

/** One sentence per output for people: where it stands and what happens next. */
export function transferMessage(node: NodeShard, epoch: bigint | null, o: TransferOutput): string {
  const what = `output ${o.outputIndex} (${o.amountUnits} units to shard ${o.destShard})`;
  switch (o.state) {
    case "not_final":
      return `${what}: the tx is not final on shard ${node.shard}; nothing has left shard ${node.shard}`;
    case "awaiting_certificate":
      return `${what}: final on shard ${node.shard} in epoch ${epoch}; waiting for shard ${node.shard} to certify that epoch (anchors ${epoch! * node.rootInterval}..${(epoch! + 1n) * node.rootInterval - 1n}), then the network relays it`;
    case "certified":
      return `${what}: epoch ${epoch} is certified on shard ${node.shard}; the network is relaying it to shard ${o.destShard}`;
    case "relayed":
      return `${what}: delivered to shard ${o.destShard}, waiting to be imported there`;
    case "imported":
      return `${what}: imported on shard ${o.destShard}: complete`;
  }
}
