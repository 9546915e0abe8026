/** Node-level metrics: consensus progress, event flow, ledger outcomes (pc_node_*). */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { SignatureCache } from "../crypto/sig-cache.ts";
import { verifyBatchesInFlight } from "../crypto/ed25519.ts";

export function createConsensusMetrics(registry: Registry, sigCache?: SignatureCache, admissionsQueued?: () => number) {
  const r = [registry];
  return {
    sigCacheHits: new Gauge({ name: "pc_node_sig_cache_hits", help: "Signatures answered from the verified-signature cache since start", registers: r, collect() { this.set(sigCache?.stats.hits ?? 0); } }),
    sigCacheMisses: new Gauge({ name: "pc_node_sig_cache_misses", help: "Signatures the cache did not hold (verified natively) since start", registers: r, collect() { this.set(sigCache?.stats.misses ?? 0); } }),
    verifyAsyncInFlight: new Gauge({ name: "pc_node_verify_async_in_flight", help: "Signature batches on the native verification pool, not yet answered (whole process)", registers: r, collect() { this.set(verifyBatchesInFlight()); } }),
    verifyAsyncBatches: new Counter({ name: "pc_node_verify_async_batches_total", help: "Admission batches whose signatures were verified on the native pool before admission, by outcome (verified, or the error code after which admission verified them synchronously)", labelNames: ["outcome"] as const, registers: r }),
    verifyAsyncSeconds: new Histogram({ name: "pc_node_verify_async_seconds", help: "From handing an admission batch's signatures to the native pool to their answers (the event loop runs meanwhile)", buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: r }),
    admissionsQueued: new Gauge({ name: "pc_node_tx_admissions_queued", help: "Transaction batches (tx_submit calls, peer relays) waiting for their signatures or for earlier batches before admission", registers: r, collect() { this.set(admissionsQueued?.() ?? 0); } }),
    eventsCreated: new Counter({ name: "pc_node_events_created_total", help: "Events this validator created, by why it created them (SPEC_CONSENSUS §15): payload (carries txs, mints or evidence), pending (payload events or fees await finality), heartbeat (idle liveness), rejoin", labelNames: ["reason"] as const, registers: r }),
    pendingWork: new Gauge({ name: "pc_node_pending_payload_events", help: "Events in this node's DAG that carry a payload and are not ordered yet; while above 0 (or fees await settlement) validators keep creating events, at 0 they go quiet", registers: r }),
    eventsAccepted: new Counter({ name: "pc_node_events_accepted_total", help: "Events accepted into the DAG (own and peers')", registers: r }),
    eventsRejected: new Counter({ name: "pc_node_events_rejected_total", help: "Events rejected, by typed reason", labelNames: ["code"] as const, registers: r }),
    orphans: new Gauge({ name: "pc_node_orphan_events", help: "Events waiting for a missing parent", registers: r }),
    rejoins: new Counter({ name: "pc_node_rejoins_total", help: "Events this validator created with an ancient self-parent reference to rejoin (after a pause, partition or an old or wiped store), by cause", labelNames: ["cause"] as const, registers: r }),
    rejoinWaiting: new Gauge({ name: "pc_node_rejoin_waiting", help: "1 while this validator waits to rejoin (its newest event must first become ancient next to recent events) or to catch up before signing", registers: r }),
    weightWaiting: new Gauge({ name: "pc_node_consensus_weight_waiting_events", help: "Events waiting for the consensus weights of their parents' round (the ledger has not applied the anchors L rounds below yet)", registers: r }),
    stakeWaits: new Counter({ name: "pc_node_consensus_stake_waits_total", help: "Times this validator held off creating an event because the weights of its parents' round were not known yet", registers: r }),
    dagEvents: new Gauge({ name: "pc_node_dag_events", help: "Events held in memory by the consensus engine", registers: r }),
    lastDecidedRound: new Gauge({ name: "pc_node_last_decided_round", help: "Highest round whose fame is decided", registers: r }),
    anchorsFinalized: new Counter({ name: "pc_node_anchors_finalized_total", help: "Finalized events applied to the ledger", registers: r }),
    evidence: new Counter({ name: "pc_node_evidence_total", help: "Slashing evidence found by this node, by kind", labelNames: ["kind"] as const, registers: r }),
    payloadErrors: new Counter({ name: "pc_node_payload_errors_total", help: "Finalized payloads that did not decode (applied as empty), by codec error code", labelNames: ["code"] as const, registers: r }),
    consensusSeconds: new Histogram({ name: "pc_node_consensus_add_seconds", help: "Time in ConsensusEngine.addEvents per call", buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5], registers: r }),
    applySeconds: new Histogram({ name: "pc_node_anchor_apply_seconds", help: "Time to apply and commit one finalized anchor", buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1], registers: r }),
    txReceipts: new Counter({ name: "pc_node_tx_receipts_total", help: "Transactions submitted over RPC by whether another validator confirmed holding them before the answer (held) or not (timeout, no_peers: answered TX_NOT_RELAYED)", labelNames: ["outcome"] as const, registers: r }),
    mintsSubmitted: new Counter({ name: "pc_node_mints_submitted_total", help: "Mint submissions by outcome of the pre-check", labelNames: ["outcome"] as const, registers: r }),
    supplyUnits: new Gauge({ name: "pc_node_supply_units", help: "Units emitted so far by accepted mints", registers: r }),
    mintHeight: new Gauge({ name: "pc_node_mint_height", help: "Height the next mint must carry", registers: r }),
    targetBits: new Gauge({ name: "pc_node_mint_target_bits", help: "Leading zero bits the next mint needs", registers: r }),
  };
}

export type ConsensusMetrics = ReturnType<typeof createConsensusMetrics>;
