/**
 * `phantom P2pQuicListen`: runs one validator — QUIC listener and dialer, consensus,
 * SQLite store, mempool and proposer, JSON-RPC/REST/explorer and Prometheus metrics —
 * until SIGINT/SIGTERM, then stops cleanly (timers, peers, listeners, database).
 */
import { writeFileSync } from "node:fs";
import type { Command } from "../command.ts";
import { NODE_FLAGS, resolveNodeConfig } from "../../node/config.ts";
import { loadGenesis, genesisLoadedLine } from "../../genesis/index.ts";
import { loadValidatorKey } from "../../node/keys.ts";
import { createRegistry, createNodeMetrics } from "../../metrics/registry.ts";
import { parseHostPort, serveMetrics } from "../../metrics/server.ts";
import { planRpcAuth, removeCookie, rpcTokenFromPlan } from "../../rpc/auth.ts";
import { startRpcServer } from "../../rpc/server.ts";
import { SqliteStore } from "../../store/sqlite-store.ts";
import { createStoreMetrics } from "../../store/metrics.ts";
import { PhantomNode } from "../../node/node.ts";
import { nodeRpcMethods, NODE_REST_ROUTES, NODE_RPC_COSTS } from "../../node/rpc-methods.ts";
import { quicTransport } from "../../node/quic-transport.ts";
import { toHex } from "../../crypto/bytes.ts";
import { formatLogLine } from "../log-line.ts";
import { describeOsError, PhantomError } from "../../errors.ts";

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
    const fileOpts = { allowInsecure: config.allowInsecureKeyFile, warn: (message: string) => log({ type: "warning", message }) };
    const identity = loadValidatorKey(config.keyFile, genesis, fileOpts);
    const me = genesis.validators[identity.index]!;
    const registry = createRegistry({ validator: String(identity.index), chain: genesis.chainId });
    const nodeMetrics = createNodeMetrics(registry);
    // Whatever was opened is closed again, in reverse order, also when a later step fails
    // (a busy port): the typed error then ends the process with nothing left half-open.
    const opened: (() => void | Promise<void>)[] = [];
    try {
      const store = new SqliteStore({
        storeDir: config.storeDir, emission: genesis.emission, fsync: config.fsync, genesisCommitment: genesis.commitment,
        cacheHeadersCap: config.cacheHdrCap, cachePayloadsCap: config.cachePlCap, metrics: createStoreMetrics(registry),
      });
      opened.push(() => store.close());
      const rpcToken = rpcTokenFromPlan(rpcAuth, fileOpts); // the store directory exists now (the cookie lives there)
      if (rpcAuth.kind === "cookie") opened.push(() => removeCookie(rpcAuth.path));
      const transport = quicTransport({ listenAddr: config.addr || me.address, identity: identity.keyPair, committee: genesis.validators.map((v) => v.publicKey) });
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
        genesis, identity, store, transport, registry,
        eventIntervalMs: config.eventIntervalMs, txProposer: config.txProposer, txProposerIntervalMs: config.txProposerIntervalMs,
        txsPerPayload: config.txsPerPayload, payloadBudgetBytes: config.payloadBudgetBytes,
        mempoolLimits: { txsMax: config.mempoolTxsMax, bytesMax: config.mempoolBytesMax },
        now: () => performance.now(), log,
        onAnchor: (info) => rpcHolder.publish?.("anchors", { anchorIndex: info.finalized.anchorIndex, eventId: toHex(info.finalized.event.id), stateRoot: toHex(info.diff.commitment) }),
      });
      opened.push(() => node.stop());
      await node.start();
      const rpc = startRpcServer({
        addr: config.rpcAddr, methods: nodeRpcMethods(node, store, genesis), rest: NODE_REST_ROUTES, registry, metrics: nodeMetrics, ready: () => node.ready(),
        token: rpcToken, rateLimit: { ratePerS: config.rpcRatePerS, burst: config.rpcBurst }, costs: NODE_RPC_COSTS, now: () => performance.now(),
      });
      opened.push(() => rpc.stop());
      rpcHolder.publish = rpc.publish;
      const metrics = serveMetrics(registry, config.metricsAddr);
      opened.push(() => metrics.stop());
      nodeMetrics.up.set(1);
      log({ type: "node_started", validator: identity.index, p2p: config.addr || me.address, rpc: rpc.url, rpcAuth: rpcAuth.kind, ...(rpcAuth.kind === "open" ? {} : { rpcTokenPath: rpcAuth.path }), metrics: metrics.url, storeDir: config.storeDir });
      await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
      log({ type: "node_stopping", validator: identity.index });
      nodeMetrics.up.set(0);
    } finally {
      for (const close of opened.reverse()) await close();
    }
    log({ type: "node_stopped", validator: identity.index });
    return 0;
  },
};
