/**
 * JSON-RPC request bodies (docs/RPC.md) dispatched to the node's real methods on a
 * validator of an in-process devnet that has finalized anchors (real SQLite store in a
 * temporary folder, real engine, mempool and chain index). A body gets a result or a typed error response; an
 * "internal error" (-32603, an untyped exception in a handler) or a rejected dispatch
 * is a crash.
 */
import { acquireDevnet, releaseDevnet } from "./devnet.ts";
import { nodeRpcMethods } from "../../src/node/rpc-methods.ts";
import { RPC_ERRORS, dispatch, toJson, type RpcMethods, type RpcResponse } from "../../src/rpc/jsonrpc.ts";
import { mutateJson } from "../structured.ts";
import { FuzzOracleError, oracle, utf8, type FuzzTarget } from "../target.ts";

const RPC_DICTIONARY: readonly Uint8Array[] = [
  "{", "}", "[", "]", ",", ":", "\"", "null", "true", "false", "-1", "0", "1.5", "1e400", "-0", "9007199254740993", "9223372036854775808",
  "18446744073709551616", "\"\"", "\"00\"", "\"zz\"", "[]", "{}", "\"__proto__\"", "\"constructor\"", "\"jsonrpc\":\"2.0\"", "\"id\":", "\"params\":",
  "\"method\":\"phantom_status\"", "\"method\":\"chain_anchor\"", "\"method\":\"chain_anchors\"", "\"method\":\"chain_lookup\"", "\"method\":\"address_get\"",
  "\"method\":\"tx_submit\"", "\"method\":\"tx_status\"", "\"method\":\"mint_getTemplate\"", "\"method\":\"mint_submit\"", "\"method\":\"peers_list\"",
  "\"index\":", "\"limit\":", "\"id\":\"", "\"address\":", "\"tx\":", "\"txs\":", "\"txid\":", "\"recipient\":", "\"header\":", "\\u0000", "\\ud800",
].map(utf8);

let methods: RpcMethods | undefined;
const decoder = new TextDecoder();

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
      const d = await acquireDevnet();
      methods = nodeRpcMethods(d.nodes[0]!, d.stores[0]!, d.genesis);
    },
    async teardown() {
      methods = undefined;
      await releaseDevnet();
    },
    async run(input) {
      if (!methods) throw new Error("rpc target used before setup()");
      const response = await dispatch(methods, decoder.decode(input));
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
