/**
 * JSON-RPC request bodies (docs/RPC.md) dispatched to the node's real methods on a
 * validator of an in-process devnet that has finalized anchors (real SQLite store in a
 * temporary folder, real engine, mempool and chain index). A body gets a result or a typed error response; an
 * "internal error" (-32603, an untyped exception in a handler) or a rejected dispatch
 * is a crash.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { createGenesis } from "../../src/genesis/create.ts";
import { parseGenesis } from "../../src/genesis/genesis.ts";
import { keyPairFromSeed } from "../../src/crypto/ed25519.ts";
import { SqliteStore } from "../../src/store/sqlite-store.ts";
import { PhantomNode } from "../../src/node/node.ts";
import { MemoryNetwork } from "../../src/node/transport.ts";
import { nodeRpcMethods } from "../../src/node/rpc-methods.ts";
import { RPC_ERRORS, dispatch, toJson, type RpcMethods, type RpcResponse } from "../../src/rpc/jsonrpc.ts";
import { mutateJson } from "../structured.ts";
import { FuzzOracleError, oracle, utf8, type FuzzTarget } from "../target.ts";

/** Anchors the devnet finalizes before fuzzing starts, so anchor reads find data. */
const ANCHORS_BEFORE_FUZZING = 3n;
const STARTUP_LIMIT_MS = 30_000;

export const RPC_DEVNET_LABEL = "phantom-fuzz-rpc";
const RPC_DEVNET_K = 4;

const RPC_DICTIONARY: readonly Uint8Array[] = [
  "{", "}", "[", "]", ",", ":", "\"", "null", "true", "false", "-1", "0", "1.5", "1e400", "-0", "9007199254740993", "9223372036854775808",
  "18446744073709551616", "\"\"", "\"00\"", "\"zz\"", "[]", "{}", "\"__proto__\"", "\"constructor\"", "\"jsonrpc\":\"2.0\"", "\"id\":", "\"params\":",
  "\"method\":\"phantom_status\"", "\"method\":\"chain_anchor\"", "\"method\":\"chain_anchors\"", "\"method\":\"chain_lookup\"", "\"method\":\"address_get\"",
  "\"method\":\"tx_submit\"", "\"method\":\"tx_status\"", "\"method\":\"mint_getTemplate\"", "\"method\":\"mint_submit\"", "\"method\":\"peers_list\"",
  "\"index\":", "\"limit\":", "\"id\":\"", "\"address\":", "\"tx\":", "\"txs\":", "\"txid\":", "\"recipient\":", "\"header\":", "\\u0000", "\\ud800",
].map(utf8);

interface Devnet {
  nodes: PhantomNode[];
  stores: SqliteStore[];
  dirs: string[];
  methods: RpcMethods;
}

let devnet: Devnet | undefined;
const decoder = new TextDecoder();

/**
 * Four validators on the in-process network finalize a few anchors; then three stop and
 * validator 0 keeps running (its store, engine, mempool and index answer the requests).
 */
async function startDevnet(): Promise<Devnet> {
  const created = createGenesis({ k: RPC_DEVNET_K, devnetLabel: RPC_DEVNET_LABEL, initialTargetBits: 8 });
  const genesis = parseGenesis(created.toml);
  const net = new MemoryNetwork();
  const devnet: Devnet = { nodes: [], stores: [], dirs: [], methods: {} };
  for (let i = 0; i < RPC_DEVNET_K; i++) {
    const dir = mkdtempSync(join(tmpdir(), `phantom-fuzz-rpc-${i}-`));
    const store = new SqliteStore({ storeDir: dir, emission: genesis.emission, fsync: false, genesisCommitment: genesis.commitment });
    const keyPair = keyPairFromSeed(created.seeds[i]!);
    devnet.dirs.push(dir);
    devnet.stores.push(store);
    devnet.nodes.push(new PhantomNode({
      genesis, identity: { index: i, keyPair }, store, transport: net.transport(genesis.validators[i]!.address, keyPair.publicKey),
      registry: new Registry(), eventIntervalMs: 15, txProposer: true, txProposerIntervalMs: 20, txsPerPayload: 64, payloadBudgetBytes: 65536,
      now: () => performance.now(), log: () => {},
    }));
  }
  for (const n of devnet.nodes) await n.start();
  const store = devnet.stores[0]!;
  const deadline = performance.now() + STARTUP_LIMIT_MS;
  while ((store.lastApplied()?.anchorIndex ?? -1n) + 1n < ANCHORS_BEFORE_FUZZING) {
    if (performance.now() > deadline) throw new Error(`rpc fuzz devnet finalized no ${ANCHORS_BEFORE_FUZZING} anchors within ${STARTUP_LIMIT_MS} ms`);
    await Bun.sleep(20);
  }
  for (const n of devnet.nodes.slice(1)) await n.stop();
  devnet.methods = nodeRpcMethods(devnet.nodes[0]!, store, genesis);
  return devnet;
}

/** The error answer of a refused request (for the campaign's tally of codes reached). */
class RpcRefused extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

function checkResponse(r: RpcResponse): void {
  oracle(r.jsonrpc === "2.0", "response without jsonrpc 2.0");
  if (r.error) {
    if (r.error.code === RPC_ERRORS.internal) throw new FuzzOracleError(`untyped handler exception: ${r.error.message}`);
    oracle(typeof r.error.message === "string" && r.error.message.length > 0, "error response without a message");
  }
}

export const RPC_TARGETS: FuzzTarget[] = [
  {
    name: "rpc",
    description: "JSON-RPC request bodies dispatched to the node's methods on a devnet validator with finalized anchors (SQLite store)",
    extension: "json", maxBytes: 4096, dictionary: RPC_DICTIONARY, structured: mutateJson,
    async setup() {
      devnet ??= await startDevnet();
    },
    async teardown() {
      if (!devnet) return;
      const d = devnet;
      devnet = undefined;
      await d.nodes[0]!.stop();
      for (const store of d.stores) store.close();
      for (const dir of d.dirs) rmSync(dir, { recursive: true, force: true });
    },
    async run(input) {
      if (!devnet) throw new Error("rpc target used before setup()");
      const response = await dispatch(devnet.methods, decoder.decode(input));
      if (response === null) return;
      const responses = Array.isArray(response) ? response : [response];
      for (const r of responses) checkResponse(r);
      // What the HTTP server sends: it must serialize.
      toJson(response);
      const error = responses[0]!.error;
      if (error) throw new RpcRefused(`${error.code}${error.data ? `:${error.data.code}` : ""}`);
    },
    rejection: (e) => (e instanceof RpcRefused ? e.code : undefined),
  },
];
