/** `phantom genesis new|verify`: create a committee or validate a genesis file. */
import { mkdirSync, writeFileSync, existsSync, chmodSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "../command.ts";
import { CliError } from "../args.ts";
import { loadGenesis, genesisLoadedLine, createGenesis } from "../../genesis/index.ts";
import { toHex } from "../../crypto/bytes.ts";

export const command: Command = {
  name: "genesis",
  aliases: [],
  summary: "create a new committee (genesis new) or validate a genesis file (genesis verify <file>)",
  usage: "phantom genesis new --k 4 --out genesis.toml --keys_dir keys | phantom genesis verify <genesis.toml>",
  positionals: true,
  flags: [
    { name: "k", type: "int", help: "committee size (1..64), per shard", default: "4" },
    { name: "shards", type: "int", help: "shard_count S (1..1024): S·k validators, k per shard (docs/SPEC_SHARDING.md); the node runs one shard only (not yet)", default: "1" },
    { name: "out", type: "string", help: "where to write the new genesis.toml", default: "genesis.toml" },
    { name: "keys_dir", type: "string", help: "folder for validator-<i>.key seed files (mode 0600)", default: "keys" },
    { name: "host", type: "string", help: "validator P2P host", default: "127.0.0.1" },
    { name: "base_port", type: "int", help: "P2P port of validator 0 (others count up)", default: "9000" },
    { name: "chain_id", type: "string", help: "chain id", default: "phantom-localnet" },
    { name: "force", type: "bool", help: "overwrite existing files", default: "false" },
  ],
  async run(ctx) {
    const [sub, file] = ctx.positionals;
    if (sub === "verify") {
      if (!file) throw new CliError("CLI_BAD_VALUE", "usage: phantom genesis verify <genesis.toml>");
      ctx.out(genesisLoadedLine(await loadGenesis(file)));
      return 0;
    }
    if (sub !== "new") throw new CliError("CLI_BAD_VALUE", `unknown genesis subcommand "${sub ?? ""}"; use "new" or "verify"`);
    const k = ctx.flags.k as number;
    if (k < 1 || k > 64) throw new CliError("CLI_BAD_VALUE", `--k must be 1..64, got ${k}`);
    const shards = ctx.flags.shards as number;
    if (shards < 1 || shards > 1024) throw new CliError("CLI_BAD_VALUE", `--shards must be 1..1024, got ${shards}`);
    const basePort = ctx.flags.base_port as number;
    if (basePort < 0 || basePort + shards * k - 1 > 65535) throw new CliError("CLI_BAD_VALUE", `--base_port ${basePort} with ${shards * k} validators runs past port 65535`);
    const out = ctx.flags.out as string;
    const keysDir = ctx.flags.keys_dir as string;
    if (existsSync(out) && !ctx.flags.force) throw new CliError("CLI_BAD_VALUE", `${out} exists; pass --force to overwrite`);
    const created = createGenesis({ k, shards, host: ctx.flags.host as string, basePort, chainId: ctx.flags.chain_id as string });
    mkdirSync(keysDir, { recursive: true, mode: 0o700 });
    created.seeds.forEach((seed, i) => {
      const path = join(keysDir, `validator-${i}.key`);
      if (existsSync(path) && !ctx.flags.force) throw new CliError("CLI_BAD_VALUE", `${path} exists; pass --force to overwrite`);
      writeFileSync(path, toHex(seed) + "\n", { mode: 0o600 });
      chmodSync(path, 0o600);
      seed.fill(0);
    });
    writeFileSync(out, created.toml);
    ctx.err(`wrote ${out} and ${created.seeds.length} key files in ${keysDir}/ (mode 0600)`);
    ctx.out(genesisLoadedLine(await loadGenesis(out)));
    return 0;
  },
};
