/**
 * The node's QUIC transport reports into the node's registry and log: two committee
 * members link up on loopback (handshakes counted on both), and a stranger's key is
 * refused, counted and logged as `quic_peer_rejected`.
 */
import { describe, expect, test } from "bun:test";
import { keyPairFromSeed } from "../../src/crypto/ed25519.ts";
import { createRegistry } from "../../src/metrics/registry.ts";
import { quicTransport } from "../../src/node/quic-transport.ts";
import type { Link } from "../../src/net/p2p/link.ts";

const alice = keyPairFromSeed(new Uint8Array(32).fill(101));
const bob = keyPairFromSeed(new Uint8Array(32).fill(102));
const stranger = keyPairFromSeed(new Uint8Array(32).fill(103));
const committee = [alice.publicKey, bob.publicKey];

async function counter(registry: ReturnType<typeof createRegistry>, name: string, labels: Record<string, string>): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, l]) => (x.labels as Record<string, unknown>)[k] === l));
  return v?.value ?? 0;
}

describe("node QUIC transport metrics", () => {
  test("handshakes land in the node's registry; a stranger is refused, counted and logged", async () => {
    const aliceRegistry = createRegistry({ validator: "0" });
    const bobRegistry = createRegistry({ validator: "1" });
    const aliceLog: Record<string, unknown>[] = [];
    const a = quicTransport({ listenAddr: "127.0.0.1:0", identity: alice, committee, registry: aliceRegistry, log: (l) => aliceLog.push(l) });
    const b = quicTransport({ listenAddr: "127.0.0.1:0", identity: bob, committee, registry: bobRegistry });
    const s = quicTransport({ listenAddr: "127.0.0.1:0", identity: stranger, committee: [...committee, stranger.publicKey] });
    const accepted: Link[] = [];
    try {
      await a.listen((link) => accepted.push(link));
      await b.listen(() => {});
      await s.listen(() => {});
      const port = a.localPort();
      const link = await b.dial(`127.0.0.1:${port}`, alice.publicKey);
      expect(link.peerPublicKey).toEqual(alice.publicKey);
      expect(await counter(bobRegistry, "pc_quic_handshakes_completed_total", { role: "client" })).toBe(1);
      await expect(s.dial(`127.0.0.1:${port}`, alice.publicKey)).rejects.toThrow();
      expect(await counter(aliceRegistry, "pc_quic_handshakes_completed_total", { role: "server" })).toBe(1);
      expect(await counter(aliceRegistry, "pc_quic_peers_rejected_total", { role: "server" })).toBe(1);
      expect(aliceLog.filter((l) => l.type === "quic_peer_rejected")).toEqual([
        expect.objectContaining({ role: "server", publicKey: Buffer.from(stranger.publicKey).toString("hex") }),
      ]);
    } finally {
      await s.close();
      await b.close();
      await a.close();
    }
  }, 30_000);
});
