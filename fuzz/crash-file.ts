/** Where a crashing input is written, and the commands that replay it. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const CRASH_DIR = join(import.meta.dir, "crashes");

export function writeCrashFile(target: string, extension: string, seed: number, iteration: number, input: Uint8Array, dir = CRASH_DIR): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${target}-seed${seed}-iter${iteration}.${extension}`);
  writeFileSync(path, input);
  return path;
}

export function replayCommands(target: string, seed: number, iteration: number, path: string): string[] {
  return [
    `bun run fuzz --target ${target} --replay ${path}`,
    `bun run fuzz --target ${target} --seed ${seed} --iterations ${iteration + 1} --seconds 3600`,
  ];
}
