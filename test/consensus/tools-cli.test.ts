// ConsensusAckDists / ConsensusPayoutRoot as a user runs them: real bin/phantom
// processes on a headers.bin and genesis.toml generated in the test.
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeHeadersFile, readHeadersFile } from "../../src/cli/headers-file-io.ts";
import { generateSignedDag } from "../../src/consensus/headers-gen.ts";
import { ackDistances, buildHeaderDag } from "../../src/consensus/ack-distance.ts";
import { anchorPayout } from "../../src/consensus/fees.ts";
import { createGenesis, parseGenesis } from "../../src/genesis/index.ts";
import { keyPairFromSeed } from "../../src/crypto/ed25519.ts";
import { devnetSeed } from "../../src/genesis/create.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import type { SignedEvent } from "../../src/types/event.ts";
import { ROOT, runPhantom } from "../phantom-cli.ts";

const LABEL = "tools-cli";
const K = 5;

const phantom = (args: string[], cwd: string) => runPhantom(args, { cwd, timeoutMs: 30_000 });

/** A failing run prints exactly one `error [CODE]: ...` line and exits non-zero. */
function expectError(r: ReturnType<typeof phantom>, code: string): void {
  expect(r.code).not.toBe(0);
  const lines = r.err.trim().split("\n").filter((l) => l.startsWith("error"));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toStartWith(`error [${code}]: `);
  expect(r.out).toBe("");
}

let dir = "";
let events: SignedEvent[] = [];
const recipients = Array.from({ length: K }, (_, i) => toHex(new Uint8Array(32).fill(0x10 + i)));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "phantom-tools-"));
  const secretKeys = Array.from({ length: K }, (_, i) => keyPairFromSeed(devnetSeed(LABEL, i)).secretKey);
  events = generateSignedDag({ secretKeys, eventCount: 80, seed: new TextEncoder().encode("cli") });
  writeHeadersFile(join(dir, "headers.bin"), events);
  writeFileSync(join(dir, "genesis.toml"), createGenesis({ k: K, devnetLabel: LABEL }).toml);
  writeFileSync(join(dir, "other-genesis.toml"), createGenesis({ k: K, devnetLabel: "someone-else" }).toml);
});

describe("ConsensusAckDists", () => {
  test("prints the ack distances the library computes, with genesis parameters", () => {
    const genesis = parseGenesis(readFileSync(join(dir, "genesis.toml"), "utf8"));
    for (const anchor of [events[0]!, events[17]!, events[40]!]) {
      const r = phantom(["ConsensusAckDists", "--ack_id", toHex(anchor.id), "--headers_file", "headers.bin", "--genesis", "genesis.toml"], dir);
      expect(r.code).toBe(0);
      const j = JSON.parse(r.out);
      const expected = ackDistances(buildHeaderDag(events), anchor.id, K, genesis.fees.dMax);
      expect(j.type).toBe("ack_dists");
      expect(j.source).toBe("genesis");
      expect(j.creator).toBe(anchor.header.creator);
      expect(j.dists).toEqual(expected.distances.map((d) => d.distance));
      expect(j.dists[anchor.header.creator]).toBe(0);
      expect(j.validators.map((v: { event: string | null }) => v.event)).toEqual(expected.distances.map((d) => (d.eventId ? toHex(d.eventId) : null)));
    }
  });

  test("without --genesis, --k and default parameters are used; genesis k overrides --k", () => {
    const id = toHex(events[3]!.id);
    const dev = phantom(["ConsensusAckDists", "--ack_id", id, "--headers_file", "headers.bin", "--k", String(K)], dir);
    expect(dev.code).toBe(0);
    expect(JSON.parse(dev.out)).toMatchObject({ source: "cli", k: K, d_max: 4 });
    const both = phantom(["consensus-ack-dists", "--ack-id", id, "--headers-file", "headers.bin", "--k", "9", "--genesis", "genesis.toml"], dir);
    expect(both.code).toBe(0);
    expect(JSON.parse(both.out).k).toBe(K);
    expect(both.err).toContain("overrides --k");
  });

  test("--help says how to make a headers file, and the script makes one that works", () => {
    const help = phantom(["ConsensusAckDists", "--help"], dir);
    expect(help.code).toBe(0);
    expect(help.out).toContain("scripts/make-headers.ts");
    const sub = mkdtempSync(join(tmpdir(), "phantom-make-headers-"));
    const bun = join(ROOT, ".tools", "bun", "node_modules", ".bin", "bun");
    const made = Bun.spawnSync([bun, join(ROOT, "scripts", "make-headers.ts"), "--k", "3", "--events", "20", "--out", "h.bin", "--genesis_out", "g.toml"], { cwd: sub, stdout: "pipe", stderr: "pipe", timeout: 30_000 });
    expect(made.exitCode).toBe(0);
    const first = JSON.parse(made.stdout.toString()).first_ids[0];
    expect(readHeadersFile(join(sub, "h.bin"))).toHaveLength(20);
    const r = phantom(["ConsensusAckDists", "--ack_id", first, "--headers_file", "h.bin", "--genesis", "g.toml"], sub);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).dists).toHaveLength(3);
  });
});

describe("ConsensusPayoutRoot", () => {
  test("prints the library's payout root; payouts sum to the fees", () => {
    const genesis = parseGenesis(readFileSync(join(dir, "genesis.toml"), "utf8"));
    const anchor = events[12]!;
    const r = phantom([
      "ConsensusPayoutRoot", "--ack_id", toHex(anchor.id), "--headers_file", "headers.bin", "--fees", "1000003",
      "--recipients", recipients.join(","), "--proposer_index", String(anchor.header.creator), "--genesis", "genesis.toml",
    ], dir);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    const expected = anchorPayout({
      events, anchorId: anchor.id, feesUnits: 1_000_003n, recipients: recipients.map((h) => Buffer.from(h, "hex")), stakes: genesis.validators.map((v) => v.stake), params: genesis.fees,
    });
    expect(j.root).toBe(toHex(expected.root));
    expect(j.payouts.map((p: { amount: string }) => BigInt(p.amount)).reduce((a: bigint, b: bigint) => a + b, 0n)).toBe(1_000_003n);
    expect(j.payouts.map((p: { recipient: string }) => p.recipient)).toEqual(recipients);
    expect(j.proposer_index).toBe(anchor.header.creator);
  });

  test("bad input: one typed error line and a non-zero exit", () => {
    const id = toHex(events[12]!.id);
    const creator = String(events[12]!.header.creator);
    const base = ["ConsensusPayoutRoot", "--ack_id", id, "--headers_file", "headers.bin", "--fees", "100", "--recipients", recipients.join(","), "--genesis", "genesis.toml"];
    const run = (...over: string[]) => {
      const args = [...base];
      for (let i = 0; i < over.length; i += 2) {
        const at = args.indexOf(over[i]!);
        if (at === -1) args.push(over[i]!, over[i + 1]!);
        else args[at + 1] = over[i + 1]!;
      }
      return phantom(args, dir);
    };
    expectError(run("--ack_id", "zz"), "BAD_HEX");
    expectError(run("--ack_id", "ab".repeat(32)), "ACK_UNKNOWN_EVENT");
    expectError(run("--recipients", recipients.slice(1).join(",")), "CLI_BAD_VALUE");
    expectError(run("--recipients", [...recipients.slice(1), "00"].join(",")), "BAD_HEX");
    expectError(run("--fees", (1n << 64n).toString()), "FEES_OUT_OF_RANGE");
    expectError(run("--fees", "-5"), "FEES_OUT_OF_RANGE");
    expectError(run("--fees", "1.5"), "FEES_OUT_OF_RANGE");
    expectError(run("--fees", "abc"), "FEES_OUT_OF_RANGE");
    // Check order (SPEC_FEES §6): --fees before the committee, recipients and --ack_id.
    expectError(run("--fees", "-5", "--ack_id", "zz", "--genesis", "missing.toml"), "FEES_OUT_OF_RANGE");
    expectError(run("--recipients", "00", "--ack_id", "zz"), "CLI_BAD_VALUE");
    expectError(run("--stakes", "1,2"), "CLI_BAD_VALUE");
    expectError(run("--stakes", "1,2,3,4,x"), "CLI_BAD_VALUE");
    expectError(run("--proposer_index", String((Number(creator) + 1) % K)), "FEES_BAD_PROPOSER");
    expectError(run("--genesis", "other-genesis.toml"), "HEADERS_BAD_SIGNATURE");
    expectError(run("--genesis", "missing.toml"), "GENESIS_IO");
    expectError(run("--headers_file", "missing.bin"), "HEADERS_IO");
    const bytes = readFileSync(join(dir, "headers.bin"));
    writeFileSync(join(dir, "cut.bin"), bytes.subarray(0, bytes.length - 3));
    expectError(run("--headers_file", "cut.bin"), "HEADERS_TRUNCATED");
    writeFileSync(join(dir, "v2.bin"), Buffer.concat([bytes.subarray(0, 4), Buffer.from([2]), bytes.subarray(5)]));
    expectError(run("--headers_file", "v2.bin"), "HEADERS_BAD_VERSION");
    expectError(phantom(["ConsensusAckDists", "--ack_id", id, "--headers_file", "headers.bin"], dir), "CLI_MISSING_FLAG");
    expectError(phantom(["ConsensusAckDists", "--ack_id", id, "--headers_file", "headers.bin", "--k", "3"], dir), "HEADERS_BAD_CREATOR");
  });
});
