/**
 * Typed errors. Every error that crosses a module edge carries a stable `code`
 * (matched by callers and tests, counted by metrics) and a message a person can
 * act on.
 */
export class PhantomError<C extends string = string> extends Error {
  readonly code: C;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  constructor(code: C, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = "PhantomError";
    this.code = code;
    this.details = details;
  }
}

export function isPhantomError(e: unknown): e is PhantomError {
  return e instanceof PhantomError;
}

/**
 * A broken internal invariant: a bug, never bad input. Deliberately not a
 * PhantomError, so no handler mistakes it for a peer's or a client's fault; the
 * node fail-stops on it (src/node/fail-stop.ts).
 */
export class InvariantError extends Error {
  readonly code = "INVARIANT_VIOLATED";
  constructor(message: string) {
    super(`invariant violated: ${message}`);
    this.name = "InvariantError";
  }
}

/** Asserts an internal invariant. A failure is a bug, never bad input. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}

/** A person-readable cause of a failed listen/open system call, with its errno code. */
export function describeOsError(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  const known: Record<string, string> = {
    EADDRINUSE: "address already in use (another process, or another phantom, holds the port)",
    EADDRNOTAVAIL: "address not available on this host",
    EACCES: "permission denied (ports below 1024 need privileges)",
    EPERM: "operation not permitted",
    ENOENT: "no such file or directory",
    EROFS: "read-only file system",
    ENOSPC: "no space left on device",
  };
  if (typeof code === "string") return `${known[code] ?? (e as Error).message} (${code})`;
  return e instanceof Error ? e.message : String(e);
}
