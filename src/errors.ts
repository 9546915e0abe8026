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
