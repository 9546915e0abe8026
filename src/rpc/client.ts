/** Minimal JSON-RPC 2.0 client over HTTP (miner, wallet, tests). */
import { PhantomError } from "../errors.ts";
import { RPC_ERRORS } from "./jsonrpc.ts";

let nextId = 1;

/**
 * The endpoint of an RPC URL without credentials, and the bearer token it carries as its
 * password (`http://:TOKEN@host:port`), if any. Messages name the endpoint, never the token.
 */
export function rpcEndpoint(url: string): { endpoint: string; token?: string } {
  let base = url;
  let token: string | undefined;
  try {
    const u = new URL(url);
    if (u.password) token = decodeURIComponent(u.password);
    u.username = "";
    u.password = "";
    base = u.toString();
  } catch {
    // not a URL: fetch reports it as unreachable below
  }
  base = base.replace(/\/+$/, "");
  return { endpoint: base + (base.endsWith("/rpc") ? "" : "/rpc"), token };
}

/** `url` carrying `token` as its password (read back by rpcCall, sent as a bearer token). */
export function withRpcToken(url: string, token: string): string {
  const u = new URL(url);
  u.password = encodeURIComponent(token);
  return u.toString();
}

/** `token`: the node's bearer token (its --rpc_token_file or store .cookie) when it requires one; else the URL's password. */
export async function rpcCall<T>(url: string, method: string, params: unknown = {}, signal?: AbortSignal, token?: string): Promise<T> {
  const parsed = rpcEndpoint(url);
  const endpoint = parsed.endpoint;
  token ??= parsed.token;
  let res: Response;
  try {
    res = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method, params }),
      signal,
    });
  } catch (e) {
    if (signal?.aborted) throw new PhantomError("RPC_ABORTED", "request aborted");
    throw new PhantomError("RPC_UNREACHABLE", `cannot reach ${endpoint}: ${(e as Error).message}`);
  }
  const body = (await res.json().catch(() => null)) as { result?: T; error?: { code?: number; message: string; data?: { code: string } } } | null;
  if (!body) throw new PhantomError("RPC_BAD_RESPONSE", `${endpoint} answered ${res.status} without JSON`);
  if (body.error) {
    // -32601 carries no application code: named, so a caller can tell an older node from a refusal.
    const code = body.error.data?.code ?? (body.error.code === RPC_ERRORS.methodNotFound ? "RPC_METHOD_NOT_FOUND" : "RPC_ERROR");
    throw new PhantomError(code, `${method}: ${body.error.message}`);
  }
  return body.result as T;
}
