/**
 * Sharded simulator (docs/SPEC_SHARDING.md §12). S shards, each with k validators running
 * the real consensus engine (shard = s) on its own DAG over a seeded lossy network. Every
 * validator applies its own finalized order to its own ledger (balances keyed by lock
 * commitment, plus the real CrossShardLedger for exports, epoch roots and imports), and
 * signs each epoch root it closes. Relayers (any party: no coordinator) gather signatures of
 * stake ≥ q into certificates and carry import claims to the destination shard. Faults: a
 * partition between two groups of shards (cross-shard traffic dropped), a shard halted and
 * resumed, and a Byzantine minority in one shard that equivocates in its DAG, withholds
 * root signatures, signs a forged root, forges certificates and leaves, replays claims
 * (double import) and claims a voided export. Checks: honest validators of a shard agree on every epoch root; supply is
 * conserved across shards (SPEC_SHARDING §10) at checkpoints and at the end; every export is
 * imported at most once and every transfer exactly once after healing; every attack is
 * refused with its code. Same options, same run: no clock, no Math.random.
 */
import { ConsensusEngine, type EngineConfig, type FinalizedEvent } from "../../src/consensus/engine.ts";
import { type SignedEvent, signEvent } from "../../src/types/event.ts";
import { keyPairFromSeed, type Ed25519KeyPair } from "../../src/crypto/ed25519.ts";
import { blake3_32 } from "../../src/crypto/hash.ts";
import { concatBytes, toHex } from "../../src/crypto/bytes.ts";
import { isPhantomError } from "../../src/errors.ts";
import { HASH_BYTES } from "../../src/types/constants.ts";
import { shardLayout, shardOfLock, type ShardLayout } from "../../src/ledger/shard.ts";
import { exportId, exportRoot, type ExportLeaf } from "../../src/ledger/export-tree.ts";
import { type CertSignature, type ShardRoot, assembleCertificate, signShardRoot, shardRootDigest, encodeShardCertificate } from "../../src/ledger/shard-root.ts";
import { CrossShardLedger, decodeImportClaim, encodeImportClaim, globalSupplyCheck, type ImportClaim } from "../../src/ledger/cross-shard.ts";
import { Prng, memoVerifier } from "./sim.ts";

export interface ShardSimOptions {
  seed: number;
  shards: number;
  k: number;
  /** Ticks of the fault phase; the liveness phase (network healed, shard resumed) follows. */
  ticks: number;
  /** Liveness phase bound in ticks. */
  livenessTicksMax: number;
  /** Anchors per shard root. */
  rootInterval: bigint;
  /** Cross-shard (and some local) transfers planned. */
  transfers: number;
  loss: number;
  delayTicksMax: number;
  /** Cross-shard traffic between even and odd shards is dropped in the middle of the fault phase. */
  partition: boolean;
  /** Shard halted (no events, no answers) for part of the fault phase, then resumed; -1 for none. */
  haltShard: number;
  /** Shard with a Byzantine minority of floor((k−1)/3) validators; -1 for none. */
  byzantineShard: number;
  /**
   * Checker self-test only: honest ledgers credit every decodable claim without the import
   * checks, so the run must fail its supply and exactly-once checks.
   */
  bugSkipImportChecks?: boolean;
}

export function shardSimOptions(p: Partial<ShardSimOptions> & { seed: number }): ShardSimOptions {
  const shards = p.shards ?? 3;
  return {
    shards, k: 4, ticks: 500, livenessTicksMax: 1500, rootInterval: 8n, transfers: 16, loss: 0.05, delayTicksMax: 5, partition: true,
    haltShard: shards > 1 ? 1 + (p.seed % (shards - 1)) : -1, byzantineShard: shards > 1 ? p.seed % shards : -1,
    ...p,
  };
}

export function shardReproCommand(o: ShardSimOptions): string {
  return `bun run sim:shards --seed ${o.seed} --shards ${o.shards} --k ${o.k} --ticks ${o.ticks} --root_interval ${o.rootInterval} --transfers ${o.transfers} --loss ${o.loss} --partition ${o.partition} --halt ${o.haltShard} --byzantine ${o.byzantineShard}`;
}

/** What a payload carries in this model; the event header commits to it by digest (fetched by digest, as payloads are). */
type Op =
  | { kind: "transfer"; id: string; from: string; to: Uint8Array; amount: bigint }
  | { kind: "claim"; id: string; bytes: Uint8Array };

const FEE = 1n;
const FAUCET_UNITS = 1_000_000_000_000n;
const SYNC_INTERVAL_TICKS = 4;
const SYNC_EVENTS_MAX = 256;
const RELAY_INTERVAL_TICKS = 6;
const RESUBMIT_TICKS = 80;
const CHECK_INTERVAL_TICKS = 50;
const CREATE_RATE = 0.3;
const PARTITION = [0.2, 0.6] as const;
const HALT = [0.3, 0.7] as const;
const hexOf = (b: Uint8Array): string => toHex(b);

/** One validator's view of its shard's ledger, derived from its own finalized order. */
class SimLedger {
  readonly balances = new Map<string, bigint>();
  pendingFees = 0n;
  readonly cross: CrossShardLedger;
  readonly spent = new Set<string>();
  readonly processed = new Set<string>();
  readonly refusals = new Map<string, number>();
  /** Op id -> "ok" or its refusal code, first outcome only (what the attack checks read). */
  readonly outcomes = new Map<string, string>();
  /** txid hex -> epoch of its exports (for relayers). */
  readonly exportEpoch = new Map<string, bigint>();
  readonly roots: ShardRoot[] = [];
  anchors = 0n;
  private readonly lockOf = new Map<string, Uint8Array>();

  constructor(readonly shard: number, cross: CrossShardLedger, private readonly bugSkipImportChecks = false) {
    this.cross = cross;
  }

  credit(lock: Uint8Array, amount: bigint): void {
    const key = hexOf(lock);
    this.lockOf.set(key, lock);
    this.balances.set(key, (this.balances.get(key) ?? 0n) + amount);
  }

  balance(lockHex: string): bigint {
    return this.balances.get(lockHex) ?? 0n;
  }

  unspent(): bigint {
    let sum = 0n;
    for (const key of [...this.balances.keys()].sort()) sum += this.balances.get(key)!;
    return sum;
  }

  private refuse(id: string, code: string): void {
    this.refusals.set(code, (this.refusals.get(code) ?? 0) + 1);
    if (!this.outcomes.has(id)) this.outcomes.set(id, code);
  }

  /** State commitment of this model ledger: balances in key order and pending fees. */
  private commitment(): Uint8Array {
    const keys = [...this.balances.keys()].sort();
    const text = keys.map((k) => `${k}:${this.balances.get(k)}`).join(",") + `|${this.pendingFees}`;
    return blake3_32(new TextEncoder().encode(text));
  }

  apply(ops: readonly Op[]): ShardRoot | undefined {
    const anchor = this.anchors;
    const seenClaims = new Set<string>();
    for (const op of ops) {
      this.processed.add(op.id);
      if (op.kind === "transfer") {
        const txid = blake3_32(new TextEncoder().encode(op.id));
        // The first spend wins; a repeat or an overspend is void and creates nothing (no export either).
        if (this.spent.has(op.id)) { this.refuse(op.id, "TX_DOUBLE_SPEND"); continue; }
        if (this.balance(op.from) < op.amount + FEE) { this.refuse(op.id, "TX_INSUFFICIENT_FUNDS"); continue; }
        this.spent.add(op.id);
        if (!this.outcomes.has(op.id)) this.outcomes.set(op.id, "ok");
        this.balances.set(op.from, this.balance(op.from) - op.amount - FEE);
        this.pendingFees += FEE;
        const split = this.cross.splitOutputs(anchor, txid, [{ amount: op.amount, lockCommitment: op.to }]);
        for (const l of split.local) this.credit(l.output.lockCommitment, l.output.amount);
        if (split.exports.length > 0) this.exportEpoch.set(hexOf(txid), anchor / this.cross.p.rootInterval);
      } else {
        try {
          const claim = decodeImportClaim(op.bytes);
          if (this.bugSkipImportChecks) {
            this.credit(claim.leaf.lockCommitment, claim.leaf.amount);
            continue;
          }
          const a = this.cross.checkImport(claim, seenClaims);
          this.cross.applyImport(claim);
          seenClaims.add(hexOf(a.exportId));
          if (!this.outcomes.has(op.id)) this.outcomes.set(op.id, "ok");
          this.credit(a.output.lockCommitment, a.output.amount);
        } catch (e) {
          if (!isPhantomError(e)) throw e;
          this.refuse(op.id, e.code);
        }
      }
    }
    this.anchors++;
    const root = this.cross.endAnchor(anchor, this.commitment());
    if (root) this.roots.push(root);
    return root;
  }
}

interface SimValidator {
  shard: number;
  index: number;
  byzantine: boolean;
  keys: Ed25519KeyPair;
  engine: ConsensusEngine;
  log: FinalizedEvent[];
  ledger: SimLedger;
  mempool: Op[];
  /** Root signatures by epoch (honest: of its own closed roots). */
  signatures: CertSignature[];
}

interface Transfer {
  id: string;
  source: number;
  dest: number;
  from: string;
  to: Uint8Array;
  amount: bigint;
  /** Fault-phase tick from which its sender tries to submit it. */
  at: number;
  submittedAt: number;
  relayedAt: number;
}

interface Attack {
  op: Op;
  target: number;
  /** The refusal codes it may legitimately end with. */
  expect: string[];
  submittedAt: number;
}

export interface ShardSimReport {
  options: ShardSimOptions;
  ok: boolean;
  failures: string[];
  ticks: number;
  /** Finalized anchors per shard (shortest honest log). */
  anchors: number[];
  transfers: { planned: number; crossShard: number; imported: number };
  /** Refusals seen by the honest ledgers (longest per shard), summed over shards. */
  refusals: Record<string, number>;
  attacks: number;
  /** Forked events the Byzantine minority sent inside its own shard. */
  equivocations: number;
  /** Relay attempts that found the source unreachable (partition, halted shard): the faults did bite. */
  relayBlocked: number;
  /** Longest ticks from a transfer's first submission to its import everywhere. */
  latencyMaxTicks: number;
  repro: string;
}

export class ShardSimulation {
  readonly o: ShardSimOptions;
  private readonly rng: Prng;
  private readonly layout: ShardLayout;
  private readonly chain: Uint8Array;
  private readonly shards: SimValidator[][];
  private readonly configs: EngineConfig[];
  private readonly payloads = new Map<string, Op[]>();
  private readonly inbox = new Map<number, { shard: number; to: number; events: SignedEvent[] }[]>();
  private readonly transfers: Transfer[] = [];
  private readonly attacks: Attack[] = [];
  private readonly faucet: Uint8Array;
  private readonly users: Uint8Array[] = [];
  readonly failures: string[] = [];
  private tick = 0;
  private healed = false;
  private created = 0;
  private readonly verify = memoVerifier();
  private relayBlocked = 0;
  private equivocations = 0;
  private readonly firstSubmitted = new Map<string, number>();
  private readonly importedAt = new Map<string, number>();

  constructor(o: ShardSimOptions) {
    this.o = o;
    this.rng = new Prng(o.seed);
    const enc = new TextEncoder();
    this.chain = blake3_32(enc.encode(`phantom shard sim chain ${o.seed}`));
    const keys = Array.from({ length: o.shards }, (_, s) => Array.from({ length: o.k }, (_, i) => keyPairFromSeed(blake3_32(enc.encode(`phantom shard sim ${s}/${i}`)))));
    this.layout = shardLayout(o.shards, keys.flatMap((ks, shard) => ks.map((kp) => ({ publicKey: kp.publicKey, stake: 1000n, shard }))));
    this.configs = keys.map((ks, shard) => ({
      committee: { publicKeys: ks.map((kp) => kp.publicKey), stakes: ks.map(() => 1000n) },
      coinRoundInterval: 4, parentsMax: 4, shard, horizonRounds: 16, orphanEventsMax: 50 * o.k, verifyBatch: this.verify,
    }));
    // Locks: the faucet on shard 0 (the mint chain's shard, SPEC_SHARDING §9), users spread over all shards.
    this.faucet = this.lockOn(0, "faucet");
    for (let i = 0; i < Math.ceil(o.transfers / 2); i++) this.users.push(this.lockOn(i % o.shards, `user ${i}`));
    const byzCount = Math.floor((o.k - 1) / 3);
    this.shards = keys.map((ks, shard) => ks.map((kp, index) => {
      const cross = new CrossShardLedger({ chain: this.chain, layout: this.layout, shard, rootInterval: o.rootInterval, verify: this.verify });
      const ledger = new SimLedger(shard, cross, o.bugSkipImportChecks === true);
      if (shard === 0) {
        ledger.credit(this.faucet, FAUCET_UNITS);
        cross.recordMint(FAUCET_UNITS);
      }
      return {
        shard, index, byzantine: shard === o.byzantineShard && index >= o.k - byzCount, keys: kp,
        engine: new ConsensusEngine(this.configs[shard]!), log: [], ledger, mempool: [], signatures: [],
      };
    }));
    this.planTransfers();
  }

  private lockOn(shard: number, salt: string): Uint8Array {
    for (let i = 0; ; i++) {
      const l = blake3_32(new TextEncoder().encode(`${this.o.seed}/${salt}/${i}`));
      if (shardOfLock(l, this.o.shards) === shard) return l;
    }
  }

  /**
   * First half: faucet (shard 0) → users on shard j mod S; second half: each first-half
   * recipient pays onward to a fresh user on another shard, once its funds arrived.
   */
  private planTransfers(): void {
    const n = this.o.transfers;
    const half = Math.ceil(n / 2);
    const S = this.o.shards;
    for (let j = 0; j < n; j++) {
      const at = Math.floor(((j + 1) / (n + 1)) * 0.7 * this.o.ticks);
      if (j < half) {
        const to = this.users[j % this.users.length]!;
        this.transfers.push({ id: `t${j}`, source: 0, dest: shardOfLock(to, S), from: hexOf(this.faucet), to, amount: 10_000n + BigInt(j), at, submittedAt: -1, relayedAt: -1 });
      } else {
        const prev = this.transfers[j - half]!;
        const dest = S === 1 ? 0 : (prev.dest + 1 + (j % (S - 1))) % S;
        const to = this.lockOn(dest, `recipient ${j}`);
        this.users.push(to);
        this.transfers.push({ id: `t${j}`, source: prev.dest, dest, from: hexOf(prev.to), to, amount: 4_000n + BigInt(j), at, submittedAt: -1, relayedAt: -1 });
      }
    }
  }

  private phase(frac: readonly [number, number]): boolean {
    return !this.healed && this.tick >= frac[0] * this.o.ticks && this.tick < frac[1] * this.o.ticks;
  }

  private halted(shard: number): boolean {
    return shard === this.o.haltShard && this.phase(HALT);
  }

  /** Cross-shard reachability: the partition separates even from odd shards. */
  private crossReachable(a: number, b: number): boolean {
    if (this.halted(a) || this.halted(b)) return false;
    return !(this.o.partition && this.phase(PARTITION) && a % 2 !== b % 2);
  }

  private honest(shard: number): SimValidator[] {
    return this.shards[shard]!.filter((v) => !v.byzantine);
  }

  private longest(shard: number): SimValidator {
    return this.honest(shard).reduce((a, b) => (b.log.length > a.log.length ? b : a));
  }

  private send(v: SimValidator, to: SimValidator, events: SignedEvent[]): void {
    if (this.halted(v.shard) || (!this.healed && this.rng.chance(this.o.loss))) return;
    const at = this.tick + 1 + this.rng.int(this.o.delayTicksMax);
    const list = this.inbox.get(at) ?? [];
    list.push({ shard: v.shard, to: to.index, events });
    this.inbox.set(at, list);
  }

  private feed(v: SimValidator, events: SignedEvent[]): void {
    if (events.length === 0 || this.halted(v.shard)) return;
    const r = v.engine.addEvents(events);
    for (const f of r.finalized) this.finalize(v, f);
  }

  private finalize(v: SimValidator, f: FinalizedEvent): void {
    v.log.push(f);
    if (v.byzantine) return; // its ledger is of no interest; it signs forged roots instead
    if (f.anchorIndex !== v.ledger.anchors) throw new Error(`shard ${v.shard} validator ${v.index}: anchor ${f.anchorIndex} finalized out of order`);
    const ops = this.payloads.get(hexOf(f.event.header.payloadDigest));
    if (ops === undefined) throw new Error(`payload ${hexOf(f.event.header.payloadDigest)} unknown`);
    const root = v.ledger.apply(ops);
    if (root) v.signatures.push(signShardRoot(root, v.index, v.keys.secretKey));
  }

  private create(v: SimValidator): void {
    const ops = v.mempool.splice(0, 8);
    const digest = blake3_32(new TextEncoder().encode(`shard ${v.shard} validator ${v.index} payload ${this.created} ${ops.map((o) => o.id).join(",")}`));
    let e: SignedEvent;
    try {
      e = v.engine.createEvent(v.index, v.keys.secretKey, digest, { reroot: v.engine.chainStalled(v.index) });
    } catch (err) {
      if (isPhantomError(err) && (err.code === "CONSENSUS_NO_CROSS_LINK" || err.code === "CONSENSUS_REJOIN_WAIT")) {
        v.mempool.unshift(...ops);
        return;
      }
      throw err;
    }
    this.payloads.set(hexOf(digest), ops);
    this.created++;
    // The Byzantine minority also equivocates in its own DAG during the fault phase: a twin
    // with another payload goes to half of the shard (consensus orders at most one branch).
    if (v.byzantine && !this.healed && e.header.seq > 0 && this.rng.chance(0.2)) {
      const twinDigest = blake3_32(concatBytes(digest, Uint8Array.of(1)));
      this.payloads.set(hexOf(twinDigest), ops);
      const twin = signEvent({ ...e.header, payloadDigest: twinDigest }, v.keys.secretKey);
      this.equivocations++;
      for (const to of this.shards[v.shard]!) if (to !== v) this.send(v, to, [to.index % 2 === 0 ? e : twin]);
      return;
    }
    for (const to of this.shards[v.shard]!) if (to !== v) this.send(v, to, [e]);
  }

  private deliver(): void {
    const due = this.inbox.get(this.tick);
    if (due === undefined) return;
    this.inbox.delete(this.tick);
    for (const m of due) this.feed(this.shards[m.shard]![m.to]!, m.events);
  }

  private sync(): void {
    for (const shard of this.shards) {
      for (const v of shard) {
        if (this.halted(v.shard) || (v.index + this.tick) % SYNC_INTERVAL_TICKS !== 0) continue;
        const peer = shard[this.rng.int(shard.length)]!;
        if (peer === v) continue;
        const events = peer.engine.eventsAfter(v.engine.highestSeq(), SYNC_EVENTS_MAX);
        for (const id of v.engine.missingParents(SYNC_EVENTS_MAX)) {
          const e = peer.engine.getEvent(id);
          if (e !== undefined) events.push(e);
        }
        this.feed(v, events);
      }
    }
  }

  /** A client hands an op to a random honest validator of `shard` (when reachable from `from`). */
  private submit(from: number, shard: number, op: Op): boolean {
    if (!this.crossReachable(from, shard)) return false;
    const hs = this.honest(shard);
    hs[this.rng.int(hs.length)]!.mempool.push(op);
    return true;
  }

  private wallets(): void {
    for (const t of this.transfers) {
      if (this.tick < t.at || this.longest(t.source).ledger.spent.has(t.id)) continue;
      if (t.submittedAt >= 0 && this.tick - t.submittedAt < RESUBMIT_TICKS) continue;
      // The sender pays once its shard shows the funds (its own import, for second-half senders).
      if (this.longest(t.source).ledger.balance(t.from) < t.amount + FEE) continue;
      if (this.submit(t.source, t.source, { kind: "transfer", id: t.id, from: t.from, to: t.to, amount: t.amount })) {
        t.submittedAt = this.tick;
        if (!this.firstSubmitted.has(t.id)) this.firstSubmitted.set(t.id, this.tick);
      }
    }
    for (const a of this.attacks) {
      if (this.longest(a.target).ledger.processed.has(a.op.id)) continue;
      if (a.submittedAt >= 0 && this.tick - a.submittedAt < RESUBMIT_TICKS) continue;
      if (this.submit(a.target, a.target, a.op)) {
        a.submittedAt = this.tick;
        // In its own shard the Byzantine minority puts the attack into its own events too.
        if (a.target === this.o.byzantineShard) for (const v of this.shards[a.target]!) if (v.byzantine) v.mempool.push(a.op);
      }
    }
  }

  /** The export of transfer `t` with a certificate from signatures the relayer can reach, or undefined. */
  private claimFor(t: Transfer, destShard: number): ImportClaim | undefined {
    if (!this.crossReachable(t.source, destShard)) {
      this.relayBlocked++;
      return undefined;
    }
    const txid = hexOf(blake3_32(new TextEncoder().encode(t.id)));
    const holder = this.honest(t.source).find((v) => v.ledger.exportEpoch.has(txid) && v.ledger.cross.closedEpochs() > Number(v.ledger.exportEpoch.get(txid)!));
    if (holder === undefined) return undefined;
    const epoch = holder.ledger.exportEpoch.get(txid)!;
    const root = holder.ledger.roots[Number(epoch)]!;
    const digest = hexOf(shardRootDigest(root));
    const sigs = this.honest(t.source).flatMap((v) => (v.ledger.roots.length > Number(epoch) && hexOf(shardRootDigest(v.ledger.roots[Number(epoch)]!)) === digest ? [v.signatures[Number(epoch)]!] : []));
    const stake = BigInt(sigs.length) * 1000n;
    if (stake < this.layout.committees[t.source]!.quorum) return undefined;
    const found = holder.ledger.cross.exportsWithProofs(epoch).find((x) => hexOf(x.leaf.txid) === txid);
    if (found === undefined) return undefined;
    return { cert: assembleCertificate(root, sigs), leaf: found.leaf, proof: found.proof };
  }

  /** Honest relayers: carry each exported, not yet imported transfer to its destination. */
  private relay(): void {
    if (this.tick % RELAY_INTERVAL_TICKS !== 0) return;
    for (const t of this.transfers) {
      if (t.source === t.dest) continue;
      const id = hexOf(exportId({ sourceShard: t.source, txid: blake3_32(new TextEncoder().encode(t.id)), outputIndex: 0 }));
      if (this.longest(t.dest).ledger.cross.hasImported(Buffer.from(id, "hex"))) continue;
      if (t.relayedAt >= 0 && this.tick - t.relayedAt < RESUBMIT_TICKS) continue;
      const claim = this.claimFor(t, t.dest);
      if (claim === undefined) continue;
      if (this.submit(t.source, t.dest, { kind: "claim", id: `relay ${t.id} @${this.tick}`, bytes: encodeImportClaim(claim) })) {
        t.relayedAt = this.tick;
        this.byzantineReplays(claim, t);
      }
    }
  }

  /**
   * The Byzantine minority sees every claim: it replays it (double import), sends it to a
   * wrong shard, forges its leaf, patches its signer list, and claims a voided export.
   */
  private byzantineReplays(claim: ImportClaim, t: Transfer): void {
    if (this.o.byzantineShard < 0 || this.attacks.length > 60) return;
    const n = this.attacks.length;
    const mk = (target: number, bytes: Uint8Array, expect: string[]): void => {
      this.attacks.push({ op: { kind: "claim", id: `attack ${n}.${this.attacks.length - n}`, bytes }, target, expect, submittedAt: -1 });
    };
    const thief = this.lockOn(t.dest, `thief ${n}`);
    // A replay that lands before the relayer's claim is the (one) import of that export, to its rightful lock.
    mk(t.dest, encodeImportClaim(claim), ["IMPORT_DUPLICATE", "ok"]);
    const wrong = (t.dest + 1) % this.o.shards;
    mk(wrong, encodeImportClaim(claim), wrong === t.source ? ["IMPORT_WRONG_SOURCE"] : ["IMPORT_WRONG_DESTINATION"]);
    mk(t.dest, encodeImportClaim({ ...claim, leaf: { ...claim.leaf, lockCommitment: thief } }), ["IMPORT_NOT_PROVEN"]);
    // Voided export: a transfer that overspends is void on the source; a claim for its would-be leaf has no proof.
    const voidTxid = blake3_32(new TextEncoder().encode(`void ${n}`));
    this.attacks.push({ op: { kind: "transfer", id: `void ${n}`, from: hexOf(thief), to: claim.leaf.lockCommitment, amount: 10n ** 9n }, target: t.source, expect: ["TX_INSUFFICIENT_FUNDS"], submittedAt: -1 });
    mk(t.dest, encodeImportClaim({ ...claim, leaf: { ...claim.leaf, txid: voidTxid, amount: 10n ** 9n } }), ["IMPORT_NOT_PROVEN"]);
    // Certificate bytes patched: a duplicated signer, and a signer outside the committee.
    const bytes = encodeImportClaim(claim);
    const sigCountAt = 2 + 2 + 144;
    if (claim.cert.signatures.length >= 2) {
      const dup = bytes.slice();
      dup[sigCountAt + 1 + 65] = dup[sigCountAt + 1]!;
      mk(t.dest, dup, ["SHARD_CERT_DUPLICATE_SIGNER"]);
    }
    const unknown = bytes.slice();
    unknown[sigCountAt + 1 + 65 * (claim.cert.signatures.length - 1)] = 63;
    mk(t.dest, unknown, ["SHARD_CERT_UNKNOWN_SIGNER"]);
    // Honest signatures moved onto a forged root: bad signature.
    const forgedLeaf: ExportLeaf = { ...claim.leaf, lockCommitment: thief, amount: 10n ** 10n };
    const forgedRoot: ShardRoot = { ...claim.cert.root, exportRoot: exportRoot([forgedLeaf]), exportCount: 1 };
    mk(t.dest, encodeImportClaim({ cert: { root: forgedRoot, signatures: claim.cert.signatures }, leaf: forgedLeaf, proof: { leafIndex: 0, siblings: [] } }), ["SHARD_CERT_BAD_SIGNATURE"]);
    // The Byzantine validators of their own shard sign a forged root of their shard: below quorum.
    const byz = this.shards[this.o.byzantineShard]!.filter((v) => v.byzantine);
    const target = (this.o.byzantineShard + 1) % this.o.shards;
    const leaf: ExportLeaf = { sourceShard: this.o.byzantineShard, destShard: target, anchorIndex: 0n, txid: voidTxid, outputIndex: 0, amount: 10n ** 11n, lockCommitment: this.lockOn(target, `byz ${n}`) };
    const root: ShardRoot = { chain: this.chain, shard: this.o.byzantineShard, epoch: 0n, stateCommitment: new Uint8Array(HASH_BYTES), exportRoot: exportRoot([leaf]), exportCount: 1, prevRoot: new Uint8Array(HASH_BYTES) };
    const cert = assembleCertificate(root, byz.map((v) => signShardRoot(root, v.index, v.keys.secretKey)));
    if (cert.signatures.length > 0) mk(target, encodeImportClaim({ cert, leaf, proof: { leafIndex: 0, siblings: [] } }), ["SHARD_CERT_BELOW_QUORUM", "IMPORT_ROOT_CONFLICT"]);
  }

  private step(): void {
    this.tick++;
    this.deliver();
    this.wallets();
    this.relay();
    for (const shard of this.shards) for (const v of shard) if (!this.halted(v.shard) && this.rng.chance(CREATE_RATE)) this.create(v);
    this.sync();
    if (this.tick % CHECK_INTERVAL_TICKS === 0) this.checkSupply(`tick ${this.tick}`);
    if (this.tick % 10 === 0) this.importedCount();
  }

  private checkSupply(when: string): void {
    const rows = this.shards.map((_, s) => {
      const l = this.longest(s).ledger;
      return { shard: s, unspent: l.unspent(), pending: l.pendingFees, ...l.cross.supply() };
    });
    for (const f of globalSupplyCheck(rows)) this.failures.push(`supply at ${when}: ${f}`);
  }

  private crossTransfers(): Transfer[] {
    return this.transfers.filter((t) => t.source !== t.dest);
  }

  private importedCount(): number {
    return this.crossTransfers().filter((t) => {
      const id = exportId({ sourceShard: t.source, txid: blake3_32(new TextEncoder().encode(t.id)), outputIndex: 0 });
      const done = this.honest(t.dest).every((v) => v.ledger.cross.hasImported(id));
      if (done && !this.importedAt.has(t.id)) this.importedAt.set(t.id, this.tick);
      return done;
    }).length;
  }

  private done(): boolean {
    const localDone = this.transfers.every((t) => this.honest(t.source).every((v) => v.ledger.spent.has(t.id)));
    const attacksDone = this.attacks.every((a) => this.honest(a.target).every((v) => v.ledger.processed.has(a.op.id)));
    return localDone && attacksDone && this.importedCount() === this.crossTransfers().length;
  }

  run(): ShardSimReport {
    while (this.tick < this.o.ticks) this.step();
    this.healed = true;
    const bound = this.o.ticks + this.o.livenessTicksMax;
    while (this.tick < bound && !(this.tick % 10 === 0 && this.done())) this.step();
    this.checkSupply("the end");
    this.checkAgreement();
    this.checkExactlyOnce();
    const refusals = this.checkAttacks();
    if (!this.done()) {
      const pending = this.transfers.filter((t) => !this.honest(t.source).every((v) => v.ledger.spent.has(t.id))).map((t) => t.id);
      this.failures.push(`liveness: after healing, within ${this.o.livenessTicksMax} ticks: ${this.importedCount()}/${this.crossTransfers().length} cross-shard transfers imported everywhere; not spent on the source: ${pending.join(",") || "none"}; attacks unprocessed: ${this.attacks.filter((a) => !this.honest(a.target).every((v) => v.ledger.processed.has(a.op.id))).length}`);
    }
    return {
      options: this.o, ok: this.failures.length === 0, failures: this.failures, ticks: this.tick,
      anchors: this.shards.map((_, s) => Math.min(...this.honest(s).map((v) => v.log.length))),
      transfers: { planned: this.transfers.length, crossShard: this.crossTransfers().length, imported: this.importedCount() },
      refusals, attacks: this.attacks.length, equivocations: this.equivocations, relayBlocked: this.relayBlocked,
      latencyMaxTicks: Math.max(0, ...this.crossTransfers().map((t) => (this.importedAt.get(t.id) ?? this.tick) - (this.firstSubmitted.get(t.id) ?? this.tick))),
      repro: shardReproCommand(this.o),
    };
  }

  /** Honest validators of a shard finalize the same order and close the same roots. */
  private checkAgreement(): void {
    for (let s = 0; s < this.o.shards; s++) {
      const hs = this.honest(s);
      const ref = this.longest(s);
      for (const v of hs) {
        const n = Math.min(v.log.length, ref.log.length);
        for (let i = 0; i < n; i++) {
          if (hexOf(v.log[i]!.event.id) !== hexOf(ref.log[i]!.event.id)) {
            this.failures.push(`shard ${s}: validators ${v.index} and ${ref.index} differ at anchor ${i}`);
            break;
          }
        }
        for (let e = 0; e < Math.min(v.ledger.roots.length, ref.ledger.roots.length); e++) {
          if (hexOf(shardRootDigest(v.ledger.roots[e]!)) !== hexOf(shardRootDigest(ref.ledger.roots[e]!))) {
            this.failures.push(`shard ${s}: validators ${v.index} and ${ref.index} closed different roots for epoch ${e}`);
            break;
          }
        }
      }
    }
  }

  /** Every imported id is an export of its source with the same amount and lock, imported once network-wide. */
  private checkExactlyOnce(): void {
    const exported = new Map<string, ExportLeaf>();
    for (let s = 0; s < this.o.shards; s++) {
      const l = this.longest(s).ledger.cross;
      for (let e = 0n; e < BigInt(l.closedEpochs()); e++) for (const x of l.exportsWithProofs(e)) exported.set(hexOf(exportId(x.leaf)), x.leaf);
    }
    let importedUnits = 0n;
    let matched = 0n;
    for (let s = 0; s < this.o.shards; s++) {
      const l = this.longest(s).ledger;
      importedUnits += l.cross.supply().imported;
      for (const t of this.crossTransfers().filter((t) => t.dest === s)) {
        const id = exportId({ sourceShard: t.source, txid: blake3_32(new TextEncoder().encode(t.id)), outputIndex: 0 });
        if (l.cross.hasImported(id)) matched += exported.get(hexOf(id))?.amount ?? -(10n ** 18n);
      }
      // Nobody else got anything: the Byzantine thieves' locks stay empty.
      for (const [lock, amount] of l.balances) {
        const known = lock === hexOf(this.faucet) || this.users.some((u) => hexOf(u) === lock);
        if (!known && amount > 0n) this.failures.push(`shard ${s}: value ${amount} reached an unplanned lock ${lock.slice(0, 16)}… (forged import)`);
      }
    }
    // Imported units are exactly the exports of the planned transfers (no double import, no forged one).
    if (importedUnits !== matched) this.failures.push(`exactly once: ${importedUnits} units imported but the imported planned exports hold ${matched}`);
  }

  /** Each attack ended, on every honest validator of its target, with one of its expected outcomes. */
  private checkAttacks(): Record<string, number> {
    const total: Record<string, number> = {};
    for (let s = 0; s < this.o.shards; s++) {
      for (const [code, n] of this.longest(s).ledger.refusals) total[code] = (total[code] ?? 0) + n;
    }
    for (const a of this.attacks) {
      for (const v of this.honest(a.target)) {
        const got = v.ledger.outcomes.get(a.op.id);
        if (got !== undefined && !a.expect.includes(got)) this.failures.push(`attack ${a.op.id} on shard ${a.target}: validator ${v.index} recorded ${got}, expected ${a.expect.join(" or ")}`);
      }
    }
    return total;
  }

  certificateBytes(shard: number, epoch: number): Uint8Array | undefined {
    const hs = this.honest(shard).filter((v) => v.ledger.roots.length > epoch);
    if (hs.length === 0) return undefined;
    return encodeShardCertificate(assembleCertificate(hs[0]!.ledger.roots[epoch]!, hs.map((v) => v.signatures[epoch]!)));
  }
}

export function runShardSimulation(o: ShardSimOptions): ShardSimReport {
  return new ShardSimulation(o).run();
}
