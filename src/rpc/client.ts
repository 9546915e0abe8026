/** Minimal JSON-RPC 2.0 client over HTTP (miner, wallet, tests). */
import { PhantomError } from "../errors.ts";

let nextId = 1;

/** `token`: the node's bearer token (its --rpc_token_file or store .cookie), when it requires one. */
export async function rpcCall<T>(url: string, method: string, params: unknown = {}, signal?: AbortSignal, token?: string): Promise<T> {
  const endpoint = url.replace(/\/+$/, "") + (url.endsWith("/rpc") ? "" : "/rpc");
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
  const body = (await res.json().catch(() => null)) as { result?: T; error?: { message: string; data?: { code: string } } } | null;
  if (!body) throw new PhantomError("RPC_BAD_RESPONSE", `${endpoint} answered ${res.status} without JSON`);
  if (body.error) throw new PhantomError(body.error.data?.code ?? "RPC_ERROR", `${method}: ${body.error.message}`);
  return body.result as T;
}
