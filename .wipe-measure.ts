// Ad-hoc measurement (not part of the repo): history for H s, then wipe v3 and time its replay and rejoin.
import { Cluster } from "./test/chaos/cluster.ts";
import { rpcCall } from "./src/rpc/client.ts";
const H = Number(process.argv[2] ?? 120), interval = Number(process.argv[3] ?? 50), dir = process.argv[4] ?? "/tmp/wm";
const t0 = performance.now(); const now = () => performance.now() - t0;
const c = await Cluster.start({ nodes: 4, dir, label: "wm", seed: 1, eventIntervalMs: interval, horizonRounds: 64, tmpfsStores: [], now, say: () => {} });
type S = { anchorCount: string; highestSeq: number[]; lastDecidedRound: number; dagEvents: number; orphans: number };
const st = async (i: number) => { const u = c.rpc(i); if (!u) return null; try { return await rpcCall<S>(u, "phantom_status"); } catch { return null; } };
await Bun.sleep(H * 1000);
const before = (await st(0))!;
await c.kill(3); c.wipe(3);
const killedAt = now();
await c.startValidator(3);
const startedAt = now();
let caughtUp = 0, rejoined = 0;
const seq3 = before.highestSeq[3]!;
while (now() - startedAt < 300_000) {
  const [a, b] = [await st(3), await st(0)];
  if (a && b && !caughtUp && BigInt(a.anchorCount) >= BigInt(before.anchorCount)) caughtUp = now() - startedAt;
  if (b && b.highestSeq[3]! > seq3 + 2 && !rejoined) rejoined = now() - startedAt;
  if (caughtUp && rejoined) break;
  await Bun.sleep(200);
}
console.log(JSON.stringify({ historyS: H, intervalMs: interval, anchorsBefore: before.anchorCount, events: before.highestSeq.reduce((x, y) => x + y + 1, 0), replayToAnchorsBeforeMs: Math.round(caughtUp), firstNewEventSeenByV0Ms: Math.round(rejoined), restartMs: Math.round(startedAt - killedAt) }));
await c.stop();
