/**
 * JSON-RPC 2.0 (https://www.jsonrpc.org/specification) dispatch, transport-free.
 * Application errors carry the PhantomError code in `error.data.code`.
 */
import { isPhantomError } from "../errors.ts";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type RpcHandler = (params: unknown) => Json | Promise<Json>;
export type RpcMethods = Record<string, RpcHandler>;

export const RPC_ERRORS = {
  parse: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internal: -32603,
  application: -32000,
  /** Server-defined (-32000..-32099): a missing or wrong bearer token. */
  unauthorized: -32001,
  /** Server-defined: the client's token bucket is empty (or too many WebSocket clients). */
  rateLimited: -32005,
} as const;

export const rpcBatchMax = 100;

interface RpcErrorBody {
  code: number;
  message: string;
  data?: { code: string };
}

export interface RpcResponse {
  jsonrpc: "2.0";
  id: string | number | null;
  result?: Json;
  error?: RpcErrorBody;
}

export interface DispatchObserver {
  (method: string, outcome: "ok" | "error", errorCode?: string): void;
}

/** Charges one call before it runs (rate limits); false refuses it with RPC_RATE_LIMITED. */
export type DispatchAdmit = (method: string, params: unknown) => boolean;

function errorResponse(id: RpcResponse["id"], code: number, message: string, appCode?: string): RpcResponse {
  return { jsonrpc: "2.0", id, error: appCode ? { code, message, data: { code: appCode } } : { code, message } };
}

async function dispatchOne(methods: RpcMethods, req: unknown, observe?: DispatchObserver, admit?: DispatchAdmit): Promise<RpcResponse | null> {
  if (typeof req !== "object" || req === null || Array.isArray(req)) return errorResponse(null, RPC_ERRORS.invalidRequest, "request must be an object");
  const r = req as Record<string, unknown>;
  const id = typeof r.id === "string" || typeof r.id === "number" ? r.id : null;
  const isNotification = !("id" in r);
  if (r.jsonrpc !== "2.0" || typeof r.method !== "string") return errorResponse(id, RPC_ERRORS.invalidRequest, 'request needs jsonrpc "2.0" and a string method');
  const handler = Object.hasOwn(methods, r.method) ? methods[r.method] : undefined;
  if (!handler) {
    // Not the client's string: an unbounded label set would grow the registry without bound.
    observe?.("(unknown)", "error", "METHOD_NOT_FOUND");
    return errorResponse(id, RPC_ERRORS.methodNotFound, `method not found: ${r.method}`);
  }
  if (admit && !admit(r.method, r.params ?? {})) {
    observe?.(r.method, "error", "RPC_RATE_LIMITED");
    return errorResponse(id, RPC_ERRORS.rateLimited, "rate limit exceeded; retry later", "RPC_RATE_LIMITED");
  }
  try {
    const result = await handler(r.params ?? {});
    observe?.(r.method, "ok");
    return isNotification ? null : { jsonrpc: "2.0", id, result };
  } catch (e) {
    if (isPhantomError(e)) {
      observe?.(r.method, "error", e.code);
      const code = e.code.startsWith("RPC_BAD_PARAMS") ? RPC_ERRORS.invalidParams : RPC_ERRORS.application;
      return errorResponse(id, code, e.message, e.code);
    }
    observe?.(r.method, "error", "INTERNAL");
    return errorResponse(id, RPC_ERRORS.internal, "internal error");
  }
}

/** Handles a request body (single or batch); returns the JSON to send, or null for notifications only. */
export async function dispatch(methods: RpcMethods, body: string, observe?: DispatchObserver, admit?: DispatchAdmit): Promise<RpcResponse | RpcResponse[] | null> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    observe?.("", "error", "PARSE_ERROR");
    return errorResponse(null, RPC_ERRORS.parse, "parse error: body is not valid JSON");
  }
  if (Array.isArray(parsed)) {
    if (parsed.length === 0 || parsed.length > rpcBatchMax) return errorResponse(null, RPC_ERRORS.invalidRequest, `batch must hold 1..${rpcBatchMax} requests`);
    const out: RpcResponse[] = [];
    for (const req of parsed) {
      const res = await dispatchOne(methods, req, observe, admit); // each item pays its own cost
      if (res) out.push(res);
    }
    return out.length ? out : null;
  }
  return dispatchOne(methods, parsed, observe, admit);
}

/** JSON.stringify that writes bigints as decimal strings (amounts never lose precision). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v));
}
