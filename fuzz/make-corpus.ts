/**
 * `bun run fuzz:corpus`: writes the seed corpus of every target (fuzz/corpus/<target>/)
 * from the real encoders: protocol objects sampled with fixed seeds, P2P messages, QUIC
 * packets sealed with real Initial keys, a recorded TLS handshake, RPC requests and the
 * TOML files the node ships. Files named `regress-*` (crash regressions) are kept.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { Writer } from "../src/codec/index.ts";
import {
  encodeEventHeader, encodeSignedEvent, encodeMicroTx, encodeMintTx, encodeEvidence, encodeAnchorPayload, encodeLock, writeWitness,
  signEvent, EMPTY_PAYLOAD_BYTES, type SignedEvent, type Witness,
} from "../src/types/index.ts";
import { encodeHeadersFile } from "../src/consensus/headers-file.ts";
import { keyPairFromSeed } from "../src/crypto/ed25519.ts";
import { blake3_32 } from "../src/crypto/hash.ts";
import { toHex } from "../src/crypto/bytes.ts";
import { encodeMessage, frame, P2P_PROTOCOL_VERSION, type P2pMessage } from "../src/net/p2p/messages.ts";
import { parseFrames, serializeFrames, type Frame } from "../src/net/quic/frames.ts";
import { initialSecrets } from "../src/net/quic/initial-keys.ts";
import { PACKET_TYPE_HANDSHAKE, PACKET_TYPE_INITIAL, writeLongHeader, writeRetry, writeShortHeader, writeVersionNegotiation } from "../src/net/quic/packet-header.ts";
import { PacketKeys, TLS_AES_128_GCM_SHA256, sealPacket } from "../src/net/quic/packet-protection.ts";
import { defaultTransportParameters, encodeTransportParameters } from "../src/net/quic/tls/transport-parameters.ts";
import { certificateDer } from "../src/net/quic/tls/certificate.ts";
import { LEVEL_INITIAL, type EncryptionLevel } from "../src/net/quic/tls/handshake.ts";
import { createGenesis } from "../src/genesis/create.ts";
import { accountFromSeed } from "../src/wallet/keys.ts";
import { eventHeaderArb, signedEventArb, lockArb, witnessArb, microTxArb, mintTxArb, evidenceArb, anchorPayloadArb } from "../test/types/arbitraries.ts";
import { frameListArb } from "../test/quic/frames-arbitraries.ts";
import { CORPUS_DIR } from "./engine.ts";
import { encodeScript, scriptedSession, tlsClientIdentity, tlsServerIdentity } from "./targets/tls.ts";
import { DEVNET_K, DEVNET_LABEL } from "./targets/devnet.ts";
import { FUZZ_PEER } from "./targets/p2p-node.ts";
import { recordedClientInitial } from "./targets/quic-connection.ts";
import { parseGenesis } from "../src/genesis/genesis.ts";
import { SHARD_TARGETS, shardCorpusEntries } from "./targets/shard.ts";
import { decodeImportClaim } from "../src/ledger/cross-shard.ts";

const SAMPLE_SEED = 0xc0b5;
/** Entries above this size are skipped: the corpus stays small (the whole of it < 1 MB). */
const ENTRY_BYTES_MAX = 4096;
const REPO = join(import.meta.dir, "..");

const written: Record<string, number> = {};

function put(target: string, name: string, bytes: Uint8Array | string): void {
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  if (data.length > ENTRY_BYTES_MAX) return;
  writeFileSync(join(CORPUS_DIR, target, name), data);
  written[target] = (written[target] ?? 0) + 1;
}

function reset(target: string): void {
  const dir = join(CORPUS_DIR, target);
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) if (!f.startsWith("regress-")) rmSync(join(dir, f));
}

function samples<T>(arb: fc.Arbitrary<T>, n: number, seed: number): T[] {
  return fc.sample(arb, { seed, numRuns: n });
}

const pad = (i: number): string => String(i).padStart(2, "0");
const withByte = (first: number, rest: Uint8Array): Uint8Array => Uint8Array.of(first, ...rest);

function codecCorpus(): void {
  const encodeWitness = (w: Witness): Uint8Array => {
    const writer = new Writer(64);
    writeWitness(writer, w);
    return writer.finish();
  };
  const sets: [string, fc.Arbitrary<unknown>, (v: never) => Uint8Array][] = [
    ["event-header", eventHeaderArb, encodeEventHeader],
    ["signed-event", signedEventArb, encodeSignedEvent],
    ["micro-tx", microTxArb, encodeMicroTx],
    ["mint-tx", mintTxArb, encodeMintTx],
    ["evidence", evidenceArb, encodeEvidence],
    ["anchor-payload", anchorPayloadArb, encodeAnchorPayload],
    ["lock", lockArb, encodeLock],
    ["witness", witnessArb, encodeWitness],
  ];
  for (const [i, [target, arb, encode]] of sets.entries()) {
    reset(target);
    samples(arb, 8, SAMPLE_SEED + i).forEach((v, j) => put(target, `sample-${pad(j)}.bin`, encode(v as never)));
  }
  // A really signed event (a creator's first, no parents) and the empty payload.
  const key = keyPairFromSeed(new Uint8Array(32).fill(7));
  const first = signEvent({ shard: 0, creator: 0, seq: 0, parents: [], parentRounds: [], lamport: 0, payloadDigest: blake3_32(EMPTY_PAYLOAD_BYTES) }, key.secretKey);
  put("signed-event", "signed-first.bin", encodeSignedEvent(first));
  put("event-header", "first.bin", encodeEventHeader(first.header));
  put("anchor-payload", "empty.bin", EMPTY_PAYLOAD_BYTES);

  // headers.bin: two creators, each event's parents earlier in the file.
  reset("headers-file");
  const keys = [keyPairFromSeed(new Uint8Array(32).fill(8)), keyPairFromSeed(new Uint8Array(32).fill(9))];
  const digest = blake3_32(EMPTY_PAYLOAD_BYTES);
  const events: SignedEvent[] = [];
  const add = (creator: number, seq: number, parents: SignedEvent[]) => {
    const lamport = parents.length ? 1 + Math.max(...parents.map((p) => p.header.lamport)) : 0;
    events.push(signEvent({ shard: 0, creator, seq, parents: parents.map((p) => p.id), parentRounds: parents.map(() => 0), lamport, payloadDigest: digest }, keys[creator]!.secretKey));
  };
  add(0, 0, []);
  add(1, 0, []);
  add(0, 1, [events[0]!, events[1]!]);
  add(1, 1, [events[1]!, events[2]!]);
  add(0, 2, [events[2]!, events[3]!]);
  put("headers-file", "two-creators.bin", encodeHeadersFile(events));
  put("headers-file", "one-event.bin", encodeHeadersFile(events.slice(0, 1)));
  put("headers-file", "empty.bin", encodeHeadersFile([]));
}

function p2pCorpus(): void {
  reset("p2p-message");
  reset("p2p-stream");
  const events = samples(signedEventArb, 3, SAMPLE_SEED + 20).map(encodeSignedEvent);
  const payloads = samples(anchorPayloadArb, 3, SAMPLE_SEED + 21).map(encodeAnchorPayload).filter((p) => p.length < 1024);
  const txs = samples(microTxArb, 3, SAMPLE_SEED + 22).map(encodeMicroTx);
  const digest = blake3_32(EMPTY_PAYLOAD_BYTES);
  const messages: P2pMessage[] = [
    { kind: "hello", version: P2P_PROTOCOL_VERSION, commitment: blake3_32(new Uint8Array(32)), validator: 2, highestSeq: [-1, 0, 5, 2 ** 40] },
    { kind: "events", items: events.map((event, i) => ({ event, payload: payloads[i % payloads.length] ?? EMPTY_PAYLOAD_BYTES, serveSignature: new Uint8Array(64).fill(i) })) },
    { kind: "sync_request", highestSeq: [3, -1, 7] },
    { kind: "txs", txs },
    { kind: "get_payload", eventId: digest },
    { kind: "get_events", ids: events.map((e) => blake3_32(e)) },
    { kind: "payload", eventId: digest, payload: EMPTY_PAYLOAD_BYTES, serveSignature: new Uint8Array(64) },
    { kind: "txs_held", txids: events.map((e) => blake3_32(e)) },
    { kind: "sync_end", more: true },
    { kind: "history_pruned", prunedSeqs: [41, -1, 7, 0] },
  ];
  const encoded = messages.map(encodeMessage);
  encoded.forEach((m, i) => put("p2p-message", `${pad(i)}-${messages[i]!.kind}.bin`, m));
  // Streams: chunk size byte, then frames back to back.
  const stream = encoded.filter((m) => m.length < 200).flatMap((m) => [...frame(m)]);
  put("p2p-stream", "all-chunk1.bin", Uint8Array.of(0, ...stream));
  put("p2p-stream", "all-chunk200.bin", Uint8Array.of(199, ...stream));
  put("p2p-stream", "hello-events-chunk7.bin", Uint8Array.of(6, ...frame(encoded[0]!), ...frame(encoded[1]!)));
}

/** The recorded handshake: what each side sent, in order. */
function recordHandshake(): { client: { level: EncryptionLevel; data: Uint8Array }[]; server: { level: EncryptionLevel; data: Uint8Array }[] } {
  const fromClient: { level: EncryptionLevel; data: Uint8Array }[] = [];
  const fromServer: { level: EncryptionLevel; data: Uint8Array }[] = [];
  const client = scriptedSession(true, fromClient);
  const server = scriptedSession(false, fromServer);
  client.start();
  let c = 0;
  let s = 0;
  for (let rounds = 0; rounds < 10 && (c < fromClient.length || s < fromServer.length); rounds++) {
    while (c < fromClient.length) server.receive(fromClient[c]!.level, fromClient[c++]!.data);
    while (s < fromServer.length) client.receive(fromServer[s]!.level, fromServer[s++]!.data);
  }
  if (!client.complete || !server.complete) throw new Error("recorded handshake did not complete");
  return { client: fromClient, server: fromServer };
}

function quicAndTlsCorpus(): void {
  for (const t of ["quic-header", "quic-frames", "quic-transport-params", "tls-server", "tls-client", "tls-certificate"]) reset(t);
  const hs = recordHandshake();
  put("tls-server", "client-flight.bin", encodeScript(hs.client));
  put("tls-server", "client-hello.bin", encodeScript(hs.client.filter((r) => r.level === LEVEL_INITIAL)));
  put("tls-client", "server-flight.bin", encodeScript(hs.server));
  put("tls-client", "server-hello.bin", encodeScript(hs.server.filter((r) => r.level === LEVEL_INITIAL)));
  // One record per message, joined into one record per level (CRYPTO data arrives in any split).
  const joined = (records: { level: EncryptionLevel; data: Uint8Array }[]) => {
    const levels = [...new Set(records.map((r) => r.level))];
    return encodeScript(levels.map((level) => ({ level, data: Uint8Array.from(records.filter((r) => r.level === level).flatMap((r) => [...r.data])) })));
  };
  put("tls-server", "client-flight-joined.bin", joined(hs.client));
  put("tls-client", "server-flight-joined.bin", joined(hs.server));
  put("tls-certificate", "client.der", certificateDer(tlsClientIdentity));
  put("tls-certificate", "server.der", certificateDer(tlsServerIdentity));

  // Transport parameters as each side sends them (low bit of the first byte: from a server).
  const tp = defaultTransportParameters();
  put("quic-transport-params", "client-defaults.bin", withByte(0, encodeTransportParameters(tp)));
  put("quic-transport-params", "client-phantom.bin", withByte(0, encodeTransportParameters({ ...tp, initialMaxData: 16 << 20, initialMaxStreamDataBidiLocal: 8 << 20, initialMaxStreamDataBidiRemote: 8 << 20, initialMaxStreamsBidi: 100, maxIdleTimeoutMs: 30_000, maxDatagramFrameSize: 1200, initialSourceConnectionId: new Uint8Array(8).fill(1) })));
  put("quic-transport-params", "server-full.bin", withByte(1, encodeTransportParameters({ ...tp, originalDestinationConnectionId: new Uint8Array(8).fill(2), statelessResetToken: new Uint8Array(16).fill(3), retrySourceConnectionId: new Uint8Array(8).fill(4), initialSourceConnectionId: new Uint8Array(8).fill(5), disableActiveMigration: true, activeConnectionIdLimit: 4, ackDelayExponent: 10, maxAckDelayMs: 100, maxUdpPayloadSize: 1452 })));

  // Frame payloads: first byte = packet type (0 initial, 1 handshake, 2 0-RTT, 3 1-RTT).
  samples(frameListArb, 10, SAMPLE_SEED + 30).forEach((frames, i) => put("quic-frames", `1rtt-${pad(i)}.bin`, withByte(3, serializeFrames(frames))));
  const initialFrames: Frame[] = [
    { kind: "ack", ackDelay: 10, ranges: [{ smallest: 5, largest: 9 }, { smallest: 0, largest: 2 }] },
    { kind: "crypto", offset: 0, data: hs.client[0]!.data.subarray(0, 64) },
    { kind: "ping" },
    { kind: "padding", length: 20 },
  ];
  put("quic-frames", "initial.bin", withByte(0, serializeFrames(initialFrames)));
  put("quic-frames", "handshake-close.bin", withByte(1, serializeFrames([{ kind: "connection_close", application: false, errorCode: 0x10a, frameType: 6, reason: new TextEncoder().encode("bad") }])));

  // Datagrams: first byte = the receiver's short-header DCID length (8 in Phantom).
  const dcid = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  const scid = Uint8Array.from([9, 10, 11, 12, 13, 14, 15, 16]);
  const clientHello = hs.client[0]!.data;
  const initialPayload = serializeFrames([{ kind: "crypto", offset: 0, data: clientHello }, { kind: "padding", length: 1200 - clientHello.length - 80 }]);
  const keys = new PacketKeys(TLS_AES_128_GCM_SHA256, initialSecrets(dcid).client);
  const initialHeader = writeLongHeader({ type: PACKET_TYPE_INITIAL, dcid, scid, pnLength: 2, pn: 0, protectedPayloadBytes: initialPayload.length + 16 });
  const initial = sealPacket(keys, initialHeader, 2, 0, initialPayload);
  put("quic-header", "client-initial.bin", withByte(8, initial));
  const smallPayload = serializeFrames([{ kind: "ack", ackDelay: 0, ranges: [{ smallest: 0, largest: 0 }] }, { kind: "padding", length: 30 }]);
  const handshakeHeader = writeLongHeader({ type: PACKET_TYPE_HANDSHAKE, dcid: scid, scid: dcid, pnLength: 1, pn: 0, protectedPayloadBytes: smallPayload.length + 16 });
  const handshake = Uint8Array.from([...handshakeHeader, ...smallPayload, ...new Uint8Array(16)]);
  const smallInitialHeader = writeLongHeader({ type: PACKET_TYPE_INITIAL, dcid: scid, scid: dcid, token: Uint8Array.of(7, 7, 7), pnLength: 1, pn: 3, protectedPayloadBytes: smallPayload.length + 16 });
  const smallInitial = sealPacket(new PacketKeys(TLS_AES_128_GCM_SHA256, initialSecrets(scid).server), smallInitialHeader, 1, 3, smallPayload);
  put("quic-header", "coalesced-initial-handshake.bin", withByte(8, Uint8Array.from([...smallInitial, ...handshake])));
  put("quic-header", "short.bin", withByte(8, Uint8Array.from([...writeShortHeader(dcid, 0, 2, 1234), ...new Uint8Array(40).fill(0xaa)])));
  put("quic-header", "version-negotiation.bin", withByte(8, writeVersionNegotiation(dcid, scid, [1, 0x6b3343cf], 0x2a)));
  put("quic-header", "retry.bin", withByte(8, writeRetry(dcid, scid, Uint8Array.from([21, 22, 23, 24, 25, 26, 27, 28]), new Uint8Array(24).fill(9))));
  // A server connection's view: the deterministic client's Initial frames (first byte: packet number).
  reset("quic-server-initial");
  const recorded = recordedClientInitial();
  const frames = parseFrames(recorded.payload, "initial").filter((f) => f.kind !== "padding");
  put("quic-server-initial", "client-hello.bin", withByte(recorded.pn, serializeFrames(frames)));
  put("quic-server-initial", "client-hello-ping-ack.bin", withByte(1, serializeFrames([{ kind: "ping" }, ...frames, { kind: "ack", ackDelay: 0, ranges: [{ smallest: 0, largest: 0 }] }])));
  const crypto = frames.find((f) => f.kind === "crypto");
  if (crypto?.kind === "crypto") {
    const half = crypto.data.length >> 1;
    put("quic-server-initial", "client-hello-split.bin", withByte(2, serializeFrames([{ kind: "crypto", offset: half, data: crypto.data.subarray(half) }, { kind: "crypto", offset: 0, data: crypto.data.subarray(0, half) }])));
  }
  put("quic-server-initial", "close.bin", withByte(0, serializeFrames([{ kind: "connection_close", application: false, errorCode: 0x0a, frameType: 0, reason: new TextEncoder().encode("bye") }])));
  const unknownVersion = Uint8Array.from(initial);
  unknownVersion[4] = 2;
  put("quic-header", "unknown-version.bin", withByte(8, unknownVersion.subarray(0, 64)));
}

/** Connection streams into the devnet's validator 0, speaking as validator 1 (its real key). */
function p2pNodeCorpus(): void {
  reset("p2p-node");
  const created = createGenesis({ k: DEVNET_K, devnetLabel: DEVNET_LABEL, initialTargetBits: 8 });
  const genesis = parseGenesis(created.toml);
  const key = keyPairFromSeed(created.seeds[FUZZ_PEER]!);
  const digest = blake3_32(EMPTY_PAYLOAD_BYTES);
  const own = (seq: number, parents: SignedEvent[]) =>
    signEvent({ shard: 0, creator: FUZZ_PEER, seq, parents: parents.map((p) => p.id), parentRounds: parents.map(() => 0), lamport: parents.length ? 1 + Math.max(...parents.map((p) => p.header.lamport)) : 0, payloadDigest: digest }, key.secretKey);
  const first = own(0, []);
  const second = own(1, [first]);
  const hello: P2pMessage = { kind: "hello", version: P2P_PROTOCOL_VERSION, commitment: genesis.commitment, validator: FUZZ_PEER, highestSeq: [-1, -1, -1, -1] };
  const framed = (...ms: P2pMessage[]) => ms.flatMap((m) => [...frame(encodeMessage(m))]);
  const streams: [string, number[]][] = [
    ["hello", framed(hello)],
    ["hello-sync", framed(hello, { kind: "sync_request", highestSeq: [-1, -1, -1, -1] })],
    ["hello-events", framed(hello, { kind: "events", items: [first, second].map((e) => ({ event: encodeSignedEvent(e), payload: EMPTY_PAYLOAD_BYTES, serveSignature: new Uint8Array(64) })) })],
    ["hello-txs", framed(hello, { kind: "txs", txs: samples(microTxArb, 2, SAMPLE_SEED + 50).map(encodeMicroTx) })],
    ["hello-fetches", framed(hello, { kind: "get_payload", eventId: first.id }, { kind: "get_events", ids: [first.id, new Uint8Array(32)] }, { kind: "payload", eventId: first.id, payload: EMPTY_PAYLOAD_BYTES, serveSignature: new Uint8Array(64) })],
  ];
  for (const [name, bytes] of streams) {
    put("p2p-node", `${name}.bin`, Uint8Array.of(255, ...bytes));
    put("p2p-node", `${name}-chunk17.bin`, Uint8Array.of(1, ...bytes));
  }
}

function rpcCorpus(): void {
  reset("rpc");
  const address = accountFromSeed(new Uint8Array(32).fill(1)).address;
  const tx = toHex(encodeMicroTx(samples(microTxArb, 1, SAMPLE_SEED + 40)[0]!));
  const req = (method: string, params?: unknown, id: unknown = 1) => JSON.stringify({ jsonrpc: "2.0", id, method, ...(params === undefined ? {} : { params }) });
  const bodies: [string, string][] = [
    ["status", req("phantom_status")],
    ["peers", req("peers_list", {})],
    ["anchors", req("chain_anchors", { limit: 5 })],
    ["anchors-string", req("chain_anchors", { limit: "200" })],
    ["anchor", req("chain_anchor", { index: "0" })],
    ["anchor-number", req("chain_anchor", { index: 1 })],
    ["lookup", req("chain_lookup", { id: "11".repeat(32) })],
    ["address", req("address_get", { address })],
    ["tx-submit", req("tx_submit", { tx })],
    ["tx-submit-list", req("tx_submit", { txs: [tx, "00"] })],
    ["tx-status", req("tx_status", { txid: "22".repeat(32) })],
    ["template", req("mint_getTemplate", { recipient: address })],
    ["mint-submit", req("mint_submit", { header: toHex(encodeMintTx(samples(mintTxArb, 1, SAMPLE_SEED + 41)[0]!)) })],
    ["notification", JSON.stringify({ jsonrpc: "2.0", method: "phantom_status" })],
    ["batch", JSON.stringify([JSON.parse(req("phantom_status", undefined, "a")), JSON.parse(req("chain_anchor", { index: "1" }, 2)), JSON.parse(req("nope", [], 3))])],
  ];
  for (const [name, body] of bodies) put("rpc", `${name}.json`, body);

  // HTTP: "METHOD TARGET" then the body.
  reset("http");
  const requests: [string, string][] = [
    ["status", "GET /api/status\n"],
    ["anchor", "GET /api/anchor?index=0\n"],
    ["anchors", "GET /api/anchors?limit=5\n"],
    ["lookup", `GET /api/lookup?id=${"11".repeat(32)}\n`],
    ["address", `GET /api/address?address=${address}\n`],
    ["template", `GET /api/template?recipient=${address}\n`],
    ["tx", `GET /api/tx?txid=${"22".repeat(32)}\n`],
    ["peers", "GET /api/peers\n"],
    ["rpc", `POST /rpc\n${req("chain_anchor", { index: "1" })}`],
    ["rpc-batch", `POST /rpc\n${bodies.find(([n]) => n === "batch")![1]}`],
    ["health", "GET /health\n"],
    ["ready", "GET /ready\n"],
    ["explorer", "GET /\n"],
    ["ws", "GET /ws\n"],
  ];
  for (const [name, text] of requests) put("http", `${name}.bin`, text);
}

function tomlCorpus(): void {
  reset("genesis-toml");
  reset("node-config-toml");
  put("genesis-toml", "repo-genesis.toml", readFileSync(join(REPO, "genesis.toml")));
  put("genesis-toml", "devnet-k1.toml", createGenesis({ k: 1, devnetLabel: "phantom-fuzz-k1", initialTargetBits: 8 }).toml);
  put("genesis-toml", "devnet-k4.toml", createGenesis({ k: 4, devnetLabel: DEVNET_LABEL, initialTargetBits: 8 }).toml);
  put("node-config-toml", "systemd-node.toml", readFileSync(join(REPO, "docs", "systemd", "node.toml")));
  put("node-config-toml", "small.toml", `[node]\nrpc_addr = "127.0.0.1:18645"\nfsync = false\n[node.proposer]\ninterval_ms = 750\n[node.mempool]\ntxs_max = 5000\n`);
  put("node-config-toml", "rpc-token.toml", `[node]\nallow_insecure_key_file = false\n[node.rpc]\nauth = "cookie"\ntoken_file = "/etc/phantom/rpc.token"\nrate_per_s = 0\nburst = 1\n`);
  put("node-config-toml", "empty.toml", "");
}

function shardCorpus(): void {
  for (const t of SHARD_TARGETS) reset(t.name);
  for (const e of shardCorpusEntries()) put(e.target, e.name, e.bytes);
  // Payloads carrying an import claim (payload transaction tag 0x0b).
  for (const e of shardCorpusEntries().filter((x) => x.target === "import-claim")) {
    put("anchor-payload", `import-${e.name}`, encodeAnchorPayload({ txs: [{ kind: "import", tx: decodeImportClaim(e.bytes) }] }));
  }
}

codecCorpus();
shardCorpus();
p2pCorpus();
p2pNodeCorpus();
quicAndTlsCorpus();
rpcCorpus();
tomlCorpus();
for (const [target, n] of Object.entries(written).sort()) process.stdout.write(`${target}: ${n} files\n`);
