/**
 * A real economics scenario for the ledger: a signed 4-validator DAG ordered by the
 * consensus engine, whose finalized events carry payloads that mint, transfer with
 * fees and put slashing evidence on chain. Applied with the finalized headers as the
 * node does (src/node/chain.ts), so fees settle at a + k·D_max.
 */
import { createGenesis, parseGenesis, type Genesis } from "../../src/genesis/index.ts";
import { keyPairFromSeed, type Ed25519KeyPair } from "../../src/crypto/ed25519.ts";
import { devnetSeed } from "../../src/genesis/create.ts";
import { generateSignedDag } from "../../src/consensus/headers-gen.ts";
import { ConsensusEngine } from "../../src/consensus/engine.ts";
import { equivocationEvidence, signDaServe } from "../../src/consensus/slashing.ts";
import { applyAnchor, ledgerParamsFromGenesis, type AnchorContext, type LedgerParams } from "../../src/ledger/apply.ts";
import { settlementDelay } from "../../src/ledger/settlement.ts";
import type { AnchorDiff, WritableLedgerStore } from "../../src/ledger/state.ts";
import { type SignedEvent, signEvent } from "../../src/types/event.ts";
import type { Evidence } from "../../src/types/evidence.ts";
import type { PayloadTx } from "../../src/types/payload.ts";
import type { Outpoint } from "../../src/types/tx.ts";
import { lockCommitment } from "../../src/types/lock.ts";
import { blake3_32 } from "../../src/crypto/hash.ts";
import { testEmission, key, sigLock, mineMint, buildTx, sigSpend, out } from "./fixtures.ts";

export const LABEL = "economics-scenario";
export const K = 4;

export interface Scenario {
  genesis: Genesis;
  genesisToml: string;
  keys: Ed25519KeyPair[];
  params: LedgerParams;
  /** Finalized events in anchor order (index = anchor index). */
  finalized: SignedEvent[];
}

export function buildScenario(events = 150): Scenario {
  const created = createGenesis({ k: K, devnetLabel: LABEL, chainId: "phantom-economics-test" });
  const genesis = parseGenesis(created.toml);
  const keys = Array.from({ length: K }, (_, i) => keyPairFromSeed(devnetSeed(LABEL, i)));
  const dag = generateSignedDag({ secretKeys: keys.map((k) => k.secretKey), eventCount: events, seed: new TextEncoder().encode(LABEL), skipPercent: 30 });
  const engine = new ConsensusEngine({
    committee: { publicKeys: keys.map((k) => k.publicKey), stakes: genesis.validators.map((v) => v.stake) },
    coinRoundInterval: genesis.coinRoundInterval, parentsMax: genesis.parentsMax, shard: 0,
  });
  const result = engine.addEvents(dag);
  const finalized = [...result.finalized, ...engine.addEvents([]).finalized].map((f) => f.event);
  // Low-difficulty emission so the test mines with a plain loop; fees, stakes and keys come from the genesis.
  const params: LedgerParams = { ...ledgerParamsFromGenesis(genesis), emission: testEmission };
  return { genesis, genesisToml: created.toml, keys, params, finalized };
}

/** The AnchorContext the node would pass for anchor `i`. */
export function contextAt(s: Scenario, i: number): AnchorContext {
  const delay = Number(settlementDelay(s.params.economics!));
  return { event: s.finalized[i]!, window: s.finalized.slice(Math.max(0, i - delay), i + 1) };
}

/** A second signed event at the same (creator, seq) as `e`: an equivocation. */
export function forkOf(s: Scenario, e: SignedEvent): SignedEvent {
  return signEvent({ ...e.header, payloadDigest: blake3_32(e.id) }, s.keys[e.header.creator]!.secretKey);
}

/** Conflicting-DA evidence: validator `server` signed that it served bytes of the wrong digest for `e`. */
export function conflictingDa(s: Scenario, e: SignedEvent, server: number): Evidence {
  const servedDigest = blake3_32(new Uint8Array([...e.id, server]));
  return { kind: "conflicting_da", event: e, servedDigest, servedBy: server, servedSignature: signDaServe(s.keys[server]!.secretKey, e.id, servedDigest) };
}

/** Invalid-event evidence: `creator` signed an event on its own last event with no cross-link. */
export function missingCrossLink(s: Scenario, parent: SignedEvent): Evidence {
  const h = parent.header;
  const bad = signEvent({ shard: h.shard, creator: h.creator, seq: h.seq + 1, parents: [parent.id], parentRounds: [0], lamport: h.lamport + 1, payloadDigest: h.payloadDigest }, s.keys[h.creator]!.secretKey);
  return { kind: "invalid_event", event: bad, reason: "missing_cross_link", parents: [parent] };
}

export const alice = key(21);
export const bob = key(22);

/**
 * The payload script: mints to alice at anchors 0..3; from anchor 4 on, alice pays bob
 * a little each anchor with a fee of 1,000,000 + anchor units, so most anchors carry
 * fees; evidence at fixed anchors (`evidenceAt`).
 */
export class PayloadScript {
  private coins: { op: Outpoint; amount: bigint }[] = [];
  constructor(private readonly evidenceAt: ReadonlyMap<number, Evidence[]>) {}

  payload(store: WritableLedgerStore, i: number): PayloadTx[] {
    const txs: PayloadTx[] = [];
    if (i < 4) txs.push({ kind: "mint", tx: mineMint(store.mintTip(), lockCommitment(sigLock(alice))) });
    const spendable = this.coins.find((c) => c.amount > 10_000_000n);
    if (i >= 4 + Number(testEmission.maturityAnchors) && spendable) {
      const fee = 1_000_000n + BigInt(i);
      txs.push({ kind: "micro", tx: buildTx([sigSpend(spendable.op, alice)], [out(1_000n, sigLock(bob)), out(spendable.amount - 1_000n - fee, sigLock(alice))]) });
    }
    for (const e of this.evidenceAt.get(i) ?? []) txs.push({ kind: "evidence", tx: e });
    return txs;
  }

  /** Tracks alice's coins from the diff (change outputs and mints). */
  observe(diff: AnchorDiff): void {
    const spent = new Set(diff.spent.map((x) => `${Buffer.from(x.txid).toString("hex")}:${x.index}`));
    this.coins = this.coins.filter((c) => !spent.has(`${Buffer.from(c.op.txid).toString("hex")}:${c.op.index}`));
    const aliceLock = Buffer.from(lockCommitment(sigLock(alice))).toString("hex");
    for (const c of diff.created) {
      if (Buffer.from(c.entry.lockCommitment).toString("hex") === aliceLock) this.coins.push({ op: { txid: c.txid, index: c.index }, amount: c.entry.amount });
    }
  }
}

export function applyScenarioAnchor(s: Scenario, store: WritableLedgerStore, i: number, txs: PayloadTx[]): AnchorDiff {
  return applyAnchor(store, s.params, BigInt(i), { txs }, undefined, contextAt(s, i));
}

export { equivocationEvidence };
