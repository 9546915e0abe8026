// The fuzz campaign in CI (fuzz/, README.md "Fuzzing"): every target runs its corpus
// and a bounded number of seeded mutations (a count, never a duration) and must not crash;
// every crash the campaign ever found is a `regress-<CODE>-*` corpus file that must still
// be refused with exactly that typed code.
import { afterAll, describe, expect, test } from "bun:test";
import { describeError, loadCorpus, runCampaign, runOne } from "../../fuzz/engine.ts";
import { TARGETS } from "../../fuzz/targets/index.ts";
import type { FuzzTarget } from "../../fuzz/target.ts";
import { writeCrashFile } from "../../fuzz/crash-file.ts";

const SEED = 0x5eed;
/** Inputs per target in CI: cheap decoders get more, handshakes and the framer fewer. */
const ITERATIONS_DEFAULT = 1500;
const ITERATIONS: Record<string, number> = { "tls-server": 250, "tls-client": 250, "tls-certificate": 600, "p2p-stream": 400, "p2p-node": 400, "quic-server-initial": 150, rpc: 800, http: 400 };
/** Distinct refusal codes the run must reach where the decoder has many (a shallow fuzzer reaches one). */
const CODES_MIN: Record<string, number> = {
  "event-header": 4, "signed-event": 4, "micro-tx": 4, "mint-tx": 3, evidence: 4, "headers-file": 3, "anchor-payload": 4, lock: 4, witness: 4,
  "p2p-message": 4, "p2p-stream": 3, "p2p-node": 3, "quic-frames": 2, "quic-server-initial": 3, "tls-server": 4, "tls-client": 4, rpc: 3, http: 2, "genesis-toml": 2, "node-config-toml": 3,
  "export-leaf": 3, "shard-root": 3, "shard-cert": 4, "import-claim": 4,
};
/** Generous bound for the slowest target (the RPC devnet start) on a busy 2-core machine. */
const TARGET_TIMEOUT_MS = 90_000;

const setUp = new Set<FuzzTarget>();
async function ready(target: FuzzTarget): Promise<void> {
  if (setUp.has(target)) return;
  await target.setup?.();
  setUp.add(target);
}
afterAll(async () => {
  for (const t of setUp) await t.teardown?.();
});

describe("fuzz targets", () => {
  test("at least ten targets, each with a corpus", () => {
    expect(TARGETS.length).toBeGreaterThanOrEqual(10);
    for (const t of TARGETS) expect({ target: t.name, corpus: loadCorpus(t.name).length > 0 }).toEqual({ target: t.name, corpus: true });
  }, 10_000);

  for (const target of TARGETS) {
    const iterations = ITERATIONS[target.name] ?? ITERATIONS_DEFAULT;
    test(`${target.name}: corpus and ${iterations} mutated inputs are accepted or refused with a typed code`, async () => {
      await ready(target);
      const result = await runCampaign(target, { seed: SEED, iterationsMax: iterations });
      if (result.crash) {
        const c = result.crash;
        const path = writeCrashFile(target.name, target.extension, SEED, c.iteration, c.input);
        throw new Error(`${target.name} crashed at iteration ${c.iteration}: ${describeError(c.error)}\ninput written to ${path}\nreplay: bun run fuzz --target ${target.name} --replay ${path}`);
      }
      expect(result.iterations).toBe(iterations);
      // The campaign reaches both sides of the decoder: values it accepts and several refusals.
      expect(result.accepted).toBeGreaterThan(0);
      expect(result.rejected.size).toBeGreaterThanOrEqual(CODES_MIN[target.name] ?? 1);
    }, TARGET_TIMEOUT_MS);
  }
});

describe("fuzz regressions", () => {
  for (const target of TARGETS) {
    const regressions = loadCorpus(target.name).filter((c) => c.name.startsWith("regress-"));
    for (const r of regressions) {
      const code = r.name.slice("regress-".length).split("-")[0]!;
      test(`${target.name}/${r.name} is refused with ${code}`, async () => {
        await ready(target);
        const outcome = await runOne(target, r.bytes);
        if (outcome.kind === "crash") throw new Error(`still crashes: ${describeError(outcome.error)}`);
        expect(outcome).toEqual({ kind: "rejected", code });
      }, TARGET_TIMEOUT_MS);
    }
  }
});
