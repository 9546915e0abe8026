/**
 * P2P link latency on loopback: two validators' QUIC transports (src/node/quic-transport.ts,
 * mutually authenticated by their Ed25519 keys, the link the node's P2P layer uses)
 * in this one process. A message of `size` bytes goes out on the link and the peer
 * echoes it; the round trip is sampled `PHANTOM_BENCH_P2P_SAMPLES` times per size (after
 * a warm-up) and reported as p50 / p95 / p99 in µs: the seed's P2P reference figures
 * (p50/p95). Sizes: 64 B (a vote-sized message) and 4 KiB (an event with parents).
 * Reference in the same run: the same echo over a raw Bun.udpSocket pair (one datagram
 * of 64 B each way), the floor any transport pays on this machine.
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
/** A lost echo does not hang the bench: the sample is dropped after this long. */
const ECHO_TIMEOUT_MS = 2000;

if (!Number.isInteger(SAMPLES) || SAMPLES < 10 || SAMPLES > 1_000_000) {
  console.error("PHANTOM_BENCH_P2P_SAMPLES must be an integer 10..1000000");
  process.exit(2);
}

const alice = keyPairFromSeed(new Uint8Array(32).fill(61));
const bob = keyPairFromSeed(new Uint8Array(32).fill(62));
const committee = [alice.publicKey, bob.publicKey];

function emitPercentiles(prefix: string, samplesUs: number[], params: Record<string, string | number | boolean>): void {
  for (const p of [50, 95, 99]) {
    emit({ suite: SUITE, name: `${prefix}_p${p}`, value: round1(percentile(samplesUs, p)), unit: "us", higher_is_better: false, params: { ...params, samples: samplesUs.length } });
  }
}

/** Round trips of `size`-byte messages over `link`, whose peer echoes every byte. */
async function echoSamples(link: Link, size: number): Promise<{ samplesUs: number[]; lost: number }> {
  let got = 0;
  let answered: (() => void) | undefined;
  link.onData((d) => {
    got += d.length;
    if (got >= size) {
      got -= size;
      answered?.();
    }
  });
  const message = new Uint8Array(size).fill(7);
  const samplesUs: number[] = [];
  let lost = 0;
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    const t0 = performance.now();
    const done = new Promise<boolean>((r) => { answered = () => r(true); });
    link.send(message);
    const ok = await Promise.race([done, Bun.sleep(ECHO_TIMEOUT_MS).then(() => false)]);
    if (!ok) lost++;
    else if (i >= WARMUP) samplesUs.push((performance.now() - t0) * 1000);
  }
  return { samplesUs, lost };
}

async function benchLink(): Promise<void> {
  const a = quicTransport({ listenAddr: "127.0.0.1:0", identity: alice, committee });
  const b = quicTransport({ listenAddr: "127.0.0.1:0", identity: bob, committee });
  try {
    await a.listen((link) => link.onData((d) => link.send(Uint8Array.from(d))));
    await b.listen(() => {});
    const link = await b.dial(`127.0.0.1:${a.localPort()}`, alice.publicKey);
    for (const size of SIZES) {
      const { samplesUs, lost } = await echoSamples(link, size);
      emitPercentiles(`p2p_link_rtt_${size}b`, samplesUs, { message_bytes: size, lost, transport: "quic, mutual ed25519" });
    }
    link.close("bench done");
  } finally {
    await b.close();
    await a.close();
  }
}

async function benchRawUdp(): Promise<void> {
  const size = 64;
  let answered: (() => void) | undefined;
  const echo = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0, socket: { data(s, d, port, addr) { s.send(d, port, addr); } } });
  const client = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0, socket: { data() { answered?.(); } } });
  try {
    const message = new Uint8Array(size).fill(7);
    const samplesUs: number[] = [];
    let lost = 0;
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      const t0 = performance.now();
      const done = new Promise<boolean>((r) => { answered = () => r(true); });
      client.send(message, echo.port, "127.0.0.1");
      const ok = await Promise.race([done, Bun.sleep(ECHO_TIMEOUT_MS).then(() => false)]);
      if (!ok) lost++;
      else if (i >= WARMUP) samplesUs.push((performance.now() - t0) * 1000);
    }
    emitPercentiles("raw_udp_rtt_64b", samplesUs, { message_bytes: size, lost, reference: true });
  } finally {
    client.close();
    echo.close();
  }
}

await benchLink();
await benchRawUdp();
