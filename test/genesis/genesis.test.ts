// genesis.toml: the repository's file loads, the loaded line is exact, every bad
// field is a GenesisError naming that field, `genesis new` output verifies, and the
// CLI reports a bad file in one line naming the field.
import { describe, expect, test, setDefaultTimeout } from "bun:test";

// Generous per-test budget: the CI machine is shared; no test asserts a duration.
setDefaultTimeout(60_000);
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseGenesis, loadGenesis, genesisLoadedLine, quorumStake, createGenesis, GenesisError, totalEmissionUnits, rewardAtHeight } from "../../src/genesis/index.ts";
import { devnetSeed } from "../../src/genesis/create.ts";
import { blake3_32, keyPairFromSeed, toHex } from "../../src/crypto/index.ts";
import { MAX_SUPPLY_UNITS } from "../../src/types/index.ts";
import { ROOT, runPhantom } from "../phantom-cli.ts";

const REPO_GENESIS = readFileSync(join(ROOT, "genesis.toml"), "utf8");

function genesisError(text: string): GenesisError {
  try {
    parseGenesis(text);
  } catch (e) {
    if (e instanceof GenesisError) return e;
    throw e;
  }
  throw new Error("expected a GenesisError");
}

/** Replaces exactly one match of `pattern` (a bad test would otherwise pass silently). */
function edit(text: string, pattern: RegExp, replacement: string): string {
  const matches = text.match(new RegExp(pattern.source, pattern.flags.includes("g") ? pattern.flags : pattern.flags + "g"));
  if (!matches || matches.length !== 1) throw new Error(`pattern ${pattern} matched ${matches?.length ?? 0} times`);
  return text.replace(pattern, replacement);
}

const keyOf = (text: string, i: number): string => [...text.matchAll(/^public_key = "([0-9a-f]{64})"$/gm)][i]![1]!;

describe("the repository's genesis.toml", () => {
  test("loads, with the values the file states", async () => {
    const g = await loadGenesis(join(ROOT, "genesis.toml"));
    expect(g.k).toBe(4);
    expect(g.validators.length).toBe(4);
    expect(g.validators.map((v) => v.index)).toEqual([0, 1, 2, 3]);
    expect(g.validators.map((v) => v.address)).toEqual(["127.0.0.1:9000", "127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003"]);
    expect(g.totalStake).toBe(4000n);
    expect(quorumStake(g)).toBe(2667n);
    expect(toHex(g.commitment)).toBe(toHex(blake3_32(g.genesisNote)));
    expect(g.fees.floorBps + g.fees.proposerBps + g.fees.performanceBps + g.fees.attestorBps).toBe(10_000);
    expect(g.minRelayFeePerByte).toBe(1n);
    // Absent: the default of 1 unit per byte; 0 only when the genesis says so.
    expect(parseGenesis(edit(REPO_GENESIS, /^min_relay_fee_per_byte = 1\b.*\n/m, "")).minRelayFeePerByte).toBe(1n);
    expect(parseGenesis(edit(REPO_GENESIS, /^min_relay_fee_per_byte = 1\b/m, "min_relay_fee_per_byte = 0")).minRelayFeePerByte).toBe(0n);
    expect(totalEmissionUnits(g.emission.initialRewardUnits, g.emission.halvingIntervalMints) <= MAX_SUPPLY_UNITS).toBe(true);
  });

  test("genesis_loaded line is exactly {\"type\":\"genesis_loaded\",\"k\":<k>,\"commitment\":\"<hex64>\"}", () => {
    const g = parseGenesis(REPO_GENESIS);
    const commitment = REPO_GENESIS.match(/^commitment\s*=\s*"([0-9a-f]{64})"/m)![1]!;
    expect(genesisLoadedLine(g)).toBe(`{"type":"genesis_loaded","k":4,"commitment":"${commitment}"}`);
    // Upper-case hex in the file is still printed lower-case.
    const upper = edit(REPO_GENESIS, /^commitment\s*=\s*"[0-9a-f]{64}"/m, `commitment = "${commitment.toUpperCase()}"`);
    expect(genesisLoadedLine(parseGenesis(upper))).toBe(`{"type":"genesis_loaded","k":4,"commitment":"${commitment}"}`);
  });

  test("a missing file is GENESIS_IO", async () => {
    let caught: unknown;
    try {
      await loadGenesis(join(tmpdir(), "phantom-no-such-genesis.toml"));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(GenesisError);
    expect((caught as GenesisError).code).toBe("GENESIS_IO");
  });
});

describe("each bad field is a GenesisError naming it", () => {
  const note = REPO_GENESIS.match(/^genesis_note = "([0-9a-f]{64})"$/m)![1]!;
  const cases: [string, string, string][] = [
    ["k > 64", edit(REPO_GENESIS, /^k = 4$/m, "k = 65"), "consensus.k"],
    ["k = 0", edit(REPO_GENESIS, /^k = 4$/m, "k = 0"), "consensus.k"],
    ["k not an integer", edit(REPO_GENESIS, /^k = 4$/m, 'k = "4"'), "consensus.k"],
    ["k differs from the number of validators", edit(REPO_GENESIS, /^k = 4$/m, "k = 3"), "consensus.k"],
    ["genesis_note of 63 hex characters", edit(REPO_GENESIS, /^genesis_note = "[0-9a-f]{64}"$/m, `genesis_note = "${note.slice(1)}"`), "consensus.genesis_note"],
    ["genesis_note not hex", edit(REPO_GENESIS, /^genesis_note = "[0-9a-f]{64}"$/m, `genesis_note = "${"zz" + note.slice(2)}"`), "consensus.genesis_note"],
    ["commitment of 66 hex characters", edit(REPO_GENESIS, /^commitment\s*=\s*"([0-9a-f]{64})"/m, 'commitment = "$1ab"'), "consensus.commitment"],
    ["commitment mismatch", edit(REPO_GENESIS, /^commitment\s*=\s*"[0-9a-f]{64}"/m, `commitment = "${toHex(blake3_32(new Uint8Array(1)))}"`), "consensus.commitment"],
    ["public key of 62 hex characters", edit(REPO_GENESIS, new RegExp(`^public_key = "${keyOf(REPO_GENESIS, 2)}"$`, "m"), `public_key = "${keyOf(REPO_GENESIS, 2).slice(2)}"`), "validators[2].public_key"],
    ["duplicate public key", edit(REPO_GENESIS, new RegExp(`^public_key = "${keyOf(REPO_GENESIS, 3)}"$`, "m"), `public_key = "${keyOf(REPO_GENESIS, 1)}"`), "validators[3].public_key"],
    ["duplicate address", edit(REPO_GENESIS, /^address = "127\.0\.0\.1:9002"$/m, 'address = "127.0.0.1:9000"'), "validators[2].address"],
    ["duplicate address differing only in host case", edit(edit(REPO_GENESIS, /^address = "127\.0\.0\.1:9000"$/m, 'address = "node-a.example:9000"'), /^address = "127\.0\.0\.1:9003"$/m, 'address = "NODE-A.example:9000"'), "validators[3].address"],
    ["address without a port", edit(REPO_GENESIS, /^address = "127\.0\.0\.1:9001"$/m, 'address = "127.0.0.1"'), "validators[1].address"],
    ["address with a port above 65535", edit(REPO_GENESIS, /^address = "127\.0\.0\.1:9001"$/m, 'address = "127.0.0.1:65536"'), "validators[1].address"],
    ["address with a leading-zero port (would dodge the duplicate check)", edit(REPO_GENESIS, /^address = "127\.0\.0\.1:9001"$/m, 'address = "127.0.0.1:09000"'), "validators[1].address"],
    ["address with a space", edit(REPO_GENESIS, /^address = "127\.0\.0\.1:9001"$/m, 'address = "my host:9001"'), "validators[1].address"],
    ["stake of 0", edit(REPO_GENESIS, /^stake = 1000\n(address = "127\.0\.0\.1:9003")/m, "stake = 0\n$1"), "validators[3].stake"],
    ["fee shares summing to 9999", edit(REPO_GENESIS, /^floor_bps = 4000$/m, "floor_bps = 3999"), "fees"],
    ["fee shares summing to 10001", edit(REPO_GENESIS, /^attestor_bps = 3000$/m, "attestor_bps = 3001"), "fees"],
    ["fee share above 10000", edit(REPO_GENESIS, /^alpha_bps = 2500$/m, "alpha_bps = 10001"), "fees.alpha_bps"],
    ["negative min relay fee", edit(REPO_GENESIS, /^min_relay_fee_per_byte = 1\b/m, "min_relay_fee_per_byte = -1"), "fees.min_relay_fee_per_byte"],
    ["min relay fee above 1 PC per byte", edit(REPO_GENESIS, /^min_relay_fee_per_byte = 1\b/m, "min_relay_fee_per_byte = 100000001"), "fees.min_relay_fee_per_byte"],
    ["min relay fee as a string", edit(REPO_GENESIS, /^min_relay_fee_per_byte = 1\b/m, 'min_relay_fee_per_byte = "1"'), "fees.min_relay_fee_per_byte"],
    ["emission above the 50,000,000 PC cap (reward)", edit(REPO_GENESIS, /^initial_reward_units = 5000000000/m, "initial_reward_units = 5000100000"), "emission.initial_reward_units"],
    ["emission above the 50,000,000 PC cap (halving interval)", edit(REPO_GENESIS, /^halving_interval_mints = 500000/m, "halving_interval_mints = 500001"), "emission.initial_reward_units"],
    ["initial target outside [min, max]", edit(REPO_GENESIS, /^initial_target_bits = 14$/m, "initial_target_bits = 65"), "emission.initial_target_bits"],
    ["missing [emission] table", edit(REPO_GENESIS, /^\[emission\]$/m, "[emission_typo]"), "emission"],
    ["missing [fees] table", edit(REPO_GENESIS, /^\[fees\]$/m, "[fees_typo]"), "fees"],
    ["missing [consensus] table", edit(REPO_GENESIS, /^\[consensus\]$/m, "[consensus_typo]"), "consensus"],
    ["no [[validators]]", REPO_GENESIS.replace(/\[\[validators\]\][^[]*/g, ""), "validators"],
    ["missing field maturity_anchors", edit(REPO_GENESIS, /^maturity_anchors = 20\n/m, ""), "emission.maturity_anchors"],
  ];

  for (const [name, text, field] of cases) {
    test(name, () => {
      const e = genesisError(text);
      expect(e.code).toBe("GENESIS_FIELD");
      expect(e.field).toBe(field);
      expect(e.message).toContain(field);
      expect(e.message.split("\n").length).toBe(1);
    });
  }

  test("invalid TOML is GENESIS_PARSE with a one-line message", () => {
    for (const text of ["[consensus\nk = 4", 'k = "unterminated', REPO_GENESIS + "\nk = 5\n[consensus]\n", "= 1"]) {
      const e = genesisError(text);
      expect(e.code).toBe("GENESIS_PARSE");
      expect(e.message).toStartWith("genesis: not valid TOML");
      expect(e.message.split("\n").length).toBe(1);
    }
  });

  test("the emission schedule: rewards halve, stop after 64 halvings, and the default total stays under the cap", () => {
    expect(rewardAtHeight(0n, 5_000_000_000n, 500_000n)).toBe(5_000_000_000n);
    expect(rewardAtHeight(499_999n, 5_000_000_000n, 500_000n)).toBe(5_000_000_000n);
    expect(rewardAtHeight(500_000n, 5_000_000_000n, 500_000n)).toBe(2_500_000_000n);
    expect(rewardAtHeight(64n * 500_000n, 5_000_000_000n, 500_000n)).toBe(0n);
    const total = totalEmissionUnits(5_000_000_000n, 500_000n);
    expect(total <= MAX_SUPPLY_UNITS).toBe(true);
    expect(MAX_SUPPLY_UNITS - total < 500_000n * 64n).toBe(true);
    let sum = 0n;
    for (let period = 0n; period < 64n; period++) sum += rewardAtHeight(period * 500_000n, 5_000_000_000n, 500_000n) * 500_000n;
    expect(sum).toBe(total);
  });
});

describe("sharded layout (docs/SPEC_SHARDING.md §3)", () => {
  /** The repository file with shard_count = S and (S − 1)·4 more validators on shards 1..S−1. */
  function sharded(S: number, extra = ""): string {
    let out = edit(REPO_GENESIS, /^shard_count = 1$/m, `shard_count = ${S}`);
    for (let s = 1; s < S; s++) {
      for (let i = 0; i < 4; i++) out += `\n[[validators]]\npublic_key = "${toHex(blake3_32(new TextEncoder().encode(`shard ${s} key ${i}`)))}"\nstake = ${100 * (i + 1)}\nshard = ${s}\naddress = "127.0.0.1:${9000 + 10 * s + i}"\n`;
    }
    return out + extra;
  }

  test("one shard: unchanged; every validator on shard 0, default root interval 64", () => {
    const g = parseGenesis(REPO_GENESIS);
    expect(g.shardCount).toBe(1);
    expect(g.shardRootInterval).toBe(64n);
    expect(g.validators.map((v) => v.shard)).toEqual([0, 0, 0, 0]);
    expect(parseGenesis(edit(REPO_GENESIS, /^shard_count = 1$/m, "shard_count = 1\nshard_root_interval = 16")).shardRootInterval).toBe(16n);
  });

  test("S shards: k per shard, S·k validators; the commitment and loaded line are unchanged", () => {
    const g = parseGenesis(sharded(3));
    expect(g.shardCount).toBe(3);
    expect(g.k).toBe(4);
    expect(g.validators.length).toBe(12);
    expect(g.validators.map((v) => v.shard)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
    expect(genesisLoadedLine(g)).toBe(genesisLoadedLine(parseGenesis(REPO_GENESIS)));
  });

  const cases: [string, string, string][] = [
    ["shard_count = 2 with only 4 validators", edit(REPO_GENESIS, /^shard_count = 1$/m, "shard_count = 2"), "consensus.k"],
    ["a shard above shard_count", edit(REPO_GENESIS, /^stake = 1000\n(address = "127\.0\.0\.1:9003")/m, "stake = 1000\nshard = 1\n$1"), "validators[3].shard"],
    ["S·k validators but uneven shards", sharded(2).replace(/shard = 1\n(address = "127\.0\.0\.1:9013")/, "shard = 0\n$1"), "validators"],
    ["one validator short", sharded(2).replace(/\n\[\[validators\]\][^[]*$/, "\n"), "consensus.k"],
    ["shard_root_interval 0", edit(REPO_GENESIS, /^shard_count = 1$/m, "shard_count = 1\nshard_root_interval = 0"), "chain.shard_root_interval"],
    ["negative shard", edit(REPO_GENESIS, /^stake = 1000\n(address = "127\.0\.0\.1:9003")/m, "stake = 1000\nshard = -1\n$1"), "validators[3].shard"],
  ];
  for (const [name, text, field] of cases) {
    test(name, () => {
      const e = genesisError(text);
      expect({ code: e.code, field: e.field }).toEqual({ code: "GENESIS_FIELD", field });
      expect(e.message).toContain(field === "validators" ? "every shard needs" : field);
    });
  }
});

describe("genesis new", () => {
  test("a created genesis verifies, with one validator per seed and k as asked", () => {
    for (const k of [1, 7, 64]) {
      const created = createGenesis({ k, basePort: 20000 });
      const g = parseGenesis(created.toml);
      expect(g.k).toBe(k);
      expect(created.seeds.length).toBe(k);
      g.validators.forEach((v, i) => {
        expect(toHex(v.publicKey)).toBe(toHex(keyPairFromSeed(created.seeds[i]!).publicKey));
        expect(v.address).toBe(`127.0.0.1:${20000 + i}`);
      });
      expect(genesisLoadedLine(g)).toMatch(new RegExp(`^\\{"type":"genesis_loaded","k":${k},"commitment":"[0-9a-f]{64}"\\}$`));
    }
  });

  test("random genesis files differ; a devnet label gives the same file every time", () => {
    expect(createGenesis({ k: 2 }).toml).not.toBe(createGenesis({ k: 2 }).toml);
    const a = createGenesis({ k: 3, devnetLabel: "ci" });
    const b = createGenesis({ k: 3, devnetLabel: "ci" });
    expect(a.toml).toBe(b.toml);
    expect(a.seeds.map(toHex)).toEqual([0, 1, 2].map((i) => toHex(devnetSeed("ci", i))));
    expect(createGenesis({ k: 3, devnetLabel: "other" }).toml).not.toBe(a.toml);
  });
});

describe("phantom genesis (CLI)", () => {
  const phantom = (args: string[], cwd: string) => runPhantom(args, { cwd });

  test("verify <bad file> exits non-zero with one clear line naming the field", () => {
    const dir = mkdtempSync(join(tmpdir(), "phantom-genesis-"));
    // consensus.k is covered by test/cli/cli.test.ts; these are the other fields.
    const bad: [string, string][] = [
      [edit(REPO_GENESIS, /^floor_bps = 4000$/m, "floor_bps = 3999"), "fees"],
      [edit(REPO_GENESIS, /^commitment\s*=\s*"[0-9a-f]{64}"/m, `commitment = "${"00".repeat(32)}"`), "consensus.commitment"],
      [edit(REPO_GENESIS, new RegExp(`^public_key = "${keyOf(REPO_GENESIS, 3)}"$`, "m"), `public_key = "${keyOf(REPO_GENESIS, 0)}"`), "validators[3].public_key"],
      [edit(REPO_GENESIS, /^\[emission\]$/m, "[emissions]"), "emission"],
      [edit(REPO_GENESIS, /^halving_interval_mints = 500000/m, "halving_interval_mints = 600000"), "emission.initial_reward_units"],
    ];
    bad.forEach(([text, field], i) => {
      const file = join(dir, `bad-${i}.toml`);
      writeFileSync(file, text);
      const r = phantom(["genesis", "verify", file], dir);
      expect(r.code).not.toBe(0);
      expect(r.out).toBe("");
      const lines = r.err.trim().split("\n");
      expect(lines.length).toBe(1);
      expect(lines[0]).toStartWith("error [GENESIS_FIELD]");
      expect(lines[0]).toContain(field);
    });
    writeFileSync(join(dir, "not-toml.toml"), "[consensus\n");
    const r = phantom(["genesis", "verify", join(dir, "not-toml.toml")], dir);
    expect(r.code).not.toBe(0);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toStartWith("error [GENESIS_PARSE]");
  });

  test("new then verify: the created file verifies and prints the same loaded line", () => {
    const dir = mkdtempSync(join(tmpdir(), "phantom-genesis-"));
    const created = phantom(["genesis", "new", "--k", "3", "--out", "g.toml", "--keys_dir", "keys", "--base_port", "31000"], dir);
    expect(created.code).toBe(0);
    const verified = phantom(["genesis", "verify", "g.toml"], dir);
    expect(verified.code).toBe(0);
    expect(verified.out.trim()).toBe(created.out.trim());
    const g = parseGenesis(readFileSync(join(dir, "g.toml"), "utf8"));
    expect(verified.out.trim()).toBe(genesisLoadedLine(g));
    // The key files hold the seeds of the listed validators, in order.
    g.validators.forEach((v, i) => {
      const seed = readFileSync(join(dir, "keys", `validator-${i}.key`), "utf8").trim();
      expect(toHex(keyPairFromSeed(Uint8Array.from(Buffer.from(seed, "hex"))).publicKey)).toBe(toHex(v.publicKey));
    });
  });

  test("new --shards 2 --k 2: a two-shard layout that verifies; a port range past 65535 is refused", () => {
    const dir = mkdtempSync(join(tmpdir(), "phantom-genesis-"));
    const created = phantom(["genesis", "new", "--k", "2", "--shards", "2", "--out", "g.toml", "--keys_dir", "keys", "--base_port", "31100"], dir);
    expect(created.code).toBe(0);
    const g = parseGenesis(readFileSync(join(dir, "g.toml"), "utf8"));
    expect({ S: g.shardCount, k: g.k, shards: g.validators.map((v) => v.shard) }).toEqual({ S: 2, k: 2, shards: [0, 0, 1, 1] });
    expect(readFileSync(join(dir, "keys", "validator-3.key"), "utf8").trim()).toMatch(/^[0-9a-f]{64}$/);
    const far = phantom(["genesis", "new", "--k", "4", "--shards", "2", "--out", "h.toml", "--keys_dir", "k2", "--base_port", "65530"], dir);
    expect(far.code).toBe(2);
    expect(far.err).toContain("CLI_BAD_VALUE");
  });

  test("createGenesis: one shard writes no shard keys (files as before); S shards list S·k validators", () => {
    const one = createGenesis({ k: 3, devnetLabel: "shard-layout" });
    expect(one.toml).not.toContain("shard =");
    expect(one.toml).toContain("shard_count = 1\n");
    const three = createGenesis({ k: 3, shards: 3, devnetLabel: "shard-layout" });
    const g = parseGenesis(three.toml);
    expect(g.validators.map((v) => v.shard)).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2]);
    expect(three.seeds.length).toBe(9);
  });
});
