/** The shape of a CLI command: one file per command under src/cli/commands/. */
export type FlagType = "string" | "int" | "bigint" | "bool" | "list";
export type FlagValue = string | number | bigint | boolean | string[] | undefined;

export interface FlagSpec {
  /** snake_case name as the seed spells it (`store_dir`); `--store-dir` is accepted too. */
  name: string;
  type: FlagType;
  help: string;
  default?: string;
  required?: boolean;
}

export interface CommandContext {
  flags: Record<string, FlagValue>;
  positionals: string[];
  /** Flags given on the command line (the rest hold defaults): config files rank between. */
  explicit: ReadonlySet<string>;
  out(line: string): void;
  err(line: string): void;
  /** Aborted on SIGINT/SIGTERM: long-running commands stop cleanly. */
  signal: AbortSignal;
}

export interface Command {
  name: string;
  aliases: string[];
  summary: string;
  usage: string;
  flags: FlagSpec[];
  /** Accept positional arguments (otherwise they are an error). */
  positionals?: boolean;
  run(ctx: CommandContext): Promise<number>;
}
