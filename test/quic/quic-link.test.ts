/** P2P sessions over real QUIC on loopback: two endpoints, hello handshake, messages both ways. */
import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { keyPairFromSeed } from "../../src/crypto/ed25519.ts";
import { PeerManager, type Peer } from "../../src/net/p2p/peers.ts";
import { createP2pMetrics } from "../../src/net/p2p/metrics.ts";
import { Registry } from "prom-client";
import type { P2pMessage } from "../../src/net/p2p/messages.ts";
import { QuicEndpoint } from "../../src/net/quic/endpoint.ts";
import { connectLink, listenLinks, type QuicLink } from "../../src/net/p2p/quic-link.ts";
import { until } from "./harness.ts";
import { join } from "node:path";

// Generous per-test bound: CI runs the suite on 2 shared cores.
setDefaultTimeout(30_000);

const ids = [0, 1, 2].map((i) => keyPairFromSeed(new Uint8Array(32).fill(40 + i)));
const committee = ids.map((k) => k.publicKey);
const commitment = new Uint8Array(32).fill(7);
const isCommittee = (pk: Uint8Array) => committee.some((k) => Buffer.compare(k, pk) === 0);

function manager(me: number) {
  const got: P2pMessage[] = [];
  const ready: Peer[] = [];
  const logs: Record<string, unknown>[] = [];
  const registry = new Registry();
  const mgr = new PeerManager({
    commitment, myValidator: me, committee, highestSeq: () => [-1, -1, -1],
    onMessage: (_p, m) => got.push(m), onPeerReady: (p) => ready.push(p), now: () => performance.now(),
    metrics: createP2pMetrics(registry), log: (l) => logs.push(l),
  });
  return { mgr, got, ready, registry, logs };
}

describe("QUIC P2P link", () => {
  test("two nodes complete the P2P hello and exchange frames over one stream", async () => {
    const a = manager(0);
    const b = manager(1);
    const serverLinks: QuicLink[] = [];
    const server = await listenLinks(0, { identity: ids[1]!, verifyPeer: isCommittee }, (link) => {
      serverLinks.push(link);
      b.mgr.attach(link);
    });
    const client = await QuicEndpoint.client({ identity: ids[0]!, verifyPeer: isCommittee });
    try {
      const link = await connectLink(client, "127.0.0.1", server.port);
      expect(Buffer.compare(link.peerPublicKey!, ids[1]!.publicKey)).toBe(0);
      a.mgr.attach(link);
      await until(() => a.ready.length === 1 && b.ready.length === 1, "both peers ready");
      expect(Buffer.compare(serverLinks[0]!.peerPublicKey!, ids[0]!.publicKey)).toBe(0);
      expect(a.ready[0]!.validator).toBe(1);
      expect(b.ready[0]!.validator).toBe(0);
      // Many messages, including large ones, arrive complete and in order.
      const big = new Uint8Array(60_000).map((_, i) => i & 0xff);
      for (let i = 0; i < 50; i++) a.mgr.broadcast({ kind: "txs", txs: [new Uint8Array([i]), i % 10 === 0 ? big : new Uint8Array(3)] });
      b.mgr.broadcast({ kind: "get_payload", eventId: new Uint8Array(32).fill(9) });
      await until(() => b.got.length === 50 && a.got.length === 1, "messages");
      b.got.forEach((m, i) => {
        expect(m.kind).toBe("txs");
        if (m.kind === "txs") {
          expect(m.txs[0]![0]).toBe(i);
          if (i % 10 === 0) expect(Buffer.compare(m.txs[1]!, big)).toBe(0);
        }
      });
      expect(a.got[0]!.kind).toBe("get_payload");
      // Outbox: hello + 50 queued; each leaves once b acknowledged its last byte (bounded wait).
      let text = "";
      for (let i = 0; i < 500; i++) {
        text = await a.registry.metrics();
        if (/^pc_p2p_outbox_dequeued_total 51$/m.test(text)) break;
        await Bun.sleep(10);
      }
      expect(text).toMatch(/^pc_p2p_outbox_enqueued_total 51$/m);
      expect(text).toMatch(/^pc_p2p_outbox_dequeued_total 51$/m);
      // Per-peer RTT samples from the QUIC connection, labelled by the peer's validator index.
      expect(text).toMatch(/^pc_p2p_peer_rtt_seconds_count\{validator="1"\} [1-9]\d*$/m);
      // Closing one side closes the other with the reason.
      const closed = new Promise<string>((r) => serverLinks[0]!.onClose(r));
      link.close("bye");
      expect(await closed).toBe("bye");
    } finally {
      client.close();
      server.close();
    }
  });

  test("a node outside the committee is refused during the TLS handshake", async () => {
    const outsider = keyPairFromSeed(new Uint8Array(32).fill(99));
    let links = 0;
    const server = await listenLinks(0, { identity: ids[1]!, verifyPeer: isCommittee }, () => links++);
    const client = await QuicEndpoint.client({ identity: outsider, verifyPeer: isCommittee });
    try {
      await expect(connectLink(client, "127.0.0.1", server.port)).rejects.toThrow(/closed during handshake/);
      expect(links).toBe(0);
      await Bun.sleep(20);
      expect(server.stats.connectionErrors.CRYPTO_ERROR).toBe(1);
    } finally {
      client.close();
      server.close();
    }
  });

  test("restart race: a validator reconnects while its old session still streams frames; it is never banned", async () => {
    const b = manager(1);
    const server = await listenLinks(0, { identity: ids[1]!, verifyPeer: isCommittee }, (link) => b.mgr.attach(link));
    const endpoints: QuicEndpoint[] = [];
    const rounds = 4; // each round is one restart; the race is hit in some of them
    try {
      let previous: ReturnType<typeof manager> | null = null;
      for (let round = 0; round <= rounds; round++) {
        // The old process (if any) keeps streaming while validator 0 "restarts" and dials again.
        let streaming = previous !== null;
        const from = previous;
        const stream = (async () => {
          for (let i = 0; streaming && from && i < 5_000; i++) {
            from.mgr.broadcast({ kind: "txs", txs: [new Uint8Array(200).fill(i & 0xff)] });
            if (i % 20 === 0) await Bun.sleep(1);
          }
        })();
        if (previous) await Bun.sleep(20);
        const endpoint = await QuicEndpoint.client({ identity: ids[0]!, verifyPeer: isCommittee });
        endpoints.push(endpoint);
        const current = manager(0);
        current.mgr.attach(await connectLink(endpoint, "127.0.0.1", server.port));
        await until(() => b.ready.length === round + 1, `session ${round} ready`);
        await Bun.sleep(50);
        streaming = false;
        await stream;
        previous = current;
      }
      await until(() => b.mgr.info().length === 1, "one session left");
      const errors = await b.registry.getSingleMetricAsString("pc_p2p_errors_total");
      expect(errors).toContain(`code="P2P_PEER_REPLACED"} ${rounds}`);
      expect(errors).not.toContain("P2P_EXPECTED_HELLO");
      expect(await b.registry.getSingleMetricAsString("pc_p2p_bans_total")).toMatch(/pc_p2p_bans_total 0/);
      expect(b.mgr.info().map((p) => p.validator)).toEqual([0]);
      expect(b.mgr.info()[0]!.score).toBe(0);
    } finally {
      for (const e of endpoints) e.close();
      server.close();
    }
  });

  test("a peer process killed with SIGKILL is logged as peer_dropped once the QUIC idle timeout runs out", async () => {
    const b = manager(1);
    const idleTimeoutMs = 1_500; // short for the test; the node uses peerIdleTimeoutMs
    const server = await listenLinks(0, { identity: ids[1]!, verifyPeer: isCommittee, idleTimeoutMs, keepAliveMs: 400 }, (link) => b.mgr.attach(link));
    const child = Bun.spawn([process.execPath, join(import.meta.dir, "fixtures", "peer-process.ts"), String(server.port), "0", String(idleTimeoutMs)], { stdout: "pipe", stderr: "inherit" });
    try {
      const reader = child.stdout.getReader();
      let out = "";
      for (let i = 0; i < 1_000 && !out.includes("ready"); i++) {
        const { value, done } = await reader.read();
        if (done) break;
        out += new TextDecoder().decode(value);
      }
      expect(out).toContain("ready");
      await until(() => b.mgr.isConnected(0), "peer 0 connected");
      child.kill("SIGKILL"); // no CONNECTION_CLOSE: only the idle timeout can tell
      await until(() => b.logs.some((l) => l.type === "peer_dropped"), "peer_dropped logged", 20_000);
      const dropped = b.logs.find((l) => l.type === "peer_dropped")!;
      expect(dropped).toMatchObject({ code: "P2P_LINK_CLOSED", reason: "idle timeout", validator: 0 });
      expect(b.mgr.isConnected(0)).toBe(false);
      expect(await b.registry.getSingleMetricAsString("pc_p2p_errors_total")).toContain('code="P2P_LINK_CLOSED"} 1');
      expect(await b.registry.getSingleMetricAsString("pc_p2p_peers")).toMatch(/pc_p2p_peers 0/);
    } finally {
      child.kill("SIGKILL");
      server.close();
    }
  });
});
