/**
 * The attacker of bench/security.bench.ts, in its own process so its CPU and memory are
 * not the server's: sends `count` genuine QUIC client Initials (fresh connection each,
 * never continued) to 127.0.0.1:`port` in bursts of 20, then prints {"sent":n}.
 * Usage: bun bench/security-flood.ts PORT COUNT
 */
import { Connection } from "../src/net/quic/connection.ts";
import { certificateDer } from "../src/net/quic/tls/certificate.ts";
import { keyPairFromSeed } from "../src/crypto/ed25519.ts";

const port = Number(process.argv[2]);
const count = Number(process.argv[3]);
if (!Number.isInteger(port) || !Number.isInteger(count) || count < 1 || count > 1_000_000) {
  console.error("usage: bun bench/security-flood.ts PORT COUNT (1..1000000)");
  process.exit(2);
}
const identity = keyPairFromSeed(new Uint8Array(32).fill(71));
const certificate = certificateDer(identity);
const sock = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
let sent = 0;
while (sent < count) {
  for (let i = 0; i < 20 && sent < count; i++, sent++) sock.send(Connection.client({ identity, certificate, verifyPeer: () => true }).send(0)[0]!.slice(), port, "127.0.0.1");
  await Bun.sleep(1); // bursts the receiver's socket buffer holds
}
sock.close();
console.log(JSON.stringify({ sent }));
