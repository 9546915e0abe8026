// The consensus tools on a DAG the simulator made (with an equivocating validator):
// `bun run sim --headers_out` writes headers.bin, ConsensusAckDists and
// ConsensusPayoutRoot read it and answer in JSON, every fee unit accounted for.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "phantom-sim-headers-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(cmd: string[]) {
  const p = Bun.spawnSync(cmd, { cwd: ROOT, stdout: "pipe", stderr: "pipe", timeout: 60_000 });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}

test("ConsensusAckDists and ConsensusPayoutRoot read a headers file the simulator wrote", () => {
  const headers = join(dir, "headers.bin");
  const sim = run([process.execPath, "test/sim/cli.ts", "--seed", "5", "--k", "7", "--events", "300", "--faults", "equivocate", "--headers_out", headers]);
  expect(sim.code).toBe(0);
  const written = JSON.parse(sim.out.split("\n")[0]!) as { events: number; first_event: string };
  expect(written.events).toBeGreaterThan(300);
  const dists = run(["bin/phantom", "ConsensusAckDists", "--ack_id", written.first_event, "--headers_file", headers, "--k", "7"]);
  expect(dists.code).toBe(0);
  const d = JSON.parse(dists.out) as { dists: number[]; d_max: number };
  expect(d.dists).toHaveLength(7);
  expect(d.dists.filter((x) => x === 0)).toHaveLength(1); // only the creator acknowledges at distance 0
  const recipients = Array.from({ length: 7 }, (_, i) => (i + 1).toString(16).padStart(64, "0")).join(",");
  const payout = run(["bin/phantom", "ConsensusPayoutRoot", "--ack_id", written.first_event, "--headers_file", headers, "--k", "7", "--fees", "1000003", "--recipients", recipients]);
  expect(payout.code).toBe(0);
  const p = JSON.parse(payout.out) as { root: string; payouts: { amount: string }[] };
  expect(p.root).toMatch(/^[0-9a-f]{64}$/);
  expect(p.payouts.reduce((s, x) => s + BigInt(x.amount), 0n)).toBe(1000003n);
});

test("--order_out: every honest validator's order, recomputed from the --headers_out file by a fresh engine", async () => {
  const headers = join(dir, "order-headers.bin");
  const orderFile = join(dir, "order.json");
  const sim = run([process.execPath, "test/sim/cli.ts", "--seed", "11", "--k", "4", "--faults", "equivocate", "--headers_out", headers, "--order_out", orderFile]);
  expect(sim.code).toBe(0);
  const { readHeadersFile } = await import("../../src/cli/headers-file-io.ts");
  const { ConsensusEngine } = await import("../../src/consensus/engine.ts");
  const file = JSON.parse(await Bun.file(orderFile).text()) as {
    committee: { publicKeys: string[]; stakes: string[]; coinRoundInterval: number; parentsMax: number; shard: number; horizonRounds: number };
    validators: { order: { anchorIndex: string; id: string; roundReceived: number; medianLamport: number; lamport: number }[] }[];
  };
  const c = file.committee;
  const engine = new ConsensusEngine({
    committee: { publicKeys: c.publicKeys.map((h) => Uint8Array.from(Buffer.from(h, "hex"))), stakes: c.stakes.map(BigInt) },
    coinRoundInterval: c.coinRoundInterval, parentsMax: c.parentsMax, shard: c.shard, horizonRounds: c.horizonRounds,
  });
  const recomputed = engine.addEvents(readHeadersFile(headers)).finalized.map((f) => ({
    anchorIndex: f.anchorIndex.toString(), id: Buffer.from(f.event.id).toString("hex"), roundReceived: f.roundReceived,
    medianLamport: f.consensusTime.medianLamport, lamport: f.consensusTime.lamport,
  }));
  expect(file.validators.length).toBeGreaterThanOrEqual(3);
  for (const v of file.validators) {
    expect(v.order.length).toBeGreaterThan(100);
    // Each validator's order is a prefix of the order of all stored events.
    expect(v.order.map(({ anchorIndex, id, roundReceived, medianLamport, lamport }) => ({ anchorIndex, id, roundReceived, medianLamport, lamport }))).toEqual(recomputed.slice(0, v.order.length));
  }
}, 60_000);

test("--order_out matches an independent recomputation from the --headers_out file (test/sim/order-recompute.ts)", async () => {
  const headers = join(dir, "indep-headers.bin");
  const orderFile = join(dir, "indep-order.json");
  const sim = run([process.execPath, "test/sim/cli.ts", "--seed", "3", "--k", "4", "--events", "240", "--faults", "equivocate", "--headers_out", headers, "--order_out", orderFile]);
  expect(sim.code).toBe(0);
  const { readHeadersFile } = await import("../../src/cli/headers-file-io.ts");
  const { recomputeOrder } = await import("./order-recompute.ts");
  const file = JSON.parse(await Bun.file(orderFile).text()) as {
    committee: { stakes: string[]; coinRoundInterval: number; horizonRounds: number; ancientRounds: number };
    validators: { order: { anchorIndex: string; id: string; roundReceived: number; medianLamport: number; lamport: number }[] }[];
  };
  const c = file.committee;
  const recomputed = recomputeOrder(readHeadersFile(headers), {
    stakes: c.stakes.map(Number), coinRoundInterval: c.coinRoundInterval, horizonRounds: c.horizonRounds, ancientRounds: c.ancientRounds,
  });
  expect(file.validators.length).toBeGreaterThanOrEqual(3);
  for (const v of file.validators) {
    expect(v.order.length).toBeGreaterThan(100);
    expect(recomputed.length).toBeGreaterThanOrEqual(v.order.length);
    v.order.forEach((o, i) => expect(o.anchorIndex).toBe(String(i)));
    expect(v.order.map(({ id, roundReceived, medianLamport, lamport }) => ({ id, roundReceived, medianLamport, lamport }))).toEqual(recomputed.slice(0, v.order.length));
  }
}, 120_000);
