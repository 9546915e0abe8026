/**
 * Flag parsing: `--name value`, `--name=value`, booleans as `--flag`, `--flag true|false`.
 * Both `--store_dir` and `--store-dir` spellings are accepted.
 */
import { PhantomError } from "../errors.ts";
import type { FlagSpec, FlagValue } from "./command.ts";

export class CliError extends PhantomError<"CLI_UNKNOWN_FLAG" | "CLI_BAD_VALUE" | "CLI_MISSING_FLAG" | "CLI_UNKNOWN_COMMAND" | "CLI_UNEXPECTED_ARGUMENT" | "CLI_NOT_IMPLEMENTED"> {}

export const normalizeFlagName = (raw: string): string => raw.replace(/-/g, "_");

function convert(spec: FlagSpec, raw: string): FlagValue {
  switch (spec.type) {
    case "string":
      return raw;
    case "int": {
      if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw new CliError("CLI_BAD_VALUE", `--${spec.name} must be an integer, got "${raw}"`);
      return Number(raw);
    }
    case "bigint": {
      if (!/^\d+$/.test(raw)) throw new CliError("CLI_BAD_VALUE", `--${spec.name} must be a non-negative integer, got "${raw}"`);
      return BigInt(raw);
    }
    case "bool": {
      if (raw === "true" || raw === "1" || raw === "yes") return true;
      if (raw === "false" || raw === "0" || raw === "no") return false;
      throw new CliError("CLI_BAD_VALUE", `--${spec.name} must be true or false, got "${raw}"`);
    }
    case "list":
      return raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  }
}

export interface ParsedArgs {
  flags: Record<string, FlagValue>;
  /** Names given explicitly on the command line (for precedence over config files). */
  explicit: Set<string>;
  positionals: string[];
  help: boolean;
}

export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[], allowPositionals: boolean): ParsedArgs {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const flags: Record<string, FlagValue> = {};
  const explicit = new Set<string>();
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    if (!arg.startsWith("--")) {
      if (!allowPositionals) throw new CliError("CLI_UNEXPECTED_ARGUMENT", `unexpected argument "${arg}" (see --help)`);
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = normalizeFlagName(arg.slice(2, eq === -1 ? undefined : eq));
    const spec = byName.get(name);
    if (!spec) throw new CliError("CLI_UNKNOWN_FLAG", `unknown flag --${name} (see --help)`);
    let raw: string;
    if (eq !== -1) raw = arg.slice(eq + 1);
    else if (spec.type === "bool" && (i + 1 >= argv.length || !/^(true|false|1|0|yes|no)$/.test(argv[i + 1]!))) raw = "true";
    else {
      if (i + 1 >= argv.length) throw new CliError("CLI_BAD_VALUE", `--${name} needs a value`);
      raw = argv[++i]!;
    }
    flags[name] = convert(spec, raw);
    explicit.add(name);
  }
  for (const spec of specs) {
    if (flags[spec.name] === undefined && spec.default !== undefined) flags[spec.name] = convert(spec, spec.default);
    if (flags[spec.name] === undefined && spec.required && !help) throw new CliError("CLI_MISSING_FLAG", `--${spec.name} is required (see --help)`);
  }
  return { flags, explicit, positionals, help };
}

export function formatHelp(name: string, summary: string, usage: string, specs: readonly FlagSpec[]): string {
  const lines = [`phantom ${name} — ${summary}`, "", `usage: ${usage}`];
  if (specs.length) {
    lines.push("", "flags (--snake_case and --kebab-case are both accepted):");
    for (const s of specs) {
      const dflt = s.default !== undefined ? ` (default: ${s.default})` : s.required ? " (required)" : "";
      lines.push(`  --${s.name.padEnd(26)} ${s.type.padEnd(6)} ${s.help}${dflt}`);
    }
  }
  return lines.join("\n");
}
