/**
 * Consensus tools: headers.bin decoding, ack distances, fee split and payout root.
 * References measured in the same run: decoding the raw SignedEvent entries alone,
 * an unpruned ack traversal (D_max = ∞), and the same Merkle tree hashed with
 * @noble/hashes BLAKE3 in pure JS.
 *   bun run bench/fees.bench.ts          (PHANTOM_BENCH_EVENTS=20000 by default)
 */
import { blake3 as nobleBlake3 } from "@noble/hashes/blake3.js";
import { emit, measure } from "./lib.ts";
import { keyPairFromSeed } from "../src/crypto/ed25519.ts";
import { devnetSeed } from "../src/genesis/create.ts";
import { generateSignedDag } from "../src/consensus/headers-gen.ts";
import { encodeHeadersFile, decodeHeadersFile } from "../src/consensus/headers-file.ts";
import { decodeSignedEvent, encodeSignedEvent } from "../src/types/event.ts";
import { ackDistances, buildHeaderDag } from "../src/consensus/ack-distance.ts";
import { splitFees, DEFAULT_FEE_PARAMS } from "../src/consensus/fees.ts";
import { payoutRoot, encodePayoutLeaf, type PayoutEntry } from "../src/consensus/payout.ts";

const SUITE = "consensus";
const EVENTS = Number(process.env.PHANTOM_BENCH_EVENTS ?? 20_000);
const K = 16;

const keys = Array.from({ length: K }, (_, i) => keyPairFromSeed(devnetSeed("bench", i)).secretKey);
const events = generateSignedDag({ secretKeys: keys, eventCount: EVENTS, seed: new TextEncoder().encode("bench") });
const file = encodeHeadersFile(events);
const entries = events.map(encodeSignedEvent);

const decode = measure(() => void decodeHeadersFile(file), { minMs: 1500, warmup: 1 });
const raw = measure(() => { for (const e of entries) decodeSignedEvent(e); }, { minMs: 1500, warmup: 1 });
emit({ suite: SUITE, name: "headers_file_decode", value: EVENTS / (decode.perIterMs / 1000), unit: "events/s", higher_is_better: true, params: { events: EVENTS, bytes: file.length } });
emit({ suite: SUITE, name: "headers_file_decode_vs_raw_events", value: decode.perIterMs / raw.perIterMs, unit: "ratio", higher_is_better: false, params: { raw_events_per_s: Math.round(EVENTS / (raw.perIterMs / 1000)) } });

const dag = buildHeaderDag(events);
const anchors = events.filter((_, i) => i % Math.max(1, Math.floor(EVENTS / 200)) === 0).slice(0, 200);
let cursor = 0;
const pruned = measure(() => void ackDistances(dag, anchors[cursor++ % anchors.length]!.id, K, DEFAULT_FEE_PARAMS.dMax), { minMs: 1000 });
cursor = 0;
const full = measure(() => void ackDistances(dag, anchors[cursor++ % anchors.length]!.id, K, Number.MAX_SAFE_INTEGER), { minMs: 1000, maxIterations: 400 });
emit({ suite: SUITE, name: "ack_distances_d_max_4", value: 1000 / pruned.perIterMs, unit: "ops/s", higher_is_better: true, params: { events: EVENTS, k: K } });
emit({ suite: SUITE, name: "ack_distances_pruned_speedup_vs_unpruned", value: full.perIterMs / pruned.perIterMs, unit: "ratio", higher_is_better: true, params: { unpruned_ops_per_s: Math.round(1000 / full.perIterMs) } });

const stakes = Array.from({ length: 64 }, (_, i) => BigInt(1000 + i));
const distances = Array.from({ length: 64 }, (_, i) => i % 6);
const split = measure(() => void splitFees({ feesUnits: 123_456_789_012n, params: DEFAULT_FEE_PARAMS, stakes, ackDistances: distances, proposerIndex: 7 }), { minMs: 500 });
emit({ suite: SUITE, name: "fee_split_k64", value: 1000 / split.perIterMs, unit: "ops/s", higher_is_better: true });

const list: PayoutEntry[] = stakes.map((s, index) => ({ index, recipient: new Uint8Array(32).fill(index), amount: s }));
const root = measure(() => void payoutRoot(list), { minMs: 500 });
const nobleRoot = measure(() => {
  let level: Uint8Array[] = list.map((e) => nobleBlake3(new Uint8Array([0, ...encodePayoutLeaf(e)])));
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? nobleBlake3(new Uint8Array([1, ...level[i]!, ...level[i + 1]!])) : level[i]!);
    level = next;
  }
}, { minMs: 500 });
emit({ suite: SUITE, name: "payout_root_k64", value: 1000 / root.perIterMs, unit: "ops/s", higher_is_better: true });
emit({ suite: SUITE, name: "payout_root_k64_speedup_vs_noble", value: nobleRoot.perIterMs / root.perIterMs, unit: "ratio", higher_is_better: true, params: { noble_ops_per_s: Math.round(1000 / nobleRoot.perIterMs) } });
