#!/usr/bin/env bun
/** `phantom <command> [flags]`: the single entry point of the node executable. */
import type { Command } from "./command.ts";
import { parseArgs, formatHelp, CliError } from "./args.ts";
import { isPhantomError } from "../errors.ts";
import pkg from "../../package.json" with { type: "json" };

export const VERSION: string = pkg.version;

function topHelp(commands: readonly Command[]): string {
  const lines = [
    `phantom ${VERSION} — a leaderless DAG layer-1 node`,
    "",
    "usage: phantom <command> [flags]      phantom <command> --help",
    "",
    "commands:",
  ];
  for (const c of commands) {
    const alias = c.aliases.length ? ` (${c.aliases.join(", ")})` : "";
    lines.push(`  ${(c.name + alias).padEnd(44)} ${c.summary}`);
  }
  lines.push("", "global: --help, --version");
  return lines.join("\n");
}

/**
 * The command table is imported lazily, inside the error handling: loading it opens
 * libphantom, and a missing or unloadable library must end in one typed error line
 * (NATIVE_LIBRARY_MISSING, ...), not a stack trace.
 */
async function loadCommands(): Promise<{ commands: Command[]; findCommand(name: string): Command | undefined }> {
  return import("./commands/index.ts");
}

export async function main(argv: readonly string[]): Promise<number> {
  let table: Awaited<ReturnType<typeof loadCommands>>;
  try {
    table = await loadCommands();
  } catch (e) {
    if (!isPhantomError(e)) throw e;
    console.error(`error [${e.code}]: ${e.message}`);
    return 2;
  }
  const { commands, findCommand } = table;
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(topHelp(commands));
    return name === undefined ? 1 : 0;
  }
  if (name === "--version" || name === "-V" || name === "version") {
    console.log(`phantom ${VERSION}`);
    return 0;
  }
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    const command = findCommand(name);
    if (!command) throw new CliError("CLI_UNKNOWN_COMMAND", `unknown command "${name}" (run phantom --help for the list)`);
    const args = parseArgs(rest, command.flags, command.positionals ?? false);
    if (args.help) {
      console.log(formatHelp(command.name, command.summary, command.usage, command.flags));
      return 0;
    }
    return await command.run({
      flags: args.flags,
      positionals: args.positionals,
      explicit: args.explicit,
      out: (line) => console.log(line),
      err: (line) => console.error(line),
      signal: controller.signal,
    });
  } catch (e) {
    if (isPhantomError(e)) {
      console.error(`error [${e.code}]: ${e.message}`);
      return 2;
    }
    throw e;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  process.exit(code);
}
