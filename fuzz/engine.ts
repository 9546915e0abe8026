/**
 * The campaign loop: pick a corpus entry (or fresh random bytes), mutate it, feed it to
 * the target, classify the outcome. Bounded by an iteration count, a time budget or
 * both; stops at the first crash and hands back the input that caused it.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Prng } from "./prng.ts";
import { mutate } from "./mutate.ts";
import type { FuzzTarget } from "./target.ts";

export const CORPUS_DIR = join(import.meta.dir, "corpus");
/** One input in this many is fresh random bytes instead of a mutated corpus entry. */
const RANDOM_INPUT_ONE_IN = 10;
const RANDOM_INPUT_BYTES_MAX = 256;
/** How often (in iterations) the time budget is checked. */
const CLOCK_CHECK_EVERY = 32;

export type Outcome = { kind: "accepted" } | { kind: "rejected"; code: string } | { kind: "crash"; error: unknown };

export interface Crash {
  iteration: number;
  input: Uint8Array;
  error: unknown;
  /** Milliseconds the input took when it was flagged as slow (a hang candidate). */
  slowMs?: number;
}

export interface CampaignOptions {
  seed: number;
  iterationsMax?: number;
  /** Wall-clock budget in ms (campaign tooling, not protocol code). */
  budgetMs?: number;
  /** An input that takes longer than this is a crash (a hang); unset: no time check per input. */
  slowInputMs?: number;
  /** Called with the input about to run (the hang watchdog keeps a copy). */
  beforeInput?: (input: Uint8Array, iteration: number) => void;
}

export interface CampaignResult {
  target: string;
  seed: number;
  iterations: number;
  accepted: number;
  rejected: Map<string, number>;
  crash?: Crash;
}

/** Corpus entries of a target, in name order (stable across machines). */
export function loadCorpus(target: string): { name: string; bytes: Uint8Array }[] {
  const dir = join(CORPUS_DIR, target);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => !f.startsWith("."))
    .sort()
    .map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(dir, name))) }));
}

/** Runs one input through a target and classifies the result. */
export async function runOne(target: FuzzTarget, input: Uint8Array): Promise<Outcome> {
  try {
    const pending = target.run(input);
    if (pending instanceof Promise) await pending;
    return { kind: "accepted" };
  } catch (e) {
    const code = target.rejection(e);
    return code === undefined ? { kind: "crash", error: e } : { kind: "rejected", code };
  }
}

/** The input of iteration `i`: a mutated corpus entry, or random bytes. */
function nextInput(target: FuzzTarget, prng: Prng, corpus: readonly Uint8Array[]): Uint8Array {
  if (corpus.length === 0 || prng.oneIn(RANDOM_INPUT_ONE_IN)) {
    return prng.bytes(prng.below(Math.min(target.maxBytes, RANDOM_INPUT_BYTES_MAX) + 1));
  }
  const base = prng.pick(corpus);
  const ctx = { prng, corpus, dictionary: target.dictionary ?? [], maxBytes: target.maxBytes };
  if (target.structured && prng.oneIn(2)) {
    const tree = target.structured(base, prng);
    if (tree !== undefined && tree.length <= target.maxBytes) return prng.oneIn(4) ? mutate(tree, ctx) : tree;
  }
  return mutate(base, ctx);
}

export async function runCampaign(target: FuzzTarget, opts: CampaignOptions): Promise<CampaignResult> {
  const corpus = loadCorpus(target.name).map((c) => c.bytes);
  const prng = new Prng(opts.seed);
  const result: CampaignResult = { target: target.name, seed: opts.seed, iterations: 0, accepted: 0, rejected: new Map() };
  const start = performance.now();
  const iterationsMax = opts.iterationsMax ?? Number.MAX_SAFE_INTEGER;
  // The corpus itself runs first: every entry must be accepted or refused with a typed code.
  const inputs = (i: number): Uint8Array => (i < corpus.length ? corpus[i]! : nextInput(target, prng, corpus));
  for (let i = 0; i < iterationsMax; i++) {
    if (opts.budgetMs !== undefined && i % CLOCK_CHECK_EVERY === 0 && performance.now() - start >= opts.budgetMs) break;
    const input = inputs(i);
    opts.beforeInput?.(input, i);
    const t0 = opts.slowInputMs === undefined ? 0 : performance.now();
    const outcome = await runOne(target, input);
    result.iterations++;
    if (outcome.kind === "crash") {
      result.crash = { iteration: i, input, error: outcome.error };
      break;
    }
    if (opts.slowInputMs !== undefined) {
      const took = performance.now() - t0;
      if (took > opts.slowInputMs) {
        result.crash = { iteration: i, input, error: new Error(`input took ${took.toFixed(0)} ms (limit ${opts.slowInputMs} ms)`), slowMs: took };
        break;
      }
    }
    if (outcome.kind === "accepted") result.accepted++;
    else result.rejected.set(outcome.code, (result.rejected.get(outcome.code) ?? 0) + 1);
  }
  return result;
}

/** One line per crash cause: the error's class, code and message. */
export function describeError(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    const frame = e.stack?.split("\n").find((l) => l.trim().startsWith("at ")) ?? "";
    return `${e.name}${typeof code === "string" ? ` [${code}]` : ""}: ${e.message}${frame ? `\n    ${frame.trim()}` : ""}`;
  }
  return `non-Error thrown: ${String(e)}`;
}
