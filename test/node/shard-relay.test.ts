// The relay (src/node/shard-relay.ts): `--shard_rpc` parsing with typed errors; the claims it
// builds from a certified epoch pass the destination's §8 check; an unreachable or missing
// destination is counted by code and the export stays to be relayed.
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { Registry } from "prom-client";
import { keyPairFromSeed } from "../../src/crypto/ed25519.ts";
import { shardLayout, shardOfLock } from "../../src/ledger/shard.ts";
import { exportId, exportLeafHash, exportRootOfHashes, ZERO_ROOT, type ExportLeaf } from "../../src/ledger/export-tree.ts";
import { checkImportClaim, decodeImportClaim, encodeImportClaim } from "../../src/ledger/cross-shard.ts";
import type { ShardRoot } from "../../src/ledger/shard-root.ts";
import { signShardRoot } from "../../src/ledger/shard-root.ts";
import { ShardCerts, createShardMetrics } from "../../src/node/shard-certs.ts";
import { ShardRelay, parseShardRpc, relayGraceMs } from "../../src/node/shard-relay.ts";
import { blake3_32 } from "../../src/crypto/hash.ts";

const chain = new Uint8Array(32).fill(3);
const keys = Array.from({ length: 8 }, (_, i) => keyPairFromSeed(new Uint8Array(32).fill(i + 11)));
const layout = shardLayout(2, keys.map((k, i) => ({ publicKey: k.publicKey, stake: 1000n, shard: Math.floor(i / 4) })));

/** A lock commitment on shard `s` (of 2). */
function lockOn(s: number): Uint8Array {
  for (let i = 0; ; i++) {
    const c = blake3_32(Uint8Array.of(i));
    if (shardOfLock(c, 2) === s) return c;
  }
}

/** Shard 0's certified epoch 2 (anchors 8..11 with rootInterval 4) with three exports to shard 1. */
function certifiedEpoch() {
  const leaves: ExportLeaf[] = [0, 1, 2].map((i) => ({ sourceShard: 0, destShard: 1, anchorIndex: 9n, txid: new Uint8Array(32).fill(40 + i), outputIndex: i, amount: 1000n + BigInt(i), lockCommitment: lockOn(1) }));
  const root: ShardRoot = { chain, shard: 0, epoch: 2n, stateCommitment: new Uint8Array(32).fill(1), exportRoot: exportRootOfHashes(leaves.map(exportLeafHash)), exportCount: 3, prevRoot: new Uint8Array(32).fill(2) };
  const registry = new Registry();
  const metrics = createShardMetrics(registry);
  const certs = new ShardCerts({ db: new Database(":memory:"), chain, shard: 0, layout, myIndex: 0, secretKey: keys[0]!.secretKey, metrics });
  certs.ownRoot(root);
  for (const i of [1, 2]) certs.receive({ root, ...signShardRoot(root, i, keys[i]!.secretKey) });
  expect(certs.store.shardCertificate(2n)).toBeDefined();
  return { leaves, certs, registry, metrics };
}

/** Epoch 2 of a committee of 4: validator 2 relays it first. */
const designated = { myIndex: 2, k: 4, now: () => 0 };

async function outcome(registry: Registry, value: string): Promise<number> {
  const m = (await registry.getSingleMetric("pc_shard_relay_submissions_total")!.get()).values.find((v) => v.labels.outcome === value);
  return m?.value ?? 0;
}

describe("relay", () => {
  test("--shard_rpc parses SHARD=URL pairs and refuses the rest with CONFIG_BAD_VALUE", () => {
    expect([...parseShardRpc("1=http://127.0.0.1:8649, 2=http://h:1", 3, 0)]).toEqual([[1, "http://127.0.0.1:8649"], [2, "http://h:1"]]);
    expect(parseShardRpc("", 2, 0).size).toBe(0);
    for (const bad of ["1", "1=http://a,1=http://b", "0=http://a", "5=http://a", "1=not a url", "x=http://a"]) {
      expect(() => parseShardRpc(bad, 3, 0)).toThrow(expect.objectContaining({ code: "CONFIG_BAD_VALUE" }));
    }
  });

  test("claims built from a certified epoch pass the destination's check", () => {
    const { leaves, certs, metrics } = certifiedEpoch();
    const relay = new ShardRelay({ certs: certs.store, exportsOfEpoch: (e) => (e === 2n ? leaves : []), endpoints: new Map(), metrics, log: () => {}, ...designated });
    for (const leaf of leaves) {
      const claim = relay.claimOf(2n, exportId(leaf))!;
      const decoded = decodeImportClaim(encodeImportClaim(claim));
      const accepted = checkImportClaim(decoded, { chain, layout, shard: 1, rootInterval: 4n }, { certifiedRoot: () => undefined, isImported: () => false });
      expect(accepted.output).toEqual({ amount: leaf.amount, lockCommitment: leaf.lockCommitment });
    }
    expect(relay.claimOf(3n, exportId(leaves[0]!))).toBeUndefined(); // not certified
    expect(relay.claimOf(2n, ZERO_ROOT)).toBeUndefined(); // not an export of the epoch
  });

  test("an unreachable or unconfigured destination is counted by code; the exports stay to be relayed", async () => {
    const { leaves, certs, registry, metrics } = certifiedEpoch();
    const lines: Record<string, unknown>[] = [];
    // A port nothing listens on: bind one, note it, close it.
    const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const closed = s.port;
    s.stop(true);
    const relay = new ShardRelay({ certs: certs.store, exportsOfEpoch: (e) => (e === 2n ? leaves : []), endpoints: new Map([[1, `http://127.0.0.1:${closed}`]]), metrics, log: (l) => lines.push(l), ...designated });
    await relay.pass();
    await relay.pass();
    expect(await outcome(registry, "RELAY_UNREACHABLE")).toBe(2);
    expect(lines.filter((l) => l.type === "relay_failed")).toHaveLength(1); // one line per failure streak
    expect(certs.store.openRelayCount()).toBe(3);
    for (const leaf of leaves) expect(certs.store.relayState(exportId(leaf))).toMatchObject({ state: "certified" });
    const none = new ShardRelay({ certs: certs.store, exportsOfEpoch: (e) => (e === 2n ? leaves : []), endpoints: new Map(), metrics, log: () => {}, ...designated });
    await none.pass();
    expect(await outcome(registry, "RELAY_NO_ENDPOINT")).toBe(3);
  });

  test("the validator with index epoch mod k relays at once; the others after the grace period", async () => {
    const { leaves, certs, registry, metrics } = certifiedEpoch();
    let now = 1_000;
    const other = new ShardRelay({ certs: certs.store, exportsOfEpoch: (e) => (e === 2n ? leaves : []), endpoints: new Map(), metrics, log: () => {}, myIndex: 0, k: 4, now: () => now });
    await other.pass();
    now += relayGraceMs - 1;
    await other.pass();
    expect(await outcome(registry, "RELAY_NO_ENDPOINT")).toBe(0); // left to validator 2 (epoch 2 mod 4)
    now += 1;
    await other.pass();
    expect(await outcome(registry, "RELAY_NO_ENDPOINT")).toBe(3);
  });
});
