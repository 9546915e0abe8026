// A sharded network on real processes (docs/SPEC_SHARDING.md): 2 shards × 4 validators,
// each a `phantom P2pQuicListen` on its shard's view of one genesis, QUIC on loopback,
// root signatures gossiped within each shard, the relay (`--shard_rpc`) carrying
// certified exports to the other shard over JSON-RPC. A mint on shard 0 funds a key on
// shard 0; it pays a lock on shard 1; the payment leaves shard 0 as an export, is
// certified, relayed, and imported exactly once on shard 1, while one validator of shard 0
// and the shard-1 validator that would carry the claim first are frozen (SIGSTOP) (the UTXO (export id, 0) exists
// on every shard-1 node and nowhere on shard 0); the source reports it imported; a replay
// of the claim is answered "imported" and creates nothing; the imported output is spent on
// shard 1 at once, half of it back to shard 0, where it arrives; supply is conserved across the
// shards (Σ(unspent + fees pending) + in flight = minted, in flight 0 once all arrived).
// Second test: the whole destination shard halts (SIGSTOP) while a transfer is exported and
// certified, a source validator is killed (SIGKILL) and restarted from its store, and once
// the shard resumes the transfer completes exactly once, with supply conserved.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { createGenesis } from "../../src/genesis/create.ts";
import { parseGenesis } from "../../src/genesis/genesis.ts";
import { rpcCall } from "../../src/rpc/client.ts";
import { fromHex, toHex } from "../../src/crypto/bytes.ts";
import { accountFromSeed } from "../../src/wallet/keys.ts";
import { decodeAddress } from "../../src/wallet/address.ts";
import { buildTransfer, payTo } from "../../src/wallet/tx-builder.ts";
import { encodeMicroTx, digestMicroTx, type MicroTx } from "../../src/types/tx.ts";
import { shardOfLock } from "../../src/ledger/shard.ts";
import { encodeImportClaim } from "../../src/ledger/cross-shard.ts";
import { exportId, exportLeafHash, exportProof, type ExportLeaf } from "../../src/ledger/export-tree.ts";
import { decodeShardCertificate } from "../../src/ledger/shard-root.ts";
import { shardRpcOf } from "../../src/cli/commands/localnet.ts";
import { designatedCarrier } from "../../src/node/import-pool.ts";
import { freePortBlocks } from "../ports.ts";
import { phantom, until as pollUntil, ROOT } from "../wallet/localnet-harness.ts";

const dir = mkdtempSync(join(tmpdir(), "phantom-shards-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const K = 4;
const SHARDS = 2;
const N = K * SHARDS;
const maturityAnchors = 4n;

/** Polls `probe` (bounded, never a timing assertion). */
const until = <T>(what: string, probe: () => Promise<T | undefined>, limitMs = 60_000): Promise<T> => pollUntil(what, probe, limitMs, 200);

/** The first account from seeds 1, 2, … whose lock lies on `shard`. */
function accountOn(shard: number, from: number) {
  for (let i = from; ; i++) {
    const a = accountFromSeed(new Uint8Array(32).fill(i));
    if (shardOfLock(a.lockCommitment, SHARDS) === shard) return a;
  }
}

interface Supply { mintedUnits: string; exportedUnits: string; importedUnits: string; unspentUnits: string; feesPendingUnits: string; balanced: boolean }
interface ShardInfo { shard: number; shardCount: number; lastCertifiedEpoch: string | null; relayPending: number; importPool: number; supply: Supply }
interface ExportJson { exportId: string; destShard: number; anchorIndex: string; txid: string; outputIndex: number; amountUnits: string; address: string; state: string; relayAttempts: number }
interface EpochExports { epoch: string; certified: boolean; certificate: string | null; exports: ExportJson[] }
interface Utxo { txid: string; index: number; amount: string; createdAt: string }

/** 2 shards × 4 validator processes on one genesis, each with its relay to the other shard. */
async function startNetwork(tag: string) {
  const ports = await freePortBlocks(N);
  const created = createGenesis({ k: K, shards: SHARDS, devnetLabel: `e2e-shards-${tag}`, basePort: ports.p2p, initialTargetBits: 10, maturityAnchors, shardRootInterval: 4n });
  const genesisPath = join(dir, `genesis-${tag}.toml`);
  writeFileSync(genesisPath, created.toml);
  const genesis = parseGenesis(created.toml);
  created.seeds.forEach((s, i) => writeFileSync(join(dir, `${tag}-v${i}.key`), toHex(s) + "\n", { mode: 0o600 }));
  const rpc = (i: number) => `http://127.0.0.1:${ports.rpc + i}`;
  const shardOf = (i: number) => genesis.validators[i]!.shard;
  /** Starts validator i on its store (a restart reuses it). */
  const start = (i: number): Subprocess<"ignore", "ignore", "pipe"> => Bun.spawn([
    join(ROOT, "bin", "phantom"), "P2pQuicListen", "--genesis", genesisPath, "--key_file", join(dir, `${tag}-v${i}.key`),
    "--store_dir", join(dir, `${tag}-store-${i}`), "--rpc_addr", `127.0.0.1:${ports.rpc + i}`, "--metrics_addr", `127.0.0.1:${ports.metrics + i}`,
    "--fsync", "false", "--event_interval_ms", "50", "--idle_heartbeat_ms", "500", "--tx_proposer_interval_ms", "200",
    "--shard_rpc", shardRpcOf(genesis, i, ports.rpc),
  ], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const anchors = (i: number) => rpcCall<{ anchorCount: string }>(rpc(i), "phantom_status").then((s) => BigInt(s.anchorCount), () => -1n);
  const info = (i: number) => rpcCall<ShardInfo>(rpc(i), "shard_info");
  const on = (shard: number) => Array.from({ length: N }, (_, i) => i).filter((i) => shardOf(i) === shard);
  const procs = Array.from({ length: N }, (_, i) => start(i));
  const stop = async () => {
    for (const p of procs) {
      p.kill("SIGCONT");
      p.kill("SIGTERM");
    }
    await Promise.all(procs.map((p) => Promise.race([p.exited, Bun.sleep(15_000).then(() => p.kill("SIGKILL"))])));
  };
  await until("every validator finalizes on its shard", async () => ((await Promise.all(procs.map((_, i) => anchors(i)))).every((a) => a >= 3n) ? true : undefined), 90_000);
  return { ports, genesis, rpc, shardOf, start, anchors, info, on, procs, stop };
}

/** One mined coin of `payer` on shard 0, mature. */
async function minedCoin(rpc: (i: number) => string, anchors: (i: number) => Promise<bigint>, payer: ReturnType<typeof accountOn>): Promise<Utxo> {
  const mined = phantom(["mine", "--rpc", rpc(0), "--to", payer.address, "--max_mints", "1", "--threads", "1"], 60_000);
  expect(mined.code, mined.err).toBe(0);
  return until("the reward is mature on shard 0", async () => {
    const [a, next] = [await rpcCall<{ utxos: Utxo[] }>(rpc(0), "address_get", { address: payer.address }), await anchors(0)];
    const u = a.utxos[0];
    return u !== undefined && next >= BigInt(u.createdAt) + maturityAnchors ? u : undefined;
  });
}

/** Submits `tx` to validator i until it holds it; resolves when it is final there, with its anchor. */
async function submitFinal(rpc: string, tx: MicroTx): Promise<{ txid: string; anchorIndex: bigint }> {
  const txid = toHex(digestMicroTx(tx));
  await until("the transfer is acknowledged", async () => {
    const r = await rpcCall<{ accepted: boolean; code?: string }[]>(rpc, "tx_submit", { tx: toHex(encodeMicroTx(tx)) });
    return r[0]?.accepted || r[0]?.code === "MEMPOOL_DUPLICATE" ? true : undefined;
  });
  const final = await until("the transfer is final", async () => {
    const s = await rpcCall<{ state: string; anchorIndex: string | null }>(rpc, "tx_status", { txid });
    return s.state === "final" ? s : undefined;
  });
  return { txid, anchorIndex: BigInt(final.anchorIndex!) };
}

describe("two shards on real processes", () => {
  test("a transfer to another shard is exported, certified, relayed and imported exactly once, spent there and sent back; supply is conserved", async () => {
    const { ports, rpc, shardOf, info, on, procs, stop, anchors } = await startNetwork("a");
    try {
      for (const i of procs.keys()) expect(await info(i)).toMatchObject({ shard: shardOf(i), shardCount: SHARDS });
      // docs/RPC.md's field table of shard_info lists exactly what a node returns.
      const doc = readFileSync(join(ROOT, "docs", "RPC.md"), "utf8").split("### shard_info\n")[1]!.split("\n### ")[0]!;
      const documented = doc.split("\n").filter((l) => l.startsWith("| `")).map((l) => /`(\w+)`/.exec(l)![1]!).sort();
      expect(documented).toEqual(Object.keys(await info(0)).sort());

      // Funds on shard 0: one mint (the mint chain lives on shard 0 and pays only a shard-0 lock).
      const payer = accountOn(0, 1);
      const payee = accountOn(1, 1);
      const coin = await minedCoin(rpc, anchors, payer);
      const amount = 100_000_000n;
      const tx = buildTransfer({ keyPair: payer.keyPair, spend: [{ outpoint: { txid: fromHex(coin.txid, 32, "txid"), index: coin.index }, amount: BigInt(coin.amount) }], to: [payTo(payee.lock, amount)], fee: 10_000n });
      const txid = toHex(digestMicroTx(tx));
      // Faults on the way: the shard-1 validator that would carry the claim first (export_id mod k)
      // and one shard-0 validator are frozen until the import is done (3 of 4 keep each shard final).
      const carrier = on(1)[designatedCarrier(exportId({ sourceShard: 0, txid: fromHex(txid), outputIndex: 0 }), K)]!;
      const frozen = [carrier, on(0)[3]!];
      for (const i of frozen) procs[i]!.kill("SIGSTOP");
      const final = await submitFinal(rpc(0), tx);
      const epoch = final.anchorIndex / 4n;

      // The payment left shard 0: the certified epoch lists it as an export to shard 1.
      const exported = await until("the epoch is certified on shard 0", async () => {
        const e = await rpcCall<EpochExports>(rpc(0), "shard_exports", { epoch: epoch.toString() });
        return e.certified ? e : undefined;
      });
      const leaf = exported.exports.find((e) => e.txid === txid && e.outputIndex === 0)!;
      expect(leaf).toMatchObject({ destShard: 1, amountUnits: amount.toString(), address: payee.address });
      const cert = decodeShardCertificate(fromHex(exported.certificate!));
      expect(cert.signatures.length).toBeGreaterThanOrEqual(3); // q = floor(2·4000/3) + 1 = 2667: three of four
      expect(toHex(exportId({ sourceShard: 0, txid: fromHex(txid), outputIndex: 0 }))).toBe(leaf.exportId);

      // Imported on shard 1: every shard-1 node holds the UTXO (export id, 0); shard 0 holds none for the payee.
      const importedOn = async (i: number) => {
        const utxos = await until(`the import is applied on validator ${i}`, async () => {
          const a = await rpcCall<{ utxos: Utxo[] }>(rpc(i), "address_get", { address: payee.address });
          return a.utxos.length > 0 ? a.utxos : undefined;
        });
        expect(utxos).toEqual([expect.objectContaining({ txid: leaf.exportId, index: 0, amount: amount.toString() })]);
      };
      // Carried by another validator after the grace period, relayed past the frozen destination.
      for (const i of on(1).filter((i) => i !== carrier)) await importedOn(i);
      for (const i of frozen) procs[i]!.kill("SIGCONT");
      await importedOn(carrier);
      for (const i of on(0)) expect((await rpcCall<{ utxos: Utxo[] }>(rpc(i), "address_get", { address: payee.address })).utxos).toEqual([]);
      expect(await rpcCall(rpc(on(1)[2]!), "shard_importStatus", { exportIds: [leaf.exportId] })).toEqual([{ exportId: leaf.exportId, status: "imported" }]);

      // The source's relay learns it was imported.
      await until("the source reports the export imported", async () => {
        const e = await rpcCall<EpochExports>(rpc(on(0)[1]!), "shard_exports", { epoch: epoch.toString() });
        return e.exports.find((x) => x.exportId === leaf.exportId)?.state === "imported" ? true : undefined;
      });

      // A replayed claim: answered "imported", nothing more is created.
      const leaves = (await rpcCall<EpochExports>(rpc(0), "shard_exports", { epoch: epoch.toString() })).exports;
      const leafObjs: ExportLeaf[] = leaves.map((e) => ({
        sourceShard: 0, destShard: e.destShard, anchorIndex: BigInt(e.anchorIndex), txid: fromHex(e.txid), outputIndex: e.outputIndex,
        amount: BigInt(e.amountUnits), lockCommitment: decodeAddress(e.address),
      }));
      const at = leaves.findIndex((e) => e.exportId === leaf.exportId);
      const claim = encodeImportClaim({ cert, leaf: leafObjs[at]!, proof: exportProof(leafObjs.map(exportLeafHash), at) });
      expect(await rpcCall(rpc(on(1)[0]!), "shard_importSubmit", { claims: [toHex(claim)] })).toEqual([{ exportId: leaf.exportId, status: "imported" }]);
      // Shard 0 refuses a claim of its own shard's export (the source cannot import).
      const refused = await rpcCall<{ status: string; code: string }[]>(rpc(0), "shard_importSubmit", { claims: [toHex(claim)] });
      expect(refused[0]).toMatchObject({ status: "refused", code: "IMPORT_WRONG_SOURCE" });

      // The imported output is spendable at once on shard 1 (no maturity): half of it goes back to shard 0.
      const back = buildTransfer({ keyPair: payee.keyPair, spend: [{ outpoint: { txid: fromHex(leaf.exportId), index: 0 }, amount }], to: [payTo(payer.lock, amount / 2n)], fee: 10_000n });
      const backTxid = toHex(digestMicroTx(back));
      await until("shard 1 acknowledges the spend of the import", async () => {
        const r = await rpcCall<{ accepted: boolean; code?: string }[]>(rpc(on(1)[1]!), "tx_submit", { tx: toHex(encodeMicroTx(back)) });
        return r[0]?.accepted || r[0]?.code === "MEMPOOL_DUPLICATE" ? true : undefined;
      });
      const backId = toHex(exportId({ sourceShard: 1, txid: fromHex(backTxid), outputIndex: 0 }));
      for (const i of on(0)) {
        await until(`the return transfer is imported on validator ${i}`, async () => {
          const a = await rpcCall<{ utxos: Utxo[] }>(rpc(i), "address_get", { address: payer.address });
          return a.utxos.some((u) => u.txid === backId && u.index === 0 && u.amount === (amount / 2n).toString()) ? true : undefined;
        });
      }
      // The change stayed on shard 1; the spent import is gone there.
      const left = await rpcCall<{ utxos: Utxo[] }>(rpc(on(1)[0]!), "address_get", { address: payee.address });
      expect(left.utxos.map((u) => [u.txid, u.index, u.amount])).toEqual([[backTxid, 1, (amount / 2n - 10_000n).toString()]]);

      // Supply across shards (SPEC_SHARDING §10): per shard U + P = M − X + I, and once nothing is in flight Σ(U + P) = ΣM.
      const totals = await until("everything exported has arrived", async () => {
        const s = await Promise.all([on(0)[0]!, on(1)[0]!].map(info));
        const sum = (f: (x: Supply) => string) => s.reduce((a, x) => a + BigInt(f(x.supply)), 0n);
        for (const x of s) expect(x.supply.balanced).toBe(true);
        const held = sum((x) => x.unspentUnits) + sum((x) => x.feesPendingUnits);
        const inFlight = sum((x) => x.exportedUnits) - sum((x) => x.importedUnits);
        expect(inFlight).toBeGreaterThanOrEqual(0n);
        expect(held + inFlight).toBe(sum((x) => x.mintedUnits));
        return inFlight === 0n ? { held, minted: sum((x) => x.mintedUnits), shard1: s[1]! } : undefined;
      });
      expect(totals.minted).toBe(5_000_000_000n); // one mint of 50 PC, minted on shard 0 only
      expect(totals.held).toBe(totals.minted);
      expect(BigInt(totals.shard1.supply.mintedUnits)).toBe(0n);
      expect(BigInt(totals.shard1.supply.importedUnits)).toBeGreaterThanOrEqual(amount);
      expect(BigInt(totals.shard1.supply.exportedUnits)).toBeGreaterThanOrEqual(amount / 2n);

      // Mints: only shard 0, only to a shard-0 lock (SPEC_SHARDING §9), refused at the door with the ledger's code.
      const templateCode = (i: number, address: string) => rpcCall(rpc(i), "mint_getTemplate", { recipient: address }).then(() => "ok", (e: { code?: string }) => e.code);
      expect(await templateCode(on(1)[0]!, payee.address)).toBe("MINT_WRONG_SHARD");
      expect(await templateCode(on(0)[0]!, payee.address)).toBe("MINT_WRONG_SHARD");
      expect(await templateCode(on(0)[0]!, payer.address)).toBe("ok");
      // chain_supply on every node counts exports and imports (SPEC_SHARDING §10).
      for (const i of procs.keys()) expect(await rpcCall(rpc(i), "chain_supply")).toMatchObject({ balanced: true });
      // Metrics: the root signatures and the relay are counted.
      const metrics = await (await fetch(`http://127.0.0.1:${ports.metrics + 1}/metrics`)).text();
      expect(metrics).toMatch(/^pc_shard_root_signatures_total\{[^}]*outcome="accepted"[^}]*\} [1-9]/m);
      expect(metrics).toMatch(/^pc_shard_certificates_total\{?[^ ]*\}? [1-9]/m);
    } finally {
      await stop();
    }
  }, 180_000);
  test("a halted destination shard and a source validator killed and restarted: the transfer completes once the shard resumes, nothing lost", async () => {
    const { ports, rpc, info, on, procs, stop, anchors, start } = await startNetwork("b");
    try {
      const payer = accountOn(0, 1);
      const payee = accountOn(1, 1);
      const coin = await minedCoin(rpc, anchors, payer);
      // The whole destination shard halts (every validator frozen): nothing can import.
      for (const i of on(1)) procs[i]!.kill("SIGSTOP");
      const amount = 70_000_000n;
      const tx = buildTransfer({ keyPair: payer.keyPair, spend: [{ outpoint: { txid: fromHex(coin.txid, 32, "txid"), index: coin.index }, amount: BigInt(coin.amount) }], to: [payTo(payee.lock, amount)], fee: 10_000n });
      const { txid, anchorIndex } = await submitFinal(rpc(on(0)[1]!), tx);
      const epoch = (anchorIndex / 4n).toString();
      const id = toHex(exportId({ sourceShard: 0, txid: fromHex(txid), outputIndex: 0 }));
      const state = async (i: number) => (await rpcCall<EpochExports>(rpc(i), "shard_exports", { epoch })).exports.find((e) => e.exportId === id)?.state;
      await until("the export is certified on shard 0", async () => ((await state(on(0)[1]!)) === "certified" ? true : undefined));
      // The source's relay cannot deliver: its calls fail and are counted by outcome; the export stays open.
      await until("a failed relay call to the halted shard is counted", async () => {
        for (const i of on(0)) {
          const text = await (await fetch(`http://127.0.0.1:${ports.metrics + i}/metrics`)).text();
          if (/^pc_shard_relay_submissions_total\{[^}]*outcome="(?!ok")[^"]+"[^}]*\} [1-9]/m.test(text)) return true;
        }
        return undefined;
      });
      expect(await state(on(0)[1]!)).toBe("certified");
      // A source validator dies (SIGKILL, no clean stop) and restarts from its store: it keeps the certificate and the open export.
      const victim = on(0)[0]!;
      procs[victim]!.kill("SIGKILL");
      await procs[victim]!.exited;
      procs[victim] = start(victim);
      await until("the restarted validator lists the export as certified", async () => ((await state(victim).catch(() => undefined)) === "certified" ? true : undefined), 90_000);
      expect(await state(on(0)[2]!)).toBe("certified");
      // The destination resumes: the transfer completes, once, on every shard-1 validator.
      for (const i of on(1)) procs[i]!.kill("SIGCONT");
      for (const i of on(1)) {
        const utxos = await until(`the import is applied on validator ${i}`, async () => {
          const a = await rpcCall<{ utxos: Utxo[] }>(rpc(i), "address_get", { address: payee.address });
          return a.utxos.length > 0 ? a.utxos : undefined;
        }, 90_000);
        expect(utxos).toEqual([expect.objectContaining({ txid: id, index: 0, amount: amount.toString() })]);
      }
      await until("the source, restarted validator included, reports the export imported", async () => ((await state(victim)) === "imported" ? true : undefined), 90_000);
      const totals = await until("supply conserved with nothing in flight", async () => {
        const s = await Promise.all([on(0)[0]!, on(1)[0]!].map(info));
        const sum = (f: (x: Supply) => string) => s.reduce((a, x) => a + BigInt(f(x.supply)), 0n);
        const inFlight = sum((x) => x.exportedUnits) - sum((x) => x.importedUnits);
        return inFlight === 0n ? { held: sum((x) => x.unspentUnits) + sum((x) => x.feesPendingUnits), minted: sum((x) => x.mintedUnits), balanced: s.every((x) => x.supply.balanced) } : undefined;
      });
      expect(totals).toEqual({ held: 5_000_000_000n, minted: 5_000_000_000n, balanced: true });
    } finally {
      await stop();
    }
  }, 240_000);
});
