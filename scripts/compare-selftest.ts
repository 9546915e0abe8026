/**
 * Compares two `phantom selftest` JSON outputs and two `phantom genesis verify` lines
 * (x64 first, arm64 second); used by scripts/check-arm64. Prints one "same"/"DIFF" line
 * per compared field and exits 1 on any difference, 2 on unreadable input.
 *
 *   bun run scripts/compare-selftest.ts <x64.json> <arm64.json> <x64.genesis> <arm64.genesis>
 */
import { readFileSync } from "node:fs";

/** The crypto results; arch, platform, the library's file name and quic_hardware_aes legitimately differ. */
export const COMPARED_FIELDS = ["blake3_abc", "ed25519_public_key", "ed25519_signature", "ed25519_verify", "verify_batch", "verify_batch_async", "quic_retry_tag", "quic_retry_tag_software"] as const;

export function compareSelftest(x64: Record<string, unknown>, arm64: Record<string, unknown>, genesisX64: string, genesisArm64: string): { lines: string[]; same: boolean } {
  const lines: string[] = [];
  let same = true;
  if (x64.arch !== "x64" || arm64.arch !== "arm64") {
    lines.push(`DIFF  arch: expected x64 and arm64, got ${String(x64.arch)} and ${String(arm64.arch)}`);
    same = false;
  }
  for (const f of COMPARED_FIELDS) {
    const a = JSON.stringify(x64[f]);
    const b = JSON.stringify(arm64[f]);
    const ok = a !== undefined && a === b;
    lines.push(`${ok ? "same" : "DIFF"}  ${f}: ${b}${ok ? "" : ` (x64: ${a})`}`);
    same &&= ok;
  }
  const okGenesis = genesisX64 !== "" && genesisX64 === genesisArm64;
  lines.push(`${okGenesis ? "same" : "DIFF"}  genesis verify: ${genesisArm64}${okGenesis ? "" : ` (x64: ${genesisX64})`}`);
  return { lines, same: same && okGenesis };
}

function main(argv: readonly string[]): number {
  if (argv.length !== 4) {
    console.error("usage: compare-selftest.ts <x64.json> <arm64.json> <x64.genesis> <arm64.genesis>");
    return 2;
  }
  let texts: string[];
  let x64: Record<string, unknown>;
  let arm64: Record<string, unknown>;
  try {
    texts = argv.map((f) => readFileSync(f, "utf8").trim());
    x64 = JSON.parse(texts[0]!) as Record<string, unknown>;
    arm64 = JSON.parse(texts[1]!) as Record<string, unknown>;
  } catch (e) {
    console.error(`compare-selftest: unreadable input: ${(e as Error).message}`);
    return 2;
  }
  const { lines, same } = compareSelftest(x64, arm64, texts[2]!, texts[3]!);
  for (const line of lines) console.log(line);
  return same ? 0 : 1;
}

if (import.meta.main) process.exit(main(process.argv.slice(2)));
