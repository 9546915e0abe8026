/**
 * The consensus engine's full in-memory state as deterministic bytes (snapshots,
 * docs/STORAGE.md "Snapshots"). An engine restored from these bytes and fed the events
 * that follow produces exactly what the original produces: every DAG node with its cached
 * facts (rounds, votes, fame, lowest-after vectors), the per-round indexes and the orphan
 * buffer are written in full, and so are the stake weights schedule (every reported table,
 * the highest reported round) and the events waiting for weights (SPEC_CONSENSUS §1a). Order: nodes by serial (their insertion order); per-round
 * lists, pending lowest-after lists and the orphan buffer verbatim (their order is part of
 * the engine's behaviour); maps whose order does not matter (votes, fork tips, evidence
 * pairs) sorted by key. Nothing depends on a Map's iteration order except where that order
 * is itself state that the engine reads back.
 */
import { Writer, Reader, CodecError } from "../codec/index.ts";
import { blake3_32 } from "../crypto/hash.ts";
import { PhantomError } from "../errors.ts";
import { readSignedEvent, writeSignedEvent, type SignedEvent } from "../types/event.ts";
import { readEvidence, writeEvidence, type Evidence } from "../types/evidence.ts";
import { type Dag, type DagNode, idKey } from "./dag.ts";
import type { OrphanBuffer, Orphan } from "./orphans.ts";
import type { EngineConfig } from "./engine.ts";
import type { WeightScheduleState } from "./weights.ts";

/** "PHES": Phantom engine state. */
const MAGIC = new Uint8Array([0x50, 0x48, 0x45, 0x53]);
/** 2: stake weights schedule, events waiting for weights, DagNode tainted/roundReceived/medianLamport. */
export const ENGINE_STATE_VERSION = 2;
const LIST_MAX = 1 << 26;

export type EngineStateErrorCode = "ENGINE_STATE_INVALID" | "ENGINE_STATE_MISMATCH";

/** Bytes that are not an engine state this build can read, or one taken under another configuration. */
export class EngineStateError extends PhantomError<EngineStateErrorCode> {
  constructor(code: EngineStateErrorCode, message: string) {
    super(code, message);
    this.name = "EngineStateError";
  }
}

/** The engine's private fields, lent to this module by ConsensusEngine.exportState/fromState. */
export interface EngineInternals {
  dag: Dag;
  orphans: OrphanBuffer;
  evidencePairs: Set<string>;
  pendingEvidence: Evidence[];
  lastDecidedRound: number;
  finalizedCount: bigint;
  newestSigned: (SignedEvent | undefined)[];
  weights: WeightScheduleState;
  /** Events waiting for the weights of their parents' round, in arrival order. */
  weightWait: SignedEvent[];
}

/**
 * Everything in the configuration that changes the engine's outputs: a state taken under
 * another committee, stake table, coin interval, horizon or stake lag is refused rather than mixed.
 */
export function configFingerprint(cfg: EngineConfig, horizonRounds: number): Uint8Array {
  const w = new Writer(64 * 40);
  w.u16(cfg.shard).varint(cfg.coinRoundInterval).varint(cfg.parentsMax).varint(horizonRounds);
  // 0: no lag (genesis weights for every round); otherwise L + 1.
  w.varint(cfg.stakeLagRounds === undefined ? 0 : cfg.stakeLagRounds + 1);
  w.list(cfg.committee.publicKeys, LIST_MAX, (w, k) => w.bytes(k, 64));
  w.list(cfg.committee.stakes, LIST_MAX, (w, s) => w.u64(s));
  return blake3_32(w.finish());
}

/** Zigzag varint: rounds and serials use -1 for "none". */
function zz(w: Writer, v: number): void {
  w.varint(v < 0 ? -2 * v - 1 : 2 * v);
}

function rz(r: Reader, what: string): number {
  const u = r.varint(what);
  return u % 2 === 1 ? -(u + 1) / 2 : u / 2;
}

const keyBytes = (key: string): Uint8Array => new Uint8Array(Buffer.from(key, "latin1"));
const bytesKey = (b: Uint8Array): string => Buffer.from(b).toString("latin1");

function writeInts(w: Writer, xs: ArrayLike<number>): void {
  w.varint(xs.length);
  for (let i = 0; i < xs.length; i++) zz(w, xs[i]!);
}

function readInts(r: Reader, what: string): number[] {
  const n = r.varint(`${what} count`);
  if (n > LIST_MAX) throw new CodecError("CODEC_LENGTH_TOO_LARGE", `${what} count ${n}`);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(rz(r, what));
  return out;
}

function readVector(r: Reader, k: number, what: string): Int32Array {
  const xs = readInts(r, what);
  if (xs.length !== k) throw new CodecError("CODEC_INVALID", `${what} has ${xs.length} entries, committee has ${k}`);
  return Int32Array.from(xs);
}

function writeNode(w: Writer, n: DagNode): void {
  w.varint(n.serial);
  writeSignedEvent(w, n.event);
  writeInts(w, n.parents);
  zz(w, n.selfParent);
  writeInts(w, n.hbSeq);
  writeInts(w, n.hbRef);
  w.u32(n.forkLo).u32(n.forkHi);
  const tips = n.forkTips === null ? null : [...n.forkTips.entries()].sort((a, b) => a[0] - b[0]);
  w.u8(tips === null ? 0 : 1);
  if (tips !== null) w.list(tips, LIST_MAX, (w, [c, s]) => { w.varint(c); writeInts(w, s); });
  zz(w, n.round);
  w.u8((n.witness ? 1 : 0) | (n.done ? 2 : 0) | (n.stale ? 4 : 0) | (n.la !== null ? 8 : 0) | (n.stronglySeen !== null ? 16 : 0) | (n.votes !== null ? 32 : 0) | (n.tainted ? 64 : 0));
  if (n.la !== null) writeInts(w, n.la);
  if (n.stronglySeen !== null) writeInts(w, n.stronglySeen);
  if (n.votes !== null) {
    const votes = [...n.votes.entries()].sort((a, b) => a[0] - b[0]);
    w.list(votes, LIST_MAX, (w, [key, v]) => { zz(w, key); zz(w, v); });
  }
  zz(w, n.fame);
  zz(w, n.roundReceived);
  zz(w, n.medianLamport);
}

function readNode(r: Reader, k: number): DagNode {
  const serial = r.varint("serial");
  const event = readSignedEvent(r);
  const parents = readInts(r, "parents");
  const selfParent = rz(r, "self-parent");
  const hbSeq = readVector(r, k, "hbSeq");
  const hbRef = readVector(r, k, "hbRef");
  const forkLo = r.u32("forkLo");
  const forkHi = r.u32("forkHi");
  let forkTips: Map<number, number[]> | null = null;
  if (r.u8("fork tips flag") === 1) {
    forkTips = new Map();
    for (const [c, s] of r.list(LIST_MAX, (r) => [r.varint("creator"), readInts(r, "tips")] as const, "fork tips")) forkTips.set(c, s);
  }
  const round = rz(r, "round");
  const flags = r.u8("node flags");
  if (flags > 127) throw new CodecError("CODEC_INVALID", `node flags ${flags}`);
  const la = (flags & 8) !== 0 ? readVector(r, k, "la") : null;
  const stronglySeen = (flags & 16) !== 0 ? readInts(r, "strongly seen") : null;
  let votes: Map<number, number> | null = null;
  if ((flags & 32) !== 0) {
    votes = new Map();
    for (const [key, v] of r.list(LIST_MAX, (r) => [rz(r, "vote key"), rz(r, "vote")] as const, "votes")) votes.set(key, v);
  }
  const fame = rz(r, "fame");
  const roundReceived = rz(r, "round received");
  const medianLamport = rz(r, "median lamport");
  const h = event.header;
  return {
    serial, event, key: idKey(event.id), creator: h.creator, seq: h.seq, lamport: h.lamport, parents, selfParent,
    hbSeq, hbRef, forkLo, forkHi, forkTips, round, witness: (flags & 1) !== 0, la, stronglySeen, votes, fame,
    done: (flags & 2) !== 0, stale: (flags & 4) !== 0, tainted: (flags & 64) !== 0, roundReceived, medianLamport,
  };
}

function writeRoundIndex(w: Writer, index: Map<number, number[]>): void {
  const rounds = [...index.entries()].sort((a, b) => a[0] - b[0]);
  w.list(rounds, LIST_MAX, (w, [round, serials]) => { zz(w, round); writeInts(w, serials); });
}

function readRoundIndex(r: Reader, into: Map<number, number[]>, what: string): void {
  for (const [round, serials] of r.list(LIST_MAX, (r) => [rz(r, "round"), readInts(r, what)] as const, what)) into.set(round, serials);
}

export function encodeEngineState(s: EngineInternals, fingerprint: Uint8Array): Uint8Array {
  const d = s.dag;
  const w = new Writer(1 << 16);
  w.raw(MAGIC).u8(ENGINE_STATE_VERSION).fixed(fingerprint, 32).varint(d.k);
  zz(w, s.lastDecidedRound);
  w.u64(s.finalizedCount);
  zz(w, d.maxRound);
  zz(w, d.prunedBelowRound);
  w.varint(d.nextSerial);
  w.fixed(d.forked, d.k);
  writeInts(w, d.topSeq);
  writeInts(w, d.topSerial);
  w.list(s.newestSigned, d.k, (w, e) => {
    w.u8(e === undefined ? 0 : 1);
    if (e !== undefined) writeSignedEvent(w, e);
  });
  // Serials grow with insertion, so ascending serial is the nodes map's own order.
  const nodes = [...d.nodes.values()].sort((a, b) => a.serial - b.serial);
  w.list(nodes, LIST_MAX, writeNode);
  writeRoundIndex(w, d.eventsByRound);
  writeRoundIndex(w, d.witnessesByRound);
  w.list(d.pendingLa, d.k, (w, list) => writeInts(w, list));
  w.list([...s.orphans.byKey.entries()], LIST_MAX, (w, [key, o]) => {
    w.fixed(keyBytes(key), 32);
    writeSignedEvent(w, o.event);
    w.list(o.missing, LIST_MAX, (w, m) => w.fixed(keyBytes(m), 32));
    zz(w, o.lowestMissingRound);
  });
  w.list([...s.orphans.waiting.entries()], LIST_MAX, (w, [parent, keys]) => {
    w.fixed(keyBytes(parent), 32);
    w.list(keys, LIST_MAX, (w, key) => w.fixed(keyBytes(key), 32));
  });
  w.u64n(s.orphans.evictedCount);
  w.list([...s.evidencePairs].sort(), LIST_MAX, (w, pair) => w.fixed(keyBytes(pair), 64));
  w.list(s.pendingEvidence, LIST_MAX, writeEvidence);
  writeWeights(w, s.weights);
  w.list(s.weightWait, LIST_MAX, writeSignedEvent);
  return w.finish();
}

/** What decodeEngineState returns besides what it writes into the given Dag, OrphanBuffer and Set. */
export type DecodedScalars = Omit<EngineInternals, "dag" | "orphans" | "evidencePairs">;

/**
 * Fills a freshly constructed engine's Dag, OrphanBuffer and evidence-pair set from `bytes`.
 * Throws EngineStateError: ENGINE_STATE_MISMATCH for a state of another configuration,
 * ENGINE_STATE_INVALID for anything that does not decode.
 */
export function decodeEngineState(bytes: Uint8Array, fingerprint: Uint8Array, dag: Dag, orphans: OrphanBuffer, evidencePairs: Set<string>): DecodedScalars {
  if (dag.nodes.size !== 0 || orphans.size !== 0) throw new EngineStateError("ENGINE_STATE_INVALID", "engine state can only be loaded into an empty engine");
  try {
    const r = new Reader(bytes);
    const magic = r.fixed(4, "magic");
    if (!magic.every((b, i) => b === MAGIC[i])) throw new EngineStateError("ENGINE_STATE_INVALID", "not an engine state (bad magic)");
    const version = r.u8("engine state version");
    if (version !== ENGINE_STATE_VERSION) throw new EngineStateError("ENGINE_STATE_INVALID", `engine state version ${version}; this build reads ${ENGINE_STATE_VERSION}`);
    const fp = r.fixed(32, "config fingerprint");
    if (!fp.every((b, i) => b === fingerprint[i])) {
      throw new EngineStateError("ENGINE_STATE_MISMATCH", "engine state was taken under another committee, stake table or consensus parameters");
    }
    const k = r.varint("committee size");
    if (k !== dag.k) throw new EngineStateError("ENGINE_STATE_MISMATCH", `engine state for ${k} creators, engine has ${dag.k}`);
    const lastDecidedRound = rz(r, "last decided round");
    const finalizedCount = r.u64("finalized count");
    dag.maxRound = rz(r, "max round");
    dag.prunedBelowRound = rz(r, "pruned below round");
    dag.nextSerial = r.varint("next serial");
    dag.forked.set(r.fixed(k, "forked"));
    for (let c = 0; c < k; c++) if (dag.forked[c] === 1) dag.forkedList.push(c);
    dag.topSeq.set(readVector(r, k, "topSeq"));
    dag.topSerial.set(readVector(r, k, "topSerial"));
    const newestSigned = r.list(k, (r) => (r.u8("newest flag") === 1 ? readSignedEvent(r) : undefined), "newest signed");
    if (newestSigned.length !== k) throw new CodecError("CODEC_INVALID", "one newest-signed entry per creator");
    let prev = -1;
    for (const n of r.list(LIST_MAX, (r) => readNode(r, k), "nodes")) {
      if (n.serial <= prev || n.serial >= dag.nextSerial || n.creator >= k) throw new CodecError("CODEC_INVALID", `node serial ${n.serial} out of order`);
      prev = n.serial;
      dag.nodes.set(n.serial, n);
      dag.byKey.set(n.key, n.serial);
      const bucket = dag.bySeq[n.creator]!;
      const list = bucket.get(n.seq);
      if (list === undefined) bucket.set(n.seq, [n.serial]);
      else list.push(n.serial);
    }
    readRoundIndex(r, dag.eventsByRound, "events by round");
    readRoundIndex(r, dag.witnessesByRound, "witnesses by round");
    const pending = r.list(k, (r) => readInts(r, "pending la"), "pending la");
    if (pending.length !== k) throw new CodecError("CODEC_INVALID", "one pending list per creator");
    pending.forEach((list, c) => dag.pendingLa[c]!.push(...list));
    for (const [key, o] of r.list(LIST_MAX, (r) => [bytesKey(r.fixed(32, "orphan")), readOrphan(r)] as const, "orphans")) orphans.byKey.set(key, o);
    for (const [parent, keys] of r.list(LIST_MAX, (r) => [bytesKey(r.fixed(32, "parent")), r.list(LIST_MAX, (r) => bytesKey(r.fixed(32, "waiter")), "waiters")] as const, "waiting")) {
      orphans.waiting.set(parent, keys);
    }
    orphans.evictedCount = r.u64n("evicted count");
    for (const pair of r.list(LIST_MAX, (r) => bytesKey(r.fixed(64, "evidence pair")), "evidence pairs")) evidencePairs.add(pair);
    const pendingEvidence = r.list(LIST_MAX, readEvidence, "pending evidence");
    const weights = readWeights(r, k);
    const weightWait = r.list(LIST_MAX, readSignedEvent, "events waiting for weights");
    r.end("engine state");
    return { pendingEvidence, lastDecidedRound, finalizedCount, newestSigned, weights, weightWait };
  } catch (e) {
    if (e instanceof CodecError) throw new EngineStateError("ENGINE_STATE_INVALID", `engine state does not decode: ${e.message}`);
    throw e;
  }
}

function readOrphan(r: Reader): Orphan {
  const event = readSignedEvent(r);
  const missing = r.list(LIST_MAX, (r) => bytesKey(r.fixed(32, "missing parent")), "missing parents");
  return { event, missing, lowestMissingRound: rz(r, "lowest missing round") };
}

function writeStakes(w: Writer, stakes: readonly bigint[]): void {
  w.list(stakes, LIST_MAX, (w, x) => w.u64(x));
}

function readStakes(r: Reader, k: number, what: string): bigint[] {
  const stakes = r.list(LIST_MAX, (r) => r.u64(what), what);
  if (stakes.length !== k) throw new CodecError("CODEC_INVALID", `${what} has ${stakes.length} entries, committee has ${k}`);
  return stakes;
}

/** The weights schedule: latest stakes, the highest reported round, the change points in round order. */
function writeWeights(w: Writer, s: WeightScheduleState): void {
  writeStakes(w, s.stakes);
  zz(w, s.knownThrough);
  w.list(s.changes, LIST_MAX, (w, c) => { zz(w, c.from); writeStakes(w, c.stakes); });
}

function readWeights(r: Reader, k: number): WeightScheduleState {
  const stakes = readStakes(r, k, "stakes");
  const knownThrough = rz(r, "weights known through");
  const changes = r.list(LIST_MAX, (r) => ({ from: rz(r, "stake change round"), stakes: readStakes(r, k, "stake change") }), "stake changes");
  return { stakes, knownThrough, changes };
}
