/**
 * The live node the rpc and p2p-node targets talk to: four validators on the in-process
 * network (real engines, SQLite stores in temporary folders) finalize a few anchors; then
 * validators 1-3 stop and validator 0 keeps running. Shared by reference count.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { createGenesis } from "../../src/genesis/create.ts";
import { parseGenesis, type Genesis } from "../../src/genesis/genesis.ts";
import { keyPairFromSeed, type Ed25519KeyPair } from "../../src/crypto/ed25519.ts";
import { SqliteStore } from "../../src/store/sqlite-store.ts";
import { PhantomNode } from "../../src/node/node.ts";
import { FailStop } from "../../src/node/fail-stop.ts";
import { MemoryNetwork } from "../../src/node/transport.ts";

export const DEVNET_LABEL = "phantom-fuzz-rpc";
export const DEVNET_K = 4;
/** Anchors the devnet finalizes before fuzzing starts, so reads find data. */
const ANCHORS_BEFORE_FUZZING = 3n;
const STARTUP_LIMIT_MS = 30_000;

/** Records every exception a connection handler of validator 0 throws (the boundary then closes that connection). */
export class RecordingFailStop extends FailStop {
  readonly handlerErrors: unknown[] = [];
  override connection(where: string, close: (reason: string) => void, fn: () => void): void {
    super.connection(where, close, () => {
      try {
        fn();
      } catch (e) {
        this.handlerErrors.push(e);
        throw e;
      }
    });
  }
}

export interface Devnet {
  genesis: Genesis;
  net: MemoryNetwork;
  keys: Ed25519KeyPair[];
  nodes: PhantomNode[];
  stores: SqliteStore[];
  dirs: string[];
  failStop: RecordingFailStop;
  /** Added to validator 0's clock: the p2p-node target moves it past ban periods between inputs. */
  clockOffsetMs: number;
}

let shared: Devnet | undefined;
let users = 0;

async function start(): Promise<Devnet> {
  const created = createGenesis({ k: DEVNET_K, devnetLabel: DEVNET_LABEL, initialTargetBits: 8 });
  const genesis = parseGenesis(created.toml);
  const failStop = new RecordingFailStop(() => {});
  const d: Devnet = { genesis, net: new MemoryNetwork(), keys: [], nodes: [], stores: [], dirs: [], failStop, clockOffsetMs: 0 };
  for (let i = 0; i < DEVNET_K; i++) {
    const dir = mkdtempSync(join(tmpdir(), `phantom-fuzz-devnet-${i}-`));
    const store = new SqliteStore({ storeDir: dir, emission: genesis.emission, fsync: false, genesisCommitment: genesis.commitment });
    const keyPair = keyPairFromSeed(created.seeds[i]!);
    d.dirs.push(dir);
    d.stores.push(store);
    d.keys.push(keyPair);
    d.nodes.push(new PhantomNode({
      genesis, identity: { index: i, keyPair }, store, transport: d.net.transport(genesis.validators[i]!.address, keyPair.publicKey),
      registry: new Registry(), eventIntervalMs: 15, txProposer: true, txProposerIntervalMs: 20, txsPerPayload: 64, payloadBudgetBytes: 65536,
      now: i === 0 ? () => performance.now() + d.clockOffsetMs : () => performance.now(), log: () => {}, failStop: i === 0 ? failStop : undefined,
      // An idle devnet is quiet (SPEC_CONSENSUS §15): heartbeat often so the first anchors come.
      idleHeartbeatMs: 150,
    }));
  }
  for (const n of d.nodes) await n.start();
  const deadline = performance.now() + STARTUP_LIMIT_MS;
  while ((d.stores[0]!.lastApplied()?.anchorIndex ?? -1n) + 1n < ANCHORS_BEFORE_FUZZING) {
    if (performance.now() > deadline) throw new Error(`fuzz devnet finalized no ${ANCHORS_BEFORE_FUZZING} anchors within ${STARTUP_LIMIT_MS} ms`);
    await Bun.sleep(20);
  }
  for (const n of d.nodes.slice(1)) await n.stop();
  return d;
}

export async function acquireDevnet(): Promise<Devnet> {
  shared ??= await start();
  users++;
  return shared;
}

export async function releaseDevnet(): Promise<void> {
  if (!shared || --users > 0) return;
  const d = shared;
  shared = undefined;
  await d.nodes[0]!.stop();
  for (const store of d.stores) store.close();
  for (const dir of d.dirs) rmSync(dir, { recursive: true, force: true });
}
