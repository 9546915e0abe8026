/** Command-line parsing shared by the simulator CLIs (cli.ts, shards-cli.ts). */

/** `--key value` and `--key=value` pairs; anything else is an error. */
export function parseArgs(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf("=");
    if (eq > 0) out.set(a.slice(2, eq), a.slice(eq + 1));
    else out.set(a.slice(2), argv[++i] ?? "");
  }
  return out;
}

/** The number given for `--key` (undefined when absent); `integer` refuses fractions. */
export function numberArg(args: Map<string, string>, key: string, integer = false): number | undefined {
  const v = args.get(key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (integer ? !Number.isInteger(n) : !Number.isFinite(n)) throw new Error(`--${key} must be ${integer ? "an integer" : "a number"}`);
  return n;
}
