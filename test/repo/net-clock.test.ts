// Peer authentication and the protocol code in src/net read no wall clock: time enters
// through the injected Clock (endpoint.ts) or as `nowMs` arguments. A file may read the
// clock only if it is listed here with what it uses it for (timers or logs).
import { expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
const CLOCK_READ = /\b(Date\.now|performance\.now|new Date\b|Bun\.nanoseconds|process\.hrtime)/;

/** Files of src/net allowed to read a clock, and why. */
const ALLOWED: Record<string, string> = {
  // realClock: the default Clock whose monotonic time drives connection timers and loss recovery.
  "src/net/quic/endpoint.ts": "timers",
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

function clockReads(file: string): string[] {
  const out: string[] = [];
  readFileSync(file, "utf8").split("\n").forEach((line, i) => {
    const code = line.replace(/\/\/.*$/, "").replace(/^\s*\*.*$/, "");
    if (CLOCK_READ.test(code)) out.push(`${file.slice(ROOT.length + 1)}:${i + 1}: ${line.trim()}`);
  });
  return out;
}

test("src/net reads no wall clock outside its allow-listed timer/log files", () => {
  const offenders = files(join(ROOT, "src", "net")).filter((f) => !(f.slice(ROOT.length + 1) in ALLOWED)).flatMap(clockReads);
  expect(offenders).toEqual([]);
});

test("every allow-listed file exists and still reads a clock (no stale entries)", () => {
  for (const file of Object.keys(ALLOWED)) expect(`${file}:${clockReads(join(ROOT, file)).length > 0}`).toBe(`${file}:true`);
});

test("the certificate check takes no time argument", () => {
  const source = readFileSync(join(ROOT, "src/net/quic/tls/certificate.ts"), "utf8");
  expect(source).toMatch(/export function verifyCertificate\(der: Uint8Array\): Uint8Array/);
  expect(source).not.toMatch(/validFrom|validTo/);
});
