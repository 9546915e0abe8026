/**
 * Measures the per-event and per-transaction costs the scale model (model.ts) takes, on
 * this machine, as CPU time (less sensitive to other load than wall time) and bytes:
 *
 *  - eventConsensusCpuUs: a k = 21 DAG of real signed events (src/consensus/headers-gen.ts)
 *    inserted and ordered by the engine with signatures pre-verified, per event;
 *  - signatureVerifyCpuUs: native verifyBatch (all its threads' CPU) per signature;
 *  - eventSignCpuUs: one Ed25519 signature (native);
 *  - hash64CpuUs: one 64-byte BLAKE3 (a Merkle node);
 *  - txLedgerCpuUs and utxoStoreBytes: from bench/ledger.bench.ts run as a child
 *    (`ledger_cpu_us_per_tx` of its fsync-off row, `bytes_per_utxo` of utxo_disk);
 *  - eventWireBytes / txPayloadBytes: encoded sizes (a P2P `events` message per event;
 *    a 1-in/2-out transfer inside an anchor payload);
 *  - quicWireOverhead: UDP payload bytes both ways over stream bytes, for 8 MB sent over
 *    the project's QUIC through a counting relay on loopback;
 *  - eventStoreBytes: SQLite growth per stored event (header row, indexes, empty payload);
 *  - importCheckUs, certVerifyUs, certBytes: from bench/shard.bench.ts run as a child
 *    (`import_check_cached_cert`, `shard_cert_decode_verify_k21`; wall time per operation);
 *  - nodeCpuUsPerTx: bench/localnet.bench.ts at 800 transfers/s for 10 s as a child (4
 *    validator processes over QUIC): its CPU µs per finalized transfer over 4 validators / 4.
 *
 * Prints one JSON line (MeasuredInputs). Usage: bun run bench/scale/measure.ts
 */
import { mkdtempSync, rmSync, statSync, existsSync } from "node:fs";
import { tmpdir, loadavg, cpus } from "node:os";
import { join } from "node:path";
import { ConsensusEngine } from "../../src/consensus/engine.ts";
import { generateSignedDag } from "../../src/consensus/headers-gen.ts";
import { keyPairFromSeed, sign, verifyBatch } from "../../src/crypto/index.ts";
import { blake3_32 } from "../../src/crypto/hash.ts";
import { encodeSignedEvent } from "../../src/types/event.ts";
import { encodeMessage } from "../../src/net/p2p/messages.ts";
import { encodeAnchorPayload, type PayloadTx } from "../../src/types/payload.ts";
import { lockCommitment, type Lock } from "../../src/types/lock.ts";
import { digestMicroTx, type MicroTx } from "../../src/types/tx.ts";
import { SqliteStore } from "../../src/store/sqlite-store.ts";
import { QuicEndpoint } from "../../src/net/quic/endpoint.ts";
import type { MeasuredInputs } from "./model.ts";

const K = 21;
const EVENTS = 12_000;
const cpuUs = (f: () => void): number => {
  const c0 = process.cpuUsage();
  f();
  const c = process.cpuUsage(c0);
  return c.user + c.system;
};
const log = (s: string) => console.error(`[scale] ${s}`);

const keys = Array.from({ length: K }, (_, i) => keyPairFromSeed(blake3_32(new TextEncoder().encode(`scale validator ${i}`))));

function consensusCost() {
  log(`k = ${K}: ${EVENTS} signed events`);
  const events = generateSignedDag({ secretKeys: keys.map((k) => k.secretKey), eventCount: EVENTS, seed: blake3_32(new TextEncoder().encode("scale dag")) });
  const config = { committee: { publicKeys: keys.map((k) => k.publicKey), stakes: keys.map(() => 1000n) }, coinRoundInterval: 8, parentsMax: 4, shard: 0 };
  const run = () => {
    const engine = new ConsensusEngine(config);
    let finalized = 0;
    const us = cpuUs(() => {
      for (let i = 0; i < events.length; i += 256) finalized += engine.addEvents(events.slice(i, i + 256), { trusted: true }).finalized.length;
    });
    return { us, finalized };
  };
  run(); // warm-up
  const r = run();
  if (r.finalized < EVENTS / 2) throw new Error(`only ${r.finalized} of ${EVENTS} events finalized`);
  const message = new Uint8Array(32).fill(9);
  const signs = 4_000;
  const signUs = cpuUs(() => { for (let i = 0; i < signs; i++) { message[0] = i & 255; sign(keys[0]!.secretKey, message); } });
  const items = events.slice(0, 8_192).map((e) => ({ publicKey: keys[e.header.creator]!.publicKey, message: e.id, signature: e.signature }));
  verifyBatch(items.slice(0, 512)); // warm-up (threads)
  let ok = true;
  const verifyUs = cpuUs(() => { ok = verifyBatch(items).every(Boolean); });
  if (!ok) throw new Error("generated events must verify");
  const block = new Uint8Array(64).fill(1);
  const hashes = 200_000;
  const hashUs = cpuUs(() => { for (let i = 0; i < hashes; i++) { block[0] = i & 255; blake3_32(block); } });
  const served = events.slice(0, 256).map((e) => ({ event: encodeSignedEvent(e), payload: new Uint8Array(0), serveSignature: new Uint8Array(64) }));
  return {
    events,
    eventConsensusCpuUs: r.us / EVENTS,
    eventSignCpuUs: signUs / signs,
    signatureVerifyCpuUs: verifyUs / items.length,
    hash64CpuUs: hashUs / hashes,
    eventWireBytes: encodeMessage({ kind: "events", items: served }).length / served.length,
  };
}

function txPayloadBytes(): number {
  const alice = keyPairFromSeed(new Uint8Array(32).fill(1));
  const lock: Lock = { kind: "sig", publicKey: alice.publicKey };
  const commit = lockCommitment(lock);
  const transfer = (n: number): PayloadTx => {
    const body = { inputs: [{ txid: blake3_32(new Uint8Array([n])), index: 0 }], outputs: [{ amount: 123_456_789n, lockCommitment: commit }, { amount: 987_654_321n, lockCommitment: commit }] };
    const tx: MicroTx = { ...body, witnesses: [{ lock, witness: { kind: "sig", signature: sign(alice.secretKey, digestMicroTx(body)) } }] };
    return { kind: "micro", tx };
  };
  const one = encodeAnchorPayload({ txs: [transfer(1)] }).length;
  const hundred = encodeAnchorPayload({ txs: Array.from({ length: 101 }, (_, i) => transfer(i)) }).length;
  return (hundred - one) / 100;
}

function eventStoreBytes(events: ReturnType<typeof generateSignedDag>): number {
  const dir = mkdtempSync(join(tmpdir(), "phantom-scale-"));
  try {
    const store = new SqliteStore({ storeDir: dir, fsync: false });
    const size = () => {
      store.db.run("PRAGMA wal_checkpoint(TRUNCATE)");
      const wal = join(dir, "phantom.sqlite-wal");
      return statSync(join(dir, "phantom.sqlite")).size + (existsSync(wal) ? statSync(wal).size : 0);
    };
    const half = Math.floor(events.length / 2);
    store.putEvents(events.slice(0, half).map((event) => ({ event })));
    const before = size();
    store.putEvents(events.slice(half).map((event) => ({ event })));
    const bytes = (size() - before) / (events.length - half);
    store.close();
    return bytes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** UDP payload bytes both ways per stream byte for 8 MB over the project's QUIC (loopback, through a counting relay). */
async function quicOverhead(): Promise<number> {
  const total = 8_000_000;
  let received = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => { done = r; });
  const server = await QuicEndpoint.listen(0, { identity: keyPairFromSeed(new Uint8Array(32).fill(5)), verifyPeer: () => true, onConnection: (c) => c.onData((_id, d, fin) => { received += d.length; if (fin) done(); }) });
  let wireBytes = 0;
  let clientAddr: { port: number } | null = null;
  const toServer = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0, socket: { data: (_s, buf) => { wireBytes += buf.length; if (clientAddr) front.send(buf, clientAddr.port, "127.0.0.1"); } } });
  const front = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0, socket: { data: (_s, buf, port) => { wireBytes += buf.length; clientAddr = { port }; toServer.send(buf, server.port, "127.0.0.1"); } } });
  const client = await QuicEndpoint.client({ identity: keyPairFromSeed(new Uint8Array(32).fill(6)), verifyPeer: () => true });
  const conn = await client.connect("127.0.0.1", front.port);
  const handshakeBytes = wireBytes;
  const stream = conn.openStream(true);
  const chunk = new Uint8Array(16_384).fill(7);
  const deadline = performance.now() + 60_000;
  for (let written = 0; written < total && performance.now() < deadline; ) {
    while (conn.bufferedBytes(stream) > 8 * chunk.length && performance.now() < deadline) await Bun.sleep(1);
    const n = Math.min(chunk.length, total - written);
    written += n;
    conn.write(stream, chunk.subarray(0, n), written === total);
  }
  await Promise.race([finished, Bun.sleep(Math.max(0, deadline - performance.now()))]);
  const overhead = (wireBytes - handshakeBytes) / received;
  client.close();
  server.close();
  front.close();
  toServer.close();
  if (received < total) throw new Error(`QUIC transfer incomplete: ${received} of ${total} bytes`);
  return overhead;
}

interface Row {
  name: string;
  value: number;
  params?: Record<string, number>;
}

/** The JSON rows another bench prints (run as a child of this process). */
async function benchRows(file: string, args: string[]): Promise<Row[]> {
  log(`bench/${file} ${args.join(" ")} (child)`);
  const p = Bun.spawn([process.execPath, join(import.meta.dir, "..", file), ...args], { stdout: "pipe", stderr: "inherit" });
  const out = await new Response(p.stdout).text();
  if ((await p.exited) !== 0) throw new Error(`${file} exited ${p.exitCode}`);
  return out.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Row);
}

async function shardCosts(): Promise<{ importCheckUs: number; certVerifyUs: number; certBytes: number }> {
  const rows = await benchRows("shard.bench.ts", []);
  const check = rows.find((r) => r.name === "import_check_cached_cert");
  const cert = rows.find((r) => r.name === "shard_cert_decode_verify_k21");
  const bytes = cert?.params?.bytes;
  if (!check || !cert || typeof bytes !== "number") throw new Error("shard bench printed no import_check_cached_cert / shard_cert_decode_verify_k21");
  return { importCheckUs: 1e6 / check.value, certVerifyUs: 1e6 / cert.value, certBytes: bytes };
}

async function nodeCost(): Promise<number> {
  const rows = await benchRows("localnet.bench.ts", ["--seconds", "10", "--rates", "800", "--drain_s", "30"]);
  const cpu = rows.find((r) => r.name === "at_800_cpu_us_per_tx");
  if (!cpu) throw new Error("localnet bench printed no at_800_cpu_us_per_tx");
  return cpu.value / 4;
}

async function ledgerCosts(): Promise<{ txLedgerCpuUs: number; utxoStoreBytes: number }> {
  const rows = await benchRows("ledger.bench.ts", ["--transfers", "20000", "--utxos", "100000"]);
  const ratio = rows.find((r) => r.name === "ledger_vs_verify_ratio_fsync_false");
  const disk = rows.find((r) => r.name === "utxo_disk");
  const cpu = ratio?.params?.ledger_cpu_us_per_tx;
  const perUtxo = disk?.params?.bytes_per_utxo;
  if (typeof cpu !== "number" || typeof perUtxo !== "number") throw new Error("ledger bench printed no ledger_cpu_us_per_tx / bytes_per_utxo");
  return { txLedgerCpuUs: cpu, utxoStoreBytes: perUtxo };
}

export async function measure(): Promise<MeasuredInputs> {
  const c = consensusCost();
  const store = eventStoreBytes(c.events);
  log("QUIC wire overhead (8 MB through a counting relay)");
  const quic = await quicOverhead();
  const ledger = await ledgerCosts();
  const shard = await shardCosts();
  const nodeCpuUsPerTx = await nodeCost();
  const round = (x: number, d = 3) => Number(x.toFixed(d));
  return {
    measuredAt: new Date().toISOString(),
    host: { cpu_model: cpus()[0]?.model ?? "unknown", cpus: cpus().length, loadavg_1m: round(loadavg()[0]!, 1), platform: process.platform, arch: process.arch },
    k: K,
    eventConsensusCpuUs: round(c.eventConsensusCpuUs),
    signatureVerifyCpuUs: round(c.signatureVerifyCpuUs),
    eventSignCpuUs: round(c.eventSignCpuUs),
    txLedgerCpuUs: round(ledger.txLedgerCpuUs),
    hash64CpuUs: round(c.hash64CpuUs),
    importCheckUs: round(shard.importCheckUs),
    certVerifyUs: round(shard.certVerifyUs),
    certBytes: shard.certBytes,
    eventWireBytes: round(c.eventWireBytes, 1),
    txPayloadBytes: round(txPayloadBytes(), 1),
    quicWireOverhead: round(quic, 4),
    eventStoreBytes: round(store, 1),
    utxoStoreBytes: ledger.utxoStoreBytes,
    nodeCpuUsPerTx: round(nodeCpuUsPerTx, 1),
  };
}

if (import.meta.main) console.log(JSON.stringify(await measure()));
