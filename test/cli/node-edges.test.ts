// `phantom P2pQuicListen` at its edges, as real processes on ephemeral loopback ports:
// RPC authentication at start-up, and hostile HTTP requests that must leave no stack.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGenesis } from "../../src/genesis/create.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { BIN, readUntil, runPhantom } from "../phantom-cli.ts";
import { rawRequest } from "../rpc/raw-http.ts";

const dir = mkdtempSync(join(tmpdir(), "phantom-node-edges-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const created = createGenesis({ k: 1, devnetLabel: "node-edges-test", basePort: 0 });
const genesisPath = join(dir, "genesis.toml");
writeFileSync(genesisPath, created.toml);
const keyPath = join(dir, "validator-0.key");
writeFileSync(keyPath, toHex(created.seeds[0]!) + "\n", { mode: 0o600 });
const base = (store: string) => ["P2pQuicListen", "--genesis", genesisPath, "--key_file", keyPath, "--store_dir", join(dir, store), "--addr", "127.0.0.1:0", "--rpc_addr", "127.0.0.1:0", "--metrics_addr", "127.0.0.1:0"];

interface Started {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  rpc: string;
  metrics: string;
  stop(): Promise<{ code: number | null; err: string }>;
}

/** Starts a node and reads its node_started line. */
async function startNode(args: string[]): Promise<Started> {
  const proc = Bun.spawn([BIN, ...args], { stdout: "pipe", stderr: "pipe" });
  const out = await readUntil(proc.stdout.getReader(), '"node_started"');
  const line = out.split("\n").find((l) => l.includes('"node_started"'));
  if (!line) {
    proc.kill("SIGKILL");
    throw new Error(`node did not start: ${out} ${await new Response(proc.stderr).text()}`);
  }
  const started = JSON.parse(line) as { rpc: string; metrics: string };
  return {
    proc, rpc: started.rpc, metrics: started.metrics,
    async stop() {
      proc.kill("SIGTERM");
      const code = await proc.exited;
      return { code, err: await new Response(proc.stderr).text() };
    },
  };
}

describe("RPC authentication at start-up", () => {
  test("a reachable --rpc_addr with --rpc_auth none is refused before anything is bound", () => {
    const r = runPhantom([...base("s-none"), "--rpc_addr", "0.0.0.0:0", "--rpc_auth", "none"], { timeoutMs: 30_000 });
    expect(r.code).toBe(2);
    expect(r.err).toContain("error [RPC_AUTH_REQUIRED]");
    expect(r.err).not.toContain("    at ");
    expect(existsSync(join(dir, "s-none"))).toBe(false);
  }, 30_000);

  test("cookie mode: a 0600 cookie in the store, requests need it, removed at stop", async () => {
    const node = await startNode([...base("s-cookie"), "--rpc_auth", "cookie"]);
    const cookie = join(dir, "s-cookie", ".cookie");
    try {
      expect(statSync(cookie).mode & 0o777).toBe(0o600);
      const token = readFileSync(cookie, "utf8").trim();
      const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "peers_list", params: {} });
      const refused = await fetch(`${node.rpc}/rpc`, { method: "POST", body });
      expect(refused.status).toBe(401);
      const ok = await fetch(`${node.rpc}/rpc`, { method: "POST", body, headers: { authorization: `Bearer ${token}` } });
      expect(((await ok.json()) as { result: unknown[] }).result).toEqual([]);
      // The wallet reaches it with --rpc_token_file, and gets a typed error without.
      const wallet = join(dir, "w.mnemonic");
      const pass = join(dir, "w.pass");
      writeFileSync(pass, "node edges passphrase\n", { mode: 0o600 });
      const unlock = ["--wallet", wallet, "--passphrase_file", pass];
      expect(runPhantom(["wallet", "new", ...unlock, "--scrypt_log_n", "12"]).code).toBe(0);
      const balance = runPhantom(["wallet", "balance", ...unlock, "--rpc", node.rpc, "--rpc_token_file", cookie], { timeoutMs: 30_000 });
      expect(balance.code).toBe(0);
      expect(balance.out).toContain('"balanceUnits":"0"');
      expect(balance.out + balance.err).not.toContain(token);
      const anonymous = runPhantom(["wallet", "balance", ...unlock, "--rpc", node.rpc], { timeoutMs: 30_000 });
      expect(anonymous.code).toBe(2);
      expect(anonymous.err).toContain("error [RPC_UNAUTHORIZED]");
      // The hostile requests of issue 13 against the real node: JSON, never a page or a stack.
      for (const url of [node.rpc, node.metrics]) {
        const port = Number(new URL(url).port);
        const r = await rawRequest(port, "GET /health HTTP/1.0\r\n\r\n");
        expect(r.status).toBe(200);
        const bad = await rawRequest(port, "GET /zz HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n");
        expect([400, 401, 404]).toContain(bad.status);
        expect(bad.body).not.toContain("<html");
      }
    } finally {
      const { code, err } = await node.stop();
      expect(code).toBe(0);
      expect(err).not.toContain("    at ");
    }
    expect(existsSync(cookie)).toBe(false);
  }, 60_000);
});

describe("files", () => {
  test("a key file group or others can read is refused unless --allow_insecure_key_file", async () => {
    const loose = join(dir, "loose.key");
    writeFileSync(loose, toHex(created.seeds[0]!) + "\n", { mode: 0o644 });
    chmodSync(loose, 0o644); // whatever the umask
    const args = [...base("s-loose")].map((a) => (a === keyPath ? loose : a));
    const refused = runPhantom(args, { timeoutMs: 30_000 });
    expect(refused.code).toBe(2);
    expect(refused.err).toContain("error [KEY_FILE_PERMISSIONS]");
    expect(refused.err).toContain("chmod 600");
    const node = await startNode([...args, "--allow_insecure_key_file"]);
    const { code } = await node.stop();
    expect(code).toBe(0);
    // The store it created is private.
    expect(statSync(join(dir, "s-loose")).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, "s-loose", "phantom.sqlite")).mode & 0o777).toBe(0o600);
  }, 60_000);
});

describe("busy ports", () => {
  test.each([
    ["--rpc_addr", "tcp", "RPC_LISTEN_FAILED"],
    ["--metrics_addr", "tcp", "METRICS_LISTEN_FAILED"],
    ["--addr", "udp", "TRANSPORT_LISTEN_FAILED"],
  ] as const)("%s on a port in use: one typed error line, exit 2, no stack", async (flag, proto, code) => {
    const tcp = proto === "tcp" ? Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("busy") }) : null;
    const udp = proto === "udp" ? await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 }) : null;
    try {
      const port = tcp?.port ?? udp!.port;
      const store = `s-busy-${flag.slice(2)}`;
      const args = base(store);
      args[args.indexOf(flag) + 1] = `127.0.0.1:${port}`;
      const r = runPhantom(args, { timeoutMs: 30_000 });
      expect(r.code).toBe(2);
      const lines = r.err.trim().split("\n");
      expect(lines).toEqual([expect.stringContaining(`error [${code}]: cannot listen on ${flag} 127.0.0.1:${port}`)]);
      expect(lines[0]).toContain("(EADDRINUSE)");
      expect(r.out).not.toContain('"node_started"');
    } finally {
      tcp?.stop(true);
      udp?.close();
    }
  }, 30_000);
});

test("--cert_out into a missing folder is a typed error, not a stack", () => {
  const r = runPhantom([...base("s-cert"), "--cert_out", join(dir, "no", "such", "dir", "c.der")], { timeoutMs: 30_000 });
  expect(r.code).toBe(2);
  expect(r.err.trim()).toStartWith("error [CERT_WRITE_FAILED]: cannot write --cert_out");
  expect(r.err).toContain("(ENOENT)");
  expect(r.err).not.toContain("    at ");
}, 30_000);

describe("log lines", () => {
  test("JSON and text log lines carry a timestamp", async () => {
    for (const format of ["json", "text"]) {
      const proc = Bun.spawn([BIN, ...base(`s-log-${format}`), "--log_format", format], { stdout: "pipe", stderr: "pipe" });
      const out = await readUntil(proc.stdout.getReader(), "node_started");
      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
      const lines = out.trim().split("\n").filter((l) => l.length > 0);
      expect(lines.length).toBeGreaterThanOrEqual(2);
      for (const line of lines) {
        const ts = format === "json" ? (JSON.parse(line) as { ts: string }).ts : /^ts=(\S+) /.exec(line)?.[1];
        expect(`${line}:${Number.isFinite(Date.parse(ts ?? ""))}`).toBe(`${line}:true`);
        expect(ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      }
    }
  }, 60_000);
});
