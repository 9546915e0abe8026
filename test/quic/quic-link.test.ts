/** P2P sessions over real QUIC on loopback: two endpoints, hello handshake, messages both ways. */
import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { keyPairFromSeed } from "../../src/crypto/ed25519.ts";
import { PeerManager, type Peer } from "../../src/net/p2p/peers.ts";
import type { P2pMessage } from "../../src/net/p2p/messages.ts";
import { QuicEndpoint } from "../../src/net/quic/endpoint.ts";
import { connectLink, listenLinks, type QuicLink } from "../../src/net/p2p/quic-link.ts";
import { until } from "./harness.ts";

// Generous per-test bound: CI runs the suite on 2 shared cores.
setDefaultTimeout(30_000);

const ids = [0, 1, 2].map((i) => keyPairFromSeed(new Uint8Array(32).fill(40 + i)));
const committee = ids.map((k) => k.publicKey);
const commitment = new Uint8Array(32).fill(7);
const isCommittee = (pk: Uint8Array) => committee.some((k) => Buffer.compare(k, pk) === 0);

function manager(me: number) {
  const got: P2pMessage[] = [];
  const ready: Peer[] = [];
  const mgr = new PeerManager({
    commitment, myValidator: me, committee, highestSeq: () => [-1, -1, -1],
    onMessage: (_p, m) => got.push(m), onPeerReady: (p) => ready.push(p), now: () => performance.now(),
  });
  return { mgr, got, ready };
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
      b.mgr.broadcast({ kind: "get_payload", digest: new Uint8Array(32).fill(9) });
      await until(() => b.got.length === 50 && a.got.length === 1, "messages");
      b.got.forEach((m, i) => {
        expect(m.kind).toBe("txs");
        if (m.kind === "txs") {
          expect(m.txs[0]![0]).toBe(i);
          if (i % 10 === 0) expect(Buffer.compare(m.txs[1]!, big)).toBe(0);
        }
      });
      expect(a.got[0]!.kind).toBe("get_payload");
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
});
