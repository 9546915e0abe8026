/**
 * `bun run fuzz --target T|all --seconds N [--seed S] [--iterations N] [--replay FILE]`
 *
 * Mutation fuzzing of Phantom's decoders and input handlers (README.md "Fuzzing").
 * Each target starts from its corpus (fuzz/corpus/<target>/), then feeds seeded mutations
 * and random bytes. A crash (an untyped exception, a wrong result, a hang) stops the run,
 * writes the input to fuzz/crashes/ and prints the commands that replay it; exit status 1.
 * `--seconds` with `--target all` is the total, split evenly over the targets.
 */
import { readFileSync } from "node:fs";
import { parseArgs, formatHelp } from "../src/cli/args.ts";
import type { FlagSpec } from "../src/cli/command.ts";
import { describeError, runCampaign, runOne, type CampaignResult } from "./engine.ts";
import { replayCommands, writeCrashFile } from "./crash-file.ts";
import { targetSeed } from "./prng.ts";
import { TARGETS, targetByName } from "./targets/index.ts";
import { HEADER_BYTES, SLOT, type WatchdogInit } from "./watchdog.ts";
import type { FuzzTarget } from "./target.ts";

const FLAGS: FlagSpec[] = [
  { name: "target", type: "string", help: "a target name, or all (see --list)" },
  { name: "seconds", type: "int", help: "time budget (with all: the total, split over the targets)", default: "10" },
  { name: "iterations", type: "int", help: "stop a target after this many inputs (corpus entries included)" },
  { name: "seed", type: "int", help: "campaign seed (default: derived from the clock, printed)" },
  { name: "replay", type: "string", help: "run this one input file and report its outcome" },
  { name: "hang_ms", type: "int", help: "an input that runs this long is a hang (a crash)", default: "5000" },
  { name: "list", type: "bool", help: "list the targets" },
];

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(2);
}

function summary(r: CampaignResult, seed: number): string {
  const codes = [...r.rejected.entries()].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c}=${n}`).join(" ");
  const refused = [...r.rejected.values()].reduce((a, b) => a + b, 0);
  return `target=${r.target} seed=${seed} iterations=${r.iterations} accepted=${r.accepted} refused=${refused}${codes ? ` (${codes})` : ""}`;
}

async function replay(target: FuzzTarget, path: string): Promise<number> {
  const input = new Uint8Array(readFileSync(path));
  await target.setup?.();
  try {
    const outcome = await runOne(target, input);
    if (outcome.kind === "crash") {
      process.stdout.write(`CRASH target=${target.name} input=${path}\n`);
      console.error(outcome.error);
      return 1;
    }
    process.stdout.write(`ok target=${target.name} input=${path}: ${outcome.kind === "accepted" ? "accepted" : `refused ${outcome.code}`}\n`);
    return 0;
  } finally {
    await target.teardown?.();
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2), FLAGS, false);
  if (args.help) {
    process.stdout.write(formatHelp("fuzz", "mutation fuzzing of decoders and input handlers", "bun run fuzz --target <name|all> [--seconds N] [--seed S]", FLAGS) + "\n");
    return 0;
  }
  if (args.flags.list) {
    for (const t of TARGETS) process.stdout.write(`${t.name.padEnd(22)} ${t.description}\n`);
    return 0;
  }
  const name = args.flags.target as string | undefined;
  if (!name) fail("--target is required (a name from --list, or all)");
  const targets = name === "all" ? TARGETS : [targetByName(name) ?? fail(`unknown target ${name} (see --list)`)];
  if (args.flags.replay) {
    if (name === "all") fail("--replay needs the one target the input belongs to");
    return replay(targets[0]!, args.flags.replay as string);
  }

  const seed = args.explicit.has("seed") ? (args.flags.seed as number) >>> 0 : Math.floor(Date.now() % 0x1_0000_0000) >>> 0;
  const seconds = args.flags.seconds as number;
  const iterationsMax = args.flags.iterations as number | undefined;
  const hangMs = args.flags.hang_ms as number;
  if (!(seconds > 0) || !(hangMs > 0)) fail("--seconds and --hang_ms must be > 0");
  const budgetMs = (seconds * 1000) / targets.length;
  process.stdout.write(`fuzz seed=${seed} targets=${targets.length} budget=${(budgetMs / 1000).toFixed(1)} s per target\n`);

  const maxBytes = Math.max(...targets.map((t) => t.maxBytes));
  const sab = new SharedArrayBuffer(HEADER_BYTES + maxBytes);
  const slots = new Int32Array(sab, 0, HEADER_BYTES / 4);
  const shared = new Uint8Array(sab, HEADER_BYTES);
  const watchdog = new Worker(new URL("./watchdog.ts", import.meta.url).href);
  watchdog.postMessage({ sab, hangMs, targets: targets.map((t) => ({ name: t.name, extension: t.extension })) } satisfies WatchdogInit);
  watchdog.unref();
  let sequence = 0;

  try {
    for (const [index, target] of targets.entries()) {
      const s = targetSeed(seed, target.name);
      await target.setup?.();
      let result: CampaignResult;
      try {
        Atomics.store(slots, SLOT.target, index);
        Atomics.store(slots, SLOT.seed, seed | 0);
        result = await runCampaign(target, {
          seed: s, budgetMs, iterationsMax, slowInputMs: hangMs,
          beforeInput: (input, iteration) => {
            shared.set(input);
            Atomics.store(slots, SLOT.length, input.length);
            Atomics.store(slots, SLOT.iteration, iteration);
            Atomics.store(slots, SLOT.counter, ++sequence);
          },
        });
      } finally {
        Atomics.store(slots, SLOT.counter, 0);
        await target.teardown?.();
      }
      process.stdout.write(summary(result, seed) + "\n");
      if (result.crash) {
        const c = result.crash;
        const path = writeCrashFile(target.name, target.extension, seed, c.iteration, c.input);
        process.stdout.write(`CRASH target=${target.name} seed=${seed} iteration=${c.iteration}: ${describeError(c.error)}\n`);
        process.stdout.write(`input written to ${path}\n`);
        for (const cmd of replayCommands(target.name, seed, c.iteration, path)) process.stdout.write(`replay: ${cmd}\n`);
        return 1;
      }
    }
  } finally {
    watchdog.terminate();
  }
  return 0;
}

process.exit(await main());
