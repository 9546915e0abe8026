/**
 * TLS 1.3 handshake messages as QUIC carries them (src/net/quic/tls): a server and a
 * client session each fed a scripted CRYPTO stream, and the certificate verifier.
 * Both sessions draw their randomness from fixed seeds, so a corpus script recorded
 * from a real handshake (fuzz/make-corpus.ts) completes it and mutations reach every
 * handshake state. Refusals are QuicError CRYPTO_ERROR (a TLS alert).
 */
import { keyPairFromSeed } from "../../src/crypto/ed25519.ts";
import { equalBytes } from "../../src/crypto/bytes.ts";
import { isQuicError } from "../../src/net/quic/errors.ts";
import { certificateDer, verifyCertificate, type Identity } from "../../src/net/quic/tls/certificate.ts";
import { LEVEL_APPLICATION, LEVEL_HANDSHAKE, LEVEL_INITIAL, TlsSession, type EncryptionLevel } from "../../src/net/quic/tls/handshake.ts";
import { defaultTransportParameters, encodeTransportParameters } from "../../src/net/quic/tls/transport-parameters.ts";
import { Prng } from "../prng.ts";
import { oracle, type FuzzTarget } from "../target.ts";

export const TLS_ALPN = "phantom/0";
export const tlsClientIdentity: Identity = keyPairFromSeed(new Uint8Array(32).fill(0x31));
export const tlsServerIdentity: Identity = keyPairFromSeed(new Uint8Array(32).fill(0x32));
const SERVER_RANDOM_SEED = 0x5e7e;
const CLIENT_RANDOM_SEED = 0xc11e;
const LEVELS: readonly EncryptionLevel[] = [LEVEL_INITIAL, LEVEL_HANDSHAKE, LEVEL_APPLICATION];

const transportParameters = encodeTransportParameters({ ...defaultTransportParameters(), initialMaxData: 1 << 20, initialMaxStreamsBidi: 16 });

/** A session of one side with fixed randomness, pinning the other side's key. */
export function scriptedSession(isClient: boolean, sent?: { level: EncryptionLevel; data: Uint8Array }[]): TlsSession {
  const own = isClient ? tlsClientIdentity : tlsServerIdentity;
  const peer = isClient ? tlsServerIdentity : tlsClientIdentity;
  const prng = new Prng(isClient ? CLIENT_RANDOM_SEED : SERVER_RANDOM_SEED);
  return new TlsSession(
    { isClient, identity: own, certificate: certificateDer(own), alpn: [TLS_ALPN], transportParameters, verifyPeer: (pk) => equalBytes(pk, peer.publicKey), random: (n) => prng.bytes(n) },
    { send: (level, data) => sent?.push({ level, data }), installKey: () => {} },
  );
}

/** A CRYPTO stream script: records of (level index u8, length u16 big-endian, bytes). */
export function encodeScript(records: readonly { level: EncryptionLevel; data: Uint8Array }[]): Uint8Array {
  const parts: number[] = [];
  for (const r of records) {
    parts.push(LEVELS.indexOf(r.level), r.data.length >> 8, r.data.length & 0xff, ...r.data);
  }
  return Uint8Array.from(parts);
}

/** Feeds a script to a session; a short last record gets what is left. */
function play(session: TlsSession, script: Uint8Array): void {
  let o = 0;
  while (o < script.length) {
    const level = LEVELS[script[o]! % LEVELS.length]!;
    const length = ((script[o + 1] ?? 0) << 8) | (script[o + 2] ?? 0);
    const data = script.subarray(o + 3, o + 3 + length);
    o += 3 + length;
    session.receive(level, data);
  }
}

const tlsRejection = (e: unknown): string | undefined => (isQuicError(e) && e.transportError === "CRYPTO_ERROR" ? `${e.code}_${e.wireCode - 0x100}` : undefined);

function handshakeTarget(isClient: boolean): FuzzTarget {
  const side = isClient ? "client" : "server";
  return {
    name: `tls-${side}`,
    description: `TLS 1.3 ${side} session fed the peer's CRYPTO stream (${isClient ? "ServerHello .. Finished" : "ClientHello, client Certificate .. Finished"})`,
    extension: "bin", maxBytes: 4096,
    dictionary: [1, 2, 8, 11, 13, 15, 20].map((t) => Uint8Array.of(t, 0, 0)).concat([Uint8Array.of(0x03, 0x03), Uint8Array.of(0x03, 0x04), Uint8Array.of(0x00, 0x1d), Uint8Array.of(0x08, 0x07), Uint8Array.of(0x00, 0x39), Uint8Array.of(0x13, 0x01)]),
    run(input) {
      const session = scriptedSession(isClient);
      if (isClient) session.start();
      play(session, input);
      // A finished handshake authenticated exactly the pinned key.
      if (session.complete) oracle(session.peerPublicKey !== null && equalBytes(session.peerPublicKey, (isClient ? tlsServerIdentity : tlsClientIdentity).publicKey), "handshake completed with an unpinned peer key");
    },
    rejection: tlsRejection,
  };
}

export const TLS_TARGETS: FuzzTarget[] = [
  handshakeTarget(false),
  handshakeTarget(true),
  {
    name: "tls-certificate",
    description: "peer certificate verifier (X.509 DER, Ed25519 self-signature)",
    extension: "bin", maxBytes: 2048,
    dictionary: [Uint8Array.of(0x30, 0x82), Uint8Array.of(0x06, 0x03, 0x2b, 0x65, 0x70), Uint8Array.of(0x03, 0x21, 0x00), Uint8Array.of(0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01)],
    run(input) {
      const key = verifyCertificate(input);
      oracle(key.length === 32, `verified certificate yields a ${key.length}-byte key`);
    },
    rejection: tlsRejection,
  },
];
