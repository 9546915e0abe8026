/**
 * The scale model of issue 15 (docs/SCALING.md): from costs measured on one shard
 * (bench/scale/measure.ts) to what S shards need per validator for a total throughput.
 * Pure arithmetic, no I/O: the report and its test recompute it from recorded inputs.
 *
 * Assumptions, each named in the report:
 *  - every validator of a shard receives, verifies, orders and stores every event of its
 *    shard once, and applies every transaction of its shard once;
 *  - an event's creator sends it to the other k − 1 members (a full mesh, as the P2P layer
 *    does today), so a validator sends about as many event bytes as it receives;
 *  - a transaction crosses the wire twice per validator: relayed into the mempools
 *    (tx_submit relay) and again inside an event payload;
 *  - a cross-shard transfer costs the source an export (one Merkle leaf hash) and the
 *    destination an import (the measured import check, its proof's log2(exports per
 *    range) hashes on the wire, and a ledger apply) plus, per certified range of every
 *    other shard, one measured certificate check, shared by the transfers of that range.
 */

export interface MeasuredInputs {
  /** When and where the figures were measured. */
  measuredAt: string;
  host: { cpu_model: string; cpus: number; loadavg_1m: number; platform: string; arch: string };
  /** Committee size the per-event figures were measured at. */
  k: number;
  /** CPU µs per event for insertion, virtual voting and ordering (signature excluded). */
  eventConsensusCpuUs: number;
  /** CPU µs to verify one Ed25519 signature in a batch (native, per signature). */
  signatureVerifyCpuUs: number;
  /** CPU µs to sign one event. */
  eventSignCpuUs: number;
  /** CPU µs to validate and apply one transfer and commit it to SQLite (signature excluded). */
  txLedgerCpuUs: number;
  /** CPU µs for one 64-byte BLAKE3 hash (a Merkle node; the export leaf at the source). */
  hash64CpuUs: number;
  /** µs to check one import claim (proof against a certified root, exactly-once checks; certificate already verified). */
  importCheckUs: number;
  /** µs to decode and verify one k-member shard-root certificate. */
  certVerifyUs: number;
  /** Bytes of one k-member certificate. */
  certBytes: number;
  /** Bytes of one signed event (header + signature) as sent in a P2P message. */
  eventWireBytes: number;
  /** Bytes one 1-in/2-out transfer adds to an event payload. */
  txPayloadBytes: number;
  /** Bytes on the wire (UDP payloads both ways, ACKs included) per byte of stream data, measured over QUIC. */
  quicWireOverhead: number;
  /** Bytes the store grows per event kept (event row, indexes, empty payload). */
  eventStoreBytes: number;
  /** Bytes the store holds per unspent output (a 1-in/2-out transfer adds one net). */
  utxoStoreBytes: number;
  /**
   * CPU µs one validator of the 4-validator localnet spends per finalized transfer, end to
   * end (RPC, relay, P2P/QUIC, mempool, events, consensus, ledger, SQLite): what the node
   * costs today on top of the code paths above.
   */
  nodeCpuUsPerTx: number;
}

export interface Scenario {
  shards: number;
  k: number;
  /** Finalized transactions per second over all shards. */
  totalTxPerS: number;
  /** Transactions per event (one event per transaction is the "events ≈ TPS" reading). */
  txPerEvent: number;
  /** Fraction of transfers whose output lies in another shard. */
  crossShare: number;
  /** Anchors per certified range (how often a shard's root is certified). */
  anchorsPerRange: number;
  /** Anchors per second per shard. */
  anchorsPerS: number;
  /** Pruning on: DAG data is dropped below the horizon, so events are not stored for good. */
  pruning: boolean;
}

export interface ModelOutput {
  scenario: Scenario;
  txPerSPerShard: number;
  eventsPerSPerShard: number;
  /** CPU cores (at the measuring machine's per-core speed) one validator needs, by part. */
  cores: { events: number; txs: number; crossShard: number; certificates: number; total: number };
  /** Megabits per second a validator receives (and about as much it sends). */
  bandwidthMbitPerS: { events: number; txs: number; crossShard: number; total: number };
  /** Gigabytes per day a validator's store grows. */
  storageGbPerDay: number;
  /** Cross-shard transfers per second arriving at one shard. */
  crossImportsPerSPerShard: number;
  /** Cores one validator needs at the node's measured end-to-end cost per transfer (plus the cross-shard parts). */
  nodeCores: number;
}

/** Signatures a certificate carries: the consensus quorum, more than 2/3 of k (equal stakes). */
export function quorum(k: number): number {
  return Math.floor((2 * k) / 3) + 1;
}

export function model(m: MeasuredInputs, s: Scenario): ModelOutput {
  const txPerSPerShard = s.totalTxPerS / s.shards;
  const eventsPerSPerShard = txPerSPerShard / s.txPerEvent;
  const us = 1e-6;
  const eventCpu = eventsPerSPerShard * (m.eventConsensusCpuUs + m.signatureVerifyCpuUs) + (eventsPerSPerShard / s.k) * m.eventSignCpuUs;
  const txCpu = txPerSPerShard * (m.signatureVerifyCpuUs + m.txLedgerCpuUs);
  const imports = txPerSPerShard * s.crossShare;
  const rangesPerS = s.anchorsPerS / s.anchorsPerRange;
  const exportsPerRange = Math.max(1, (imports / Math.max(1, s.shards - 1)) / rangesPerS);
  const proofHashes = Math.ceil(Math.log2(Math.max(2, exportsPerRange * (s.shards - 1))));
  // Export: one leaf hash at the source; import: the claim's check and a ledger apply at the destination.
  const crossCpu = imports * (m.hash64CpuUs + m.importCheckUs + m.txLedgerCpuUs);
  // Every shard follows every other shard's certified roots (those it may import from).
  const certCpu = s.crossShare > 0 ? (s.shards - 1) * rangesPerS * m.certVerifyUs : 0;
  const cores = {
    events: eventCpu * us,
    txs: txCpu * us,
    crossShard: crossCpu * us,
    certificates: certCpu * us,
    total: (eventCpu + txCpu + crossCpu + certCpu) * us,
  };
  const mbit = (bytesPerS: number) => (bytesPerS * 8 * m.quicWireOverhead) / 1e6;
  const bandwidth = {
    events: mbit(eventsPerSPerShard * m.eventWireBytes),
    txs: mbit(2 * txPerSPerShard * m.txPayloadBytes),
    crossShard: mbit(imports * (m.txPayloadBytes + proofHashes * 32) + (s.crossShare > 0 ? (s.shards - 1) * rangesPerS * m.certBytes : 0)),
    total: 0,
  };
  bandwidth.total = bandwidth.events + bandwidth.txs + bandwidth.crossShard;
  // Pruning drops events and payloads below the horizon; the UTXO set (one net output per
  // 1-in/2-out transfer) stays either way.
  const storedPerS = txPerSPerShard * (m.utxoStoreBytes + (s.pruning ? 0 : m.txPayloadBytes)) + (s.pruning ? 0 : eventsPerSPerShard * m.eventStoreBytes);
  return {
    scenario: s,
    txPerSPerShard,
    eventsPerSPerShard,
    cores,
    bandwidthMbitPerS: bandwidth,
    storageGbPerDay: (storedPerS * 86_400) / 1e9,
    crossImportsPerSPerShard: imports,
    nodeCores: (txPerSPerShard * m.nodeCpuUsPerTx + crossCpu + certCpu) * us,
  };
}

export interface Limits {
  name: string;
  cores: number;
  /** Network link in Mbit/s (each direction). */
  linkMbitPerS: number;
}

/** Which resource runs out first on `hw`: the highest use fraction. */
export function bottleneck(o: ModelOutput, hw: Limits): { resource: "cpu" | "network"; use: number; cpuUse: number; networkUse: number } {
  const cpuUse = o.cores.total / hw.cores;
  const networkUse = o.bandwidthMbitPerS.total / hw.linkMbitPerS;
  return cpuUse >= networkUse ? { resource: "cpu", use: cpuUse, cpuUse, networkUse } : { resource: "network", use: networkUse, cpuUse, networkUse };
}
