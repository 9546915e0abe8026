/**
 * What the RPC and metrics listeners share at the HTTP level: every error is a JSON
 * body with a typed code (never Bun's development page or a stack), and a request
 * target is read without throwing (HTTP/1.0 requests carry no Host, so `req.url`
 * can be a bare path).
 */
import { RPC_ERRORS } from "./jsonrpc.ts";

/** HTTP-level error codes (the JSON-RPC ones come from the handlers). */
export type HttpErrorCode =
  | "HTTP_BAD_REQUEST"
  | "HTTP_NOT_FOUND"
  | "HTTP_METHOD_NOT_ALLOWED"
  | "HTTP_BODY_TOO_LARGE"
  | "HTTP_INTERNAL"
  | "RPC_UNAUTHORIZED"
  | "RPC_RATE_LIMITED"
  | "WS_TOO_MANY_CLIENTS";

/** JSON-RPC error number carried with each HTTP-level code (clients match `error.data.code`). */
const NUMERIC: Record<HttpErrorCode, number> = {
  HTTP_BAD_REQUEST: RPC_ERRORS.invalidRequest,
  HTTP_NOT_FOUND: RPC_ERRORS.invalidRequest,
  HTTP_METHOD_NOT_ALLOWED: RPC_ERRORS.invalidRequest,
  HTTP_BODY_TOO_LARGE: RPC_ERRORS.invalidRequest,
  HTTP_INTERNAL: RPC_ERRORS.internal,
  RPC_UNAUTHORIZED: RPC_ERRORS.unauthorized,
  RPC_RATE_LIMITED: RPC_ERRORS.rateLimited,
  WS_TOO_MANY_CLIENTS: RPC_ERRORS.rateLimited,
};

export function jsonResponse(body: string, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { "content-type": "application/json", ...headers } });
}

/** The body of an HTTP-level error: the JSON-RPC error shape with the typed code in `error.data.code`. */
export function httpErrorBody(code: HttpErrorCode, message: string): string {
  return JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: NUMERIC[code], message, data: { code } } });
}

export function httpError(status: number, code: HttpErrorCode, message: string, headers: Record<string, string> = {}): Response {
  return jsonResponse(httpErrorBody(code, message), status, headers);
}

/** Path and query of a request, or null when its target is not a URL path. */
export function requestTarget(req: Request): { path: string; query: URLSearchParams } | null {
  try {
    // The base only resolves origin-form targets ("/health"); the host is never used.
    const url = new URL(req.url, "http://target.invalid");
    return { path: url.pathname, query: url.searchParams };
  } catch {
    return null;
  }
}

/**
 * Options every Bun.serve of the node passes: production mode, and an error handler
 * that answers a JSON error and reports the failure once, without a stack.
 */
export function productionServe(onInternalError: (e: unknown) => void): { development: false; error(e: Error): Response } {
  return {
    development: false,
    error(e) {
      onInternalError(e);
      return httpError(500, "HTTP_INTERNAL", "internal error");
    },
  };
}
