/**
 * One chaos run: start the cluster, warm up (ready validators, a miner, coins for the
 * load), execute the seeded schedule while the load generator and the observer run,
 * drain, stop everything, check and report. Every phase has a time bound.
 */
import { mkdtempSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ANCIENT_ROUNDS } from "../../src/types/constants.ts";
import { Cluster, tmpfsAvailable } from "./cluster.ts";
import { LoadGenerator } from "./load.ts";
import { Observer } from "./observer.ts";
import { batch } from "./rpc.ts";
import { askTxStatus, accountsFor } from "./tx-status.ts";
import { faultyMax, type ChaosOptions } from "./options.ts";
import { describeFault, makeSchedule, peakFaulty } from "./schedule.ts";
import {
  checkAgreement, checkCrashes, checkDiskFull, checkEvidence, checkFinality, checkIntegrity, checkRejoins, checkTxs, readStore,
  type Check, type DiskFullOutcome, type RejoinOutcome, type StoreView, type TxAccount,
} from "./checks.ts";
import { printSummary, summarize, writeSummary, type ChaosSummary, type ExecutedFault } from "./report.ts";

const warmupMsMax = 120_000;
const observeEveryMs = 500;
const loadEveryMs = 200;
/** A pause_long lasts until the others decided twice what they keep (horizon + ANCIENT_ROUNDS), so its last parents are surely pruned. */
const pauseLongRounds = (horizonRounds: number) => 2 * (horizonRounds + ANCIENT_ROUNDS);
const drainMsMin = 20_000;
/** Longest a fault waits for earlier targets to rejoin before it starts anyway. */
const faultDelayMsMax = 60_000;
const txLookupsPerDrainTick = 500;
const maturityAnchors = 10n;

export async function runChaos(o: ChaosOptions, out: (line: string) => void = console.log): Promise<ChaosSummary> {
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), "phantom-chaos-"));
  mkdirSync(dir, { recursive: true });
  const say = (line: string) => {
    if (o.verbose) out(`[${(now() / 1000).toFixed(1).padStart(6)} s] ${line}`);
  };
  const notes: string[] = [];
  let kinds = o.kinds;
  let diskFullSkipped: string | null = null;
  if (kinds.includes("disk_full") && !tmpfsAvailable(join(dir, "tmpfs-probe"))) {
    diskFullSkipped = "this machine does not allow `mount -t tmpfs` (run as root where mounts are permitted); no store-error injection hook exists on this branch";
    kinds = kinds.filter((k) => k !== "disk_full");
    notes.push(`disk_full ${diskFullSkipped}`);
  }
  rmSync(join(dir, "tmpfs-probe"), { recursive: true, force: true });
  const phaseMs = o.durationS * 1000;
  const schedule = makeSchedule({
    nodes: o.nodes, seed: o.seed, faults: o.faults, phaseMs, kinds, pauseMsMax: o.pauseMsMax,
    pauseLongMsMax: o.pauseLongMsMax, recoveryMs: o.recoveryMs,
  });
  out(`chaos: seed ${o.seed}, ${o.nodes} validators (f = ${faultyMax(o.nodes)}), ${schedule.length} faults in ${o.durationS} s, dir ${dir}`);
  for (const f of schedule) out(`  ${describeFault(f)}`);
  if (peakFaulty(schedule, o.recoveryMs) > faultyMax(o.nodes)) throw new Error("schedule invariant broken: more than f faulty at once");

  const diskFullTargets = schedule.filter((f) => f.kind === "disk_full").flatMap((f) => f.targets);
  const cluster = await Cluster.start({ nodes: o.nodes, dir, label: `chaos-${o.seed}`, seed: o.seed, eventIntervalMs: o.eventIntervalMs, horizonRounds: o.horizonRounds, tmpfsStores: diskFullTargets, now, say });
  const active = new Set<number>();
  const healthy = (i: number) => cluster.state(i) === "up" && !active.has(i) && cluster.rpc(i) !== null;
  const healthyList = () => Array.from({ length: o.nodes }, (_, i) => i).filter(healthy);
  const observer = new Observer({ nodes: o.nodes, rpcOf: (i) => cluster.rpc(i), healthy }, now);
  const load = new LoadGenerator({ seed: o.seed, nodes: o.nodes, maturityAnchors, txPerSecond: o.txPerSecond, rpcOf: (i) => cluster.rpc(i), reader: () => observer.reader(), now });
  const executed: ExecutedFault[] = schedule.map((f) => ({ ...f, startedAtMs: null, healedAtMs: null, note: "" }));
  const diskFull: DiskFullOutcome[] = [];
  const kindOf = new Map<number, string>();
  let loadOn = true;
  let ticking = true;
  const hardDeadlineMs = warmupMsMax + phaseMs + 3 * drainMsMin + 10 * o.recoveryMs + 120_000;
  const loops = [
    (async () => {
      while (ticking && now() < hardDeadlineMs) {
        await observer.tick();
        await Bun.sleep(observeEveryMs);
      }
    })(),
    (async () => {
      while (ticking && now() < hardDeadlineMs) {
        if (loadOn) await load.tick();
        await Bun.sleep(loadEveryMs);
      }
    })(),
  ];
  let phase0 = 0;
  let harnessFailed = false;
  let stores: StoreView[] = [];
  let txAccount: TxAccount | null = null;
  try {
    // Warm-up: every validator ready and finalizing, the miner funding the wallet, the first transfer acknowledged.
    const warmupEnd = now() + warmupMsMax;
    while (now() < warmupEnd && !Array.from({ length: o.nodes }, (_, i) => observer.latest(i)).every((s) => s?.ready && BigInt(s.anchorCount) >= 5n)) await Bun.sleep(250);
    await cluster.startMiner(0, load.wallet.address);
    while (now() < warmupEnd && load.acked.size === 0) await Bun.sleep(250);
    if (load.acked.size === 0) notes.push("warm-up: no transfer was acknowledged before the faults began");
    say(`warm-up done: ${observer.anchorCount()} anchors, ${load.acked.size} transfers acknowledged`);
    observer.startStallClock();
    phase0 = now();

    const sleepUntil = async (atMs: number) => {
      const wait = atMs - now();
      if (wait > 0) await Bun.sleep(wait);
    };
    const moveMiner = async (targets: number[]) => {
      const m = cluster.minerTarget();
      if (m === null || !targets.includes(m)) return;
      const next = healthyList().find((i) => !targets.includes(i));
      if (next !== undefined) await cluster.startMiner(next, load.wallet.address);
    };
    const runFault = async (f: ExecutedFault) => {
      kindOf.set(f.id, f.kind);
      const snapPath = join(dir, `snapshot-${f.id}.sqlite`);
      if (f.kind === "old_store" && f.snapshotAtMs !== undefined) {
        await sleepUntil(phase0 + f.snapshotAtMs);
        const ok = cluster.snapshot(f.targets[0]!, snapPath);
        say(`#${f.id} copied v${f.targets[0]}'s store${ok ? "" : " (no store yet)"}`);
      }
      await sleepUntil(phase0 + f.atMs);
      // A healed validator that has not rejoined yet (still replaying) is as good as down:
      // the fault waits (bounded) until it keeps at most f validators out.
      // A target still inside another fault, or not rejoined since its last one, waits too:
      // faults on one validator never overlap, and each rejoin time is its own fault's.
      const notRejoined = () => new Set(observer.rejoins.filter((r) => r.finalizedAtMs === null).map((r) => r.validator));
      const busy = () => {
        const behind = notRejoined();
        return new Set([...active, ...behind, ...f.targets]).size > faultyMax(o.nodes) || f.targets.some((t) => active.has(t) || behind.has(t));
      };
      const waitEnd = now() + faultDelayMsMax;
      while (now() < waitEnd && busy()) await Bun.sleep(250);
      const delayedMs = Math.round(now() - phase0 - f.atMs);
      if (delayedMs > 1_000) f.note = `${f.note ? `${f.note}; ` : ""}started ${(delayedMs / 1000).toFixed(1)} s late: an earlier target had not rejoined`;
      for (const t of f.targets) active.add(t);
      await moveMiner(f.targets);
      f.startedAtMs = now() - phase0;
      say(`#${f.id} start ${f.kind} ${f.targets.map((t) => `v${t}`).join("+")}`);
      const restart = async () => {
        await Promise.all(f.targets.map((t) => cluster.startValidator(t)));
      };
      switch (f.kind) {
        case "kill":
          for (const t of f.targets) await cluster.kill(t);
          await Bun.sleep(f.durationMs);
          f.healedAtMs = now() - phase0;
          await restart();
          break;
        case "wipe":
          for (const t of f.targets) {
            await cluster.kill(t);
            cluster.wipe(t);
          }
          await Bun.sleep(f.durationMs);
          f.healedAtMs = now() - phase0;
          await restart();
          break;
        case "old_store":
          for (const t of f.targets) {
            await cluster.kill(t);
            try {
              cluster.restore(t, snapPath);
              f.note = "restored a store copy";
            } catch (e) {
              cluster.wipe(t);
              f.note = `no copy to restore (${(e as Error).message.slice(0, 80)}): wiped instead`;
            }
          }
          await Bun.sleep(f.durationMs);
          f.healedAtMs = now() - phase0;
          await restart();
          break;
        case "pause":
          for (const t of f.targets) cluster.pause(t);
          await Bun.sleep(f.durationMs);
          f.healedAtMs = now() - phase0;
          for (const t of f.targets) cluster.resume(t);
          break;
        case "pause_long": {
          for (const t of f.targets) cluster.pause(t);
          const r0 = observer.round();
          const end = now() + f.durationMs;
          while (now() < end && observer.round() < r0 + pauseLongRounds(o.horizonRounds)) await Bun.sleep(250);
          f.roundsPassed = observer.round() - r0;
          f.note = `paused while the others decided ${f.roundsPassed} rounds (horizon ${o.horizonRounds} + ${ANCIENT_ROUNDS} kept) in ${((now() - phase0 - f.startedAtMs) / 1000).toFixed(1)} s`;
          f.healedAtMs = now() - phase0;
          for (const t of f.targets) cluster.resume(t);
          break;
        }
        case "partition":
          cluster.partition(f.id, f.targets);
          await Bun.sleep(f.durationMs);
          f.healedAtMs = now() - phase0;
          cluster.heal(f.id);
          break;
        case "disk_full":
          const filled: DiskFullOutcome[] = [];
          for (const t of f.targets) {
            const bytes = cluster.fill(t);
            filled.push({ faultId: f.id, validator: t, filledAtMs: now(), freedAtMs: null, bytes });
          }
          diskFull.push(...filled);
          await Bun.sleep(f.durationMs);
          f.healedAtMs = now() - phase0;
          for (const d of filled) {
            cluster.unfill(d.validator);
            d.freedAtMs = now();
          }
          break;
      }
      const healAtMs = phase0 + f.healedAtMs;
      for (const t of f.targets) active.delete(t);
      say(`#${f.id} healed ${f.kind} ${f.targets.map((t) => `v${t}`).join("+")}${f.note ? ` (${f.note})` : ""}`);
      const others = healthyList().filter((i) => !f.targets.includes(i));
      for (const t of f.targets) observer.watchRejoin(f.id, t, healAtMs, await observer.seqOf(t, others));
    };
    // A fault the harness could not carry out is reported, not thrown: the run still checks what it did.
    const harnessErrors: string[] = [];
    await Promise.all(executed.map((f) => runFault(f).catch((e: unknown) => {
      for (const t of f.targets) active.delete(t);
      harnessErrors.push(`#${f.id} ${f.kind}: ${(e as Error).message.slice(0, 200)}`);
    })));
    for (const e of harnessErrors) notes.push(`harness could not run fault ${e}`);
    harnessFailed = harnessErrors.length > 0;
    await sleepUntil(phase0 + phaseMs);

    // Drain: stop the load, wait (bounded) for every healed validator and every acknowledged transfer.
    loadOn = false;
    const pending = new Set(load.acked.keys());
    const finals = new Set<string>();
    const drainEnd = now() + Math.max(drainMsMin, o.rejoinMsTarget * 2);
    while (now() < drainEnd) {
      // Submissions still in flight when the load stopped are acknowledged during the drain.
      for (const id of load.acked.keys()) if (!finals.has(id)) pending.add(id);
      const url = cluster.rpc(observer.reader() ?? 0);
      const ids = [...pending].slice(0, txLookupsPerDrainTick);
      for (let i = 0; i < ids.length; i += 100) {
        const part = ids.slice(i, i + 100);
        const got = await batch<{ type: string }>(url, part.map((id) => ({ method: "chain_lookup", params: { id } })));
        part.forEach((id, j) => {
          if (got[j]?.type === "tx") {
            finals.add(id);
            pending.delete(id);
          }
        });
      }
      if (pending.size === 0 && observer.rejoins.every((r) => r.finalizedAtMs !== null)) break;
      await Bun.sleep(observeEveryMs);
    }
    // Idle validators still create heartbeat events, so finality is measured through the drain too.
    observer.stopStallClock();
    const unresolved = [...pending].map((id) => load.acked.get(id)!);
    const txStatus = await askTxStatus(unresolved, (v) => cluster.rpc(v));
    if (!txStatus.available && unresolved.length > 0) notes.push("tx_status: not answered by these validators (method missing or node down); void comes from the stores only");
    ticking = false;
    await Promise.all(loops);
    await cluster.stop();
    cluster.unmountAll();

    stores = Array.from({ length: o.nodes }, (_, i) => readStore(i, cluster.storePath(i))).filter((s): s is StoreView => s !== null);
    const voided = new Map<string, string>();
    for (const s of stores) for (const [id, code] of s.voided) voided.set(id, code);
    const acc: TxAccount = { acked: load.acked.size, final: 0, voided: new Map(), lost: 0, lostByValidator: new Map(), lostSample: [] };
    const count = (key: string) => acc.voided.set(key, (acc.voided.get(key) ?? 0) + 1);
    for (const [id, a] of load.acked) {
      const answer = txStatus.answers.get(id);
      if (finals.has(id) || answer?.state === "final") acc.final++;
      else if (voided.has(id)) count(voided.get(id)!);
      else if (accountsFor(answer)) count(`${answer!.state} ${answer!.reason}`);
      else {
        acc.lost++;
        acc.lostByValidator.set(a.validator, (acc.lostByValidator.get(a.validator) ?? 0) + 1);
        if (acc.lostSample.length < 3) acc.lostSample.push(`${id.slice(0, 16)}… via v${a.validator} at ${((a.atMs - phase0) / 1000).toFixed(1)} s${answer ? ` (tx_status: ${answer.state})` : ""}`);
      }
    }
    txAccount = acc;
  } finally {
    ticking = false;
    await Promise.all(loops);
    await cluster.stop();
    cluster.unmountAll();
  }

  const endSeq = (v: number) => Math.max(-1, ...stores.map((s) => s.finalizedSeq.get(v) ?? -1));
  const rejoins: RejoinOutcome[] = observer.rejoins.map((r) => ({ ...r, kind: kindOf.get(r.faultId) ?? "?", endSeq: endSeq(r.validator) }));
  const checks: Check[] = [];
  if (stores.length === o.nodes) checks.push(...checkAgreement(stores));
  else checks.push({ name: "agreement", ok: false, detail: `only ${stores.length} of ${o.nodes} stores readable` });
  checks.push(checkIntegrity(stores), checkEvidence(stores), ...checkRejoins(rejoins, o.rejoinMsTarget));
  if (txAccount) checks.push(checkTxs(txAccount));
  checks.push(checkFinality(observer.stallMsMax, o.stallMsMax, observer.stallEndedAtMs - phase0, observer.stallNotRejoined));
  checks.push(...checkDiskFull(diskFull, cluster.exits, diskFullSkipped));
  checks.push(checkCrashes(cluster.exits, diskFull));
  if (harnessFailed) checks.push({ name: "harness", ok: false, detail: "a fault could not be carried out (see the notes)" });
  const summary = summarize({
    options: o, wallMs: now(), faults: executed, rejoins, checks, notes, dir,
    load: { acked: load.acked.size, refused: Object.fromEntries(load.refused), unanswered: load.unanswered },
  });
  printSummary(summary, out);
  if (o.out) writeSummary(summary, o.out);
  if (summary.ok && !o.dir) rmSync(dir, { recursive: true, force: true });
  return summary;
}
