/**
 * Runs `<command...> localnet` on a small devnet and waits until every validator has
 * its peers and has finalized `--anchors` anchors; used by scripts/check-arm64 with
 * the command `qemu-aarch64 -L <sysroot> <arm64 binary>` (the localnet must start its
 * validators through the same emulator). Ports are blocks the OS chose (test/ports.ts).
 * Prints the validators' command lines (as the kernel sees them) and the anchors
 * reached; exits 0 when they finalized, 1 when not within `--limit_s` (with the
 * localnet's output and the validators' log tails), 2 on bad arguments.
 *
 * Usage: bun scripts/check-localnet.ts [--k 2] [--anchors 5] [--limit_s 80] -- <command...>
 */
import { mkdtempSync, rmSync, writeFileSync, readFileSync, readlinkSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGenesis } from "../src/genesis/create.ts";
import { rpcCall } from "../src/rpc/client.ts";
import { freePortBlocks } from "../test/ports.ts";

const LABEL = "check-localnet";
const POLL_MS = 500;
const STOP_LIMIT_MS = 20_000;

function usage(message: string): never {
  console.error(`check-localnet: ${message}\nusage: bun scripts/check-localnet.ts [--k 2] [--anchors 5] [--limit_s 80] -- <command...>`);
  process.exit(2);
}

function parse(argv: string[]): { k: number; anchors: number; limitS: number; command: string[] } {
  const dash = argv.indexOf("--");
  if (dash < 0 || dash === argv.length - 1) usage("the command to run goes after --");
  const opts = { k: 2, anchors: 5, limitS: 80 };
  const own = argv.slice(0, dash);
  for (let i = 0; i < own.length; i += 2) {
    const key = own[i]!.replace(/^--/, "");
    const n = Number(own[i + 1]);
    if (!Number.isInteger(n) || n < 1) usage(`--${key} needs a positive integer`);
    if (key === "k") opts.k = n;
    else if (key === "anchors") opts.anchors = n;
    else if (key === "limit_s") opts.limitS = n;
    else usage(`unknown option ${own[i]}`);
  }
  return { ...opts, command: argv.slice(dash + 1) };
}

interface Status { ready: boolean; peers: number; anchorCount: string }

/** The command lines of `pid`'s children (from /proc: what the kernel really runs). */
function childCommands(pid: number): string[] {
  const ps = Bun.spawnSync(["ps", "-o", "pid=", "--ppid", String(pid)]).stdout.toString();
  return ps.split("\n").map((l) => l.trim()).filter((l) => l !== "").map((child) => {
    try {
      const exe = readlinkSync(`/proc/${child}/exe`);
      const args = readFileSync(`/proc/${child}/cmdline`, "latin1").split("\0").filter((a) => a !== "");
      return `${exe}: ${args.slice(0, 6).join(" ")} ...`;
    } catch {
      return `${child}: (gone)`;
    }
  });
}

async function main(): Promise<number> {
  const { k, anchors, limitS, command } = parse(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), "phantom-check-localnet-"));
  const ports = await freePortBlocks(k);
  const genesisPath = join(dir, "genesis.toml");
  writeFileSync(genesisPath, createGenesis({ k, devnetLabel: LABEL, basePort: ports.p2p }).toml);
  const net = join(dir, "net");
  const proc = Bun.spawn([
    ...command, "localnet", "--genesis", genesisPath, "--devnet_label", LABEL, "--dir", net, "--fresh", "true",
    "--miner", "false", "--status_s", "0", "--idle_heartbeat_ms", "1000", "--base_rpc_port", String(ports.rpc), "--base_metrics_port", String(ports.metrics),
  ], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const out = new Response(proc.stdout).text();
  const err = new Response(proc.stderr).text();
  const rpcs = Array.from({ length: k }, (_, i) => `http://127.0.0.1:${ports.rpc + i}`);
  const deadline = performance.now() + limitS * 1000;
  let last: (Status | null)[] = [];
  let ok = false;
  let exitedEarly = false;
  void proc.exited.then(() => { exitedEarly = true; });
  while (performance.now() < deadline && !exitedEarly) {
    last = await Promise.all(rpcs.map((u) => rpcCall<Status>(u, "phantom_status").catch(() => null)));
    if (last.every((s) => s !== null && s.ready && s.peers === k - 1 && BigInt(s.anchorCount) >= BigInt(anchors))) {
      ok = true;
      break;
    }
    await Bun.sleep(POLL_MS);
  }
  for (const line of childCommands(proc.pid)) console.log(`child ${line}`);
  console.log(`anchors: ${last.map((s, i) => `v${i} ${s ? `#${s.anchorCount} peers ${s.peers}` : "no answer"}`).join(", ")}`);
  proc.kill("SIGTERM");
  const stopped = await Promise.race([proc.exited, Bun.sleep(STOP_LIMIT_MS).then(() => null)]);
  if (stopped === null) proc.kill("SIGKILL");
  if (!ok) {
    console.error(exitedEarly ? `localnet exited early (code ${proc.exitCode})` : `not every validator finalized ${anchors} anchors within ${limitS} s`);
    console.error(`--- localnet stdout\n${(await out).slice(-2000)}\n--- localnet stderr\n${(await err).slice(-2000)}`);
    for (let i = 0; i < k; i++) {
      const log = join(net, "logs", `v${i}.log`);
      if (existsSync(log)) console.error(`--- v${i}.log (tail)\n${readFileSync(log, "utf8").slice(-1500)}`);
    }
  } else {
    console.log(`finalized: every one of ${k} validators reached ${anchors} anchors`);
  }
  rmSync(dir, { recursive: true, force: true });
  return ok ? 0 : 1;
}

process.exit(await main());
