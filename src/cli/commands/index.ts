/** The command table. Names follow the seed (`P2pQuicListen`); kebab-case aliases are accepted. */
import type { Command } from "../command.ts";
import { CliError } from "../args.ts";
import { command as genesis } from "./genesis.ts";
import { command as selftest } from "./selftest.ts";
import { command as mine } from "./mine.ts";
import { command as metricsServe } from "./p2p-metrics-serve.ts";
import { command as localnet } from "./localnet.ts";
import { command as cacheBench } from "./cache-bench.ts";

/** A command that is specified but not built yet: says so and exits non-zero. */
function notBuilt(name: string, aliases: string[], summary: string): Command {
  return {
    name, aliases, summary: `${summary} (not built yet)`, usage: `phantom ${name}`, flags: [], positionals: true,
    async run() {
      throw new CliError("CLI_NOT_IMPLEMENTED", `${name} is not built yet in this version`);
    },
  };
}

export const commands: Command[] = [
  localnet,
  genesis,
  selftest,
  notBuilt("P2pQuicListen", ["p2p-quic-listen", "node"], "run a validator node: QUIC listener, consensus, storage, RPC, metrics"),
  metricsServe,
  mine,
  notBuilt("ConsensusAckDists", ["consensus-ack-dists"], "ack distances of an anchor from a headers file"),
  notBuilt("ConsensusPayoutRoot", ["consensus-payout-root"], "committee payout Merkle root of an anchor"),
  cacheBench,
];

export function findCommand(name: string): Command | undefined {
  const lower = name.toLowerCase();
  return commands.find((c) => c.name.toLowerCase() === lower || c.aliases.includes(lower));
}
