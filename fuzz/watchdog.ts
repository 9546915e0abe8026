/**
 * Hang watchdog, run as a Worker by fuzz/run.ts. The fuzzing thread copies each input
 * into shared memory and bumps a counter (monotonic, 0 = idle) before running it; when the counter stands
 * still for `hangMs` (a decoder looping forever), this thread writes the input to a
 * crash file, prints the replay commands and kills the process (the stuck thread cannot
 * be interrupted).
 */
import { replayCommands, writeCrashFile } from "./crash-file.ts";

/** Int32 slots at the start of the shared buffer; input bytes follow. */
export const SLOT = { counter: 0, length: 1, target: 2, seed: 3, iteration: 4 } as const;
export const HEADER_BYTES = 32;
const POLL_MS = 200;

export interface WatchdogInit {
  sab: SharedArrayBuffer;
  hangMs: number;
  targets: { name: string; extension: string }[];
}

declare const self: Worker;

self.onmessage = (event: MessageEvent<WatchdogInit>) => {
  const { sab, hangMs, targets } = event.data;
  const slots = new Int32Array(sab, 0, HEADER_BYTES / 4);
  const bytes = new Uint8Array(sab, HEADER_BYTES);
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  let last = 0;
  let stillMs = 0;
  for (;;) {
    Atomics.wait(sleeper, 0, 0, POLL_MS);
    const now = Atomics.load(slots, SLOT.counter);
    // 0: between targets or in a target's setup (not running an input).
    if (now === 0 || now !== last) {
      last = now;
      stillMs = 0;
      continue;
    }
    stillMs += POLL_MS;
    if (stillMs < hangMs) continue;
    const target = targets[Atomics.load(slots, SLOT.target)]!;
    const seed = Atomics.load(slots, SLOT.seed) >>> 0;
    const input = bytes.slice(0, Atomics.load(slots, SLOT.length));
    const iteration = Atomics.load(slots, SLOT.iteration);
    const path = writeCrashFile(target.name, target.extension, seed, iteration, input);
    const lines = [
      `CRASH target=${target.name} seed=${seed} iteration=${iteration}: hang (no progress for ${stillMs} ms)`,
      `input written to ${path}`,
      ...replayCommands(target.name, seed, iteration, path).map((c) => `replay: ${c}`),
    ];
    process.stderr.write(lines.join("\n") + "\n");
    process.kill(process.pid, "SIGKILL");
  }
};
