// Peer sessions over in-memory links: handshake rules, misbehavior, bans, rate limits.
import { describe, expect, test } from "bun:test";
import { PeerManager, banScore, peerBurstMessagesMax, type Peer } from "../../src/net/p2p/peers.ts";
import { linkPair } from "../../src/net/p2p/link.ts";
import { encodeMessage, frame, type P2pMessage } from "../../src/net/p2p/messages.ts";
import { createP2pMetrics } from "../../src/net/p2p/metrics.ts";
import { Registry } from "prom-client";

const commitment = new Uint8Array(32).fill(1);
const keys = [0, 1, 2].map((i) => new Uint8Array(32).fill(10 + i));
const flush = () => new Promise((r) => setTimeout(r, 5));

function manager(me: number, opts: { commitment?: Uint8Array; now?: () => number; helloTimeoutMs?: number } = {}) {
  const got: { peer: Peer; m: P2pMessage }[] = [];
  const registry = new Registry();
  const metrics = createP2pMetrics(registry);
  const mgr = new PeerManager({
    commitment: opts.commitment ?? commitment,
    myValidator: me,
    committee: keys,
    highestSeq: () => [me, -1, -1],
    onMessage: (peer, m) => got.push({ peer, m }),
    now: opts.now ?? (() => 0),
    metrics,
    helloTimeoutMs: opts.helloTimeoutMs,
  });
  return { mgr, got, registry };
}

/** Managers of validators 0 and 1 on one in-memory link (b's transport key `bKey`), after the hellos had time to run. */
async function linked(bOpts: Parameters<typeof manager>[1] = {}, bKey = keys[1]!) {
  const a = manager(0);
  const b = manager(1, bOpts);
  const [la, lb] = linkPair(keys[0]!, bKey);
  a.mgr.attach(la);
  b.mgr.attach(lb);
  await flush();
  return { a, b, lb };
}

describe("P2P peers", () => {
  test("hello handshake connects validators and delivers messages", async () => {
    const { a, b } = await linked();
    expect(a.mgr.info().map((p) => p.validator)).toEqual([1]);
    expect(b.mgr.info()[0]!.highestSeq).toEqual([0, -1, -1]);
    a.mgr.broadcast({ kind: "get_payload", digest: new Uint8Array(32) });
    await flush();
    expect(b.got.map((g) => g.m.kind)).toEqual(["get_payload"]);
  });

  test("a peer on another genesis is refused", async () => {
    const { a, b } = await linked({ commitment: new Uint8Array(32).fill(2) });
    expect(a.mgr.info()).toEqual([]);
    expect(b.mgr.info()).toEqual([]);
    // Whichever side reads the other's hello first refuses and closes the link.
    const counted = (await a.registry.getSingleMetricAsString("pc_p2p_errors_total")) + (await b.registry.getSingleMetricAsString("pc_p2p_errors_total"));
    expect(counted).toContain('code="P2P_GENESIS_MISMATCH"');
  });

  test("a transport key that is not the claimed validator's is refused", async () => {
    const { a } = await linked({}, keys[2]!); // b's transport key is validator 2's, but b says it is 1
    expect(a.mgr.info()).toEqual([]);
    expect(await a.registry.getSingleMetricAsString("pc_p2p_errors_total")).toContain("P2P_IDENTITY_MISMATCH");
  });

  test("malformed messages raise the score until the peer is banned, and it cannot reconnect", async () => {
    const { a, lb } = await linked();
    for (let i = 0; i < banScore; i++) lb.send(frame(new Uint8Array([0xee, 1, 2])));
    await flush();
    expect(a.mgr.info()).toEqual([]);
    expect(await a.registry.getSingleMetricAsString("pc_p2p_bans_total")).toMatch(/pc_p2p_bans_total 1/);
    const [la2] = linkPair(keys[0]!, keys[1]!);
    expect(a.mgr.attach(la2)).toBeNull();
  });

  test("messages over the rate are dropped and counted", async () => {
    const { a, lb } = await linked();
    const m = frame(encodeMessage({ kind: "get_payload", digest: new Uint8Array(32) }));
    const burst = Buffer.concat(Array.from({ length: peerBurstMessagesMax + 10 }, () => m));
    lb.send(new Uint8Array(burst));
    await flush();
    expect(a.got.length).toBeLessThan(peerBurstMessagesMax + 10);
    expect(await a.registry.getSingleMetricAsString("pc_p2p_drops_total")).toContain('reason="rate_limited"');
  });

  test("the first message must be hello", async () => {
    const a = manager(0);
    const [la, lb] = linkPair(keys[0]!, keys[1]!);
    a.mgr.attach(la);
    lb.send(frame(encodeMessage({ kind: "get_payload", digest: new Uint8Array(32) })));
    await flush();
    expect(a.mgr.info()).toEqual([]);
    expect(await a.registry.getSingleMetricAsString("pc_p2p_errors_total")).toContain("P2P_EXPECTED_HELLO");
  });

  test("a connection that never says hello is closed after the hello timeout", async () => {
    const a = manager(0, { helloTimeoutMs: 50 });
    const [la, lb] = linkPair(keys[0]!, keys[1]!);
    let closed = "";
    lb.onClose((r) => (closed = r));
    a.mgr.attach(la);
    await Bun.sleep(150);
    expect(closed).toBe("P2P_HELLO_TIMEOUT");
    expect(await a.registry.getSingleMetricAsString("pc_p2p_errors_total")).toContain("P2P_HELLO_TIMEOUT");
  });
});
