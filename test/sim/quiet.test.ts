// Quiet when idle (SPEC_CONSENSUS §15) on the consensus engines alone: bursts of payloads
// separated by quiet periods of many heartbeats, a validator sometimes offline through a
// quiet period or a burst; many seeds at k = 4 and 7. A failure prints the call that replays it.
import { expect, test } from "bun:test";
import { quietOptions, runQuietSimulation, type QuietReport } from "./quiet.ts";

const TEST_TIMEOUT_MS = 150_000;

function runSeeds(k: number, seeds: number, first: number): QuietReport[] {
  const reports: QuietReport[] = [];
  for (let seed = first; seed < first + seeds; seed++) {
    const r = runQuietSimulation(quietOptions({ seed, k }));
    if (!r.ok) console.log(`quiet sim failure (seed ${seed}, k ${k}): ${r.failures.join("; ")}\n  reproduce: ${r.repro}`);
    reports.push(r);
  }
  return reports;
}

for (const [k, seeds] of [[4, 40], [7, 12]] as const) {
  test(`quiet when idle: payloads finalize after quiet periods, quiet costs only heartbeats, nobody quiet is treated as stalled (k=${k}, ${seeds} seeds)`, () => {
    const reports = runSeeds(k, seeds, 100 * k);
    expect(reports.filter((r) => !r.ok).map((r) => r.repro)).toEqual([]);
    // The runs did what they claim: quiet periods created events (heartbeats), and some
    // validator missed a burst and had to rejoin (the §12 path still works when quiet).
    expect(reports.every((r) => r.quietEvents > 0 && r.quietEvents <= r.quietEventsBound)).toBe(true);
    expect(reports.some((r) => r.rejoins > 0)).toBe(true);
    // And some validator came back from a short outage in a quiet period without one.
    expect(reports.reduce((s, r) => s + r.cleanResumes, 0)).toBeGreaterThan(0);
  }, TEST_TIMEOUT_MS);
}

test("quiet simulator runs are reproducible from the seed", () => {
  const a = runQuietSimulation(quietOptions({ seed: 9, k: 4 }));
  const b = runQuietSimulation(quietOptions({ seed: 9, k: 4 }));
  expect(a.ok).toBe(true);
  expect(b).toEqual(a);
}, TEST_TIMEOUT_MS);
