/**
 * Simulator command line: `bun run sim --seed 7 --k 7 --events 300 --faults equivocate,crash`
 * or `bun run sim --seeds 50 --k 21`. Prints one JSON line per run; a failing run prints
 * the command that replays it and the process exits 1. `--headers_out FILE` (one seed)
 * writes every stored event as a headers.bin for `phantom ConsensusAckDists` and
 * `phantom ConsensusPayoutRoot` (docs/SPEC_FEES.md); `--order_out FILE` (one seed) writes the
 * committee parameters and every honest validator's finalized order (ids, round received,
 * consensus time) as JSON, for an outside implementation to compare against.
 * `--slashing true` makes the weights follow stake (finalized equivocation evidence slashes
 * to 0, SPEC_CONSENSUS §1a) with the lag `--stake_lag` (default: the horizon).
 */
import { numberArg, parseArgs } from "./args.ts";
import { runSimulation, simulatedEvents, simOptions, orderFileJson, FAULT_KINDS, type FaultKind, type SimOptions } from "./sim.ts";
import { writeFileSync } from "node:fs";
import { writeHeadersFile } from "../../src/cli/headers-file-io.ts";
import { compareBytes } from "../../src/crypto/bytes.ts";


function faults(v: string | undefined): FaultKind[] | undefined {
  if (v === undefined) return undefined;
  if (v === "none" || v === "") return [];
  return v.split(",").map((f) => {
    if (!(FAULT_KINDS as readonly string[]).includes(f)) throw new Error(`unknown fault ${f} (${FAULT_KINDS.join(", ")})`);
    return f as FaultKind;
  });
}

function main(): number {
  const args = parseArgs(process.argv.slice(2));
  const k = numberArg(args, "k") ?? 7;
  const first = numberArg(args, "seed") ?? 1;
  const count = numberArg(args, "seeds") ?? 1;
  let failed = 0;
  for (let seed = first; seed < first + count; seed++) {
    const partial: Partial<SimOptions> & { seed: number; k: number } = { seed, k };
    const events = numberArg(args, "events");
    if (events !== undefined) partial.events = events;
    const f = faults(args.get("faults"));
    if (f !== undefined) partial.faults = f;
    const loss = numberArg(args, "loss");
    if (loss !== undefined) partial.loss = loss;
    if (args.has("partition")) partial.partition = args.get("partition") !== "false";
    const delay = numberArg(args, "delay");
    if (delay !== undefined) partial.delayTicksMax = delay;
    const horizon = numberArg(args, "horizon");
    if (horizon !== undefined) partial.horizonRounds = horizon;
    const coin = numberArg(args, "coin");
    if (coin !== undefined) partial.coinRoundInterval = coin;
    if (args.has("slashing")) partial.slashing = args.get("slashing") !== "false";
    const stakeLag = numberArg(args, "stake_lag");
    if (stakeLag !== undefined) partial.stakeLagRounds = stakeLag;
    const headersOut = args.get("headers_out");
    const orderOut = args.get("order_out");
    let report;
    if (headersOut || orderOut) {
      const sim = simulatedEvents(simOptions(partial));
      report = sim.report;
      if (headersOut) {
        // Lamport order is parents-first, as the headers file requires.
        const events = [...sim.events].sort((a, b) => a.header.lamport - b.header.lamport || compareBytes(a.id, b.id));
        writeHeadersFile(headersOut, events);
        console.log(JSON.stringify({ headers_out: headersOut, events: events.length, first_event: Buffer.from(events[0]!.id).toString("hex") }));
      }
      if (orderOut) {
        writeFileSync(orderOut, orderFileJson(sim));
        console.log(JSON.stringify({ order_out: orderOut, validators: sim.orders.length }));
      }
    } else report = runSimulation(simOptions(partial));
    console.log(JSON.stringify({ seed, k, ok: report.ok, finalized: report.finalizedMin, ticks: report.ticks, evidence: report.evidence, ...(report.options.slashing ? { stake: { ...report.stake, slashes: report.stake.slashes.map((x) => ({ ...x, anchorIndex: x.anchorIndex.toString() })) } } : {}), faults: report.options.faults, failures: report.failures.slice(0, 5) }));
    if (!report.ok) {
      failed++;
      console.log(`reproduce: ${report.repro}`);
    }
  }
  return failed === 0 ? 0 : 1;
}

process.exit(main());
