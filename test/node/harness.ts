// Shared by the in-process node tests: validators on the in-memory transport with real
// engines, SQLite stores and timers.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { createGenesis, type CreateGenesisOptions } from "../../src/genesis/create.ts";
import { parseGenesis, type Genesis } from "../../src/genesis/genesis.ts";
import { keyPairFromSeed } from "../../src/crypto/ed25519.ts";
import { SqliteStore } from "../../src/store/sqlite-store.ts";
import { PhantomNode } from "../../src/node/node.ts";
import type { FailStop } from "../../src/node/fail-stop.ts";
import { MemoryNetwork } from "../../src/node/transport.ts";
import { mintTemplate } from "../../src/ledger/emission.ts";
import { powSearch } from "../../src/crypto/pow.ts";
import { linkPair, type Link } from "../../src/net/p2p/link.ts";
import { encodeMessage, frame, decodeMessage, FrameDecoder, P2P_PROTOCOL_VERSION, type P2pMessage } from "../../src/net/p2p/messages.ts";

export interface TestNode {
  node: PhantomNode;
  store: SqliteStore;
  registry: Registry;
  dir: string;
}

export class TestNet {
  readonly genesis: Genesis;
  readonly seeds: Uint8Array[];
  readonly net = new MemoryNetwork();
  private readonly dirs: string[] = [];

  constructor(opts: CreateGenesisOptions) {
    const created = createGenesis(opts);
    this.genesis = parseGenesis(created.toml);
    this.seeds = created.seeds;
  }

  newDir(i: number): string {
    const dir = mkdtempSync(join(tmpdir(), `phantom-node-${i}-`));
    this.dirs.push(dir);
    return dir;
  }

  /** Opens validator i's store in `dir` (a new folder by default) and builds its node; `start()` is the caller's. */
  node(i: number, dir = this.newDir(i), overrides: { txProposer?: boolean; txProposerIntervalMs?: number; idleHeartbeatMs?: number; now?: () => number; failStop?: FailStop; snapshotIntervalAnchors?: number; pruneKeepRounds?: number; log?: (line: Record<string, unknown>) => void; genesis?: Genesis } = {}): TestNode {
    // A sharded test passes its shard's view (genesisForShard); `i` is then the index in that shard.
    const g = overrides.genesis ?? this.genesis;
    const { failStop } = overrides;
    const store = new SqliteStore({ storeDir: dir, emission: g.emission, fsync: false, genesisCommitment: g.commitment, onWriteFailed: failStop && ((e) => failStop.fail(e, "store")) });
    const keyPair = keyPairFromSeed(this.seeds[this.genesis.validators.findIndex((v) => v.publicKey.every((b, j) => b === g.validators[i]!.publicKey[j]))]!);
    const registry = new Registry();
    const node = new PhantomNode({
      genesis: g, identity: { index: i, keyPair }, store, transport: this.net.transport(g.validators[i]!.address, keyPair.publicKey),
      registry, eventIntervalMs: 15, txProposer: overrides.txProposer ?? true, txProposerIntervalMs: overrides.txProposerIntervalMs ?? 20, txsPerPayload: 64, payloadBudgetBytes: 65536,
      now: overrides.now ?? (() => performance.now()), log: overrides.log ?? (() => {}), failStop,
      snapshotIntervalAnchors: overrides.snapshotIntervalAnchors, pruneKeepRounds: overrides.pruneKeepRounds,
      // Many tests wait for anchors on an idle network: heartbeat every 10 ticks as nodes did
      // before SPEC_CONSENSUS §15 (quiet.test.ts runs the production default).
      idleHeartbeatMs: overrides.idleHeartbeatMs ?? 150,
    });
    return { node, store, registry, dir };
  }

  cleanup(): void {
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}

export async function stopAll(nodes: readonly TestNode[]): Promise<void> {
  for (const n of nodes) {
    await n.node.stop();
    n.store.close();
  }
}

/** Polls `cond` every 20 ms, at most `limitMs` (a bound, not an assertion on time). */
export async function until(cond: () => boolean, limitMs = 60_000): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error("condition not reached within the bound");
    await Bun.sleep(20);
  }
}

export const applied = (n: TestNode): bigint => n.store.lastApplied()?.anchorIndex ?? -1n;

/** A mint header for the next height on `store`'s tip, paying `recipient`, with its proof of work done. */
export async function minedHeader(store: SqliteStore, genesis: Genesis, recipient: Uint8Array): Promise<Uint8Array> {
  const template = mintTemplate(store, genesis.emission, recipient);
  const found = await powSearch(template.header, { nonceOffset: template.nonceOffset, targetBits: template.targetBits, maxIters: 1n << 24n, threads: 1 });
  if (found.outcome !== "found") throw new Error(`no proof of work found at ${template.targetBits} bits`);
  const header = template.header.slice();
  new DataView(header.buffer).setBigUint64(template.nonceOffset, found.nonce!, true);
  return header;
}

/** A hand-driven connection that claims to be validator `me`. */
export function rogue(node: PhantomNode, genesis: Genesis, me: number, publicKey: Uint8Array) {
  const [mine, theirs] = linkPair(publicKey, genesis.validators[node.validator]!.publicKey);
  const got: P2pMessage[] = [];
  const frames = new FrameDecoder();
  let closed: string | null = null;
  mine.onData((b) => {
    for (const f of frames.push(b)) got.push(decodeMessage(f));
  });
  mine.onClose((r) => (closed = r));
  node.peers.attach(theirs as Link);
  const send = (m: P2pMessage) => mine.send(frame(encodeMessage(m)));
  send({ kind: "hello", version: P2P_PROTOCOL_VERSION, commitment: genesis.commitment, validator: me, highestSeq: new Array(genesis.k).fill(-1) });
  return { got, send, raw: (b: Uint8Array) => mine.send(b), closed: () => closed };
}

export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  if (!m) return 0;
  return m.values.filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val)).reduce((s, v) => s + v.value, 0);
}

