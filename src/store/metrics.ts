/** Store metrics (names from the seed: pc_node_cache_*, pc_node_store_*_read_seconds). */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

const readBuckets = [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05];

export function createStoreMetrics(registry: Registry) {
  const r = [registry];
  return {
    headerHits: new Counter({ name: "pc_node_cache_headers_hits_total", help: "Header LRU cache hits", registers: r }),
    headerMisses: new Counter({ name: "pc_node_cache_headers_misses_total", help: "Header LRU cache misses", registers: r }),
    payloadHits: new Counter({ name: "pc_node_cache_payloads_hits_total", help: "Payload LRU cache hits", registers: r }),
    payloadMisses: new Counter({ name: "pc_node_cache_payloads_misses_total", help: "Payload LRU cache misses", registers: r }),
    headerReadSeconds: new Histogram({ name: "pc_node_store_header_read_seconds", help: "SQLite read time of one header (cache misses)", buckets: readBuckets, registers: r }),
    payloadReadSeconds: new Histogram({ name: "pc_node_store_payload_read_seconds", help: "SQLite read time of one payload (cache misses)", buckets: readBuckets, registers: r }),
    anchorCommitSeconds: new Histogram({ name: "pc_node_store_anchor_commit_seconds", help: "Time to commit one finalized anchor in one SQLite transaction", buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1], registers: r }),
    anchorsCommitted: new Counter({ name: "pc_node_store_anchors_committed_total", help: "Finalized anchors committed to the store", registers: r }),
    diskFreeBytes: new Gauge({ name: "pc_node_store_disk_free_bytes", help: "Bytes available on the store's file system (checked every 250 ms; below --min_free_disk_mb the node fail-stops)", registers: r }),
    writeFailures: new Counter({ name: "pc_node_store_write_failures_total", help: "Store writes SQLite refused (the node then exits), by SQLite error code", labelNames: ["reason"] as const, registers: r }),
    ledgerTxs: new Counter({ name: "pc_node_ledger_txs_total", help: "Payload transactions applied by the ledger, by kind and outcome", labelNames: ["kind", "outcome"] as const, registers: r }),
    ledgerVoid: new Counter({ name: "pc_node_ledger_void_total", help: "Payload transactions voided by the ledger, by reason code", labelNames: ["code"] as const, registers: r }),
    ledgerAnchorIndex: new Gauge({ name: "pc_node_ledger_anchor_index", help: "Last finalized anchor index applied to the store", registers: r }),
    ledgerFeesUnits: new Counter({ name: "pc_node_ledger_fees_units_total", help: "Fees of applied MicroTxs, in units", registers: r }),
    ledgerFeesPendingUnits: new Gauge({ name: "pc_node_ledger_fees_pending_units", help: "Fees awaiting settlement (paid out k*D_max anchors after their anchor), in units", registers: r }),
    ledgerPayoutsUnits: new Counter({ name: "pc_node_ledger_payouts_units_total", help: "Fees paid out to validators as payout outputs, in units", registers: r }),
    ledgerSlashedUnits: new Counter({ name: "pc_node_ledger_slashed_units_total", help: "Stake burned by slashing, in units, by offense kind", labelNames: ["kind"] as const, registers: r }),
    stakeUnits: new Gauge({ name: "pc_node_stake_units", help: "Bonded stake of each validator in the ledger's stake table, in units", labelNames: ["validator"] as const, registers: r }),
  };
}

export type StoreMetrics = ReturnType<typeof createStoreMetrics>;
