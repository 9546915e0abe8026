/**
 * Fail-stop: the one place that decides what an unexpected exception in a callback
 * means. Timers, peer frames and accepted connections run through it instead of
 * each carrying its own try/catch.
 *
 * - A store write SQLite refused (STORE_WRITE_FAILED: disk full, I/O error) or a
 *   broken invariant cannot be repaired in-process: the node logs one `fatal` line,
 *   turns not ready, stops its timers and peers, and the process exits with a
 *   distinct code so the service manager restarts it. Everything committed is in
 *   SQLite (a failed transaction rolled back), so the restart replays from there.
 * - Any other exception in a connection's callback is a bug triggered by one
 *   connection: that connection is closed (P2P_HANDLER_ERROR) and the node goes on.
 * - Any exception in a timer fail-stops: a timer has no connection to drop, and
 *   continuing would leave its work half done.
 */
import { InvariantError, isPhantomError } from "../errors.ts";
import { HANDLER_ERROR_CODE } from "../net/p2p/peers.ts";

/** sysexits EX_IOERR: a store write failed (restart once the disk is fixed). */
export const EXIT_STORE_WRITE_FAILED = 74;
/** sysexits EX_SOFTWARE: a broken invariant or an unexpected exception in a timer. */
export const EXIT_INTERNAL_ERROR = 70;

export type FatalCode = "STORE_WRITE_FAILED" | "INVARIANT_VIOLATED" | "INTERNAL_ERROR";

/** The close reason of a connection whose callback threw (counted by the P2P layer). */
export const HANDLER_ERROR_REASON = HANDLER_ERROR_CODE;

export interface Failure {
  code: FatalCode;
  exitCode: number;
  where: string;
}

/** True for errors that mean the node itself is broken, wherever they are caught. */
export function isFatal(e: unknown): boolean {
  // CONSENSUS_NO_STAKE: finalized slashing left no stake, so no round can ever be decided
  // again (SPEC_CONSENSUS §1a); every node stops at the same anchor.
  return e instanceof InvariantError || (isPhantomError(e) && (e.code === "STORE_WRITE_FAILED" || e.code === "CONSENSUS_NO_STAKE"));
}

function fatalCode(e: unknown): FatalCode {
  if (e instanceof InvariantError) return "INVARIANT_VIOLATED";
  if (isPhantomError(e) && e.code === "STORE_WRITE_FAILED") return "STORE_WRITE_FAILED";
  return "INTERNAL_ERROR";
}

export class FailStop {
  private failure: Failure | null = null;
  private readonly listeners: ((failure: Failure) => void)[] = [];

  constructor(private readonly log: (line: Record<string, unknown>) => void) {}

  get failed(): Failure | null {
    return this.failure;
  }

  /** `listener` runs once, at the first failure (at once if it already happened). */
  onFail(listener: (failure: Failure) => void): void {
    if (this.failure) listener(this.failure);
    else this.listeners.push(listener);
  }

  /** Records the first failure: one `fatal` log line, then the listeners. Later calls do nothing. */
  fail(error: unknown, where: string): void {
    if (this.failure) return;
    const code = fatalCode(error);
    const failure: Failure = { code, exitCode: code === "STORE_WRITE_FAILED" ? EXIT_STORE_WRITE_FAILED : EXIT_INTERNAL_ERROR, where };
    this.failure = failure;
    const details = isPhantomError(error) ? error.details : undefined;
    this.log({
      type: "fatal", code, where, exitCode: failure.exitCode,
      ...details, message: error instanceof Error ? error.message : String(error),
      ...(code === "STORE_WRITE_FAILED" ? {} : { stack: error instanceof Error ? error.stack : undefined }),
    });
    for (const l of this.listeners.splice(0)) {
      try {
        l(failure);
      } catch {
        // a listener that throws must not keep the others from stopping the node
      }
    }
  }

  /** Wraps a timer callback: an exception fail-stops; once failed, the callback does nothing. */
  guard<A extends unknown[]>(where: string, fn: (...args: A) => void): (...args: A) => void {
    return (...args) => {
      if (this.failure) return;
      try {
        fn(...args);
      } catch (e) {
        this.fail(e, where);
      }
    };
  }

  /**
   * Runs one callback of a connection. A fatal error fail-stops the node; any other
   * exception closes only that connection (`close(reason)`), so its framing is never
   * left half processed. Once failed, nothing more is processed: the connection is closed.
   */
  connection(where: string, close: (reason: string) => void, fn: () => void): void {
    if (this.failure) return close(this.failure.code);
    try {
      fn();
    } catch (e) {
      if (isFatal(e)) {
        close(fatalCode(e));
        this.fail(e, where);
        return;
      }
      close(HANDLER_ERROR_REASON);
      this.log({ type: "handler_error", where, message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined });
    }
  }
}
