/**
 * The relay (docs/SPEC_SHARDING.md §8, docs/OPERATIONS.md `--shard_rpc`): for every
 * certified epoch of this shard, each export becomes an import claim (certificate, leaf,
 * proof) submitted over JSON-RPC (`shard_importSubmit`) to a node of its destination
 * shard, and is followed (`shard_importStatus`) until that shard reports it imported; a
 * claim the destination lost (pool deadline, restart) is submitted again. Progress lives
 * in SQLite (`shard_relay`), so a restarted validator resumes. The validator with index
 * epoch mod k relays an epoch's exports at once, the others only if they are still not
 * imported after `relayGraceMs` (that validator may be down or cut off). A copy sent anyway
 * costs bytes, never value: the destination keeps one claim per export and applies it at
 * most once. Failures are counted by code (`pc_shard_relay_submissions_total`).
 */
import { PhantomError, isPhantomError } from "../errors.ts";
import { toHex } from "../crypto/bytes.ts";
import { rpcCall, rpcEndpoint } from "../rpc/client.ts";
import { encodeImportClaim, type ImportClaim } from "../ledger/cross-shard.ts";
import { exportId, exportLeafHash, exportProof, type ExportLeaf } from "../ledger/export-tree.ts";
import type { ShardCertStore, ShardMetrics } from "./shard-certs.ts";

/** Claims per `shard_importSubmit` call (the destination accepts up to shardImportSubmitMax). */
export const relayBatchMax = 64;
/** Open exports looked at per relay pass. */
export const relayPassMax = 1_024;
/** A destination call waits at most this long. */
export const relayCallTimeoutMs = 5_000;
/** How long the other validators leave an epoch's exports to its designated relayer (epoch mod k). */
export const relayGraceMs = 5_000;

/** Answer of `shard_importSubmit` per claim, and of `shard_importStatus` per export id. */
export type ImportAnswer = { exportId: string; status: "queued" | "pending" | "imported" | "unknown" } | { exportId: string; status: "refused"; code: string; message: string };

export class RelayConfigError extends PhantomError<"CONFIG_BAD_VALUE"> {}

/** Parses `--shard_rpc "1=http://127.0.0.1:8649,2=…"`: the RPC endpoint of a node of each other shard. */
export function parseShardRpc(text: string, shardCount: number, myShard: number): Map<number, string> {
  const out = new Map<number, string>();
  if (text.trim() === "") return out;
  for (const part of text.split(",")) {
    const m = /^\s*(\d+)\s*=\s*(\S+)\s*$/.exec(part);
    if (!m) throw new RelayConfigError("CONFIG_BAD_VALUE", `--shard_rpc: "${part}" is not SHARD=URL (e.g. 1=http://127.0.0.1:8649)`);
    const shard = Number(m[1]);
    if (shard >= shardCount) throw new RelayConfigError("CONFIG_BAD_VALUE", `--shard_rpc: shard ${shard} does not exist (shard_count = ${shardCount})`);
    if (shard === myShard) throw new RelayConfigError("CONFIG_BAD_VALUE", `--shard_rpc: shard ${shard} is this node's own shard`);
    if (out.has(shard)) throw new RelayConfigError("CONFIG_BAD_VALUE", `--shard_rpc: shard ${shard} is given twice`);
    try {
      new URL(m[2]!);
    } catch {
      throw new RelayConfigError("CONFIG_BAD_VALUE", `--shard_rpc: "${m[2]}" is not a URL`);
    }
    out.set(shard, m[2]!);
  }
  return out;
}

export interface ShardRelayOptions {
  certs: ShardCertStore;
  /** This shard's exports of a closed epoch, in finalized order (the ledger store). */
  exportsOfEpoch(epoch: bigint): ExportLeaf[];
  /** Destination shard -> RPC URL of one of its nodes. */
  endpoints: ReadonlyMap<number, string>;
  metrics: ShardMetrics;
  log(line: Record<string, unknown>): void;
  /** JSON-RPC call (default rpcCall over HTTP). */
  call?: <T>(url: string, method: string, params: unknown, signal?: AbortSignal) => Promise<T>;
  /** This validator's index in its shard's committee and the committee size (who relays an epoch first). */
  myIndex: number;
  k: number;
  /** Monotonic milliseconds (I/O scheduling only). */
  now(): number;
}

export class ShardRelay {
  private running = false;
  /** Certified epochs registered for relaying up to (exclusive). */
  private nextEpoch = 0n;
  /** Destinations whose failure was logged (one line per failure streak). */
  private readonly failing = new Set<number>();
  /** When this process first saw each open epoch (decimal string): the grace period runs from there. */
  private readonly seenAt = new Map<string, number>();

  constructor(private readonly o: ShardRelayOptions) {}

  /** Registers exports of newly certified epochs (idempotent; cheap when nothing is new). */
  registerCertified(): void {
    const epochs = this.o.certs.certifiedEpochs(this.nextEpoch, relayPassMax);
    for (const epoch of epochs) {
      if (!this.o.certs.epochRegistered(epoch)) {
        const leaves = this.o.exportsOfEpoch(epoch);
        this.o.certs.addRelayExports(epoch, leaves.map((leaf) => ({ exportId: exportId(leaf), dest: leaf.destShard })));
      }
      this.nextEpoch = epoch + 1n;
    }
    this.o.metrics.relayPending.set(this.o.certs.openRelayCount());
  }

  /** The import claim of one export of a certified epoch (undefined: not certified or not an export of it). */
  claimOf(epoch: bigint, id: Uint8Array): ImportClaim | undefined {
    return this.claimsOf(epoch, [id])[0];
  }

  /** Claims of several exports of one epoch: the epoch's leaves are read and hashed once. */
  private claimsOf(epoch: bigint, ids: readonly Uint8Array[]): (ImportClaim | undefined)[] {
    const cert = this.o.certs.shardCertificate(epoch);
    if (!cert) return ids.map(() => undefined);
    const leaves = this.o.exportsOfEpoch(epoch);
    const hashes = leaves.map(exportLeafHash);
    const at = new Map(leaves.map((l, i) => [toHex(exportId(l)), i]));
    return ids.map((id) => {
      const i = at.get(toHex(id));
      return i === undefined ? undefined : { cert, leaf: leaves[i]!, proof: exportProof(hashes, i) };
    });
  }

  /** One pass: submit or follow every open export. One pass runs at a time (the node calls it on a timer). */
  async pass(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      this.registerCertified();
      const now = this.o.now();
      const open = this.o.certs.openRelays(relayPassMax).filter((e) => {
        if (e.state !== "certified" || e.attempts > 0 || e.epoch % BigInt(this.o.k) === BigInt(this.o.myIndex)) return true;
        const key = e.epoch.toString();
        if (!this.seenAt.has(key)) this.seenAt.set(key, now);
        return now - this.seenAt.get(key)! >= relayGraceMs;
      });
      const byDest = new Map<number, typeof open>();
      for (const e of open) {
        const list = byDest.get(e.dest);
        if (list) list.push(e);
        else byDest.set(e.dest, [e]);
      }
      await Promise.all([...byDest].map(([dest, list]) => this.relayTo(dest, list)));
      this.o.metrics.relayPending.set(this.o.certs.openRelayCount());
    } finally {
      this.running = false;
    }
  }

  private async relayTo(dest: number, list: ReturnType<ShardCertStore["openRelays"]>): Promise<void> {
    const url = this.o.endpoints.get(dest);
    if (url === undefined) {
      this.fail(dest, "RELAY_NO_ENDPOINT", `no --shard_rpc endpoint for shard ${dest}: ${list.length} export(s) wait`, list.length);
      return;
    }
    // Relayed ones: ask whether they are in; the ones the destination does not know are submitted (again).
    const relayed = list.filter((e) => e.state === "relayed");
    let toSubmit = list.filter((e) => e.state !== "relayed");
    if (relayed.length > 0) {
      const answers = await this.call<ImportAnswer[]>(dest, url, "shard_importStatus", { exportIds: relayed.map((e) => toHex(e.exportId)) });
      if (answers === undefined) return;
      const byId = new Map(answers.map((a) => [a.exportId, a]));
      for (const e of relayed) {
        const a = byId.get(toHex(e.exportId));
        if (a?.status === "imported") this.imported(e.exportId, dest);
        else if (a?.status !== "pending") toSubmit.push(e);
      }
    }
    toSubmit = toSubmit.slice(0, relayBatchMax);
    if (toSubmit.length === 0) return;
    const byEpoch = new Map<bigint, typeof toSubmit>();
    for (const e of toSubmit) {
      const list = byEpoch.get(e.epoch);
      if (list) list.push(e);
      else byEpoch.set(e.epoch, [e]);
    }
    const claims = [...byEpoch].flatMap(([epoch, list]) => {
      const built = this.claimsOf(epoch, list.map((e) => e.exportId));
      return list.flatMap((e, i) => (built[i] ? [{ e, hex: toHex(encodeImportClaim(built[i]!)) }] : []));
    });
    const answers = await this.call<ImportAnswer[]>(dest, url, "shard_importSubmit", { claims: claims.map((c) => c.hex) });
    if (answers === undefined) return;
    claims.forEach(({ e }, i) => {
      const a = answers[i];
      if (a?.status === "imported") this.imported(e.exportId, dest);
      else if (a?.status === "queued" || a?.status === "pending") this.o.certs.setRelayState(e.exportId, "relayed", true, null);
      else {
        const code = a?.status === "refused" ? a.code : "RELAY_BAD_ANSWER";
        this.o.metrics.relaySubmissions.inc({ outcome: "RELAY_REFUSED" });
        this.o.certs.setRelayState(e.exportId, "certified", true, code);
        // Retried every pass: logged when the refusal first appears or changes, counted always.
        if (e.lastCode !== code) this.o.log({ type: "relay_refused", level: "warning", code, dest, exportId: toHex(e.exportId), message: a?.status === "refused" ? a.message : "answer missing" });
      }
    });
  }

  private imported(id: Uint8Array, dest: number): void {
    this.o.certs.setRelayState(id, "imported", false, null);
    this.o.metrics.exportsImportedRemote.inc();
    this.o.log({ type: "relay_imported", dest, exportId: toHex(id) });
  }

  private async call<T>(dest: number, url: string, method: string, params: unknown): Promise<T | undefined> {
    const signal = AbortSignal.timeout(relayCallTimeoutMs);
    try {
      const result = await (this.o.call ?? rpcCall)<T>(url, method, params, signal);
      this.o.metrics.relaySubmissions.inc({ outcome: "ok" });
      if (this.failing.delete(dest)) this.o.log({ type: "relay_recovered", dest });
      return result;
    } catch (e) {
      if (!isPhantomError(e)) throw e;
      const code = e.code === "RPC_UNREACHABLE" || e.code === "RPC_ABORTED" ? "RELAY_UNREACHABLE" : "RELAY_HTTP";
      // rpcCall's messages name the endpoint without the token a URL may carry; so does this one.
      this.fail(dest, code, `${method} to shard ${dest} (${rpcEndpoint(url).endpoint}): [${e.code}] ${e.message}`, 1);
      return undefined;
    }
  }

  private fail(dest: number, code: string, message: string, n: number): void {
    this.o.metrics.relaySubmissions.inc({ outcome: code }, n);
    if (this.failing.has(dest)) return;
    this.failing.add(dest);
    this.o.log({ type: "relay_failed", level: "warning", code, dest, message });
  }
}
