// `phantom wallet` as a user runs it, without a network: files, flags, and a node that
// accepts connections but never answers (the wallet must give up with a typed error).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync, chmodSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN, ROOT } from "./localnet-harness.ts";
import { readUntil } from "../phantom-cli.ts";
import { accountFromMnemonic } from "../../src/wallet/keys.ts";
import { shardOfAddress } from "../../src/wallet/address.ts";
import { createGenesis } from "../../src/genesis/create.ts";

const dir = mkdtempSync(join(tmpdir(), "phantom-wallet-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI with `env` on top of a copy of this process's environment minus any passphrase. */
async function phantom(args: string[], env: Record<string, string> = {}) {
  const base = { ...process.env };
  delete base.PHANTOM_WALLET_PASSPHRASE;
  const p = Bun.spawn([BIN, ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe", stdin: "ignore", env: { ...base, ...env } });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

const reference = `${"abandon ".repeat(11)}about`; // BIP39 reference phrase

describe("phantom wallet (offline)", () => {
  test("address derives from the file; accounts differ; a readable file draws a warning", async () => {
    const file = join(dir, "ref.mnemonic");
    writeFileSync(file, reference + "\n", { mode: 0o600 });
    const a0 = await phantom(["wallet", "address", "--wallet", file]);
    expect(a0.code).toBe(0);
    expect(a0.out.trim()).toBe(accountFromMnemonic(reference, 0).address);
    expect(a0.err).toContain("unencrypted"); // a legacy plain file is read, with a warning
    expect(a0.err).not.toContain("readable by other users");
    const a1 = await phantom(["wallet", "address", "--wallet", file, "--account", "1"]);
    expect(a1.out.trim()).toBe(accountFromMnemonic(reference, 1).address);
    chmodSync(file, 0o644);
    expect((await phantom(["wallet", "address", "--wallet", file])).err).toContain("readable by other users");
  });

  test("address names its shard on stderr when genesis has several; stdout stays the address; one shard says nothing", async () => {
    const file = join(dir, "plain.mnemonic");
    writeFileSync(file, reference + "\n", { mode: 0o600 });
    const one = join(dir, "one-shard.toml");
    const four = join(dir, "four-shards.toml");
    writeFileSync(one, createGenesis({ k: 4, devnetLabel: "wallet-cli-shards" }).toml);
    writeFileSync(four, createGenesis({ k: 4, shards: 4, devnetLabel: "wallet-cli-shards" }).toml);
    for (const account of [0, 1, 2, 3]) {
      const address = accountFromMnemonic(reference, account).address;
      const sharded = await phantom(["wallet", "address", "--wallet", file, "--account", String(account), "--genesis", four]);
      expect([sharded.code, sharded.out]).toEqual([0, `${address}\n`]);
      expect(sharded.err).toContain(`address ${address} is on shard ${shardOfAddress(address, 4)} of 4\n`);
      const single = await phantom(["wallet", "address", "--wallet", file, "--account", String(account), "--genesis", one]);
      expect([single.code, single.out]).toEqual([0, `${address}\n`]);
      expect(single.err).not.toMatch(/is on shard/);
    }
    // --rpc given but nobody answers: the address still prints (exit 0), the note says why there is no shard.
    const silent = await phantom(["wallet", "address", "--wallet", file, "--rpc", "http://127.0.0.1:1"]);
    expect([silent.code, silent.out]).toEqual([0, `${accountFromMnemonic(reference, 0).address}\n`]);
    expect(silent.err).toContain("note: the node at --rpc did not say its shard");
  });

  test("bad files, flags and subcommands are typed errors with exit status 2", async () => {
    const bad = join(dir, "bad.mnemonic");
    writeFileSync(bad, "not a mnemonic at all\n", { mode: 0o600 });
    const big = join(dir, "big.mnemonic");
    writeFileSync(big, "x".repeat(10_000), { mode: 0o600 });
    const ref = join(dir, "ref2.mnemonic");
    writeFileSync(ref, reference, { mode: 0o600 });
    const cases: [string[], string][] = [
      [["wallet"], "CLI_BAD_VALUE"],
      [["wallet", "steal"], "CLI_BAD_VALUE"],
      [["wallet", "address", "extra"], "CLI_UNEXPECTED_ARGUMENT"],
      [["wallet", "address", "--wallet", join(dir, "missing")], "WALLET_FILE_MISSING"],
      [["wallet", "address", "--wallet", bad], "WALLET_BAD_MNEMONIC"],
      [["wallet", "address", "--wallet", big], "WALLET_FILE_INVALID"],
      [["wallet", "address", "--wallet", ref, "--account", "-1"], "WALLET_BAD_ACCOUNT"],
      [["wallet", "address", "--wallet", ref, "--account", "4294967296"], "WALLET_BAD_ACCOUNT"],
      [["wallet", "new", "--wallet", join(dir, "n.mnemonic"), "--words", "13"], "CLI_BAD_VALUE"],
      [["wallet", "send", "--wallet", ref], "CLI_MISSING_FLAG"],
      [["wallet", "status"], "CLI_MISSING_FLAG"],
      [["wallet", "status", "--txid", "abc"], "CLI_MISSING_FLAG"],
      [["wallet", "send", "--wallet", ref, "--to", accountFromMnemonic(reference, 1).address, "--amount", "1", "--fee", "0.000000001"], "WALLET_AMOUNT_PRECISION"],
      [["wallet", "send", "--wallet", ref, "--to", accountFromMnemonic(reference, 1).address, "--amount", "1", "--wait_s", "-1"], "CLI_BAD_VALUE"],
    ];
    for (const [args, code] of cases) {
      const r = await phantom(args);
      expect({ args, code: r.code, tagged: r.err.includes(`[${code}]`) }).toEqual({ args, code: 2, tagged: true });
    }
  });

  test("new writes an encrypted 12- or 24-word phrase that only --show_mnemonic prints", async () => {
    const file = join(dir, "w12.mnemonic");
    const env = { PHANTOM_WALLET_PASSPHRASE: "correct horse battery" };
    const r = await phantom(["wallet", "new", "--wallet", file, "--words", "12"], env);
    expect(r.code).toBe(0);
    const sealed = readFileSync(file);
    expect(sealed.subarray(0, 8).toString()).toBe("PHWALLET");
    const created = JSON.parse(r.out);
    expect(created).toMatchObject({ type: "wallet_created", file, encrypted: true });
    expect((await phantom(["wallet", "address", "--wallet", file], env)).out.trim()).toBe(created.address);
    const shownFile = join(dir, "w24.mnemonic");
    const shown = JSON.parse((await phantom(["wallet", "new", "--wallet", shownFile, "--show_mnemonic"], env)).out);
    expect(shown.mnemonic.split(" ")).toHaveLength(24);
    expect(shown.address).toBe(accountFromMnemonic(shown.mnemonic).address);
    expect(readFileSync(shownFile).includes(Buffer.from(shown.mnemonic.split(" ")[0]))).toBe(false);
  }, 120_000); // four processes, each deriving a key with scrypt: slow on a busy machine

  test("passphrase sources, wrong passphrase, tampering, and encrypting a legacy file", async () => {
    const file = join(dir, "enc.mnemonic");
    const passFile = join(dir, "pass.txt");
    writeFileSync(passFile, "a long passphrase\n", { mode: 0o600 });
    expect((await phantom(["wallet", "new", "--wallet", file, "--passphrase_file", passFile, "--scrypt_log_n", "12"])).code).toBe(0);
    const addr = (await phantom(["wallet", "address", "--wallet", file, "--passphrase_file", passFile])).out.trim();
    expect(addr).toStartWith("pc1");
    expect((await phantom(["wallet", "address", "--wallet", file], { PHANTOM_WALLET_PASSPHRASE: "a long passphrase" })).out.trim()).toBe(addr);
    const typed = async (args: string[], env: Record<string, string>, code: string) => {
      const r = await phantom(args, env);
      expect({ args, code: r.code, tagged: r.err.includes(`[${code}]`), out: r.out }).toEqual({ args, code: 2, tagged: true, out: "" });
    };
    await typed(["wallet", "address", "--wallet", file], { PHANTOM_WALLET_PASSPHRASE: "a long passphrasE" }, "WALLET_BAD_PASSPHRASE");
    await typed(["wallet", "address", "--wallet", file], {}, "WALLET_NO_PASSPHRASE"); // no terminal, no file, no env
    await typed(["wallet", "new", "--wallet", join(dir, "weak"), "--scrypt_log_n", "12"], { PHANTOM_WALLET_PASSPHRASE: "short" }, "WALLET_WEAK_PASSPHRASE");
    await typed(["wallet", "new", "--wallet", join(dir, "cheap"), "--scrypt_log_n", "8"], { PHANTOM_WALLET_PASSPHRASE: "long enough" }, "WALLET_KDF_PARAMS");
    const bytes = readFileSync(file);
    bytes[bytes.length - 40]! ^= 0x20;
    const tampered = join(dir, "tampered.mnemonic");
    writeFileSync(tampered, bytes, { mode: 0o600 });
    await typed(["wallet", "address", "--wallet", tampered, "--passphrase_file", passFile], {}, "WALLET_FILE_TAMPERED");

    const legacy = join(dir, "legacy.mnemonic");
    writeFileSync(legacy, reference + "\n", { mode: 0o600 });
    const enc = await phantom(["wallet", "encrypt", "--wallet", legacy, "--scrypt_log_n", "12"], { PHANTOM_WALLET_PASSPHRASE: "legacy passphrase" });
    expect(enc.code).toBe(0);
    expect(JSON.parse(enc.out)).toEqual({ type: "wallet_encrypted", file: legacy });
    expect(readFileSync(legacy).toString("latin1")).not.toContain("abandon");
    const after = await phantom(["wallet", "address", "--wallet", legacy], { PHANTOM_WALLET_PASSPHRASE: "legacy passphrase" });
    expect(after.out.trim()).toBe(accountFromMnemonic(reference).address);
    expect(after.err).toBe("");
    await typed(["wallet", "encrypt", "--wallet", legacy], { PHANTOM_WALLET_PASSPHRASE: "legacy passphrase" }, "WALLET_ALREADY_ENCRYPTED");
  }, 60_000);

  // `script` gives the CLI a real pseudo-terminal: the prompt path, with echo off.
  test.skipIf(!Bun.which("script"))("on a terminal the passphrase is prompted for, twice for new, never echoed", async () => {
    const file = join(dir, "tty.mnemonic");
    const base = { ...process.env };
    delete base.PHANTOM_WALLET_PASSPHRASE;
    const onTty = async (args: string[], answers: string[]) => {
      const p = Bun.spawn(["script", "-qec", [BIN, ...args].map((a) => `'${a}'`).join(" "), "/dev/null"], { cwd: ROOT, stdin: "pipe", stdout: "pipe", stderr: "pipe", env: base });
      const reader = p.stdout.getReader();
      let seen = "";
      for (const answer of answers) {
        seen += await readUntil({ read: () => reader.read() }, "passphrase", 20_000); // the next prompt
        p.stdin.write(answer + "\r");
        p.stdin.flush();
      }
      seen += await readUntil({ read: () => reader.read() }, undefined, 20_000);
      return { code: await p.exited, text: seen };
    };
    const created = await onTty(["wallet", "new", "--wallet", file, "--scrypt_log_n", "12"], ["tty passphrase 1", "tty passphrase 1"]);
    expect(created.text).toContain("repeat the passphrase");
    expect(created.text).not.toContain("tty passphrase 1");
    expect(created.code).toBe(0);
    const address = JSON.parse(created.text.slice(created.text.indexOf("{"), created.text.indexOf("}") + 1)).address;
    const opened = await onTty(["wallet", "address", "--wallet", file], ["tty passphrase 1"]);
    expect(opened.text).toContain(address);
    expect(opened.text).not.toContain("tty passphrase 1");
    const wrong = await onTty(["wallet", "address", "--wallet", file], ["tty passphrase 2"]);
    expect(wrong.text).toContain("[WALLET_BAD_PASSPHRASE]");
  }, 60_000);

  test("a node that accepts connections but never answers gives WALLET_RPC_TIMEOUT", async () => {
    const file = join(dir, "ref3.mnemonic");
    writeFileSync(file, reference, { mode: 0o600 });
    // Accepts TCP connections and reads requests, never writes a byte back.
    const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const r = await phantom(["wallet", "balance", "--wallet", file, "--rpc", `http://127.0.0.1:${silent.port}`, "--rpc_timeout_ms", "500"]);
      expect(r.code).toBe(2);
      expect(r.err).toContain("[WALLET_RPC_TIMEOUT]");
    } finally {
      silent.stop(true);
    }
  });
});
