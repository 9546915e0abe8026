// The CLI as a user runs it: real processes of bin/phantom.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, statSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, runPhantom } from "../phantom-cli.ts";
import { devnetSeed } from "../../src/genesis/create.ts";
import { toHex } from "../../src/crypto/bytes.ts";

const phantom = (args: string[], cwd = ROOT) => runPhantom(args, { cwd });

describe("phantom CLI", () => {
  test("--help lists the seed's commands and --version prints the version", () => {
    const help = phantom(["--help"]);
    expect(help.code).toBe(0);
    for (const name of ["P2pQuicListen", "P2pMetricsServe", "ConsensusAckDists", "ConsensusPayoutRoot", "CacheBench", "genesis"]) {
      expect(help.out).toContain(name);
    }
    const v = phantom(["--version"]);
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/^phantom \d+\.\d+\.\d+/);
  });

  test("every command has --help", () => {
    const names = phantom(["--help"]).out.split("\n").filter((l) => /^ {2}\S/.test(l)).map((l) => l.trim().split(/\s+/)[0]!);
    expect(names.length).toBeGreaterThan(5);
    for (const name of names) {
      const r = phantom([name, "--help"]);
      expect(r.code).toBe(0);
      expect(r.out).toContain(`usage: phantom`);
    }
  });

  test("genesis verify prints exactly the genesis_loaded line", () => {
    const r = phantom(["genesis", "verify", "genesis.toml"]);
    expect(r.code).toBe(0);
    expect(r.out.trim()).toMatch(/^\{"type":"genesis_loaded","k":4,"commitment":"[0-9a-f]{64}"\}$/);
  });

  test("genesis new writes keys with mode 0600 and a valid genesis", () => {
    const dir = mkdtempSync(join(tmpdir(), "phantom-cli-"));
    const r = phantom(["genesis", "new", "--k", "5", "--out", "g.toml", "--keys-dir", "keys"], dir);
    expect(r.code).toBe(0);
    expect(r.out).toContain('"k":5');
    for (let i = 0; i < 5; i++) {
      const st = statSync(join(dir, "keys", `validator-${i}.key`));
      expect(st.mode & 0o777).toBe(0o600);
      expect(readFileSync(join(dir, "keys", `validator-${i}.key`), "utf8").trim()).toMatch(/^[0-9a-f]{64}$/);
    }
    // Refuses to overwrite without --force.
    const again = phantom(["genesis", "new", "--k", "5", "--out", "g.toml", "--keys-dir", "keys"], dir);
    expect(again.code).toBe(2);
    expect(again.err).toContain("--force");
  });

  test("bad input gives one clear typed error line and a non-zero exit", () => {
    const dir = mkdtempSync(join(tmpdir(), "phantom-cli-"));
    const bad = readFileSync(join(ROOT, "genesis.toml"), "utf8").replace(/^k = 4$/m, "k = 5");
    writeFileSync(join(dir, "bad.toml"), bad);
    // A valid two-shard genesis (SPEC_SHARDING §3): k = 4 per shard, four more validators on shard 1.
    const shard1 = Array.from({ length: 4 }, (_, i) => `\n[[validators]]\npublic_key = "${String(i + 1).repeat(64)}"\nstake = 1000\nshard = 1\naddress = "127.0.0.1:${9100 + i}"\n`).join("");
    writeFileSync(join(dir, "sharded.toml"), readFileSync(join(ROOT, "genesis.toml"), "utf8").replace(/^shard_count = 1$/m, "shard_count = 2") + shard1);
    // The embedded genesis's validator 0 (devnet label "localnet"): on shard 0 of the sharded file.
    writeFileSync(join(dir, "v0.key"), toHex(devnetSeed("localnet", 0)) + "\n", { mode: 0o600 });
    const cases: [string[], string][] = [
      [["P2pQuicListen", "--genesis", join(dir, "sharded.toml"), "--key_file", join(dir, "v0.key"), "--shard", "1", "--store_dir", join(dir, "store")], "NODE_SHARD_MISMATCH"],
      [["no-such-command"], "CLI_UNKNOWN_COMMAND"],
      [["genesis", "new", "--bogus", "1"], "CLI_UNKNOWN_FLAG"],
      [["genesis", "new", "--k", "abc"], "CLI_BAD_VALUE"],
      [["genesis", "new", "--k", "65", "--out", join(dir, "x.toml")], "CLI_BAD_VALUE"],
      [["genesis", "verify", join(dir, "missing.toml")], "GENESIS_IO"],
      [["genesis", "verify", join(dir, "bad.toml")], "GENESIS_FIELD"],
      [["mine", "--to", "pc1notanaddress"], "ADDRESS_INVALID"],
      [["mine"], "CLI_MISSING_FLAG"],
    ];
    for (const [args, code] of cases) {
      const r = phantom(args, dir);
      expect(r.code).toBe(2);
      const lines = r.err.trim().split("\n");
      expect(lines.length).toBe(1);
      expect(lines[0]).toStartWith(`error [${code}]`);
    }
    expect(phantom(["genesis", "verify", join(dir, "bad.toml")]).err).toContain("consensus.k");
  });

  test("snake_case and kebab-case flags are the same flag", () => {
    const dir = mkdtempSync(join(tmpdir(), "phantom-cli-"));
    expect(phantom(["genesis", "new", "--k", "2", "--out", "a.toml", "--keys_dir", "k1"], dir).code).toBe(0);
    expect(phantom(["genesis", "new", "--k", "2", "--out", "b.toml", "--keys-dir", "k2"], dir).code).toBe(0);
  });

  test("selftest computes the reference BLAKE3 and RFC 8032 results", () => {
    const r = phantom(["selftest"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.blake3_abc).toBe("6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85");
    expect(j.verify_batch).toEqual([true, false]);
    expect(j.verify_batch_async).toEqual([true, false]);
    // RFC 9001 §A.4 Retry tag on the run-time-selected and the software-AES builds.
    expect(j.quic_retry_tag).toBe("04a265ba2eff4d829058fb3f0f2496ba");
    expect(j.quic_retry_tag_software).toBe("04a265ba2eff4d829058fb3f0f2496ba");
  });
});
