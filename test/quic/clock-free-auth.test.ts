// Peer authentication does not read a clock: a node whose clock reads 1970 (a board
// without a real-time clock or NTP) still authenticates its genesis-pinned peers, over
// real QUIC endpoints on loopback.
import { expect, test } from "bun:test";
import { QuicEndpoint, realClock, type Clock } from "../../src/net/quic/endpoint.ts";
import { equalBytes } from "../../src/crypto/bytes.ts";
import { clientIdentity, serverIdentity } from "./harness.ts";

const hex = (b: Uint8Array | null) => (b ? Buffer.from(b).toString("hex") : "none");
/** A clock one second after the Unix epoch that still advances (timers stay real). */
const clock1970: Clock = { ...realClock, nowMs: () => 1_000 + performance.now() };
/** A clock reading the wall time (whatever year this machine thinks it is). */
const clockWall: Clock = { ...realClock, nowMs: () => Date.now() };

test("a client whose clocks read 1970 authenticates a pinned server, and the server it", async () => {
  const realDateNow = Date.now;
  // Every wall-clock read in this process answers 1970 while the handshake runs.
  Date.now = () => 1_000;
  const serverSaw: Uint8Array[] = [];
  const server = await QuicEndpoint.listen(0, {
    identity: serverIdentity,
    clock: clockWall,
    verifyPeer: (pk) => equalBytes(pk, clientIdentity.publicKey), // pinned, as genesis pins the committee
    onConnection: (c) => {
      if (c.peerPublicKey) serverSaw.push(c.peerPublicKey);
      c.onData((sid, d, fin) => c.write(sid, d, fin));
    },
  });
  const client = await QuicEndpoint.client({ identity: clientIdentity, clock: clock1970, verifyPeer: (pk) => equalBytes(pk, serverIdentity.publicKey) });
  try {
    const conn = await client.connect("127.0.0.1", server.port);
    expect(hex(conn.peerPublicKey)).toBe(hex(serverIdentity.publicKey));
    const echoed = await new Promise<number>((resolve) => {
      const sid = conn.openStream();
      conn.onData((_s, d) => resolve(d[0]!));
      conn.write(sid, new Uint8Array([42]), true);
    });
    expect(echoed).toBe(42);
    expect(serverSaw.map(hex)).toEqual([hex(clientIdentity.publicKey)]);
    expect(new Date(Date.now()).getUTCFullYear()).toBe(1970); // the override really was in force
  } finally {
    Date.now = realDateNow;
    client.close();
    server.close();
  }
}, 30_000);

test("a key that genesis does not pin is still refused, whatever the clock", async () => {
  const server = await QuicEndpoint.listen(0, { identity: serverIdentity, clock: clock1970, verifyPeer: () => false, onConnection: () => {} });
  const client = await QuicEndpoint.client({ identity: clientIdentity, clock: clock1970, verifyPeer: (pk) => equalBytes(pk, serverIdentity.publicKey) });
  try {
    const refused = await client.connect("127.0.0.1", server.port, {}, 5_000).then(() => "connected", (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`);
    expect(refused).toStartWith("QUIC_HANDSHAKE_FAILED");
  } finally {
    client.close();
    server.close();
  }
}, 30_000);
