/** Shared by tests that compare typed-error codes. */
import type { PhantomError } from "../src/errors.ts";

/**
 * The code of the `errorClass` error that `fn` throws, or `none` when it returns.
 * Any other error propagates, so an error of the wrong class fails the test.
 */
export function thrownCode<N>(fn: () => unknown, errorClass: abstract new (...args: never[]) => PhantomError, none: N): string | N {
  try {
    fn();
  } catch (e) {
    if (e instanceof errorClass) return e.code;
    throw e;
  }
  return none;
}
