/**
 * JSON-RPC calls for the harness, each with a timeout: a paused validator must never
 * stall the harness. A failed or timed-out call is `undefined`, not an exception.
 */
const timeoutMsDefault = 2_000;
/** JSON-RPC batch size the node accepts (rpcBatchMax). */
export const batchMax = 100;

export interface Status {
  anchorCount: string;
  stateRoot: string;
  lastDecidedRound: number;
  highestSeq: number[];
  peers: number;
  ready: boolean;
  orphans: number;
  mempoolSize: number;
}

export interface AnchorInfo {
  anchorIndex: string;
  eventId: string;
  creator: number;
  round: number;
  stateRoot: string;
}

export type RpcResult<T> = { ok: true; value: T } | { ok: false; code: string };

async function post(url: string, body: unknown, timeoutMs: number): Promise<unknown> {
  const res = await fetch(`${url}/rpc`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return res.json();
}

interface Reply {
  id?: number;
  result?: unknown;
  error?: { code: number; message: string; data?: { code?: string } };
}

export async function rpc<T>(url: string | null, method: string, params: object = {}, timeoutMs = timeoutMsDefault): Promise<RpcResult<T>> {
  if (!url) return { ok: false, code: "DOWN" };
  try {
    const reply = (await post(url, { jsonrpc: "2.0", id: 1, method, params }, timeoutMs)) as Reply;
    if (reply.error) return { ok: false, code: reply.error.data?.code ?? String(reply.error.code) };
    return { ok: true, value: reply.result as T };
  } catch (e) {
    return { ok: false, code: (e as Error).name === "TimeoutError" ? "TIMEOUT" : "UNREACHABLE" };
  }
}

export async function call<T>(url: string | null, method: string, params: object = {}, timeoutMs = timeoutMsDefault): Promise<T | undefined> {
  const r = await rpc<T>(url, method, params, timeoutMs);
  return r.ok ? r.value : undefined;
}

/** Up to `batchMax` calls in one request; each answer or undefined (error, timeout). */
export async function batch<T>(url: string | null, calls: { method: string; params: object }[], timeoutMs = timeoutMsDefault * 2): Promise<(T | undefined)[]> {
  if (!url || calls.length === 0) return calls.map(() => undefined);
  if (calls.length > batchMax) throw new Error(`batch of ${calls.length} > ${batchMax}`);
  try {
    const replies = (await post(url, calls.map((c, i) => ({ jsonrpc: "2.0", id: i, ...c })), timeoutMs)) as Reply[];
    const out: (T | undefined)[] = calls.map(() => undefined);
    if (!Array.isArray(replies)) return out;
    for (const r of replies) if (typeof r.id === "number" && r.error === undefined) out[r.id] = r.result as T;
    return out;
  } catch {
    return calls.map(() => undefined);
  }
}
