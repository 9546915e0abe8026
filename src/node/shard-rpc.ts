/**
 * JSON-RPC methods of sharding (docs/RPC.md "shard_*"): this node's shard and its supply
 * counters, the exports of an epoch with their relay state, certificates, and the import
 * side (claims in, import status out). On a single-shard network `shard_info` still
 * answers (shard 0 of 1) and the rest have nothing to report.
 */
import type { Json, RpcMethods } from "../rpc/jsonrpc.ts";
import { PhantomError } from "../errors.ts";
import { toHex } from "../crypto/bytes.ts";
import { badParams, hexValue, objectParams as params, unsignedParam, type Params } from "../rpc/params.ts";
import { encodeAddress } from "../wallet/address.ts";
import { exportId } from "../ledger/export-tree.ts";
import { encodeShardCertificate, shardRootDigest, type ShardRoot } from "../ledger/shard-root.ts";
import type { SqliteStore } from "../store/sqlite-store.ts";
import type { Genesis } from "../genesis/genesis.ts";
import type { PhantomNode } from "./node.ts";

/** Claims per `shard_importSubmit`, export ids per `shard_importStatus`. */
export const shardImportSubmitMax = 256;
const epochMax = 2n ** 63n - 1n;

function hexList(p: Params, key: string, max: number, length?: number): Uint8Array[] {
  const v = p[key];
  if (!Array.isArray(v) || v.length === 0 || v.length > max) throw badParams(`params.${key} must be an array of 1..${max} hex strings`);
  return v.map((x, i) => {
    if (typeof x !== "string" || x.length === 0) throw badParams(`params.${key}[${i}] must be a non-empty hex string`);
    return hexValue(x, `params.${key}[${i}]`, length);
  });
}

const rootJson = (root: ShardRoot): Json => ({
  epoch: root.epoch.toString(), digest: toHex(shardRootDigest(root)), stateCommitment: toHex(root.stateCommitment),
  exportRoot: toHex(root.exportRoot), exportCount: root.exportCount, prevRoot: toHex(root.prevRoot),
});

export function shardRpcMethods(node: PhantomNode, store: SqliteStore, genesis: Genesis): RpcMethods {
  const side = () => {
    if (node.shardSide === null) throw new PhantomError("RPC_NOT_FOUND", "this network has one shard: there are no shard roots, exports or imports");
    return node.shardSide;
  };
  const epochParam = (raw: unknown): bigint => {
    const e = unsignedParam(params(raw), "epoch", epochMax);
    if (e === undefined) throw badParams("params.epoch is required (a decimal string or JSON integer)");
    return e;
  };
  return {
    shard_info: (): Json => {
      const s = node.shardSide;
      const last = s ? store.lastShardRoot() : undefined;
      const lastCertified = s ? s.certs.store.lastCertifiedEpoch() : -1n;
      // Commits and these reads are synchronous, so the figures belong to one anchor.
      const counters = s ? store.shardSupply() : { minted: store.mintTip().emittedUnits, exported: 0n, imported: 0n };
      const unspent = store.unspentUnits();
      const pending = store.pendingFeesUnits();
      return {
        shard: s?.shard ?? 0, shardCount: genesis.shardCount, rootInterval: genesis.shardRootInterval.toString(), validator: node.validator,
        anchorIndex: store.lastApplied()?.anchorIndex.toString() ?? null,
        lastRoot: last ? rootJson(last) : null,
        lastCertifiedEpoch: lastCertified < 0n ? null : lastCertified.toString(),
        certifiedEpochs: s ? s.certs.store.certificateCount() : 0,
        importPool: s ? s.pool.size : 0,
        relayPending: s ? s.certs.store.openRelayCount() : 0,
        supply: {
          mintedUnits: counters.minted.toString(), exportedUnits: counters.exported.toString(), importedUnits: counters.imported.toString(),
          unspentUnits: unspent.toString(), feesPendingUnits: pending.toString(),
          balanced: unspent + pending === counters.minted - counters.exported + counters.imported,
        },
      };
    },
    shard_exports: (raw): Json => {
      const epoch = epochParam(raw);
      const s = side();
      const root = store.shardRoot(epoch);
      const cert = s.certs.store.shardCertificate(epoch);
      const leaves = store.exportsOfEpoch(epoch);
      return {
        epoch: epoch.toString(), closed: root !== undefined, certified: cert !== undefined,
        root: root ? rootJson(root) : null,
        certificate: cert ? toHex(encodeShardCertificate(cert)) : null,
        signers: cert ? cert.signatures.map((x) => x.signer) : [],
        exports: leaves.map((l) => {
          const id = exportId(l);
          const relay = s.certs.store.relayState(id);
          return {
            exportId: toHex(id), destShard: l.destShard, anchorIndex: l.anchorIndex.toString(), txid: toHex(l.txid), outputIndex: l.outputIndex,
            amountUnits: l.amount.toString(), address: encodeAddress(l.lockCommitment),
            state: relay?.state ?? (cert ? "certified" : "pending"), relayAttempts: relay?.attempts ?? 0, lastCode: relay?.lastCode ?? null,
          };
        }),
      };
    },
    shard_certificate: (raw): Json => {
      const epoch = epochParam(raw);
      const cert = side().certs.store.shardCertificate(epoch);
      if (!cert) throw new PhantomError("RPC_NOT_FOUND", `epoch ${epoch} of this shard has no finality certificate here yet`);
      return { epoch: epoch.toString(), root: rootJson(cert.root), signers: cert.signatures.map((x) => x.signer), certificate: toHex(encodeShardCertificate(cert)) };
    },
    shard_importStatus: (raw): Json => {
      const ids = hexList(params(raw), "exportIds", shardImportSubmitMax, 32);
      if (node.shardSide === null) return ids.map((id) => ({ exportId: toHex(id), status: "unknown" }));
      return node.shardSide.importStatus(ids);
    },
    shard_importSubmit: (raw): Json => {
      const claims = hexList(params(raw), "claims", shardImportSubmitMax);
      if (node.shardSide === null) {
        return claims.map(() => ({ exportId: "", status: "refused", code: "IMPORT_WRONG_DESTINATION", message: "this network has one shard: it imports nothing" }));
      }
      return node.submitImportClaims(claims);
    },
  };
}

/** Rate-limit costs (docs/RPC.md): a claim costs its certificate's signature checks. */
export const SHARD_RPC_COSTS: Record<string, (params: unknown) => number> = {
  shard_info: () => 50,
  shard_exports: () => 20,
  shard_certificate: () => 2,
  shard_importStatus: () => 5,
  shard_importSubmit: (raw) => {
    const n = typeof raw === "object" && raw !== null && Array.isArray((raw as Params).claims) ? ((raw as Params).claims as unknown[]).length : 1;
    return 5 * Math.max(1, Math.min(n, shardImportSubmitMax));
  },
};
