// A validator whose clock reads 1970 (a board without a real-time clock or NTP) joins its
// committee: four real validator processes on loopback, one run under Debian's
// libfaketime (`faketime`, LD_PRELOAD: every clock_gettime/time/gettimeofday of that
// process, Bun's Date.now and its monotonic clock included, is shifted to 1970-01-02).
// It connects to its peers, and the events it creates are finalized by all four.
// Skipped, saying so, where `faketime` is not installed (scripts/setup installs it).
import { afterAll, describe, expect, test } from "bun:test";
import { rpcCall } from "../../src/rpc/client.ts";
import { Cluster } from "./cluster.ts";

const FAKETIME = Bun.which("faketime");
const FAKE_DATE = "1970-01-02 00:00:00";
const SLOW = 3; // the 1970 validator

let cluster: Cluster | null = null;
afterAll(async () => {
  await cluster?.stop();
});

interface Anchor {
  eventId: string;
  creator: number;
  stateRoot: string;
}

describe.skipIf(!FAKETIME)("a validator whose clock reads 1970", () => {
  test("faketime really moves a Bun process's clock to 1970", () => {
    const r = Bun.spawnSync([FAKETIME!, FAKE_DATE, process.execPath, "-e", "console.log(new Date().getUTCFullYear())"]);
    expect(r.stdout.toString().trim()).toBe("1970");
  }, 30_000);

  test("connects to its committee and its events are finalized by all four", async () => {
    cluster = await Cluster.start({ k: 4, label: "security-clock-1970", prefix: (i) => (i === SLOW ? [FAKETIME!, FAKE_DATE] : []) });
    const c = cluster;
    // Its own log lines carry the 1970 timestamp: the clock shift is in force in that process.
    expect(c.nodes[SLOW]!.log()).toContain('"ts":"1970-01-0');
    expect(c.nodes[0]!.log()).not.toContain('"ts":"1970-');
    const ready = await c.untilAll((s) => s.ready && s.peers === 3 && BigInt(s.anchorCount) >= 40n);
    expect(ready.map((s) => s.peers)).toEqual([3, 3, 3, 3]);
    // Anchors created by the 1970 validator, finalized and agreed on by every validator.
    const upTo = ready.reduce((m, s) => (BigInt(s.anchorCount) < m ? BigInt(s.anchorCount) : m), BigInt(ready[0]!.anchorCount));
    const own: string[] = [];
    for (let idx = upTo - 1n; idx >= 0n && own.length < 3; idx--) {
      const a = await rpcCall<Anchor>(c.nodes[0]!.rpc, "chain_anchor", { index: idx.toString() });
      if (a.creator === SLOW) {
        const everywhere = await Promise.all(c.nodes.map((n) => rpcCall<Anchor>(n.rpc, "chain_anchor", { index: idx.toString() })));
        expect(new Set(everywhere.map((x) => `${x.eventId}/${x.stateRoot}`)).size).toBe(1);
        own.push(a.eventId);
      }
    }
    expect(own.length).toBe(3);
    console.log(JSON.stringify({ type: "security_figure", name: "clock_1970_join", anchorsChecked: upTo.toString(), ownAnchorsAgreed: own.length }));
  }, 180_000);
});
