/** What a fuzz target is: a decoder or handler plus the oracle that says what a crash is. */
import type { Prng } from "./prng.ts";

export interface FuzzTarget {
  name: string;
  /** One line for `bun run fuzz --list`. */
  description: string;
  /** Corpus file extension (bin, toml, json): text targets get text-aware dictionaries. */
  extension: "bin" | "toml" | "json";
  /** Largest input the fuzzer builds. */
  maxBytes: number;
  /** Tokens the mutator inserts whole (tags, keywords, delimiters, boundary numbers). */
  dictionary?: readonly Uint8Array[];
  /** Structure-aware mutation (JSON, TOML); undefined when the input does not parse. */
  structured?(input: Uint8Array, prng: Prng): Uint8Array | undefined;
  /** Builds what `run` needs (a node, a store); the engine calls `teardown` at the end. */
  setup?(): Promise<void>;
  teardown?(): Promise<void>;
  /**
   * Feeds one input. Returns when the input was accepted; throws the target's typed error
   * when it was refused; throws FuzzOracleError when the result is wrong (non-canonical
   * re-encoding, an out-of-bounds offset, an untyped error response).
   */
  run(input: Uint8Array): void | Promise<void>;
  /** The typed code of an expected refusal, or undefined when `e` is a crash. */
  rejection(e: unknown): string | undefined;
}

/** A wrong result found by a target's own checks (always a crash, never a refusal). */
export class FuzzOracleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FuzzOracleError";
  }
}

export function oracle(condition: unknown, message: string): asserts condition {
  if (!condition) throw new FuzzOracleError(message);
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Same bytes, or a FuzzOracleError naming what was re-encoded differently. */
export function sameBytes(got: Uint8Array, want: Uint8Array, what: string): void {
  if (got.length !== want.length || !got.every((b, i) => b === want[i])) {
    throw new FuzzOracleError(`${what}: decoded value re-encodes differently (non-canonical accepted): input ${hex(want)}, re-encoded ${hex(got)}`);
  }
}
