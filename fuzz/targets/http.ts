/**
 * HTTP requests to the node's real RPC server (src/rpc/server.ts) on 127.0.0.1, port 0,
 * serving the shared devnet validator: REST reads with query strings, POST /rpc bodies,
 * /health, /ready, /ws, the explorer. An input is "METHOD TARGET" on its first line and
 * the body after it. Every answer must be a deliberate one: a 500 (an exception that
 * reached the server's error handler), a dropped connection, or an error status on an
 * API path without a JSON error body is a crash. Rate limits are off (each input is one
 * client's request; limits have their own tests).
 */
import { Registry } from "prom-client";
import { startRpcServer, type RpcServer } from "../../src/rpc/server.ts";
import { NODE_REST_ROUTES, NODE_RPC_COSTS, nodeRpcMethods } from "../../src/node/rpc-methods.ts";
import { acquireDevnet, releaseDevnet } from "./devnet.ts";
import { FuzzOracleError, oracle, utf8, type FuzzTarget } from "../target.ts";

/** A bound on one request (a hang, not a performance figure). */
const REQUEST_LIMIT_MS = 5_000;

/** fetch sends a body only with these (other methods, valid or not, go without one). */
const METHODS_WITH_BODY: ReadonlySet<string> = new Set(["POST", "PUT", "PATCH", "DELETE"]);

let server: RpcServer | undefined;
const decoder = new TextDecoder();

class HttpRefused extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

const HTTP_DICTIONARY: readonly Uint8Array[] = [
  "GET ", "POST ", "HEAD ", "PUT ", "OPTIONS ", "DELETE ", "/api/", "/api/status", "/api/anchor?index=", "/api/anchors?limit=", "/api/lookup?id=",
  "/api/address?address=", "/api/tx?txid=", "/api/template?recipient=", "/rpc", "/ws", "/health", "/ready", "/metrics", "/explorer", "/",
  "?", "&", "=", "%", "%00", "%ff", "%2F", "..", "//", "#", "+", " ", "\n", "index=9223372036854775808", "limit=-1", "index=1e3",
].map(utf8);

function parseInput(input: Uint8Array): { method: string; target: string; body: string } {
  const text = decoder.decode(input);
  const nl = text.indexOf("\n");
  const line = nl < 0 ? text : text.slice(0, nl);
  const sp = line.indexOf(" ");
  const method = sp < 0 ? "GET" : line.slice(0, sp);
  const target = sp < 0 ? line : line.slice(sp + 1);
  return { method, target: target.startsWith("/") ? target : `/${target}`, body: nl < 0 ? "" : text.slice(nl + 1) };
}

export const HTTP_TARGET: FuzzTarget = {
  name: "http",
  description: "HTTP requests (REST, POST /rpc, /health, /ws, explorer) to the node's RPC server on loopback",
  extension: "bin", maxBytes: 2048, dictionary: HTTP_DICTIONARY,
  async setup() {
    const d = await acquireDevnet();
    server = startRpcServer({
      addr: "127.0.0.1:0", methods: nodeRpcMethods(d.nodes[0]!, d.stores[0]!, d.genesis), rest: NODE_REST_ROUTES, registry: new Registry(),
      ready: () => d.nodes[0]!.ready(), token: null, rateLimit: { ratePerS: 0, burst: 1 }, costs: NODE_RPC_COSTS,
    });
  },
  async teardown() {
    server?.stop();
    server = undefined;
    await releaseDevnet();
  },
  async run(input) {
    if (!server) throw new Error("http target used before setup()");
    const { method, target, body } = parseInput(input);
    let request: Request;
    try {
      request = new Request(server.url + target, { method, body: METHODS_WITH_BODY.has(method) ? body : undefined, signal: AbortSignal.timeout(REQUEST_LIMIT_MS) });
    } catch {
      throw new HttpRefused("UNSENDABLE"); // fetch itself refuses this method or target: nothing reaches the server
    }
    let res: Response;
    try {
      res = await fetch(request);
    } catch (e) {
      throw new FuzzOracleError(`server dropped ${method} ${target}: ${(e as Error).message}`);
    }
    const text = await res.text();
    oracle(res.status !== 500, `500 for ${method} ${target}: ${text.slice(0, 300)}`);
    const path = new URL(request.url).pathname;
    if (res.status >= 400 && (path.startsWith("/api/") || path === "/rpc") && method !== "HEAD") {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new FuzzOracleError(`${res.status} for ${method} ${target} without a JSON body: ${text.slice(0, 200)}`);
      }
      oracle(typeof parsed === "object" && parsed !== null && "error" in parsed, `${res.status} for ${method} ${target} without an error object: ${text.slice(0, 200)}`);
    }
    if (res.status >= 400) throw new HttpRefused(`HTTP_${res.status}`);
  },
  rejection: (e) => (e instanceof HttpRefused ? e.code : undefined),
};
