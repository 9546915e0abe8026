/**
 * Node configuration: defaults < config file (TOML) < command line; consensus-
 * critical values come from genesis, which overrides both (the seed's rule for k).
 */
import { parse as parseToml } from "smol-toml";
import { PhantomError } from "../errors.ts";
import type { FlagSpec, FlagValue } from "../cli/command.ts";
import { RPC_AUTH_MODES, type RpcAuthMode } from "../rpc/auth.ts";

export interface NodeConfig {
  genesis: string;
  keyFile: string;
  allowInsecureKeyFile: boolean;
  addr: string;
  storeDir: string;
  fsync: boolean;
  /** Free space on the store's file system below which the node fail-stops (0 = never). */
  minFreeDiskMb: number;
  rpcAddr: string;
  rpcAuth: RpcAuthMode;
  rpcTokenFile: string | null;
  rpcRatePerS: number;
  rpcBurst: number;
  metricsAddr: string;
  txProposer: boolean;
  txProposerIntervalMs: number;
  txsPerPayload: number;
  payloadBudgetBytes: number;
  mempoolTxsMax: number;
  mempoolBytesMax: number;
  cacheHdrCap: number;
  cachePlCap: number;
  /** How often the node considers creating an event (I/O scheduling, not consensus). */
  eventIntervalMs: number;
  /** With nothing to carry or finalize, create an event only this often (SPEC_CONSENSUS §15). */
  idleHeartbeatMs: number;
  certOut: string | null;
  logFormat: "json" | "text";
  /** Anchors between consensus snapshots (0: only at clean shutdown). */
  snapshotIntervalAnchors: number;
  /** Keep stored events of this many rounds below the last decided one (0: keep everything). */
  pruneKeepRounds: number;
  /** `--shard`: the shard this node serves, checked against its key's genesis entry; null: taken from it. */
  shard: number | null;
  /** `--shard_rpc`: "SHARD=URL,…", an RPC endpoint of a node of each other shard (the relay's destinations). */
  shardRpc: string;
}

/** Flags of P2pQuicListen; `key` is the config-file path ([node] table, dots for sub-tables). */
export const NODE_FLAGS: (FlagSpec & { key: string })[] = [
  { name: "config", key: "", type: "string", help: "node config file (TOML, [node] table)" },
  { name: "genesis", key: "genesis", type: "string", help: "genesis file", default: "genesis.toml" },
  { name: "key_file", key: "key_file", type: "string", help: "validator key file (hex Ed25519 seed, mode 0600)" },
  { name: "allow_insecure_key_file", key: "allow_insecure_key_file", type: "bool", help: "use a key or token file that group or others can access (refused otherwise)", default: "false" },
  { name: "addr", key: "addr", type: "string", help: "QUIC listen address host:port (default: this validator's genesis address)" },
  { name: "store_dir", key: "store_dir", type: "string", help: "data directory (SQLite)", default: "pc-data" },
  { name: "fsync", key: "fsync", type: "bool", help: "fsync every committed batch (synchronous=FULL)", default: "true" },
  { name: "min_free_disk_mb", key: "min_free_disk_mb", type: "int", help: "fail-stop (exit 74, STORE_WRITE_FAILED) when the store's file system has less free space than this (0 = only when SQLite refuses a write)", default: "8" },
  { name: "rpc_addr", key: "rpc_addr", type: "string", help: "JSON-RPC/REST/explorer listen address", default: "127.0.0.1:8645" },
  { name: "rpc_auth", key: "rpc.auth", type: "string", help: "auto (bearer token from a 0600 cookie in the store dir unless --rpc_addr is loopback), cookie (always) or none (loopback only)", default: "auto" },
  { name: "rpc_token_file", key: "rpc.token_file", type: "string", help: "file whose first line is the RPC bearer token (turns auth on, also on loopback)" },
  { name: "rpc_rate_per_s", key: "rpc.rate_per_s", type: "int", help: "RPC tokens a client regains per second (0 = no rate limit)", default: "1000" },
  { name: "rpc_burst", key: "rpc.burst", type: "int", help: "RPC token bucket size per client", default: "2000" },
  { name: "metrics_addr", key: "metrics_addr", type: "string", help: "Prometheus /metrics listen address", default: "127.0.0.1:9100" },
  { name: "tx_proposer", key: "proposer.enabled", type: "bool", help: "build payloads from the mempool", default: "true" },
  { name: "tx_proposer_interval_ms", key: "proposer.interval_ms", type: "int", help: "payload build interval", default: "5000" },
  { name: "txs_per_payload", key: "proposer.txs_per_payload", type: "int", help: "max transactions per payload", default: "1024" },
  { name: "payload_budget_bytes", key: "proposer.payload_budget_bytes", type: "int", help: "max payload size", default: "1048576" },
  { name: "mempool_txs_max", key: "mempool.txs_max", type: "int", help: "mempool capacity in transactions (lowest fee rate evicted first)", default: "100000" },
  { name: "mempool_bytes_max", key: "mempool.bytes_max", type: "int", help: "mempool capacity in encoded bytes", default: "67108864" },
  { name: "cache_hdr_cap", key: "cache.header_cap", type: "int", help: "header LRU capacity (0 = off)", default: "10000" },
  { name: "cache_pl_cap", key: "cache.payload_cap", type: "int", help: "payload LRU capacity (0 = off)", default: "5000" },
  { name: "event_interval_ms", key: "event_interval_ms", type: "int", help: "how often to create an event when there is news", default: "200" },
  { name: "idle_heartbeat_ms", key: "idle_heartbeat_ms", type: "int", help: "with no payload to carry and nothing awaiting finality, create an event only this often (liveness heartbeat; SPEC_CONSENSUS §15)", default: "600000" },
  { name: "cert_out", key: "cert_out", type: "string", help: "write this node's QUIC certificate (DER) here" },
  { name: "log_format", key: "log_format", type: "string", help: "json or text", default: "json" },
  { name: "snapshot_interval_anchors", key: "storage.snapshot_interval_anchors", type: "int", help: "write a consensus snapshot every N anchors (and at clean shutdown; 0 = only then); start-up replays only the events after the newest", default: "1000" },
  { name: "prune_keep_rounds", key: "storage.prune_keep_rounds", type: "int", help: "delete stored events and payloads of rounds more than N below the last decided round, after a snapshot covers them (0 = keep everything; minimum: genesis horizon_rounds + 24); a pruned node cannot serve old history, a wiped one needs `phantom snapshot restore`", default: "0" },
  { name: "shard", key: "shard", type: "int", help: "the shard this validator serves; must equal its key's `shard` in the genesis (default: taken from there)" },
  { name: "shard_rpc", key: "shard_rpc", type: "string", help: "with shard_count > 1: SHARD=URL pairs, comma-separated, an RPC endpoint of a node of each other shard; this node relays its shard's certified exports there (shard_importSubmit)", default: "" },
];

/** Every key of the file that names no setting is an error: a misspelt key would silently keep its default. */
function checkKnownKeys(doc: Record<string, unknown>, path: string): void {
  const known = new Set(NODE_FLAGS.map((f) => f.key).filter((k) => k !== ""));
  const tables = new Set([...known].flatMap((k) => k.split(".").slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join("."))));
  const walk = (table: Record<string, unknown>, prefix: string): void => {
    for (const [k, v] of Object.entries(table)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (tables.has(key) && typeof v === "object" && v !== null && !Array.isArray(v)) walk(v as Record<string, unknown>, key);
      else if (!known.has(key)) throw new PhantomError("CONFIG_UNKNOWN_KEY", `config ${path}: unknown setting node.${key} (see phantom P2pQuicListen --help for the settings)`);
    }
  };
  for (const top of Object.keys(doc)) if (top !== "node") throw new PhantomError("CONFIG_UNKNOWN_KEY", `config ${path}: unknown table [${top}] (settings live under [node])`);
  const node = doc.node;
  if (node !== undefined) {
    if (typeof node !== "object" || node === null || Array.isArray(node)) throw new PhantomError("CONFIG_BAD_VALUE", `config ${path}: [node] must be a table`);
    walk(node as Record<string, unknown>, "");
  }
}

function fromFile(doc: Record<string, unknown>, key: string): unknown {
  let cur: unknown = doc.node;
  for (const part of key.split(".")) {
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function coerce(spec: FlagSpec & { key: string }, v: unknown): FlagValue {
  const ok =
    (spec.type === "string" && typeof v === "string") ||
    (spec.type === "bool" && typeof v === "boolean") ||
    (spec.type === "int" && typeof v === "number" && Number.isSafeInteger(v));
  if (!ok) throw new PhantomError("CONFIG_BAD_VALUE", `config: node.${spec.key} must be ${spec.type === "int" ? "an integer" : `a ${spec.type}`}`);
  return v as FlagValue;
}

/** Parses config file text (`path` only names it in errors); unknown keys are refused. */
export function parseNodeConfigText(text: string, path: string): Record<string, unknown> {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (e) {
    throw new PhantomError("CONFIG_PARSE", `config ${path}: ${(e as Error).message.split("\n")[0]}`);
  }
  checkKnownKeys(doc, path);
  return doc;
}

export async function resolveNodeConfig(flags: Record<string, FlagValue>, explicit: ReadonlySet<string>): Promise<NodeConfig> {
  let doc: Record<string, unknown> = {};
  const configPath = flags.config as string | undefined;
  if (configPath) {
    const file = Bun.file(configPath);
    if (!(await file.exists())) throw new PhantomError("CONFIG_NOT_FOUND", `config file not found: ${configPath}`);
    doc = parseNodeConfigText(await file.text(), configPath);
  }
  return resolveNodeConfigDoc(doc, flags, explicit);
}

/** Settings from a parsed config file and the command line (which wins). */
export function resolveNodeConfigDoc(doc: Record<string, unknown>, flags: Record<string, FlagValue>, explicit: ReadonlySet<string>): NodeConfig {
  const v: Record<string, FlagValue> = {};
  for (const spec of NODE_FLAGS) {
    const inFile = spec.key ? fromFile(doc, spec.key) : undefined;
    v[spec.name] = explicit.has(spec.name) || inFile === undefined ? flags[spec.name] : coerce(spec, inFile);
  }
  const positive = (name: string) => {
    const n = v[name] as number;
    if (!(n > 0)) throw new PhantomError("CONFIG_BAD_VALUE", `--${name} must be > 0, got ${n}`);
    return n;
  };
  const nonNegative = (name: string) => {
    const n = v[name] as number;
    if (!(n >= 0)) throw new PhantomError("CONFIG_BAD_VALUE", `--${name} must be >= 0, got ${n}`);
    return n;
  };
  const logFormat = v.log_format;
  if (logFormat !== "json" && logFormat !== "text") throw new PhantomError("CONFIG_BAD_VALUE", `--log_format must be json or text, got ${String(logFormat)}`);
  const rpcAuth = v.rpc_auth as RpcAuthMode;
  if (!RPC_AUTH_MODES.includes(rpcAuth)) throw new PhantomError("CONFIG_BAD_VALUE", `--rpc_auth must be ${RPC_AUTH_MODES.join(", ")}, got ${String(rpcAuth)}`);
  if (!v.key_file) throw new PhantomError("CONFIG_MISSING", "--key_file is required (a validator key from `phantom genesis new`)");
  return {
    genesis: v.genesis as string,
    keyFile: v.key_file as string,
    allowInsecureKeyFile: v.allow_insecure_key_file as boolean,
    addr: (v.addr as string | undefined) ?? "",
    storeDir: v.store_dir as string,
    fsync: v.fsync as boolean,
    minFreeDiskMb: nonNegative("min_free_disk_mb"),
    rpcAddr: v.rpc_addr as string,
    rpcAuth,
    rpcTokenFile: (v.rpc_token_file as string | undefined) ?? null,
    rpcRatePerS: nonNegative("rpc_rate_per_s"),
    rpcBurst: positive("rpc_burst"),
    metricsAddr: v.metrics_addr as string,
    txProposer: v.tx_proposer as boolean,
    txProposerIntervalMs: positive("tx_proposer_interval_ms"),
    txsPerPayload: positive("txs_per_payload"),
    payloadBudgetBytes: positive("payload_budget_bytes"),
    mempoolTxsMax: positive("mempool_txs_max"),
    mempoolBytesMax: positive("mempool_bytes_max"),
    cacheHdrCap: nonNegative("cache_hdr_cap"),
    cachePlCap: nonNegative("cache_pl_cap"),
    eventIntervalMs: positive("event_interval_ms"),
    idleHeartbeatMs: positive("idle_heartbeat_ms"),
    certOut: (v.cert_out as string | undefined) ?? null,
    logFormat,
    snapshotIntervalAnchors: nonNegative("snapshot_interval_anchors"),
    pruneKeepRounds: nonNegative("prune_keep_rounds"),
    shard: v.shard === undefined ? null : nonNegative("shard"),
    shardRpc: v.shard_rpc as string,
  };
}
