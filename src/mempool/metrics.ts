/** Mempool and proposer metrics, named as the seed names them (pc_node_mempool_*, pc_node_proposer_*). */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

export function createMempoolMetrics(registry: Registry) {
  return {
    size: new Gauge({ name: "pc_node_mempool_size", help: "Transactions in the mempool", registers: [registry] }),
    bytes: new Gauge({ name: "pc_node_mempool_bytes", help: "Encoded bytes of the transactions in the mempool", registers: [registry] }),
    accepted: new Counter({ name: "pc_node_mempool_accepted_total", help: "Transactions admitted to the mempool", registers: [registry] }),
    rejected: new Counter({ name: "pc_node_mempool_rejected_total", help: "Transactions refused by the mempool, by reason (TX_* or MEMPOOL_* code)", labelNames: ["reason"] as const, registers: [registry] }),
    duplicate: new Counter({ name: "pc_node_mempool_duplicate_total", help: "Transactions already in the mempool (same txid) when offered", registers: [registry] }),
    evictions: new Counter({ name: "pc_node_mempool_evictions_total", help: "Transactions evicted (lowest fee rate first) to make room", registers: [registry] }),
    replaced: new Counter({ name: "pc_node_mempool_replaced_total", help: "Transactions replaced by a conflicting one with a higher fee rate (replace-by-fee)", registers: [registry] }),
    invalidated: new Counter({ name: "pc_node_mempool_invalidated_total", help: "Transactions dropped because a finalized anchor spent one of their inputs", registers: [registry] }),
    included: new Counter({ name: "pc_node_mempool_included_total", help: "Transactions removed because a finalized anchor included them", registers: [registry] }),
    expired: new Counter({ name: "pc_node_mempool_expired_total", help: "Transactions dropped after waiting MEMPOOL_EXPIRY_ANCHORS anchors without being final", registers: [registry] }),
    admitBatchSize: new Histogram({ name: "pc_node_mempool_admit_batch_size", help: "Transactions per admission batch (one verifyBatch call each)", buckets: [1, 4, 16, 64, 256, 1024, 4096], registers: [registry] }),
  };
}

export type MempoolMetrics = ReturnType<typeof createMempoolMetrics>;

/** What became of accepted transactions (src/mempool/tx-lifecycle.ts). */
export function createTxLifecycleMetrics(registry: Registry) {
  return {
    terminal: new Counter({ name: "pc_node_mempool_tx_terminal_total", help: "Accepted transactions that reached a terminal state (final, void, expired, replaced, evicted), by state and reason code", labelNames: ["state", "reason"] as const, registers: [registry] }),
    persisted: new Gauge({ name: "pc_node_mempool_persisted_txs", help: "Pending transactions persisted in the store (reloaded at start-up)", registers: [registry] }),
    outcomes: new Gauge({ name: "pc_node_mempool_tx_outcomes", help: "Terminal-state records kept for tx_status (bounded by the retention)", registers: [registry] }),
  };
}

export type TxLifecycleMetrics = ReturnType<typeof createTxLifecycleMetrics>;

export function createProposerMetrics(registry: Registry) {
  return {
    built: new Counter({ name: "pc_node_proposer_built_total", help: "Payloads built by the tx proposer", registers: [registry] }),
    lastSize: new Gauge({ name: "pc_node_proposer_last_size", help: "Transactions in the last payload built", registers: [registry] }),
    lastBytes: new Gauge({ name: "pc_node_proposer_last_bytes", help: "Encoded bytes of the last payload built", registers: [registry] }),
    errors: new Counter({ name: "pc_node_proposer_errors_total", help: "Payload builds that failed, by code", labelNames: ["code"] as const, registers: [registry] }),
    pending: new Gauge({ name: "pc_node_proposer_pending", help: "Payloads built and not yet finalized or dropped", registers: [registry] }),
    pendingTxs: new Gauge({ name: "pc_node_proposer_pending_txs", help: "Transactions held by pending payloads (skipped by the next builds)", registers: [registry] }),
  };
}

export type ProposerMetrics = ReturnType<typeof createProposerMetrics>;
