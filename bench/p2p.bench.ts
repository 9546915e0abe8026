/**
 * P2P link latency and throughput on loopback: two validators' QUIC transports
 * (src/node/quic-transport.ts, mutually authenticated by their Ed25519 keys, the link the
 * node's P2P layer uses) in this one process. The peer echoes every byte it gets.
 * - Round trip: a message of `size` bytes goes out and the run waits for its echo;
 *   sampled `PHANTOM_BENCH_P2P_SAMPLES` times per size (after a warm-up) and reported as
 *   p50 / p95 / p99 in µs: the seed's P2P reference figures (p50/p95). Sizes: 64 B (a
 *   vote-sized message) and 4 KiB (an event with parents).
 * - Throughput: `PHANTOM_BENCH_P2P_SAMPLES` 4 KiB messages sent back to back (pipelined)
 *   until every echo is back: messages/s and MB/s of payload each way.
 * Reference in the same run: the 64 B round trip over a raw Bun.udpSocket pair (one
 * datagram each way), the floor any transport pays on this machine.
 * Run: `bun run bench p2p` (~10 s).
 */
import { keyPairFromSeed } from "../src/crypto/ed25519.ts";
import { quicTransport } from "../src/node/quic-transport.ts";
import type { Link } from "../src/net/p2p/link.ts";
import { emit, percentile, round1 } from "./lib.ts";

const SUITE = "p2p";
const SAMPLES = Number(process.env.PHANTOM_BENCH_P2P_SAMPLES ?? 2000);
const WARMUP = Math.min(200, Math.ceil(SAMPLES / 10));
const SIZES = [64, 4096];
const THROUGHPUT_MESSAGE_BYTES = 4096;
/** A lost echo does not hang the bench: the sample is dropped after this long. */
const ECHO_TIMEOUT_MS = 2000;
/** The pipelined burst gives up after this long (and the bench fails). */
const BURST_TIMEOUT_MS = 60_000;

if (!Number.isInteger(SAMPLES) || SAMPLES < 10 || SAMPLES > 1_000_000) {
  console.error("PHANTOM_BENCH_P2P_SAMPLES must be an integer 10..1000000");
  process.exit(2);
}

const alice = keyPairFromSeed(new Uint8Array(32).fill(61));
const bob = keyPairFromSeed(new Uint8Array(32).fill(62));
const committee = [alice.publicKey, bob.publicKey];

type Params = Record<string, string | number | boolean>;

function emitPercentiles(prefix: string, samplesUs: number[], params: Params): void {
  for (const p of [50, 95, 99]) {
    emit({ suite: SUITE, name: `${prefix}_p${p}`, value: round1(percentile(samplesUs, p)), unit: "us", higher_is_better: false, params: { ...params, samples: samplesUs.length } });
  }
}

/**
 * An echo peer seen from the sending side: `send` puts one message out, and the
 * returned `arrived` is called once per whole message that came back. Both the QUIC
 * link (a byte stream: messages are counted by size) and the raw UDP pair (one
 * datagram per message) fit this.
 */
interface Echo {
  send(): void;
  setArrived(cb: () => void): void;
}

/** Whether `done` settles within `ms`; the timer is cleared so it never holds the process open. */
async function within(done: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<boolean>((r) => { timer = setTimeout(() => r(false), ms); });
  try {
    return await Promise.race([done.then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** WARMUP + SAMPLES sequential round trips; a sample whose echo is lost is counted, not timed. */
async function roundTrips(echo: Echo): Promise<{ samplesUs: number[]; lost: number }> {
  let answered: (() => void) | undefined;
  echo.setArrived(() => answered?.());
  const samplesUs: number[] = [];
  let lost = 0;
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    const t0 = performance.now();
    const done = new Promise<void>((r) => { answered = r; });
    echo.send();
    const ok = await within(done, ECHO_TIMEOUT_MS);
    if (!ok) lost++;
    else if (i >= WARMUP) samplesUs.push((performance.now() - t0) * 1000);
  }
  return { samplesUs, lost };
}

/** `count` messages sent at once; resolves with the ms until the last echo is back. */
async function burst(echo: Echo, count: number): Promise<number> {
  let back = 0;
  let allBack: (() => void) | undefined;
  echo.setArrived(() => {
    if (++back === count) allBack?.();
  });
  const t0 = performance.now();
  const done = new Promise<void>((r) => { allBack = r; });
  for (let i = 0; i < count; i++) echo.send();
  const ok = await within(done, BURST_TIMEOUT_MS);
  if (!ok) throw new Error(`p2p throughput: ${back} of ${count} echoes back after ${BURST_TIMEOUT_MS} ms`);
  return performance.now() - t0;
}

/** Echo over a byte stream: a message is back when `size` more bytes have arrived. */
function linkEcho(link: Link, size: number): Echo {
  const message = new Uint8Array(size).fill(7);
  let got = 0;
  let arrived: () => void = () => {};
  link.onData((d) => {
    got += d.length;
    while (got >= size) {
      got -= size;
      arrived();
    }
  });
  return { send: () => link.send(message), setArrived: (cb) => { arrived = cb; } };
}

async function benchLink(): Promise<void> {
  const a = quicTransport({ listenAddr: "127.0.0.1:0", identity: alice, committee });
  const b = quicTransport({ listenAddr: "127.0.0.1:0", identity: bob, committee });
  try {
    await a.listen((link) => link.onData((d) => link.send(Uint8Array.from(d))));
    await b.listen(() => {});
    const link = await b.dial(`127.0.0.1:${a.localPort()}`, alice.publicKey);
    const params = { transport: "quic, mutual ed25519" };
    for (const size of SIZES) {
      const { samplesUs, lost } = await roundTrips(linkEcho(link, size));
      emitPercentiles(`p2p_link_rtt_${size}b`, samplesUs, { ...params, message_bytes: size, lost });
    }
    const ms = await burst(linkEcho(link, THROUGHPUT_MESSAGE_BYTES), SAMPLES);
    const burstParams = { ...params, message_bytes: THROUGHPUT_MESSAGE_BYTES, messages: SAMPLES, echoed: true };
    emit({ suite: SUITE, name: `p2p_link_throughput_${THROUGHPUT_MESSAGE_BYTES}b_msgs`, value: round1(SAMPLES / (ms / 1000)), unit: "msg/s", higher_is_better: true, params: burstParams });
    emit({ suite: SUITE, name: `p2p_link_throughput_${THROUGHPUT_MESSAGE_BYTES}b_mb`, value: round1((SAMPLES * THROUGHPUT_MESSAGE_BYTES) / 1e6 / (ms / 1000)), unit: "MB/s", higher_is_better: true, params: burstParams });
    link.close("bench done");
  } finally {
    await b.close();
    await a.close();
  }
}

async function benchRawUdp(): Promise<void> {
  const size = 64;
  let arrived: () => void = () => {};
  const echoSocket = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0, socket: { data(s, d, port, addr) { s.send(d, port, addr); } } });
  const client = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0, socket: { data() { arrived(); } } });
  try {
    const message = new Uint8Array(size).fill(7);
    const echo: Echo = { send: () => { client.send(message, echoSocket.port, "127.0.0.1"); }, setArrived: (cb) => { arrived = cb; } };
    const { samplesUs, lost } = await roundTrips(echo);
    emitPercentiles("raw_udp_rtt_64b", samplesUs, { message_bytes: size, lost, reference: true });
  } finally {
    client.close();
    echoSocket.close();
  }
}

await benchLink();
await benchRawUdp();
