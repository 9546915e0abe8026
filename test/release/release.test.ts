/**
 * Release binaries: scripts/build-release compiles the host executable into a temp
 * dir; the test copies it ALONE into an empty folder and runs it there with a bare
 * environment (no bun on PATH, no PHANTOM_LIB, no native/out next to it), so it only
 * passes if libphantom and genesis.toml really travel inside the binary.
 *
 * On an x86_64 Linux host it also builds linux-arm64 and runs scripts/check-arm64
 * (qemu-user; apt-get installs it the first time). Measured on the 2-core dev
 * machine: linux-arm64 build 21 s from empty caches (libsodium + libphantom), ~3 s
 * warm; the check ~8 s with the first apt-get install, ~4 s after, plus ~30 s for the
 * emulated 2-validator localnet (load average 5). That fits in
 * the ~2 minute budget, so it runs in the suite by default; PHANTOM_RELEASE_ARM64=0
 * skips it.
 */
import { describe, test, expect, beforeAll, afterAll } from "bun:test";
import { mkdtempSync, mkdirSync, copyFileSync, rmSync, readdirSync, existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { blake3 as nobleBlake3 } from "@noble/hashes/blake3.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { loadGenesis, genesisLoadedLine } from "../../src/genesis/index.ts";
import pkg from "../../package.json" with { type: "json" };

const ROOT = resolve(import.meta.dir, "../..");
const BUILD_TIMEOUT_MS = 180_000;
/** check-arm64: emulated selftests, then an emulated localnet bounded at 240 s (scripts/check-arm64). */
const CHECK_ARM64_TIMEOUT_MS = 420_000;
const RUN_TIMEOUT_MS = 30_000;
const hostName = `${process.platform}-${process.arch}`;
/** x86_64 Linux, and qemu is there or apt-get can install it (root). */
const canCheckArm64 = process.platform === "linux" && process.arch === "x64" && process.env.PHANTOM_RELEASE_ARM64 !== "0" &&
  (Bun.which("qemu-aarch64") !== null || process.getuid?.() === 0);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string[], cwd: string, env: Record<string, string> = { PATH: "/usr/bin:/bin", HOME: cwd }, timeout = RUN_TIMEOUT_MS): Run {
  const p = Bun.spawnSync({ cmd, cwd, env, stdout: "pipe", stderr: "pipe", timeout });
  return { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

/** The environment the build scripts need (they find bun/zig under .tools themselves). */
const buildEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root" };

let work = "";
let buildDir = "";
let lonelyDir = "";

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "phantom-release-"));
  buildDir = join(work, "build");
  lonelyDir = join(work, "lonely");
  mkdirSync(lonelyDir);
  const built = run(["bash", join(ROOT, "scripts/build-release"), "--out-dir", buildDir, "host"], ROOT, buildEnv, BUILD_TIMEOUT_MS);
  if (built.code !== 0) throw new Error(`build-release host failed (${built.code}):\n${built.stderr}`);
  copyFileSync(join(buildDir, `phantom-${hostName}`), join(lonelyDir, "phantom"));
  Bun.spawnSync(["chmod", "+x", join(lonelyDir, "phantom")]);
}, BUILD_TIMEOUT_MS);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("host release binary, alone in an empty folder", () => {
  test("the folder holds only the binary", () => {
    expect(readdirSync(lonelyDir)).toEqual(["phantom"]);
  });

  test("--version prints the package version", () => {
    const r = run(["./phantom", "--version"], lonelyDir);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`phantom ${pkg.version}`);
  });

  test("selftest agrees with @noble (BLAKE3, Ed25519 sign/verify/batch)", () => {
    const r = run(["./phantom", "selftest"], lonelyDir);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Record<string, unknown>;
    // RFC 8032 §7.1 TEST 2, the same seed and message selftest uses.
    const seed = hexToBytes("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
    const msg = hexToBytes("72");
    expect(report.arch).toBe(process.arch);
    expect(report.platform).toBe(process.platform);
    expect(report.blake3_abc).toBe(bytesToHex(nobleBlake3(new TextEncoder().encode("abc"))));
    expect(report.ed25519_public_key).toBe(bytesToHex(ed25519.getPublicKey(seed)));
    expect(report.ed25519_signature).toBe(bytesToHex(ed25519.sign(msg, seed)));
    expect(report.ed25519_verify).toBe(true);
    expect(report.verify_batch).toEqual([true, false]);
    expect(report.verify_batch_async).toEqual([true, false]);
    // The embedded copy was loaded, not a library from the source tree.
    expect(String(report.library)).toMatch(/^libphantom.*\.(so|dylib)$/);
    expect(existsSync(join(lonelyDir, "native"))).toBe(false);
  });

  test("genesis verify on a copied genesis matches the source tree's result", async () => {
    const copied = join(work, "genesis-copy.toml");
    copyFileSync(join(ROOT, "genesis.toml"), copied);
    const r = run(["./phantom", "genesis", "verify", copied], lonelyDir);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(genesisLoadedLine(await loadGenesis(copied)));
    expect(JSON.parse(r.stdout).type).toBe("genesis_loaded");
  });

  test("bad input gets a typed error and exit code 2, not a crash", async () => {
    const missing = run(["./phantom", "genesis", "verify", join(work, "missing.toml")], lonelyDir);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("error [GENESIS_IO]");
    const broken = join(work, "broken.toml");
    await Bun.write(broken, "chain_id = [\n");
    const bad = run(["./phantom", "genesis", "verify", broken], lonelyDir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("error [GENESIS_PARSE]");
  });
});

describe("build-release arguments", () => {
  test("an unknown target is rejected with a clear message", () => {
    const r = run(["bash", join(ROOT, "scripts/build-release"), "--out-dir", join(work, "unused"), "linux-sparc"], ROOT, buildEnv);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('unknown target "linux-sparc"');
  });
});

describe("check-arm64's comparison", () => {
  const selftest = (arch: string, patch: Record<string, unknown> = {}) => JSON.stringify({
    arch, platform: "linux", library: `libphantom-${arch}.so`, blake3_abc: "6437b3ac", ed25519_public_key: "3d40",
    ed25519_signature: "92a0", ed25519_verify: true, verify_batch: [true, false], verify_batch_async: [true, false], quic_retry_tag: "04a2", quic_retry_tag_software: "04a2",
    quic_hardware_aes: arch === "x64", ...patch,
  });
  const genesis = '{"type":"genesis_loaded","k":4,"commitment":"a03b"}';
  function compare(x64: string, arm64: string, gx = genesis, ga = genesis): Run {
    const files = [x64, arm64, gx, ga].map((text, i) => {
      const f = join(work, `compare-${i}.txt`);
      writeFileSync(f, text + "\n");
      return f;
    });
    return run([process.execPath, "run", join(ROOT, "scripts/compare-selftest.ts"), ...files], work, buildEnv);
  }

  test("identical crypto results pass (arch and library name may differ)", () => {
    const r = compare(selftest("x64"), selftest("arm64"));
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("DIFF");
  });

  test("a differing BLAKE3, batch result or genesis commitment fails and is named", () => {
    const hash = compare(selftest("x64"), selftest("arm64", { blake3_abc: "00" }));
    expect(hash.code).toBe(1);
    expect(hash.stdout).toContain('DIFF  blake3_abc: "00" (x64: "6437b3ac")');
    const batch = compare(selftest("x64"), selftest("arm64", { verify_batch: [true, true] }));
    expect(batch.code).toBe(1);
    expect(batch.stdout).toContain("DIFF  verify_batch");
    const gen = compare(selftest("x64"), selftest("arm64"), genesis, genesis.replace("a03b", "ffff"));
    expect(gen.code).toBe(1);
    expect(gen.stdout).toContain("DIFF  genesis verify");
  });

  test("a missing field, the wrong architecture or unreadable input fails", () => {
    const missing = compare(selftest("x64"), selftest("arm64", { ed25519_signature: undefined }));
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain("DIFF  ed25519_signature");
    const sameArch = compare(selftest("x64"), selftest("x64"));
    expect(sameArch.code).toBe(1);
    expect(sameArch.stdout).toContain("DIFF  arch");
    expect(compare("not json", selftest("arm64")).code).toBe(2);
  });
});

describe.skipIf(!canCheckArm64)("linux-arm64 under qemu", () => {
  test("builds, its selftest and genesis commitment match the x64 binary, and its localnet finalizes under qemu", () => {
    const built = run(["bash", join(ROOT, "scripts/build-release"), "--out-dir", buildDir, "linux-arm64"], ROOT, buildEnv, BUILD_TIMEOUT_MS);
    expect(built.stderr).toContain("linux-arm64: done");
    expect(built.code).toBe(0);
    const check = run(
      ["bash", join(ROOT, "scripts/check-arm64"), join(buildDir, "phantom-linux-x64"), join(buildDir, "phantom-linux-arm64")],
      ROOT, buildEnv, CHECK_ARM64_TIMEOUT_MS,
    );
    expect(check.stderr).toContain("OK: linux-arm64 matches linux-x64");
    expect(check.code).toBe(0);
    for (const field of ["blake3_abc", "ed25519_signature", "verify_batch", "genesis verify"]) {
      expect(check.stdout).toContain(`same  ${field}`);
    }
    expect(check.stdout).not.toContain("DIFF");
    // localnet's validators were started through the emulator (binfmt_misc is not needed) and finalized.
    expect(check.stdout).toMatch(/^child \S*qemu-aarch64: \S*qemu-aarch64 -L \S+ \S*phantom-linux-arm64 P2pQuicListen /m);
    expect(check.stdout).toContain("finalized: every one of 2 validators reached 5 anchors");
    expect(check.stderr).toContain("OK: arm64 localnet finalized under qemu");
  }, BUILD_TIMEOUT_MS + CHECK_ARM64_TIMEOUT_MS);

  test("check-arm64 fails clearly when a binary is missing", () => {
    const r = run(["bash", join(ROOT, "scripts/check-arm64"), join(buildDir, "phantom-linux-x64"), join(work, "nope")], ROOT, buildEnv);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("not found or not executable");
  });
});
