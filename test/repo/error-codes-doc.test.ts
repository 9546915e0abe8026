// Every error code the code can emit has a row in docs/OPERATIONS.md §10 ("Troubleshooting
// by error code"), so an operator who reads `error [CODE]` finds the cause and the fix.
// Codes are collected from src/ the way they are written there: the first argument of
// `new XxxError("CODE"` (PhantomError and its subclasses), the string unions of
// `type XxxCode = "A" | "B"` / `XxxReason`, code lists (`XXX_CODES = [...]`) and
// `readonly code = "..."`, `super("CODE"` in an error class; QuicError takes the RFC 9000
// name and emits `QUIC_<name>`. A table row `PREFIX_*` covers a family (e.g. `TX_*`, whose
// members docs/RPC.md lists one by one).
import { expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
const CODE = /"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"/g;

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).sort().flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Quoted codes in each match of `re` over `text`. */
function codesIn(text: string, re: RegExp): string[] {
  return [...text.matchAll(re)].flatMap((m) => [...m[0].matchAll(CODE)].map((c) => c[1]!));
}

export function emittedCodes(): Map<string, string> {
  const where = new Map<string, string>();
  for (const f of files(join(ROOT, "src"))) {
    const text = readFileSync(f, "utf8").replace(/^\s*(\/\/|\*|\/\*\*).*$/gm, ""); // comments are not code
    const found = [
      ...codesIn(text, /new (?!QuicError\b)[A-Za-z]*Error(?:<[^>()]*>)?\(\s*"[A-Z][A-Z0-9_]*"/g),
      ...codesIn(text, /type [A-Za-z]*(?:Code|Reason)s? =[^;]*;/g),
      ...codesIn(text, /const [A-Z][A-Z_]*_(?:CODES|REASONS)\b[^=]*=\s*\[[^\]]*\]/g),
      ...codesIn(text, /readonly code = "[A-Z][A-Z0-9_]*"/g),
      ...codesIn(text, /super\(\s*"[A-Z][A-Z0-9_]*"/g),
      // QuicError("NAME") carries the code QUIC_NAME (src/net/quic/errors.ts).
      ...codesIn(text, /new QuicError\(\s*"[A-Z][A-Z0-9_]*"/g).map((c) => `QUIC_${c}`),
      ...(/QuicError\.crypto\(/.test(text) ? ["QUIC_CRYPTO_ERROR"] : []),
    ];
    for (const c of found) if (!where.has(c)) where.set(c, f.slice(ROOT.length + 1));
  }
  return where;
}

/** Codes and `PREFIX_*` families in the first column of OPERATIONS §10's table. */
function documentedCodes(): { codes: Set<string>; families: string[] } {
  const doc = readFileSync(join(ROOT, "docs", "OPERATIONS.md"), "utf8");
  const start = doc.indexOf("## 10. Troubleshooting by error code");
  expect(start).toBeGreaterThan(-1);
  const section = doc.slice(start, doc.indexOf("\n## ", start + 1));
  const codes = new Set<string>();
  const families: string[] = [];
  for (const line of section.split("\n")) {
    if (!line.startsWith("| `")) continue;
    const first = line.split("|")[1]!;
    for (const m of first.matchAll(/`([A-Z][A-Z0-9_]*\*?)`/g)) {
      if (m[1]!.endsWith("_*")) families.push(m[1]!.slice(0, -1));
      else codes.add(m[1]!);
    }
  }
  return { codes, families };
}

test("the scan finds the codes it should (it is not vacuous)", () => {
  const codes = emittedCodes();
  for (const c of ["CONFIG_UNKNOWN_KEY", "WALLET_BAD_PASSPHRASE", "EVENT_BAD_SIGNATURE", "INVARIANT_VIOLATED", "FAUCET_NOT_DEVNET", "TX_DOUBLE_SPEND"]) {
    expect(codes.has(c)).toBe(true);
  }
  expect(codes.size).toBeGreaterThan(150);
}, 10_000);

test("every error code the code can emit is in docs/OPERATIONS.md's error table", () => {
  const { codes, families } = documentedCodes();
  const missing = [...emittedCodes()]
    .filter(([c]) => !codes.has(c) && !families.some((f) => c.startsWith(f)))
    .map(([c, file]) => `${c} (${file})`);
  expect(missing).toEqual([]);
}, 10_000);
