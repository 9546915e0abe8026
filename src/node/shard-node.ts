/**
 * The sharded side of a validator (docs/SPEC_SHARDING.md), present only when the genesis
 * has shard_count > 1: it signs each epoch root the ledger closes and gossips the
 * signature to the shard's peers, collects theirs into finality certificates (SQLite),
 * admits import claims for this shard into the import pool (checked like the ledger
 * will, so junk never reaches a payload), hands the pool's claims to the event planner,
 * and runs the relay that carries this shard's certified exports to their destinations.
 */
import type { Registry } from "prom-client";
import type { Genesis } from "../genesis/genesis.ts";
import type { ShardingParams } from "../ledger/apply.ts";
import type { AnchorDiff } from "../ledger/state.ts";
import { checkImportClaim, decodeImportClaim, type ImportClaim } from "../ledger/cross-shard.ts";
import { exportId } from "../ledger/export-tree.ts";
import type { P2pMessage } from "../net/p2p/messages.ts";
import type { Peer } from "../net/p2p/peers.ts";
import type { SqliteStore } from "../store/sqlite-store.ts";
import type { VerifyItem } from "../crypto/ed25519.ts";
import { toHex } from "../crypto/bytes.ts";
import { isPhantomError } from "../errors.ts";
import { ShardCerts, SCORED_REFUSALS, createShardMetrics, type ShardMetrics } from "./shard-certs.ts";
import { ImportPool, designatedCarrier, type PendingImport } from "./import-pool.ts";
import { ShardRelay, type ImportAnswer } from "./shard-relay.ts";

/** Own root signatures re-sent to a peer whose session becomes ready (it may have missed them). */
export const ownSignaturesOnConnect = 4;
/** The relay runs this often (ms). */
export const relayIntervalMs = 1_000;
/** Import claims one event carries at most. */
export const importsPerEventMax = 64;

export interface ShardSideOptions {
  /** The node's genesis view of its shard (genesisForShard). */
  genesis: Genesis;
  sharding: ShardingParams;
  store: SqliteStore;
  /** This validator's index in its shard's committee and its key. */
  myIndex: number;
  secretKey: Uint8Array;
  registry: Registry;
  /** Destination shard -> RPC URL (`--shard_rpc`). */
  endpoints: ReadonlyMap<number, string>;
  verify: (items: readonly VerifyItem[]) => boolean[];
  broadcast(m: P2pMessage, except?: Peer): void;
  /** Scores a peer whose message was refused for something an honest peer never sends. */
  misbehaved(peer: Peer, code: string): void;
  log(line: Record<string, unknown>): void;
  /** Monotonic milliseconds (I/O scheduling only). */
  now(): number;
}

export class ShardSide {
  readonly certs: ShardCerts;
  readonly pool = new ImportPool();
  readonly relay: ShardRelay;
  readonly metrics: ShardMetrics;

  constructor(private readonly o: ShardSideOptions) {
    this.metrics = createShardMetrics(o.registry);
    this.certs = new ShardCerts({
      db: o.store.db, chain: o.sharding.chain, shard: o.sharding.shard, layout: o.sharding.layout,
      myIndex: o.myIndex, secretKey: o.secretKey, metrics: this.metrics, verify: o.verify,
    });
    this.relay = new ShardRelay({
      certs: this.certs.store, exportsOfEpoch: (e) => o.store.exportsOfEpoch(e), endpoints: o.endpoints, metrics: this.metrics, log: o.log,
      myIndex: o.myIndex, k: o.genesis.k, now: o.now,
    });
    // Roots closed while the node was down (or before it signed them) are signed at start.
    const last = o.store.lastShardRoot();
    if (last !== undefined) this.onRoot(last.epoch);
  }

  get shard(): number {
    return this.o.sharding.shard;
  }

  /** Signs (once) the roots of epochs up to `upTo` this validator has not signed yet, and gossips them. */
  private onRoot(upTo: bigint): void {
    const from = this.certs.store.ownLastEpoch(this.o.myIndex) + 1n;
    // After a long outage only the newest few matter for certificates; older ones were certified by the others.
    const start = upTo - from > 64n ? upTo - 64n : from;
    for (let e = start; e <= upTo; e++) {
      const root = this.o.store.shardRoot(e);
      if (root === undefined) continue;
      const { message, certified } = this.certs.ownRoot(root);
      this.o.broadcast(message);
      if (certified) this.noteCertified(certified.root.epoch);
    }
  }

  /** After the ledger committed an anchor: sign a closed epoch, retire applied claims. */
  afterAnchor(diff: AnchorDiff): void {
    if (diff.shardRoot !== undefined) this.onRoot(diff.shardRoot.epoch);
    this.metrics.importsApplied.inc(diff.imports.length);
    // Every claim in the anchor, applied or void, has an `import` outcome named by its export id.
    this.pool.remove(diff.outcomes.flatMap((o) => (o.kind === "import" ? [toHex(o.id)] : [])));
    this.metrics.importPool.set(this.pool.size);
  }

  private noteCertified(epoch: bigint): void {
    // The relay's next pass (at most relayIntervalMs away) picks the epoch up.
    this.o.log({ type: "shard_certified", shard: this.shard, epoch: epoch.toString() });
  }

  onRootSignature(peer: Peer, m: Extract<P2pMessage, { kind: "root_signature" }>): void {
    const r = this.certs.receive(m);
    if (!r.ok) {
      if (SCORED_REFUSALS.has(r.code)) this.o.misbehaved(peer, r.code);
      return;
    }
    if (r.certified) this.noteCertified(r.certified.root.epoch);
    // The sender is behind us: our signature of that epoch lets it certify too.
    if (r.lateEpoch && m.signer === peer.validator) {
      const own = this.certs.ownSignatureMessage(m.root.epoch);
      if (own) peer.send(own);
    }
  }

  onPeerReady(peer: Peer): void {
    for (const s of this.certs.store.ownRecent(this.o.myIndex, ownSignaturesOnConnect)) peer.send({ kind: "root_signature", root: s.root, signer: this.o.myIndex, signature: s.signature });
  }

  /**
   * Admits encoded import claims (RPC or a peer's `txs`): each is checked as the ledger
   * will check it (docs/SPEC_SHARDING.md §8) and queued once; new ones are gossiped to
   * the shard's peers so any of them can carry it.
   */
  submitClaims(encoded: readonly Uint8Array[], nowTick: number, from: Peer | null): ImportAnswer[] {
    const fresh: Uint8Array[] = [];
    const answers = encoded.map((bytes): ImportAnswer => {
      let claim: ImportClaim;
      try {
        claim = decodeImportClaim(bytes);
      } catch (e) {
        if (!isPhantomError(e)) throw e;
        return this.refused("", e.code, e.message);
      }
      const id = exportId(claim.leaf);
      const idHex = toHex(id);
      if (this.pool.has(idHex)) return this.answer(idHex, "pending");
      try {
        checkImportClaim(claim, { ...this.o.sharding, verify: this.o.verify }, this.o.store);
      } catch (e) {
        if (!isPhantomError(e)) throw e;
        if (e.code === "IMPORT_DUPLICATE") return this.answer(idHex, "imported");
        return this.refused(idHex, e.code, e.message);
      }
      try {
        this.pool.add(idHex, claim, designatedCarrier(id, this.o.genesis.k) === this.o.myIndex, nowTick);
      } catch (e) {
        if (!isPhantomError(e)) throw e;
        return this.refused(idHex, e.code, e.message);
      }
      fresh.push(bytes); // decoded exactly: the bytes are the claim's canonical encoding
      return this.answer(idHex, "queued");
    });
    if (fresh.length > 0) this.o.broadcast({ kind: "txs", txs: fresh }, from ?? undefined);
    this.metrics.importPool.set(this.pool.size);
    return answers;
  }

  private answer(exportIdHex: string, status: "queued" | "pending" | "imported"): ImportAnswer {
    this.metrics.importClaims.inc({ outcome: status === "pending" ? "known" : status });
    return { exportId: exportIdHex, status };
  }

  private refused(exportIdHex: string, code: string, message: string): ImportAnswer {
    this.metrics.importClaims.inc({ outcome: code });
    return { exportId: exportIdHex, status: "refused", code, message };
  }

  /** Whether each export was imported here, waits in the pool, or is unknown. */
  importStatus(ids: readonly Uint8Array[]): ImportAnswer[] {
    return ids.map((id) => {
      const hex = toHex(id);
      return { exportId: hex, status: this.o.store.isImported(id) ? "imported" : this.pool.has(hex) ? "pending" : "unknown" };
    });
  }

  /** Claims our next event may carry. */
  toCarry(nowTick: number): PendingImport[] {
    return this.pool.toCarry(nowTick, importsPerEventMax);
  }

  /** An event (ours or a peer's) carries these claims: nobody else needs to carry them meanwhile. */
  carried(claims: readonly ImportClaim[], nowTick: number): void {
    if (claims.length > 0) this.pool.markCarried(claims.map((c) => toHex(exportId(c.leaf))), nowTick);
  }

  tick(nowTick: number): void {
    this.pool.age(nowTick);
    this.metrics.importPool.set(this.pool.size);
  }

  /** The relay's timer body. */
  relayPass(): Promise<void> {
    return this.relay.pass().catch((e: unknown) => this.relayError(e));
  }

  private relayError(e: unknown): void {
    if (!isPhantomError(e)) throw e;
    this.o.log({ type: "relay_error", level: "warning", code: e.code, message: e.message });
  }
}
