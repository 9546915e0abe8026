/**
 * A fresh server QUIC connection (src/net/quic/connection.ts) receiving a client
 * Initial whose plaintext frames are the input. Initial keys derive from the client's
 * DCID (RFC 9001 §5.2), so the fuzzer seals any frame payload the way a client would
 * and the connection processes it for real: CRYPTO reassembly into the TLS server,
 * ACK, PING, PADDING, CONNECTION_CLOSE, frames not allowed at this level. The client
 * whose Initial the corpus holds is a deterministic one (fixed randomness), so its
 * ClientHello and transport parameters match the CIDs used here.
 *
 * A connection may close with any transport error; a crash is an exception out of
 * receive()/send() or a close with INTERNAL_ERROR (an untyped exception inside).
 */
import { keyPairFromSeed } from "../../src/crypto/ed25519.ts";
import { Connection, type ConnectionOptions } from "../../src/net/quic/connection.ts";
import { TransportErrorCode, transportErrorName } from "../../src/net/quic/errors.ts";
import { initialSecrets } from "../../src/net/quic/initial-keys.ts";
import { PACKET_TYPE_INITIAL, parsePacketHeader, writeLongHeader } from "../../src/net/quic/packet-header.ts";
import { AEAD_TAG_BYTES, PacketKeys, TLS_AES_128_GCM_SHA256, openPacket, sealPacket } from "../../src/net/quic/packet-protection.ts";
import { Prng } from "../prng.ts";
import { FuzzOracleError, type FuzzTarget } from "../target.ts";

const CLIENT_RANDOM_SEED = 0xc0ffee;
const SERVER_RANDOM_SEED = 0x5e4e;
/** Client Initials travel in datagrams of at least this size (RFC 9000 §14.1). */
const INITIAL_DATAGRAM_BYTES = 1200;
const NOW_MS = 1_000;

const clientIdentity = keyPairFromSeed(new Uint8Array(32).fill(0x41));
const serverIdentity = keyPairFromSeed(new Uint8Array(32).fill(0x42));

function options(seed: number, identity: typeof clientIdentity, peer: Uint8Array): ConnectionOptions {
  const prng = new Prng(seed);
  return { identity, verifyPeer: (pk) => Buffer.compare(pk, peer) === 0, random: (n) => prng.bytes(n) };
}

/** The deterministic client: its first datagram, CIDs and that Initial's plaintext frames. */
export function recordedClientInitial(): { dcid: Uint8Array; scid: Uint8Array; pn: number; payload: Uint8Array } {
  const client = Connection.client(options(CLIENT_RANDOM_SEED, clientIdentity, serverIdentity.publicKey));
  const datagram = client.send(NOW_MS)[0]!;
  const h = parsePacketHeader(datagram, 0, 8);
  if (h.form !== "long") throw new Error("client's first datagram is not a long header packet");
  const keys = new PacketKeys(TLS_AES_128_GCM_SHA256, initialSecrets(h.dcid).client);
  const opened = openPacket(keys, datagram.subarray(h.start, h.end), h.pnOffset - h.start, -1);
  if (!opened) throw new Error("client's Initial does not open with the Initial keys");
  return { dcid: h.dcid.slice(), scid: h.scid.slice(), pn: opened.pn, payload: opened.payload };
}

let cids: { dcid: Uint8Array; scid: Uint8Array } | undefined;

class ConnectionClosed extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

export const QUIC_CONNECTION_TARGET: FuzzTarget = {
  name: "quic-server-initial",
  description: "a fresh server connection receiving a client Initial sealed around the input frames (first byte: packet number)",
  extension: "bin", maxBytes: 1100,
  dictionary: [0x00, 0x01, 0x02, 0x03, 0x06, 0x1c, 0x1d, 0x08, 0x1e].map((t) => Uint8Array.of(t)).concat([Uint8Array.of(0x06, 0x00, 0x40, 0x80), Uint8Array.of(0x02, 0x3f, 0x00, 0x00, 0x00)]),
  run(input) {
    cids ??= recordedClientInitial();
    const pn = input[0] ?? 0;
    const frames = input.subarray(1);
    const header = (payloadBytes: number) => writeLongHeader({ type: PACKET_TYPE_INITIAL, dcid: cids!.dcid, scid: cids!.scid, pnLength: 4, pn, protectedPayloadBytes: payloadBytes + AEAD_TAG_BYTES });
    // PADDING (zero bytes) after the frames brings the datagram to the Initial minimum.
    const padded = new Uint8Array(Math.max(frames.length, INITIAL_DATAGRAM_BYTES - header(INITIAL_DATAGRAM_BYTES).length - AEAD_TAG_BYTES));
    padded.set(frames);
    const keys = new PacketKeys(TLS_AES_128_GCM_SHA256, initialSecrets(cids.dcid).client);
    const datagram = sealPacket(keys, header(padded.length), 4, pn, padded);
    const server = Connection.server(options(SERVER_RANDOM_SEED, serverIdentity, clientIdentity.publicKey), cids.dcid, cids.scid);
    server.receive(datagram, NOW_MS);
    server.send(NOW_MS);
    server.onTimer(server.nextTimerMs());
    const closed = server.pollEvents().find((e) => e.type === "closed");
    if (closed && closed.type === "closed") {
      // The input's own CONNECTION_CLOSE carries any code: only the server's own close is judged.
      if (closed.remote) throw new ConnectionClosed("PEER_CLOSED");
      if (closed.errorCode === TransportErrorCode.INTERNAL_ERROR) throw new FuzzOracleError(`server closed with INTERNAL_ERROR: ${closed.reason}`);
      throw new ConnectionClosed(`QUIC_${transportErrorName(closed.errorCode) ?? `0x${closed.errorCode.toString(16)}`}`);
    }
  },
  rejection: (e) => (e instanceof ConnectionClosed ? e.code : undefined),
};
