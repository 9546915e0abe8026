// Peer sessions over in-memory links: handshake rules, misbehavior, bans, rate limits.
import { describe, expect, test } from "bun:test";
import { PeerManager, banScore, peerBurstMessagesMax, type Peer } from "../../src/net/p2p/peers.ts";
import { linkPair } from "../../src/net/p2p/link.ts";
import { encodeMessage, frame, P2P_PROTOCOL_VERSION, type P2pMessage } from "../../src/net/p2p/messages.ts";
import { createP2pMetrics } from "../../src/net/p2p/metrics.ts";
import { Registry } from "prom-client";

const commitment = new Uint8Array(32).fill(1);
const keys = [0, 1, 2].map((i) => new Uint8Array(32).fill(10 + i));
const flush = () => new Promise((r) => setTimeout(r, 5));

function manager(me: number, opts: { commitment?: Uint8Array; now?: () => number; helloTimeoutMs?: number; onMessage?: (m: P2pMessage) => void } = {}) {
  const got: { peer: Peer; m: P2pMessage }[] = [];
  const registry = new Registry();
  const metrics = createP2pMetrics(registry);
  const mgr = new PeerManager({
    commitment: opts.commitment ?? commitment,
    myValidator: me,
    committee: keys,
    highestSeq: () => [me, -1, -1],
    onMessage: (peer, m) => {
      got.push({ peer, m });
      opts.onMessage?.(m);
    },
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
    a.mgr.broadcast({ kind: "get_payload", eventId: new Uint8Array(32) });
    await flush();
    expect(b.got.map((g) => g.m.kind)).toEqual(["get_payload"]);
  });

  test("a get_payload answered by its payload is timed (request latency histogram); an unrelated payload is not", async () => {
    let clock = 1_000;
    const a = manager(0, { now: () => clock });
    const b = manager(1, {
      now: () => clock,
      onMessage: (m) => {
        if (m.kind !== "get_payload") return;
        clock += 250; // b takes a quarter second to answer
        b.mgr.broadcast({ kind: "payload", eventId: m.eventId, payload: new Uint8Array(4), serveSignature: new Uint8Array(64) });
        b.mgr.broadcast({ kind: "payload", eventId: new Uint8Array(32).fill(9), payload: new Uint8Array(4), serveSignature: new Uint8Array(64) });
      },
    });
    const [la, lb] = linkPair(keys[0]!, keys[1]!);
    a.mgr.attach(la);
    b.mgr.attach(lb);
    await flush();
    a.mgr.broadcast({ kind: "get_payload", eventId: new Uint8Array(32).fill(3) });
    await flush();
    expect(a.got.map((g) => g.m.kind)).toEqual(["payload", "payload"]);
    const text = await a.registry.getSingleMetricAsString("pc_p2p_request_latency_seconds");
    expect(text).toContain('pc_p2p_request_latency_seconds_count{kind="get_payload"} 1');
    expect(text).toContain('pc_p2p_request_latency_seconds_sum{kind="get_payload"} 0.25');
    // In-memory links deliver at once: everything queued has left the outbox.
    expect(await a.registry.getSingleMetricAsString("pc_p2p_outbox_enqueued_total")).toMatch(/ 2$/);
    expect(await a.registry.getSingleMetricAsString("pc_p2p_outbox_dequeued_total")).toMatch(/ 2$/);
  });

  test("a get_events request is timed when the node reports the event served, once per id", async () => {
    let clock = 5_000;
    const a = manager(0, { now: () => clock });
    const b = manager(1, { now: () => clock });
    const [la, lb] = linkPair(keys[0]!, keys[1]!);
    a.mgr.attach(la);
    b.mgr.attach(lb);
    await flush();
    const peer = a.mgr.readyPeers()[0]!;
    const x = new Uint8Array(32).fill(1);
    a.mgr.broadcast({ kind: "get_events", ids: [x, new Uint8Array(32).fill(2)] });
    clock += 100;
    peer.noteServed(x);
    peer.noteServed(x); // served twice: one answer
    peer.noteServed(new Uint8Array(32).fill(3)); // never asked for
    const text = await a.registry.getSingleMetricAsString("pc_p2p_request_latency_seconds");
    expect(text).toContain('pc_p2p_request_latency_seconds_count{kind="get_events"} 1');
    expect(text).toContain('pc_p2p_request_latency_seconds_sum{kind="get_events"} 0.1');
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
    const m = frame(encodeMessage({ kind: "get_payload", eventId: new Uint8Array(32) }));
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
    lb.send(frame(encodeMessage({ kind: "get_payload", eventId: new Uint8Array(32) })));
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

  // Issue 11 item 5: an honest validator was banned for 10 minutes after a restart race.

  test("frames before hello from an authenticated committee key close the session once: no score, no ban, it reconnects", async () => {
    const a = manager(0);
    const [la, lb] = linkPair(keys[0]!, keys[1]!);
    let closed = "";
    lb.onClose((r) => (closed = r));
    a.mgr.attach(la);
    lb.send(chunk(4, getPayload)); // four frames in one read, as a racing session delivers them
    await flush();
    expect(closed).toBe("P2P_EXPECTED_HELLO");
    expect(await count(a.registry, "pc_p2p_errors_total", 'code="P2P_EXPECTED_HELLO"')).toBe(1);
    expect(await count(a.registry, "pc_p2p_bans_total")).toBe(0);
    expect(await count(a.registry, "pc_p2p_drops_total", 'reason="session_closed"')).toBe(3);
    // The same validator comes back with a proper hello and is connected.
    const b = manager(1);
    const [la2, lb2] = linkPair(keys[0]!, keys[1]!);
    expect(a.mgr.attach(la2)).not.toBeNull();
    b.mgr.attach(lb2);
    await flush();
    expect(a.mgr.info().map((p) => p.validator)).toEqual([1]);
  });

  test("frames before hello on an unauthenticated link: one penalty and a close, the rest of the batch unscored", async () => {
    const a = manager(0);
    const [la, lb] = linkPair(null, null);
    a.mgr.attach(la);
    lb.send(chunk(4, getPayload));
    await flush();
    expect(await count(a.registry, "pc_p2p_errors_total", 'code="P2P_EXPECTED_HELLO"')).toBe(1);
    expect(await count(a.registry, "pc_p2p_bans_total")).toBe(0);
  });

  test("restart race: frames still arriving on a replaced session are dropped, never scored; the new session stays", async () => {
    const a = manager(0);
    const [la1, lb1] = linkPair(keys[0]!, keys[1]!);
    const old = a.mgr.attach(la1)!;
    manager(1).mgr.attach(lb1);
    await flush();
    expect(old.ready).toBe(true);
    // Validator 1 restarts and connects again before the old connection timed out.
    const [la2, lb2] = linkPair(keys[0]!, keys[1]!);
    a.mgr.attach(la2);
    manager(1).mgr.attach(lb2);
    await flush();
    expect(await count(a.registry, "pc_p2p_errors_total", 'code="P2P_PEER_REPLACED"')).toBe(1);
    // Bytes the old connection had in flight reach its session after the replacement
    // (QUIC hands over every stream frame of a packet batch together).
    old.receive(chunk(4, getPayload));
    expect(await count(a.registry, "pc_p2p_errors_total", 'code="P2P_EXPECTED_HELLO"')).toBe(0);
    expect(await count(a.registry, "pc_p2p_bans_total")).toBe(0);
    expect(old.score).toBe(0);
    expect(a.mgr.info().map((p) => p.validator)).toEqual([1]);
    expect(a.got.filter((g) => g.peer === old && g.m.kind === "get_payload")).toEqual([]);
  });

  test("a handler that throws closes only that session (P2P_HANDLER_ERROR) and the rest of its batch is not processed", async () => {
    const a = manager(0, { onMessage: () => { throw new TypeError("handler bug"); } });
    const [la, lb] = linkPair(keys[0]!, keys[1]!);
    let closed = "";
    lb.onClose((r) => (closed = r));
    a.mgr.attach(la);
    lb.send(frame(encodeMessage({ kind: "hello", version: P2P_PROTOCOL_VERSION, commitment, validator: 1, highestSeq: [-1, -1, -1] })));
    await flush();
    lb.send(chunk(3, getPayload));
    await flush();
    expect(a.got.length).toBe(1);
    expect(closed).toBe("P2P_HANDLER_ERROR");
    expect(await count(a.registry, "pc_p2p_errors_total", 'code="P2P_HANDLER_ERROR"')).toBe(1);
    expect(await count(a.registry, "pc_p2p_bans_total")).toBe(0);
  });
});

const getPayload: P2pMessage = { kind: "get_payload", eventId: new Uint8Array(32) };

/** `n` framed copies of `m` in one buffer (one read from the link). */
const chunk = (n: number, m: P2pMessage) => new Uint8Array(Buffer.concat(Array.from({ length: n }, () => frame(encodeMessage(m)))));

/** The value of one metric series (0 when it was never set). */
async function count(registry: Registry, name: string, labels = ""): Promise<number> {
  const text = await registry.getSingleMetricAsString(name);
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const [series, value] = line.split(" ");
    if (series === name || (labels && series!.startsWith(`${name}{`) && series!.includes(labels))) return Number(value);
  }
  return 0;
}
