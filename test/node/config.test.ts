// Node settings: defaults < config file < command line, typed errors for bad values.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NODE_FLAGS, resolveNodeConfig } from "../../src/node/config.ts";
import { IDLE_HEARTBEAT_MS_DEFAULT } from "../../src/node/node.ts";
import { parseArgs } from "../../src/cli/args.ts";
import { isPhantomError } from "../../src/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "phantom-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function resolve(argv: string[]) {
  const args = parseArgs(argv, NODE_FLAGS, false);
  return resolveNodeConfig(args.flags, args.explicit);
}

async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isPhantomError(e)) return e.code;
    throw e;
  }
  return "no error";
}

describe("node config", () => {
  test("the sample docs/systemd/node.toml resolves; RPC auth and rate settings are checked", async () => {
    const sample = await resolve(["--config", join(import.meta.dir, "..", "..", "docs", "systemd", "node.toml"), "--key_file", "k"]);
    expect(sample).toMatchObject({ rpcAuth: "auto", rpcTokenFile: null, rpcRatePerS: 1000, rpcBurst: 2000, allowInsecureKeyFile: false });
    expect(await errorCode(resolve(["--key_file", "k", "--rpc_auth", "open"]))).toBe("CONFIG_BAD_VALUE");
    expect(await errorCode(resolve(["--key_file", "k", "--rpc_burst", "0"]))).toBe("CONFIG_BAD_VALUE");
    expect(await errorCode(resolve(["--key_file", "k", "--rpc_rate_per_s", "-1"]))).toBe("CONFIG_BAD_VALUE");
    expect((await resolve(["--key_file", "k", "--rpc_rate_per_s", "0", "--allow_insecure_key_file"])).allowInsecureKeyFile).toBe(true);
  });

  test("snapshot and pruning settings: defaults, [node.storage] keys, flags, negatives refused", async () => {
    expect(await resolve(["--key_file", "k"])).toMatchObject({ snapshotIntervalAnchors: 1000, pruneKeepRounds: 0 });
    const file = join(dir, "storage.toml");
    writeFileSync(file, `[node.storage]\nsnapshot_interval_anchors = 50\nprune_keep_rounds = 200\n`);
    expect(await resolve(["--config", file, "--key_file", "k"])).toMatchObject({ snapshotIntervalAnchors: 50, pruneKeepRounds: 200 });
    expect(await resolve(["--config", file, "--key_file", "k", "--prune_keep_rounds", "0"])).toMatchObject({ pruneKeepRounds: 0 });
    expect(await errorCode(resolve(["--key_file", "k", "--prune_keep_rounds", "-1"]))).toBe("CONFIG_BAD_VALUE");
    expect(await errorCode(resolve(["--key_file", "k", "--snapshot_interval_anchors", "-5"]))).toBe("CONFIG_BAD_VALUE");
  });

  test("a config file overrides defaults and the command line overrides the file", async () => {
    const file = join(dir, "node.toml");
    writeFileSync(file, `[node]\nrpc_addr = "127.0.0.1:18645"\nfsync = false\n[node.proposer]\ninterval_ms = 750\n[node.mempool]\ntxs_max = 5000\n`);
    const fromFile = await resolve(["--config", file, "--key_file", "k"]);
    expect(fromFile.rpcAddr).toBe("127.0.0.1:18645");
    expect(fromFile.fsync).toBe(false);
    expect(fromFile.txProposerIntervalMs).toBe(750);
    expect(fromFile.mempoolTxsMax).toBe(5000);
    expect(fromFile.metricsAddr).toBe("127.0.0.1:9100"); // default
    const cli = await resolve(["--config", file, "--key_file", "k", "--rpc-addr", "127.0.0.1:28645", "--tx_proposer_interval_ms", "90"]);
    expect(cli.rpcAddr).toBe("127.0.0.1:28645");
    expect(cli.txProposerIntervalMs).toBe(90);
    expect(cli.fsync).toBe(false);
  });

  test("idle_heartbeat_ms: default 600000 (the node's), from the file or the command line; 0 refused", async () => {
    expect((await resolve(["--key_file", "k"])).idleHeartbeatMs).toBe(IDLE_HEARTBEAT_MS_DEFAULT);
    const file = join(dir, "idle.toml");
    writeFileSync(file, `[node]\nidle_heartbeat_ms = 30000\n`);
    expect((await resolve(["--config", file, "--key_file", "k"])).idleHeartbeatMs).toBe(30_000);
    expect((await resolve(["--config", file, "--key_file", "k", "--idle_heartbeat_ms", "1000"])).idleHeartbeatMs).toBe(1_000);
    expect(await errorCode(resolve(["--key_file", "k", "--idle_heartbeat_ms", "0"]))).toBe("CONFIG_BAD_VALUE");
  });

  test("bad values and files are typed errors", async () => {
    const wrongType = join(dir, "wrong-type.toml");
    writeFileSync(wrongType, `[node]\nfsync = "yes"\n`);
    const broken = join(dir, "broken.toml");
    writeFileSync(broken, `[node\nfsync = true\n`);
    expect(await errorCode(resolve(["--config", wrongType, "--key_file", "k"]))).toBe("CONFIG_BAD_VALUE");
    expect(await errorCode(resolve(["--config", broken, "--key_file", "k"]))).toBe("CONFIG_PARSE");
    expect(await errorCode(resolve(["--config", join(dir, "missing.toml"), "--key_file", "k"]))).toBe("CONFIG_NOT_FOUND");
    expect(await errorCode(resolve(["--key_file", "k", "--txs_per_payload", "0"]))).toBe("CONFIG_BAD_VALUE");
    expect(await errorCode(resolve(["--key_file", "k", "--log_format", "xml"]))).toBe("CONFIG_BAD_VALUE");
    expect(await errorCode(resolve([]))).toBe("CONFIG_MISSING");
    const misspelt = join(dir, "misspelt.toml");
    writeFileSync(misspelt, `[node]\nrpc_adr = "127.0.0.1:1"\n`);
    expect(await errorCode(resolve(["--config", misspelt, "--key_file", "k"]))).toBe("CONFIG_UNKNOWN_KEY");
    const strayTable = join(dir, "stray.toml");
    writeFileSync(strayTable, `[node.proposer]\nenabled = true\nspeed = 3\n`);
    expect(await errorCode(resolve(["--config", strayTable, "--key_file", "k"]))).toBe("CONFIG_UNKNOWN_KEY");
  });

  test("the shipped example config is valid", async () => {
    const config = await resolve(["--config", join(import.meta.dir, "..", "..", "docs", "systemd", "node.toml"), "--key_file", "k"]);
    expect(config.addr).toBe("0.0.0.0:9000");
    expect(config.mempoolTxsMax).toBe(100000);
  });
});
