/**
 * Operator-written TOML: genesis.toml (parseGenesis, GenesisError) and the node config
 * file (parse, unknown-key check and resolution against the flags, CONFIG_* errors).
 */
import { parseGenesis, GenesisError } from "../../src/genesis/genesis.ts";
import { NODE_FLAGS, parseNodeConfigText, resolveNodeConfigDoc } from "../../src/node/config.ts";
import { parseArgs } from "../../src/cli/args.ts";
import { isPhantomError } from "../../src/errors.ts";
import { mutateToml } from "../structured.ts";
import { oracle, utf8, type FuzzTarget } from "../target.ts";

const TOML_DICTIONARY: readonly Uint8Array[] = [
  "\n", "[", "]", "[[", "]]", "=", "\"", "'", "'''", "\"\"\"", ".", ",", "{", "}", "#", "\\u0000", "\\", " = ",
  "0", "-1", "1e400", "inf", "nan", "-0", "0x7fffffffffffffff", "9223372036854775807", "9223372036854775808", "18446744073709551616",
  "true", "false", "1979-05-27T07:32:00Z", "__proto__", "constructor", "toString", "node", "validators", "consensus", "emission", "fees",
  "stake", "k", "public_key", "address", "\"127.0.0.1:0\"", "\"h:65536\"",
].map(utf8);

const decoder = new TextDecoder();

/** Flags as the command line gives them with only --key_file set (the one required setting). */
const BASE_ARGS = parseArgs(["--key_file", "fuzz.key"], NODE_FLAGS, false);

export const TOML_TARGETS: FuzzTarget[] = [
  {
    name: "genesis-toml",
    description: "genesis.toml parser and validator (parseGenesis)",
    extension: "toml", maxBytes: 8192, dictionary: TOML_DICTIONARY, structured: mutateToml,
    run(input) {
      const g = parseGenesis(decoder.decode(input));
      oracle(g.validators.length === g.k && g.k >= 1, "genesis accepted with k != validator count");
      oracle(typeof g.totalStake === "bigint" && g.totalStake > 0n, "genesis accepted with a non-positive total stake");
    },
    rejection: (e) => (e instanceof GenesisError ? e.code : undefined),
  },
  {
    name: "node-config-toml",
    description: "node config file: TOML parse, unknown-key check and resolution against the flags",
    extension: "toml", maxBytes: 4096, dictionary: TOML_DICTIONARY, structured: mutateToml,
    run(input) {
      const doc = parseNodeConfigText(decoder.decode(input), "fuzz.toml");
      const cfg = resolveNodeConfigDoc(doc, BASE_ARGS.flags, BASE_ARGS.explicit);
      oracle(Number.isSafeInteger(cfg.rpcBurst) && cfg.rpcBurst > 0, `config accepted rpc burst ${cfg.rpcBurst}`);
      oracle(Number.isSafeInteger(cfg.eventIntervalMs) && cfg.eventIntervalMs > 0, `config accepted event interval ${cfg.eventIntervalMs}`);
      oracle(typeof cfg.rpcAddr === "string" && typeof cfg.storeDir === "string", "config accepted a non-string address or store dir");
    },
    rejection: (e) => (isPhantomError(e) && e.code.startsWith("CONFIG_") ? e.code : undefined),
  },
];
