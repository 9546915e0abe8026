// `phantom P2pQuicListen` as an operator runs it: clear errors for bad setups, a
// certificate export, a clean stop on SIGTERM, and a store that refuses another genesis.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import { createGenesis } from "../../src/genesis/create.ts";
import { keyPairFromSeed } from "../../src/crypto/ed25519.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { BIN, readUntil, runPhantom } from "../phantom-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "phantom-node-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The genesis address is only data here: the node listens where --addr says.
const created = createGenesis({ k: 1, devnetLabel: "node-cli-test", basePort: 19_520 });
const genesisPath = join(dir, "genesis.toml");
writeFileSync(genesisPath, created.toml);
const keyPath = join(dir, "validator-0.key");
writeFileSync(keyPath, toHex(created.seeds[0]!) + "\n", { mode: 0o600 });
// OS-chosen ports (port 0) for P2P, RPC and metrics: nothing else on the machine can hold them.
const ports = ["--addr", "127.0.0.1:0", "--rpc_addr", "127.0.0.1:0", "--metrics_addr", "127.0.0.1:0"];

const run = (args: string[]) => runPhantom(["P2pQuicListen", ...args], { timeoutMs: 30_000 });

describe("phantom P2pQuicListen", () => {
  test("bad setups end with one typed error line", () => {
    const noKey = run(["--genesis", genesisPath, "--store_dir", join(dir, "s0")]);
    expect(noKey.code).toBe(2);
    expect(noKey.err).toContain("error [CONFIG_MISSING]");
    const stranger = join(dir, "stranger.key");
    writeFileSync(stranger, toHex(new Uint8Array(32).fill(5)) + "\n", { mode: 0o600 });
    const notMember = run(["--genesis", genesisPath, "--key_file", stranger, "--store_dir", join(dir, "s1")]);
    expect(notMember.code).toBe(2);
    expect(notMember.err).toContain("error [KEY_NOT_IN_COMMITTEE]");
    const noGenesis = run(["--genesis", join(dir, "nope.toml"), "--key_file", keyPath]);
    expect(noGenesis.code).toBe(2);
    expect(noGenesis.err).toContain("error [GENESIS_IO]");
  }, 60_000);

  test("runs, exports its certificate, stops cleanly, and its store refuses another genesis", async () => {
    const store = join(dir, "store");
    const cert = join(dir, "server.der");
    const proc = Bun.spawn([BIN, "P2pQuicListen", "--genesis", genesisPath, "--key_file", keyPath, "--store_dir", store, "--cert_out", cert, ...ports], { stdout: "pipe", stderr: "pipe" });
    const reader = proc.stdout.getReader();
    let out = await readUntil(reader, '"node_started"');
    // Read on until that line is complete (bounded by readUntil's own limit).
    if (!/"node_started"[^\n]*\n/.test(out)) out += await readUntil(reader, "\n");
    const startedLine = out.split("\n").find((l) => l.includes('"node_started"'))!;
    const started = JSON.parse(startedLine) as { rpc: string; metrics: string };
    // The line names the ports the OS chose, and they answer.
    expect(started.rpc).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*/);
    expect((await fetch(`${started.metrics}`, { signal: AbortSignal.timeout(5_000) })).ok).toBe(true);
    // The certificate is self-signed with the validator's Ed25519 identity key.
    const x509 = new X509Certificate(readFileSync(cert));
    expect(x509.verify(x509.publicKey)).toBe(true);
    const spki = x509.publicKey.export({ format: "der", type: "spki" });
    expect(toHex(new Uint8Array(spki.subarray(spki.length - 32)))).toBe(toHex(keyPairFromSeed(created.seeds[0]!).publicKey));
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);

    const other = createGenesis({ k: 1, devnetLabel: "node-cli-test-other", basePort: 19_520 });
    const otherPath = join(dir, "other.toml");
    writeFileSync(otherPath, other.toml);
    const otherKey = join(dir, "other.key");
    writeFileSync(otherKey, toHex(other.seeds[0]!) + "\n", { mode: 0o600 });
    const mismatch = run(["--genesis", otherPath, "--key_file", otherKey, "--store_dir", store, ...ports]);
    expect(mismatch.code).toBe(2);
    expect(mismatch.err).toContain("error [STORE_GENESIS_MISMATCH]");
  }, 60_000);
});
