/**
 * `phantom P2pQuicListen`: runs one validator — QUIC listener and dialer, consensus,
 * SQLite store, mempool and proposer, JSON-RPC/REST/explorer and Prometheus metrics —
 * until SIGINT/SIGTERM, then stops cleanly (timers, peers, listeners, database) and
 * exits 0. A fatal fault (a store write SQLite refused, a broken invariant, an
 * uncaught exception) fail-stops: one `fatal` log line, the same clean stop, and exit
 * status 74 (STORE_WRITE_FAILED) or 70 (internal error) for the service manager.
 */
import { writeFileSync } from "node:fs";
import type { Command, CommandContext } from "../command.ts";
import { NODE_FLAGS, resolveNodeConfig, type NodeConfig } from "../../node/config.ts";
import { loadGenesis, genesisLoadedLine, genesisForShard } from "../../genesis/index.ts";
import type { Genesis } from "../../genesis/genesis.ts";
import { readKeyFile, shardOfKey, type ValidatorIdentity } from "../../node/keys.ts";
import { parseShardRpc } from "../../node/shard-relay.ts";
import { createRegistry, createNodeMetrics } from "../../metrics/registry.ts";
import { parseHostPort, serveMetrics } from "../../metrics/server.ts";
import { planRpcAuth, removeCookie, rpcTokenFromPlan, type RpcAuthPlan } from "../../rpc/auth.ts";
import { startRpcServer } from "../../rpc/server.ts";
import { openapi, openrpc } from "../../rpc/descriptions.ts";
import { SqliteStore } from "../../store/sqlite-store.ts";
import { createStoreMetrics } from "../../store/metrics.ts";
import { PhantomNode } from "../../node/node.ts";
import { nodeRpcMethods, NODE_REST_ROUTES, NODE_RPC_COSTS } from "../../node/rpc-methods.ts";
import { quicTransport } from "../../node/quic-transport.ts";
import { FailStop, type Failure } from "../../node/fail-stop.ts";
import { equalBytes, toHex } from "../../crypto/bytes.ts";
import { formatLogLine } from "../log-line.ts";
import { describeOsError, PhantomError } from "../../errors.ts";
import { checkDiskSpace } from "../../store/disk-space.ts";

/** After a fatal fault the process exits by this bound even if the clean stop hangs (everything committed is in SQLite already). */
export const failStopExitMsMax = 500;
/** How often the store's free disk space is checked (--min_free_disk_mb). */
const diskCheckIntervalMs = 250;
/**
 * TEST ONLY (not an operator setting): the store may grow by at most this many SQLite
 * pages after it opens (PRAGMA max_page_count), so SQLite itself returns SQLITE_FULL.
 * Lets the fail-stop test run where a small tmpfs cannot be mounted.
 */
export const TEST_STORE_GROWTH_PAGES_ENV = "PHANTOM_TEST_STORE_GROWTH_PAGES_MAX";

type Log = (line: Record<string, unknown>) => void;

export const command: Command = {
  name: "P2pQuicListen",
  aliases: ["p2p-quic-listen", "node"],
  summary: "run a validator node: QUIC listener, consensus, storage, RPC, metrics",
  usage: "phantom P2pQuicListen --genesis genesis.toml --key_file validator.key [--addr 127.0.0.1:9000] [--store_dir pc-data] [--config node.toml]",
  flags: NODE_FLAGS,
  async run(ctx) {
    const config = await resolveNodeConfig(ctx.flags, ctx.explicit);
    // Refused before anything is opened: a reachable RPC listener without a token.
    const rpcAuth = planRpcAuth({ host: parseHostPort(config.rpcAddr, "--rpc_addr").host, mode: config.rpcAuth, tokenFile: config.rpcTokenFile, storeDir: config.storeDir });
    const log = (line: Record<string, unknown>) => ctx.out(formatLogLine(config.logFormat, line));
    const genesis = await loadGenesis(config.genesis);
    log(JSON.parse(genesisLoadedLine(genesis)) as Record<string, unknown>);
    const failStop = new FailStop(log);
    failStop.onFail((f) => setTimeout(() => process.exit(f.exitCode), failStopExitMsMax).unref());
    // The last boundary: anything that escapes every callback guard still fail-stops.
    const uncaught = (e: unknown) => failStop.fail(e, "uncaught");
    process.on("uncaughtException", uncaught);
    process.on("unhandledRejection", uncaught);
    try {
      return await runNode(ctx, config, genesis, rpcAuth, log, failStop);
    } catch (e) {
      if (failStop.failed) return failStop.failed.exitCode; // already logged as one `fatal` line
      throw e;
    } finally {
      process.off("uncaughtException", uncaught);
      process.off("unhandledRejection", uncaught);
    }
  },
};

/** Builds and runs the node until a signal (returns 0) or a fatal fault (returns its exit code). */
async function runNode(ctx: CommandContext, config: NodeConfig, fullGenesis: Genesis, rpcAuth: RpcAuthPlan, log: Log, failStop: FailStop): Promise<number> {
  const failed = new Promise<Failure>((resolve) => failStop.onFail(resolve));
  const fileOpts = { allowInsecure: config.allowInsecureKeyFile, warn: (message: string) => log({ type: "warning", message }) };
  // The node runs its shard's view of the genesis (docs/SPEC_SHARDING.md §3): committee,
  // creator indexes, stakes and peers are that shard's; one shard: the genesis itself.
  const keyPair = readKeyFile(config.keyFile, fileOpts);
  const shard = shardOfKey(fullGenesis, keyPair.publicKey, config.shard, config.keyFile);
  const genesis = genesisForShard(fullGenesis, shard);
  const shardRpc = parseShardRpc(config.shardRpc, genesis.shardCount, shard);
  const identity: ValidatorIdentity = { index: genesis.validators.findIndex((v) => equalBytes(v.publicKey, keyPair.publicKey)), keyPair };
  const me = genesis.validators[identity.index]!;
  // Every series names the node's shard, so one Prometheus can hold several shards apart (docs/OPERATIONS.md).
  const registry = createRegistry({ validator: String(identity.index), chain: genesis.chainId, shard: String(me.shard) });
  const nodeMetrics = createNodeMetrics(registry);
  // Whatever was opened is closed again, in reverse order, also when a later step fails
  // (a busy port): the typed error then ends the process with nothing left half-open.
  const opened: (() => void | Promise<void>)[] = [];
  let exitCode = 0;
  try {
    const storeMetrics = createStoreMetrics(registry);
    const store = new SqliteStore({
      storeDir: config.storeDir, emission: genesis.emission, fsync: config.fsync, genesisCommitment: genesis.commitment,
      cacheHeadersCap: config.cacheHdrCap, cachePayloadsCap: config.cachePlCap, metrics: storeMetrics,
      onWriteFailed: (e) => failStop.fail(e, "store"),
    });
    opened.push(() => store.close());
    limitStoreGrowthForTests(store);
    if (config.minFreeDiskMb > 0) {
      const reserve = config.minFreeDiskMb * 1024 * 1024;
      const check = () => checkDiskSpace(config.storeDir, reserve, (free) => storeMetrics.diskFreeBytes.set(free));
      const timer = setInterval(failStop.guard("disk_space", check), diskCheckIntervalMs);
      opened.push(() => clearInterval(timer));
    }
    const rpcToken = rpcTokenFromPlan(rpcAuth, fileOpts); // the store directory exists now (the cookie lives there)
    if (rpcAuth.kind === "cookie") opened.push(() => removeCookie(rpcAuth.path));
    const transport = quicTransport({ listenAddr: config.addr || me.address, identity: identity.keyPair, committee: genesis.validators.map((v) => v.publicKey), registry, log });
    if (config.certOut) {
      try {
        writeFileSync(config.certOut, transport.certificateDer());
      } catch (e) {
        throw new PhantomError("CERT_WRITE_FAILED", `cannot write --cert_out ${config.certOut}: ${describeOsError(e)}`);
      }
      log({ type: "cert_written", path: config.certOut });
    }
    const rpcHolder: { publish?: (topic: string, payload: unknown) => void } = {};
    const node = new PhantomNode({
      genesis, identity, store, transport, registry, failStop,
      eventIntervalMs: config.eventIntervalMs, idleHeartbeatMs: config.idleHeartbeatMs, txProposer: config.txProposer, txProposerIntervalMs: config.txProposerIntervalMs,
      txsPerPayload: config.txsPerPayload, payloadBudgetBytes: config.payloadBudgetBytes,
      mempoolLimits: { txsMax: config.mempoolTxsMax, bytesMax: config.mempoolBytesMax },
      snapshotIntervalAnchors: config.snapshotIntervalAnchors, pruneKeepRounds: config.pruneKeepRounds, shardRpc,
      now: () => performance.now(), log,
      onAnchor: (info) => rpcHolder.publish?.("anchors", {
        anchorIndex: info.finalized.anchorIndex, eventId: toHex(info.finalized.event.id), stateRoot: toHex(info.diff.commitment),
        // Applied transfers, so a client (wallet, bench/localnet.bench.ts) learns finality without polling tx_status.
        txids: info.diff.outcomes.flatMap((o) => (o.kind === "micro" && o.applied ? [toHex(o.id)] : [])),
      }),
    });
    opened.push(() => node.stop());
    await node.start();
    const rpc = startRpcServer({
      addr: config.rpcAddr, methods: nodeRpcMethods(node, store, genesis), rest: NODE_REST_ROUTES, registry, metrics: nodeMetrics, ready: () => node.ready(),
      token: rpcToken, rateLimit: { ratePerS: config.rpcRatePerS, burst: config.rpcBurst }, costs: NODE_RPC_COSTS, now: () => performance.now(),
      descriptions: { openapi, openrpc },
    });
    opened.push(() => rpc.stop());
    rpcHolder.publish = rpc.publish;
    const metrics = serveMetrics(registry, config.metricsAddr);
    opened.push(() => metrics.stop());
    nodeMetrics.up.set(1);
    log({ type: "node_started", validator: identity.index, shard, shardCount: genesis.shardCount, p2p: config.addr || me.address, rpc: rpc.url, rpcAuth: rpcAuth.kind, ...(rpcAuth.kind === "open" ? {} : { rpcTokenPath: rpcAuth.path }), metrics: metrics.url, storeDir: config.storeDir });
    const stopped = new Promise<null>((resolve) => ctx.signal.addEventListener("abort", () => resolve(null), { once: true }));
    const failure = await Promise.race([stopped, failed]);
    exitCode = failure?.exitCode ?? 0;
    log({ type: "node_stopping", validator: identity.index, exitCode });
    nodeMetrics.up.set(0);
  } finally {
    for (const close of opened.reverse()) await close();
  }
  log({ type: "node_stopped", validator: identity.index, exitCode });
  return exitCode;
}

function limitStoreGrowthForTests(store: SqliteStore): void {
  const pages = Number(process.env[TEST_STORE_GROWTH_PAGES_ENV] ?? "");
  if (!Number.isSafeInteger(pages) || pages <= 0) return;
  const row = store.db.query("PRAGMA page_count").get() as { page_count: number | bigint };
  store.db.run(`PRAGMA max_page_count = ${Number(row.page_count) + pages}`);
}
