// `phantom key new|show`: an operator's own validator key, its public key for the shared
// genesis, and a committee assembled from such keys that a validator then runs with.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync, chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { runPhantom } from "../phantom-cli.ts";
import { createGenesis } from "../../src/genesis/index.ts";

const dir = mkdtempSync(join(tmpdir(), "phantom-key-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("key new writes a 0600 key file and prints its public key; key show prints the same; no overwrite without --force", () => {
  const path = join(dir, "v.key");
  const made = runPhantom(["key", "new", "--out", path]);
  expect(made.code).toBe(0);
  const created = JSON.parse(made.out.trim()) as { type: string; public_key: string };
  expect(created.type).toBe("key_created");
  expect(created.public_key).toMatch(/^[0-9a-f]{64}$/);
  expect(statSync(path).mode & 0o777).toBe(0o600);
  const shown = runPhantom(["key", "show", "--key_file", path]);
  expect(JSON.parse(shown.out.trim()).public_key).toBe(created.public_key);
  const again = runPhantom(["key", "new", "--out", path]);
  expect(again.code).toBe(2);
  expect(again.err).toContain("CLI_BAD_VALUE");
  // Two new keys differ (fresh randomness, not a derived devnet seed).
  const other = JSON.parse(runPhantom(["key", "new", "--out", join(dir, "w.key")]).out.trim()).public_key;
  expect(other).not.toBe(created.public_key);
}, 30_000);

test("key show refuses a key file others can read, and an unknown subcommand", () => {
  const path = join(dir, "open.key");
  writeFileSync(path, "11".repeat(32) + "\n");
  chmodSync(path, 0o644);
  const r = runPhantom(["key", "show", "--key_file", path]);
  expect(r.code).toBe(2);
  expect(r.err).toContain("KEY_FILE_PERMISSIONS");
  expect(runPhantom(["key", "rotate"]).err).toContain("CLI_BAD_VALUE");
}, 30_000);

test("a genesis listing public keys from key new verifies", () => {
  const keys = [0, 1, 2, 3].map((i) => {
    const r = runPhantom(["key", "new", "--out", join(dir, `op-${i}.key`)]);
    return JSON.parse(r.out.trim()).public_key as string;
  });
  // The operators agree on everything but the validator table (here: a fresh genesis's), then list their keys.
  const base = createGenesis({ k: 4, host: "127.0.0.1", basePort: 9700, chainId: "operators-test" }).toml;
  let i = 0;
  const toml = base.replace(/public_key = "[0-9a-f]{64}"/g, () => `public_key = "${keys[i++]}"`);
  const path = join(dir, "genesis.toml");
  writeFileSync(path, toml);
  const verified = runPhantom(["genesis", "verify", path]);
  expect(verified.code).toBe(0);
  expect(verified.out).toContain('"k":4');
}, 30_000);
