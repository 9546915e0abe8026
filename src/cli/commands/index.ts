/** The command table. Names follow the seed (`P2pQuicListen`); kebab-case aliases are accepted. */
import type { Command } from "../command.ts";
import { command as genesis } from "./genesis.ts";
import { command as selftest } from "./selftest.ts";
import { command as mine } from "./mine.ts";
import { command as metricsServe } from "./p2p-metrics-serve.ts";
import { command as localnet } from "./localnet.ts";
import { command as p2pQuicListen } from "./p2p-quic-listen.ts";
import { command as consensusAckDists } from "./consensus-ack-dists.ts";
import { command as consensusPayoutRoot } from "./consensus-payout-root.ts";
import { command as cacheBench } from "./cache-bench.ts";
import { command as wallet } from "./wallet.ts";
import { command as key } from "./key.ts";
import { command as faucet } from "./faucet.ts";
import { command as snapshot } from "./snapshot.ts";

export const commands: Command[] = [
  localnet,
  genesis,
  key,
  selftest,
  p2pQuicListen,
  metricsServe,
  mine,
  wallet,
  faucet,
  snapshot,
  consensusAckDists,
  consensusPayoutRoot,
  cacheBench,
];

export function findCommand(name: string): Command | undefined {
  const lower = name.toLowerCase();
  return commands.find((c) => c.name.toLowerCase() === lower || c.aliases.includes(lower));
}
