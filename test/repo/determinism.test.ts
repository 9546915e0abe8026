// DESIGN.md principle 1/3: no clock or ambient randomness in the deterministic core.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync, existsSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
const FORBIDDEN = /\b(Date\.now|performance\.now|new Date\(|Math\.random|setTimeout|setInterval|setImmediate|process\.hrtime|crypto\.getRandomValues|randomBytes)\b/;
const IO_IMPORT = /from\s+["'](bun:sqlite|bun:ffi|node:fs|node:net|node:dgram|node:http|fs|net)["']/;

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

test("src/consensus, src/ledger and src/codec use no clock or ambient randomness", () => {
  const offenders: string[] = [];
  for (const dir of ["consensus", "ledger", "codec"]) {
    for (const f of files(join(ROOT, "src", dir))) {
      readFileSync(f, "utf8").split("\n").forEach((line, i) => {
        const code = line.replace(/\/\/.*$/, "");
        if (FORBIDDEN.test(code)) offenders.push(`${f.slice(ROOT.length + 1)}:${i + 1}: ${line.trim()}`);
      });
    }
  }
  expect(offenders).toEqual([]);
});

test("src/consensus and src/ledger import no I/O module", () => {
  const offenders: string[] = [];
  for (const dir of ["consensus", "ledger"]) {
    for (const f of files(join(ROOT, "src", dir))) {
      if (IO_IMPORT.test(readFileSync(f, "utf8"))) offenders.push(f.slice(ROOT.length + 1));
    }
  }
  expect(offenders).toEqual([]);
});

test("no third-party C sources are committed", () => {
  const tracked = Bun.spawnSync(["git", "ls-files"], { cwd: ROOT }).stdout.toString().split("\n");
  expect(tracked.filter((f) => /(^|\/)(blake3\.c|blake3_impl\.h|sodium\.h|crypto_sign.*\.c)$/.test(f))).toEqual([]);
});
