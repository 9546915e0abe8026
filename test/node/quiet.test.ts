// Quiet when idle (SPEC_CONSENSUS §15), on in-process validators with the production idle
// heartbeat (real engines, SQLite stores, timers, the in-memory transport). An idle network
// creates no event beyond each validator's first one; an hour later (a skewed monotonic
// clock, which the node uses for the heartbeat only) each validator heartbeats once; a mint
// then wakes the network, is applied on every node, and the network goes quiet again.
// Assertions count events, never time: the quiet spans only give the old rule (an event
// every 10 ticks while others are active) the chance to show up.
import { afterAll, describe, expect, test } from "bun:test";
import { accountFromSeed } from "../../src/wallet/keys.ts";
import { IDLE_HEARTBEAT_MS_DEFAULT } from "../../src/node/node.ts";
import { TestNet, applied, metricValue, minedHeader, stopAll, until, type TestNode } from "./harness.ts";

const nets: TestNet[] = [];
afterAll(() => nets.forEach((n) => n.cleanup()));

/** 200 ticks of the harness's 15 ms event interval: the old rule would create ~20 events per validator. */
const quietSpanMs = 3_000;
const created = (n: TestNode, reason?: string) => metricValue(n.registry, "pc_node_events_created_total", reason ? { reason } : {});
const events = (nodes: TestNode[]) => nodes.map((n) => n.store.eventCount());
/**
 * Anchors after a mint that the network keeps making before it goes quiet: until the output
 * is mature and the retarget saw its anchors (max of maturity_anchors, target_anchors_per_mint).
 */
const mintSpan = (net: TestNet): bigint => {
  const { maturityAnchors: m, targetAnchorsPerMint: t } = net.genesis.emission;
  return m > t ? m : t;
};

/** Polls until no node stored a new event for a whole `quietSpanMs` (bounded), returning the counts. */
async function settled(nodes: TestNode[], limitMs = 60_000): Promise<number[]> {
  const deadline = performance.now() + limitMs;
  for (;;) {
    const before = events(nodes);
    await Bun.sleep(quietSpanMs);
    const after = events(nodes);
    if (after.every((c, i) => c === before[i])) return after;
    if (performance.now() > deadline) throw new Error(`still creating events: ${before} -> ${after}`);
  }
}

describe("quiet when idle", () => {
  test("an idle 4-validator network creates only heartbeats; a mint after an hour of quiet wakes it, finalizes everywhere, and it goes quiet again", async () => {
    const net = new TestNet({ k: 4, devnetLabel: "quiet-test", initialTargetBits: 8, maturityAnchors: 8n });
    nets.push(net);
    let skew = 0;
    const now = () => performance.now() + skew;
    const nodes = [0, 1, 2, 3].map((i) => net.node(i, undefined, { idleHeartbeatMs: IDLE_HEARTBEAT_MS_DEFAULT, now }));
    for (const n of nodes) await n.node.start();
    try {
      // Every validator signs its first event, and nothing else while nothing is pending.
      await until(() => nodes.every((n) => n.node.ready() && n.store.eventCount() === 4));
      await Bun.sleep(quietSpanMs);
      expect(events(nodes)).toEqual([4, 4, 4, 4]);
      for (const n of nodes) expect(await created(n)).toBe(1);
      expect(nodes.every((n) => applied(n) === -1n)).toBe(true); // nothing decided: nothing needed deciding

      // An hour of quiet later: one heartbeat each (a validator heartbeats once it heard another's event).
      skew += 3_600_000;
      await until(() => nodes.every((n) => n.store.eventCount() === 8));
      await Bun.sleep(quietSpanMs);
      expect(events(nodes)).toEqual([8, 8, 8, 8]);
      for (const n of nodes) expect(await created(n, "heartbeat")).toBe(2);

      // A mint wakes the network: carried by validator 0, finalized and applied by all four.
      const wallet = accountFromSeed(new Uint8Array(32).fill(7));
      nodes[0]!.node.submitMint(await minedHeader(nodes[0]!.store, net.genesis, wallet.lockCommitment));
      await until(() => nodes.every((n) => n.store.mintTip().nextHeight === 1n));
      const counts = await settled(nodes);
      // Quiet again only once the mint is ordered everywhere, its output mature (SPEC_POW §8)
      // and the retarget's anchors per mint reached (§7; here 64 > the 8 of maturity).
      expect(new Set(counts).size).toBe(1);
      const mintAnchor = nodes[0]!.store.lastMintAnchor()!;
      for (const n of nodes) {
        expect(applied(n) + 1n).toBeGreaterThanOrEqual(mintAnchor + mintSpan(net));
        expect(n.store.lastApplied()!.commitment).toEqual(nodes[0]!.store.lastApplied()!.commitment);
        expect(n.store.pendingFees().length).toBe(0);
        expect(await metricValue(n.registry, "pc_node_pending_payload_events")).toBe(0);
        expect(await created(n, "pending")).toBeGreaterThan(0);
        expect(await created(n, "rejoin")).toBe(0);
        expect(await metricValue(n.registry, "pc_node_rejoins_total")).toBe(0);
      }
      expect(await created(nodes[0]!, "payload")).toBe(1);
      // And it stays quiet.
      await Bun.sleep(quietSpanMs);
      expect(events(nodes)).toEqual(counts);
    } finally {
      await stopAll(nodes);
    }
  }, 180_000);

  test("a committee of one finalizes a mint on its own with the default heartbeat, then goes quiet", async () => {
    const net = new TestNet({ k: 1, devnetLabel: "quiet-k1-test", initialTargetBits: 8, maturityAnchors: 8n });
    nets.push(net);
    const solo = net.node(0, undefined, { idleHeartbeatMs: IDLE_HEARTBEAT_MS_DEFAULT });
    await solo.node.start();
    try {
      await until(() => solo.node.ready() && solo.store.eventCount() === 1);
      await Bun.sleep(quietSpanMs);
      expect(solo.store.eventCount()).toBe(1);
      const wallet = accountFromSeed(new Uint8Array(32).fill(5));
      solo.node.submitMint(await minedHeader(solo.store, net.genesis, wallet.lockCommitment));
      await until(() => solo.store.mintTip().nextHeight === 1n);
      const [count] = await settled([solo]);
      expect(applied(solo) + 1n).toBeGreaterThanOrEqual(solo.store.lastMintAnchor()! + mintSpan(net));
      await Bun.sleep(quietSpanMs);
      expect(solo.store.eventCount()).toBe(count!);
      expect(await created(solo, "heartbeat")).toBe(1);
    } finally {
      await stopAll([solo]);
    }
  }, 120_000);
});
