#!/usr/bin/env bun
/**
 * Writes a headers.bin of a deterministic, valid signed DAG (and optionally the
 * matching devnet genesis.toml) for the consensus tools:
 *
 *   bun scripts/make-headers.ts --k 4 --events 64 --seed demo --out headers.bin --genesis_out genesis.toml
 *
 * Keys are devnet keys derived from the public --seed label: never use them for value.
 * Prints one JSON line with the file, the event count and the first event ids.
 */
import { writeFileSync, existsSync } from "node:fs";
import { parseArgs, formatHelp, CliError } from "../src/cli/args.ts";
import type { FlagSpec } from "../src/cli/command.ts";
import { devnetSeed, createGenesis } from "../src/genesis/create.ts";
import { keyPairFromSeed } from "../src/crypto/ed25519.ts";
import { toHex } from "../src/crypto/bytes.ts";
import { generateSignedDag, SKIP_PERCENT_MAX } from "../src/consensus/headers-gen.ts";
import { writeHeadersFile } from "../src/cli/headers-file-io.ts";
import { isPhantomError } from "../src/errors.ts";

const flags: FlagSpec[] = [
  { name: "k", type: "int", help: "committee size (1..64)", default: "4" },
  { name: "events", type: "int", help: "events to generate", default: "64" },
  { name: "seed", type: "string", help: "public label: derives the devnet keys and the DAG shape", default: "phantom-headers" },
  { name: "skip_percent", type: "int", help: `chance a creator skips its turn (0..${SKIP_PERCENT_MAX})`, default: "30" },
  { name: "out", type: "string", help: "headers file to write", default: "headers.bin" },
  { name: "genesis_out", type: "string", help: "also write the matching devnet genesis.toml here" },
  { name: "force", type: "bool", help: "overwrite existing files", default: "false" },
];

function run(argv: string[]): number {
  const args = parseArgs(argv, flags, false);
  if (args.help) {
    console.log(formatHelp("make-headers", "write a deterministic signed DAG as headers.bin", "bun scripts/make-headers.ts --k 4 --events 64 --out headers.bin --genesis_out genesis.toml", flags));
    return 0;
  }
  const k = args.flags.k as number;
  const label = args.flags.seed as string;
  const out = args.flags.out as string;
  const genesisOut = args.flags.genesis_out as string | undefined;
  if (k < 1 || k > 64) throw new CliError("CLI_BAD_VALUE", `--k must be 1..64, got ${k}`);
  for (const path of [out, genesisOut]) {
    if (path && existsSync(path) && !args.flags.force) throw new CliError("CLI_BAD_VALUE", `${path} exists; pass --force to overwrite`);
  }
  const secretKeys = Array.from({ length: k }, (_, i) => keyPairFromSeed(devnetSeed(label, i)).secretKey);
  const events = generateSignedDag({
    secretKeys, eventCount: args.flags.events as number, seed: new TextEncoder().encode(label), skipPercent: args.flags.skip_percent as number,
  });
  for (const key of secretKeys) key.fill(0);
  writeHeadersFile(out, events);
  if (genesisOut) writeFileSync(genesisOut, createGenesis({ k, devnetLabel: label, chainId: "phantom-headers-devnet" }).toml);
  console.log(JSON.stringify({ type: "headers_written", out, genesis: genesisOut ?? null, events: events.length, first_ids: events.slice(0, Math.min(k, 8)).map((e) => toHex(e.id)) }));
  return 0;
}

try {
  process.exit(run(process.argv.slice(2)));
} catch (e) {
  if (!isPhantomError(e) && !(e instanceof RangeError)) throw e;
  console.error(`error [${isPhantomError(e) ? e.code : "CLI_BAD_VALUE"}]: ${e.message}`);
  process.exit(2);
}
