/**
 * Root signatures and finality certificates of this validator's shard (docs/SPEC_SHARDING.md
 * §7, docs/P2P.md `root_signature`). After the ledger closes an epoch the validator signs
 * "PHANTOM_SHARD_ROOT_CERT_V0" || root_digest and gossips it to its shard; every node
 * collects the signatures it receives (SQLite, so a restart keeps them) and, once the
 * signers of its own root hold stake ≥ q_s, assembles the certificate and stores it. Only
 * the root this node computed itself is ever certified here: a signature over another
 * digest for the same epoch is kept (at most two per signer and epoch) and counted as a
 * mismatch, never used. I/O: SQLite only; the node owns the timers and the network.
 */
import type { Database, Statement } from "bun:sqlite";
import type { Registry } from "prom-client";
import { Counter, Gauge } from "prom-client";
import { verifyBatch, type VerifyItem } from "../crypto/ed25519.ts";
import { equalBytes, toHex } from "../crypto/bytes.ts";
import {
  assembleCertificate, certMessage, decodeShardCertificate, decodeShardRoot, encodeShardCertificate, encodeShardRoot, shardRootDigest,
  signShardRoot, verifyShardCertificate, type CertSignature, type ShardCertificate, type ShardRoot,
} from "../ledger/shard-root.ts";
import type { ShardLayout } from "../ledger/shard.ts";

/** Signatures for epochs further than this beyond our own newest root are refused (bounds what a signer can make us store). */
export const SHARD_SIG_EPOCHS_AHEAD_MAX = 1_024n;
/** Distinct roots kept per (epoch, signer): the second one is already proof of a double signature. */
const DIGESTS_PER_SIGNER_MAX = 2;

/** Why a received root signature was not counted (metric label `outcome`, and the peer penalty when `scored`). */
export type RootSignatureRefusal =
  | "SHARD_CERT_WRONG_CHAIN"
  | "SHARD_CERT_WRONG_SHARD"
  | "SHARD_CERT_UNKNOWN_SIGNER"
  | "SHARD_CERT_BAD_SIGNATURE"
  | "SHARD_SIG_DUPLICATE"
  | "SHARD_SIG_EPOCH_AHEAD"
  | "SHARD_SIG_TOO_MANY_ROOTS";

/** Refusals an honest peer cannot cause (its signature or root is wrong): the node scores these. */
export const SCORED_REFUSALS: ReadonlySet<RootSignatureRefusal> = new Set(["SHARD_CERT_WRONG_CHAIN", "SHARD_CERT_WRONG_SHARD", "SHARD_CERT_UNKNOWN_SIGNER", "SHARD_CERT_BAD_SIGNATURE"]);

export type RootSignatureResult =
  | { ok: true; certified: ShardCertificate | null; lateEpoch: boolean }
  | { ok: false; code: RootSignatureRefusal; message: string };

export function createShardMetrics(registry: Registry) {
  const r = [registry];
  return {
    rootSignatures: new Counter({ name: "pc_shard_root_signatures_total", help: "Root signatures received from peers, by outcome: accepted, or the refusal code (SHARD_CERT_* bad signer/signature/shard/chain, SHARD_SIG_DUPLICATE, SHARD_SIG_EPOCH_AHEAD, SHARD_SIG_TOO_MANY_ROOTS)", labelNames: ["outcome"] as const, registers: r }),
    rootMismatches: new Counter({ name: "pc_shard_root_mismatches_total", help: "Valid signatures by a committee member over a root of one of our epochs that differs from the root this node computed (a diverged or Byzantine signer)", registers: r }),
    rootsSigned: new Counter({ name: "pc_shard_roots_signed_total", help: "Shard roots this validator computed and signed", registers: r }),
    certificates: new Counter({ name: "pc_shard_certificates_total", help: "Finality certificates this node assembled (signers of stake >= q_s over its own root)", registers: r }),
    lastRootEpoch: new Gauge({ name: "pc_shard_last_root_epoch", help: "Epoch of the newest shard root this node computed (-1: none yet)", registers: r }),
    lastCertifiedEpoch: new Gauge({ name: "pc_shard_last_certified_epoch", help: "Newest epoch of this shard with a finality certificate here (-1: none yet)", registers: r }),
    importClaims: new Counter({ name: "pc_shard_import_claims_total", help: "Import claims submitted to this node (RPC or peers), by outcome: queued, known (already pending), imported (already imported), or the refusal code (CODEC_*, SHARD_CERT_*, IMPORT_*)", labelNames: ["outcome"] as const, registers: r }),
    importsApplied: new Counter({ name: "pc_shard_imports_applied_total", help: "Import claims applied by this shard's finalized order (UTXO created)", registers: r }),
    importPool: new Gauge({ name: "pc_shard_import_pool_claims", help: "Import claims waiting to be put on chain or to finalize", registers: r }),
    relaySubmissions: new Counter({ name: "pc_shard_relay_submissions_total", help: "Relay calls to other shards' nodes (shard_importSubmit, shard_importStatus), by outcome: ok, or the failure (RELAY_UNREACHABLE, RELAY_HTTP, RELAY_REFUSED, RELAY_NO_ENDPOINT)", labelNames: ["outcome"] as const, registers: r }),
    relayPending: new Gauge({ name: "pc_shard_relay_pending_exports", help: "Exports of certified epochs not yet reported imported by their destination shard", registers: r }),
    exportsImportedRemote: new Counter({ name: "pc_shard_relay_imported_total", help: "Exports of this shard that the destination shard reported imported", registers: r }),
  };
}
export type ShardMetrics = ReturnType<typeof createShardMetrics>;

export interface ShardCertsOptions {
  db: Database;
  /** Genesis commitment (the `chain` of every root). */
  chain: Uint8Array;
  shard: number;
  /** The whole network's layout (committee of every shard). */
  layout: ShardLayout;
  /** This validator's index in its shard's committee and its signing key. */
  myIndex: number;
  secretKey: Uint8Array;
  metrics: ShardMetrics;
  verify?: (items: readonly VerifyItem[]) => boolean[];
}

type Row = Record<string, unknown>;
const big = (v: unknown): bigint => (typeof v === "bigint" ? v : BigInt(v as number));
const bytes = (v: unknown): Uint8Array => new Uint8Array(v as Uint8Array);

/**
 * The SQLite side: `shard_root_sigs` (every counted signature, own ones included, with the
 * root it signs) and `shard_certs` (one certificate per epoch of this shard). Created on
 * first use; single-shard stores never get them.
 */
export class ShardCertStore {
  private readonly st: Record<string, Statement>;

  constructor(readonly db: Database) {
    db.run(`CREATE TABLE IF NOT EXISTS shard_root_sigs (epoch INTEGER NOT NULL, signer INTEGER NOT NULL, digest BLOB NOT NULL, root BLOB NOT NULL, signature BLOB NOT NULL, PRIMARY KEY (epoch, signer, digest))`);
    db.run(`CREATE TABLE IF NOT EXISTS shard_certs (epoch INTEGER PRIMARY KEY, digest BLOB NOT NULL, cert BLOB NOT NULL)`);
    db.run(`CREATE TABLE IF NOT EXISTS shard_relay (export_id BLOB PRIMARY KEY, epoch INTEGER NOT NULL, dest INTEGER NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL, last_code TEXT)`);
    this.st = {
      putSig: db.prepare(`INSERT OR IGNORE INTO shard_root_sigs (epoch, signer, digest, root, signature) VALUES (?, ?, ?, ?, ?)`),
      sigsOf: db.prepare(`SELECT signer, digest, root, signature FROM shard_root_sigs WHERE epoch = ? ORDER BY signer, digest`),
      sigOf: db.prepare(`SELECT signature FROM shard_root_sigs WHERE epoch = ? AND signer = ? AND digest = ?`),
      digestsOf: db.prepare(`SELECT COUNT(*) AS n FROM shard_root_sigs WHERE epoch = ? AND signer = ?`),
      ownRecent: db.prepare(`SELECT epoch, root, signature FROM shard_root_sigs WHERE signer = ? ORDER BY epoch DESC LIMIT ?`),
      putCert: db.prepare(`INSERT OR IGNORE INTO shard_certs (epoch, digest, cert) VALUES (?, ?, ?)`),
      cert: db.prepare(`SELECT cert FROM shard_certs WHERE epoch = ?`),
      certEpochs: db.prepare(`SELECT epoch FROM shard_certs WHERE epoch >= ? ORDER BY epoch LIMIT ?`),
      lastCert: db.prepare(`SELECT MAX(epoch) AS e FROM shard_certs`),
      certCount: db.prepare(`SELECT COUNT(*) AS n FROM shard_certs`),
      maxOwnEpoch: db.prepare(`SELECT MAX(epoch) AS e FROM shard_root_sigs WHERE signer = ?`),
      putRelay: db.prepare(`INSERT OR IGNORE INTO shard_relay (export_id, epoch, dest, state, attempts, last_code) VALUES (?, ?, ?, 'certified', 0, NULL)`),
      setRelay: db.prepare(`UPDATE shard_relay SET state = ?, attempts = attempts + ?, last_code = ? WHERE export_id = ?`),
      relayOf: db.prepare(`SELECT state, attempts, last_code FROM shard_relay WHERE export_id = ?`),
      relayOpen: db.prepare(`SELECT export_id, epoch, dest, state, attempts, last_code FROM shard_relay WHERE state <> 'imported' ORDER BY epoch, export_id LIMIT ?`),
      relayOpenCount: db.prepare(`SELECT COUNT(*) AS n FROM shard_relay WHERE state <> 'imported'`),
      relayedEpoch: db.prepare(`SELECT COUNT(*) AS n FROM shard_relay WHERE epoch = ?`),
    };
  }

  putSignature(root: ShardRoot, digest: Uint8Array, sig: CertSignature): boolean {
    return this.st.putSig!.run(root.epoch, sig.signer, digest, encodeShardRoot(root), sig.signature).changes > 0;
  }

  hasSignature(epoch: bigint, signer: number, digest: Uint8Array): boolean {
    return this.st.sigOf!.get(epoch, signer, digest) !== null;
  }

  rootsSignedBy(epoch: bigint, signer: number): number {
    return Number((this.st.digestsOf!.get(epoch, signer) as Row).n);
  }

  signatures(epoch: bigint): { signer: number; digest: Uint8Array; root: ShardRoot; signature: Uint8Array }[] {
    return (this.st.sigsOf!.all(epoch) as Row[]).map((r) => ({ signer: Number(r.signer), digest: bytes(r.digest), root: decodeShardRoot(bytes(r.root)), signature: bytes(r.signature) }));
  }

  /** Our own newest signatures (for peers that connect: they may lack them). */
  ownRecent(signer: number, limit: number): { root: ShardRoot; signature: Uint8Array }[] {
    return (this.st.ownRecent!.all(signer, limit) as Row[]).map((r) => ({ root: decodeShardRoot(bytes(r.root)), signature: bytes(r.signature) }));
  }

  /** The newest epoch this validator signed (-1n: none). */
  ownLastEpoch(signer: number): bigint {
    const e = (this.st.maxOwnEpoch!.get(signer) as Row).e;
    return e === null || e === undefined ? -1n : big(e);
  }

  putCertificate(cert: ShardCertificate, digest: Uint8Array): boolean {
    return this.st.putCert!.run(cert.root.epoch, digest, encodeShardCertificate(cert)).changes > 0;
  }

  /** The stored finality certificate of this shard's `epoch`, if assembled. */
  shardCertificate(epoch: bigint): ShardCertificate | undefined {
    const row = this.st.cert!.get(epoch) as Row | null;
    return row ? decodeShardCertificate(bytes(row.cert)) : undefined;
  }

  certifiedEpochs(from: bigint, limit: number): bigint[] {
    return (this.st.certEpochs!.all(from, limit) as Row[]).map((r) => big(r.epoch));
  }

  lastCertifiedEpoch(): bigint {
    const e = (this.st.lastCert!.get() as Row).e;
    return e === null || e === undefined ? -1n : big(e);
  }

  certificateCount(): number {
    return Number((this.st.certCount!.get() as Row).n);
  }

  // ---- relay bookkeeping (src/node/shard-relay.ts)

  /** Registers the exports of a certified epoch for relaying (idempotent). */
  addRelayExports(epoch: bigint, exports: readonly { exportId: Uint8Array; dest: number }[]): void {
    this.db.transaction(() => {
      for (const e of exports) this.st.putRelay!.run(e.exportId, epoch, e.dest);
    })();
  }

  epochRegistered(epoch: bigint): boolean {
    return Number((this.st.relayedEpoch!.get(epoch) as Row).n) > 0;
  }

  setRelayState(exportId: Uint8Array, state: RelayState, attempted: boolean, code: string | null): void {
    this.st.setRelay!.run(state, attempted ? 1 : 0, code, exportId);
  }

  relayState(exportId: Uint8Array): { state: RelayState; attempts: number; lastCode: string | null } | undefined {
    const r = this.st.relayOf!.get(exportId) as Row | null;
    return r ? { state: r.state as RelayState, attempts: Number(r.attempts), lastCode: (r.last_code as string | null) ?? null } : undefined;
  }

  openRelays(limit: number): { exportId: Uint8Array; epoch: bigint; dest: number; state: RelayState; attempts: number; lastCode: string | null }[] {
    return (this.st.relayOpen!.all(limit) as Row[]).map((r) => ({ exportId: bytes(r.export_id), epoch: big(r.epoch), dest: Number(r.dest), state: r.state as RelayState, attempts: Number(r.attempts), lastCode: (r.last_code as string | null) ?? null }));
  }

  openRelayCount(): number {
    return Number((this.st.relayOpenCount!.get() as Row).n);
  }
}

/** certified: in a certified epoch, not yet accepted by the destination; relayed: the destination holds the claim; imported: applied there. */
export type RelayState = "certified" | "relayed" | "imported";

/** Signs own roots, checks and collects peers' signatures, assembles certificates. */
export class ShardCerts {
  readonly store: ShardCertStore;
  private readonly committee: { publicKeys: Uint8Array[]; stakes: bigint[]; quorum: bigint };

  constructor(private readonly o: ShardCertsOptions) {
    this.store = new ShardCertStore(o.db);
    const c = o.layout.committees[o.shard]!;
    this.committee = { publicKeys: c.publicKeys, stakes: c.stakes, quorum: c.quorum };
    o.metrics.lastRootEpoch.set(Number(this.store.ownLastEpoch(o.myIndex)));
    o.metrics.lastCertifiedEpoch.set(Number(this.store.lastCertifiedEpoch()));
  }

  /**
   * The ledger closed an epoch with `root`: sign it (once; a replay after a restart finds
   * the stored signature), and return the message to gossip plus a certificate if the
   * signatures already held reach the quorum.
   */
  ownRoot(root: ShardRoot): { message: { kind: "root_signature"; root: ShardRoot; signer: number; signature: Uint8Array }; certified: ShardCertificate | null } {
    const digest = shardRootDigest(root);
    let signature = this.existing(root.epoch, this.o.myIndex, digest);
    if (signature === undefined) {
      signature = signShardRoot(root, this.o.myIndex, this.o.secretKey).signature;
      this.store.putSignature(root, digest, { signer: this.o.myIndex, signature });
      this.o.metrics.rootsSigned.inc();
    }
    this.o.metrics.lastRootEpoch.set(Number(this.store.ownLastEpoch(this.o.myIndex)));
    // Signatures over another root for this epoch, received before we computed ours.
    for (const s of this.store.signatures(root.epoch)) if (!equalBytes(s.digest, digest)) this.o.metrics.rootMismatches.inc();
    return { message: { kind: "root_signature", root, signer: this.o.myIndex, signature }, certified: this.tryCertify(root.epoch) };
  }

  private existing(epoch: bigint, signer: number, digest: Uint8Array): Uint8Array | undefined {
    return this.store.signatures(epoch).find((s) => s.signer === signer && equalBytes(s.digest, digest))?.signature;
  }

  /**
   * A peer's `root_signature` (SPEC_SHARDING §7 checks in order, then the node's bounds).
   * `lateEpoch`: we certified that epoch already (the sender is catching up; the node
   * answers with our own signature so it can certify too).
   */
  receive(m: { root: ShardRoot; signer: number; signature: Uint8Array }): RootSignatureResult {
    const refuse = (code: RootSignatureRefusal, message: string): RootSignatureResult => {
      this.o.metrics.rootSignatures.inc({ outcome: code });
      return { ok: false, code, message };
    };
    const { root, signer } = m;
    if (!equalBytes(root.chain, this.o.chain)) return refuse("SHARD_CERT_WRONG_CHAIN", `root signature for network ${toHex(root.chain).slice(0, 16)}…, not this one`);
    if (root.shard !== this.o.shard) return refuse("SHARD_CERT_WRONG_SHARD", `root signature for shard ${root.shard}; this node serves shard ${this.o.shard}`);
    if (signer >= this.committee.publicKeys.length) return refuse("SHARD_CERT_UNKNOWN_SIGNER", `signer ${signer} is not in shard ${this.o.shard}'s committee of ${this.committee.publicKeys.length}`);
    const digest = shardRootDigest(root);
    if (this.store.hasSignature(root.epoch, signer, digest)) return refuse("SHARD_SIG_DUPLICATE", `signer ${signer}'s signature of epoch ${root.epoch} is held already`);
    const ownLast = this.store.ownLastEpoch(this.o.myIndex);
    if (root.epoch > ownLast + SHARD_SIG_EPOCHS_AHEAD_MAX) return refuse("SHARD_SIG_EPOCH_AHEAD", `epoch ${root.epoch} is more than ${SHARD_SIG_EPOCHS_AHEAD_MAX} epochs beyond this node's newest root (${ownLast})`);
    const item = { message: certMessage(digest), signature: m.signature, publicKey: this.committee.publicKeys[signer]! };
    if (!(this.o.verify ?? verifyBatch)([item])[0]) return refuse("SHARD_CERT_BAD_SIGNATURE", `signer ${signer}'s signature over the root of epoch ${root.epoch} does not verify`);
    if (this.store.rootsSignedBy(root.epoch, signer) >= DIGESTS_PER_SIGNER_MAX) return refuse("SHARD_SIG_TOO_MANY_ROOTS", `signer ${signer} signed ${DIGESTS_PER_SIGNER_MAX} roots of epoch ${root.epoch} already`);
    this.store.putSignature(root, digest, { signer, signature: m.signature });
    this.o.metrics.rootSignatures.inc({ outcome: "accepted" });
    const own = this.existing(root.epoch, this.o.myIndex, digest);
    const ownAny = this.store.signatures(root.epoch).some((s) => s.signer === this.o.myIndex);
    if (ownAny && own === undefined) this.o.metrics.rootMismatches.inc();
    const late = this.store.shardCertificate(root.epoch) !== undefined;
    return { ok: true, certified: late ? null : this.tryCertify(root.epoch), lateEpoch: late };
  }

  /** Our own signature of `epoch`, as a message (answer to a late signer). */
  ownSignatureMessage(epoch: bigint): { kind: "root_signature"; root: ShardRoot; signer: number; signature: Uint8Array } | undefined {
    const s = this.store.signatures(epoch).find((x) => x.signer === this.o.myIndex);
    return s && { kind: "root_signature", root: s.root, signer: this.o.myIndex, signature: s.signature };
  }

  /** At quorum over our own root: assemble, check and store the certificate (once). */
  private tryCertify(epoch: bigint): ShardCertificate | null {
    if (this.store.shardCertificate(epoch) !== undefined) return null;
    const sigs = this.store.signatures(epoch);
    const own = sigs.find((s) => s.signer === this.o.myIndex);
    if (own === undefined) return null;
    const agreeing = sigs.filter((s) => equalBytes(s.digest, own.digest));
    const stake = agreeing.reduce((a, s) => a + this.committee.stakes[s.signer]!, 0n);
    if (stake < this.committee.quorum) return null;
    const cert = assembleCertificate(own.root, agreeing.map((s) => ({ signer: s.signer, signature: s.signature })));
    // Every signature was verified on arrival; checking the assembled bytes once more costs k verifications per epoch.
    verifyShardCertificate(cert, { chain: this.o.chain, layout: this.o.layout, expectShard: this.o.shard, ...(this.o.verify ? { verify: this.o.verify } : {}) });
    this.store.putCertificate(cert, own.digest);
    this.o.metrics.certificates.inc();
    this.o.metrics.lastCertifiedEpoch.set(Number(this.store.lastCertifiedEpoch()));
    return cert;
  }
}
