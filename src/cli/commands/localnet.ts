/**
 * `phantom localnet`: the main job. Runs every validator of a devnet genesis as its
 * own process (real QUIC on loopback), a miner, and prints where the RPC, explorer
 * and metrics endpoints are. A child that exits is restarted with backoff (supervisor.ts)
 * while the others keep running. Each child logs to `<dir>/logs/<name>.log`; the terminal
 * shows a status line every few seconds (localnet-status.ts), restarts and errors (red),
 * and peer losses. Children are this same program started again, through the same
 * emulator when it runs under qemu-user (self-command.ts). The embedded genesis.toml
 * is a public devnet whose validator keys anyone can derive: for local use only.
 */
import { formatLogLine } from "../log-line.ts";
import { mkdirSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "../command.ts";
import { CliError } from "../args.ts";
import { Supervisor, localnetBackoff, type Child } from "../supervisor.ts";
import { ChildLog, errorColour } from "../child-log.ts";
import { LocalnetStatus } from "../localnet-status.ts";
import { selfCommand } from "../self-command.ts";
import { parseGenesis, genesisLoadedLine } from "../../genesis/index.ts";
import { createGenesis, devnetSeed } from "../../genesis/create.ts";
import type { Genesis } from "../../genesis/genesis.ts";
import { shardOfLock } from "../../ledger/shard.ts";
import { decodeAddress } from "../../wallet/address.ts";
import type { WalletAccount } from "../../wallet/keys.ts";
import { keyPairFromSeed } from "../../crypto/ed25519.ts";
import { toHex, equalBytes } from "../../crypto/bytes.ts";
import { devnetMinerAccount, minerAccount } from "../../wallet/faucet.ts";

export { minerAccount };
import embeddedGenesis from "../../../genesis.toml" with { type: "text" };

export const command: Command = {
  name: "localnet",
  aliases: ["start-localnet"],
  summary: "run a local network: every devnet validator, a miner, RPC/explorer and metrics",
  usage: "phantom localnet [--dir localnet] [--fresh] [--shards 1] [--miner true] [--duration_s 0] [--status_s 5]",
  flags: [
    { name: "dir", type: "string", help: "working folder for data, keys and logs (logs/<validator or miner>.log)", default: "localnet" },
    { name: "genesis", type: "string", help: "genesis file (default: the embedded devnet genesis, or with --shards S > 1 a devnet genesis of S shards of 4 validators)" },
    { name: "shards", type: "int", help: "shards of the generated devnet genesis (S·4 validators; each validator relays its shard's exports to the others' RPC); ignored with --genesis, whose shard_count counts", default: "1" },
    { name: "shard_root_interval", type: "int", help: "with --shards S > 1: anchors per shard root (genesis shard_root_interval) of the generated genesis", default: "8" },
    { name: "devnet_label", type: "string", help: "label the devnet keys derive from", default: "localnet" },
    { name: "fresh", type: "bool", help: "delete the folder's data first", default: "false" },
    { name: "miner", type: "bool", help: "also run a miner", default: "true" },
    { name: "miner_threads", type: "int", help: "PoW threads for the miner", default: "1" },
    { name: "base_rpc_port", type: "int", help: "RPC port of validator 0 (others count up)", default: "8645" },
    { name: "base_metrics_port", type: "int", help: "metrics port of validator 0 (others count up)", default: "9100" },
    { name: "fsync", type: "bool", help: "fsync committed batches", default: "false" },
    { name: "idle_heartbeat_ms", type: "int", help: "validators' idle heartbeat: with nothing to carry or finalize they create an event only this often (P2pQuicListen --idle_heartbeat_ms)", default: "600000" },
    { name: "duration_s", type: "int", help: "stop after this many seconds (0 = until Ctrl-C)", default: "0" },
    { name: "status_s", type: "int", help: "seconds between status lines (0 = none)", default: "5" },
  ],
  async run(ctx) {
    const dir = resolve(ctx.flags.dir as string);
    const label = ctx.flags.devnet_label as string;
    const shards = ctx.flags.shards as number;
    if (!Number.isInteger(shards) || shards < 1 || shards > 64) throw new CliError("CLI_BAD_VALUE", `--shards must be 1..64, got ${shards}`);
    const genesisText = ctx.flags.genesis ? await Bun.file(ctx.flags.genesis as string).text() : shards > 1 ? shardedDevnetGenesis(label, shards, BigInt(ctx.flags.shard_root_interval as number)) : embeddedGenesis;
    const genesis = parseGenesis(genesisText);
    ctx.out(genesisLoadedLine(genesis));
    const seeds = genesis.validators.map((v, i) => {
      const seed = devnetSeed(label, i);
      if (!equalBytes(keyPairFromSeed(seed).publicKey, v.publicKey)) {
        throw new CliError("CLI_BAD_VALUE", `validator ${i} of this genesis is not a devnet key for label "${label}"; run the nodes with P2pQuicListen and their own key files`);
      }
      return seed;
    });
    if (ctx.flags.fresh && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, "keys"), { recursive: true, mode: 0o700 });
    mkdirSync(join(dir, "logs"), { recursive: true });
    const genesisPath = join(dir, "genesis.toml");
    writeFileSync(genesisPath, genesisText);
    seeds.forEach((seed, i) => writeFileSync(join(dir, "keys", `validator-${i}.key`), toHex(seed) + "\n", { mode: 0o600 }));

    const self = selfCommand();
    const rpcPort = ctx.flags.base_rpc_port as number;
    const metricsPort = ctx.flags.base_metrics_port as number;
    const endpoints = genesis.validators.map((v, i) => ({
      validator: i,
      shard: v.shard,
      p2p: v.address,
      rpc: `http://127.0.0.1:${rpcPort + i}`,
      explorer: `http://127.0.0.1:${rpcPort + i}/`,
      metrics: `http://127.0.0.1:${metricsPort + i}/metrics`,
    }));
    // Only errors are red (and go to stderr); status lines, restarts' context and notices are plain.
    const red = errorColour(process.stderr.isTTY);
    const error = (line: string) => ctx.err(red(line));
    // A crashed validator or miner is restarted with backoff; the others keep running.
    const supervisor = new Supervisor(localnetBackoff, error);
    const logs: ChildLog[] = [];
    const spawnLogged = (name: string, args: string[]): (() => Child) => {
      const log = new ChildLog(name, join(dir, "logs", `${name}.log`), { notice: ctx.out, error });
      logs.push(log);
      return () => {
        log.mark(`starting: ${args.slice(self.length).join(" ")}`);
        const proc = Bun.spawn(args, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
        log.attach(proc.stdout, "stdout");
        log.attach(proc.stderr, "stderr");
        return proc;
      };
    };
    for (const [i] of genesis.validators.entries()) {
      const args = [
        ...self, "P2pQuicListen", "--genesis", genesisPath, "--key_file", join(dir, "keys", `validator-${i}.key`),
        "--store_dir", join(dir, `node-${i}`), "--rpc_addr", `127.0.0.1:${rpcPort + i}`, "--metrics_addr", `127.0.0.1:${metricsPort + i}`,
        "--fsync", String(ctx.flags.fsync), "--tx_proposer_interval_ms", "1000",
        "--idle_heartbeat_ms", String(ctx.flags.idle_heartbeat_ms),
        ...(genesis.shardCount > 1 ? ["--shard_rpc", shardRpcOf(genesis, i, rpcPort)] : []),
      ];
      supervisor.add({ name: `v${i}`, spawn: spawnLogged(`v${i}`, args) });
    }
    // The miner mints to the devnet faucet account (`phantom faucet` pays new users from it).
    // Sharded: the mint chain lives on shard 0 and pays only a lock on shard 0 (SPEC_SHARDING §9).
    const miner = minerAccount(label, genesis.shardCount);
    if (genesis.shardCount > 1 && miner.address !== devnetMinerAccount(label).address) {
      ctx.out(`localnet: the devnet faucet account is not on shard 0 with ${genesis.shardCount} shards; the miner mints to ${miner.address} instead, which \`phantom faucet\` pays from`);
    }
    const shard0 = endpoints.find((e) => e.shard === 0)!;
    if (ctx.flags.miner) {
      const args = [...self, "mine", "--rpc", shard0.rpc, "--to", miner.address, "--threads", String(ctx.flags.miner_threads)];
      supervisor.add({ name: "miner", spawn: spawnLogged("miner", args) });
    }
    ctx.out(formatLogLine("json", { type: "localnet_started", dir, logs: join(dir, "logs"), validators: endpoints, miner: ctx.flags.miner ? { address: miner.address } : null }));
    ctx.out(`localnet: ${endpoints.length} validators${genesis.shardCount > 1 ? ` in ${genesis.shardCount} shards of ${genesis.k}` : ""}; explorer ${endpoints[0]!.explorer}; metrics ${endpoints.map((e) => e.metrics).join(" ")}; logs in ${join(dir, "logs")}; Ctrl-C stops`);

    const statusMs = (ctx.flags.status_s as number) * 1000;
    let statusTimer: ReturnType<typeof setTimeout> | null = null;
    if (statusMs > 0) {
      const status = new LocalnetStatus(endpoints.map((e) => e.rpc), statusMs);
      // One poll at a time: the next is scheduled when the previous line is out.
      const tick = () => {
        statusTimer = setTimeout(() => void status.line().then((line) => {
          if (statusTimer !== null) {
            ctx.out(line);
            tick();
          }
        }), statusMs);
      };
      tick();
    }

    const duration = ctx.flags.duration_s as number;
    const stopped = new Promise<void>((res) => ctx.signal.addEventListener("abort", () => res(), { once: true }));
    const timer = duration > 0 ? Bun.sleep(duration * 1000) : new Promise<void>(() => {});
    const gaveUp = await Promise.race([stopped.then(() => null), timer.then(() => null), supervisor.gaveUp]);
    if (statusTimer !== null) clearTimeout(statusTimer);
    statusTimer = null;
    await supervisor.stop();
    await Promise.all(logs.map((l) => l.close()));
    if (gaveUp) {
      error(`localnet: ${gaveUp}; stopped the rest`);
      return 1;
    }
    return 0;
  },
};

/** A devnet genesis of `shards` shards of 4 validators each, with the embedded devnet's emission settings. */
export function shardedDevnetGenesis(label: string, shards: number, rootInterval: bigint): string {
  return createGenesis({ k: 4, shards, devnetLabel: label, initialTargetBits: 14, maturityAnchors: 20n, shardRootInterval: rootInterval }).toml;
}

/**
 * `--shard_rpc` of validator `i`: for every other shard, the RPC of the validator at the
 * same position in that shard's committee (so the relays of one shard spread over the
 * other shard's nodes).
 */
export function shardRpcOf(genesis: Genesis, i: number, rpcPort: number): string {
  const me = genesis.validators[i]!;
  const position = genesis.validators.filter((v) => v.shard === me.shard).findIndex((v) => v.index === i);
  const pairs: string[] = [];
  for (let d = 0; d < genesis.shardCount; d++) {
    if (d === me.shard) continue;
    const target = genesis.validators.filter((v) => v.shard === d)[position]!;
    pairs.push(`${d}=http://127.0.0.1:${rpcPort + target.index}`);
  }
  return pairs.join(",");
}

