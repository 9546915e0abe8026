/**
 * `phantom key new|show`: one validator key for an operator who joins a committee formed
 * by independent operators (docs/OPERATIONS.md §3): the key file stays on the operator's
 * machine (one line of hex, a 32-byte Ed25519 seed, mode 0600); only the public key goes
 * into the shared genesis.
 */
import { chmodSync, existsSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import type { Command } from "../command.ts";
import { CliError } from "../args.ts";
import { keyPairFromSeed } from "../../crypto/ed25519.ts";
import { toHex } from "../../crypto/bytes.ts";
import { readKeyFile } from "../../node/keys.ts";

export const command: Command = {
  name: "key",
  aliases: [],
  summary: "create one validator key file (key new) or print a key file's public key (key show)",
  usage: "phantom key new --out validator.key | phantom key show --key_file validator.key",
  positionals: true,
  flags: [
    { name: "out", type: "string", help: "where `key new` writes the key file (mode 0600)", default: "validator.key" },
    { name: "key_file", type: "string", help: "the key file `key show` reads", default: "validator.key" },
    { name: "force", type: "bool", help: "overwrite an existing key file (the old key is lost)", default: "false" },
  ],
  async run(ctx) {
    const [sub] = ctx.positionals;
    if (sub === "new") {
      const out = ctx.flags.out as string;
      if (existsSync(out) && ctx.flags.force !== true) throw new CliError("CLI_BAD_VALUE", `${out} exists; pass --force to overwrite it (its key is then lost)`);
      const seed = new Uint8Array(randomBytes(32));
      const { publicKey } = keyPairFromSeed(seed);
      writeFileSync(out, toHex(seed) + "\n", { mode: 0o600 });
      chmodSync(out, 0o600);
      seed.fill(0);
      ctx.out(JSON.stringify({ type: "key_created", path: out, public_key: toHex(publicKey) }));
      return 0;
    }
    if (sub === "show") {
      const path = ctx.flags.key_file as string;
      const { publicKey } = readKeyFile(path, { allowInsecure: false, warn: () => {} });
      ctx.out(JSON.stringify({ type: "key", path, public_key: toHex(publicKey) }));
      return 0;
    }
    throw new CliError("CLI_BAD_VALUE", `unknown key subcommand "${sub ?? ""}"; use "new" or "show"`);
  },
};
