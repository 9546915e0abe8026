// Transactions survive SIGKILL and a wiped store, with real validator processes over QUIC:
// - validator 2 admits a tx while none of its peers can answer (they are SIGSTOPped, so it
//   is the only copy anywhere): it does not acknowledge it (`TX_NOT_RELAYED`; the wallet
//   retries, then reports WALLET_TX_NOT_RELAYED) but keeps it
//   in its store's mempool journal; killed with SIGKILL right after and restarted on its
//   store, it has the tx pending again, re-announces it once the peers are back, and the tx
//   ends final on every validator;
// - with its peers up it acknowledges a tx (`accepted: true`) only once a peer holds it, so
//   when its store is then deleted the tx still ends final.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { createGenesis } from "../../src/genesis/create.ts";
import { rpcCall } from "../../src/rpc/client.ts";
import { fromHex, toHex } from "../../src/crypto/bytes.ts";
import { accountFromSeed } from "../../src/wallet/keys.ts";
import { buildTransfer, payTo, sigLock } from "../../src/wallet/tx-builder.ts";
import { encodeMicroTx } from "../../src/types/tx.ts";
import { SendError, submitTx } from "../../src/wallet/remote.ts";
import { freePorts, phantom, until as pollUntil, ROOT } from "../wallet/localnet-harness.ts";

const dir = mkdtempSync(join(tmpdir(), "phantom-txdur-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const maturityAnchors = 4n;

interface TxStatus {
  state: string;
  reason: string | null;
  anchorIndex: string | null;
}

/** Polls `probe` (bounded, never a timing assertion). */
const until = <T>(what: string, probe: () => Promise<T | undefined>, limitMs = 90_000): Promise<T> => pollUntil(what, probe, limitMs, 200);

describe("acknowledged transactions and SIGKILL", () => {
  test("a tx whose only copy is in a validator killed right after accepting it is final after the restart", async () => {
    const ports = await freePorts();
    const created = createGenesis({ k: 4, devnetLabel: "e2e-txdur", basePort: ports.p2p, initialTargetBits: 10, maturityAnchors });
    const genesisPath = join(dir, "genesis.toml");
    writeFileSync(genesisPath, created.toml);
    created.seeds.forEach((s, i) => writeFileSync(join(dir, `v${i}.key`), toHex(s) + "\n", { mode: 0o600 }));
    const rpc = (i: number) => `http://127.0.0.1:${ports.rpc + i}`;
    const start = (i: number): Subprocess<"ignore", "ignore", "ignore"> => Bun.spawn([
      join(ROOT, "bin", "phantom"), "P2pQuicListen", "--genesis", genesisPath, "--key_file", join(dir, `v${i}.key`),
      "--store_dir", join(dir, `store-${i}`), "--rpc_addr", `127.0.0.1:${ports.rpc + i}`, "--metrics_addr", `127.0.0.1:${ports.metrics + i}`,
      "--fsync", "false", "--event_interval_ms", "50", "--idle_heartbeat_ms", "500", "--tx_proposer_interval_ms", "200",
    ], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    const anchors = (i: number) => rpcCall<{ anchorCount: string }>(rpc(i), "phantom_status").then((s) => BigInt(s.anchorCount), () => -1n);
    const status = (i: number, txid: string) => rpcCall<TxStatus>(rpc(i), "tx_status", { txid });

    const procs = [0, 1, 2, 3].map(start);
    try {
      await until("all finalize", async () => ((await Promise.all([0, 1, 2, 3].map(anchors))).every((a) => a >= 5n) ? true : undefined));
      const wallet = accountFromSeed(new Uint8Array(32).fill(5));
      expect(phantom(["mine", "--rpc", rpc(0), "--to", wallet.address, "--max_mints", "1", "--threads", "1"], 60_000).code).toBe(0);
      type Utxo = { txid: string; index: number; amount: string; createdAt: string };
      const coin = await until("the reward is mature at validator 2", async () => {
        const [info, next] = [await rpcCall<{ utxos: Utxo[] }>(rpc(2), "address_get", { address: wallet.address }), await anchors(2)];
        const u = info.utxos[0];
        return u !== undefined && next >= BigInt(u.createdAt) + maturityAnchors ? u : undefined;
      });
      const tx = buildTransfer({
        keyPair: wallet.keyPair, spend: [{ outpoint: { txid: fromHex(coin.txid, 32, "txid"), index: coin.index }, amount: BigInt(coin.amount) }],
        to: [payTo(sigLock(accountFromSeed(new Uint8Array(32).fill(6)).keyPair.publicKey), 100_000_000n)], fee: 10_000n,
      });

      // Validator 2 restarts while its peers are frozen: it has no session, so nothing it accepts reaches them.
      procs[2]!.kill("SIGKILL");
      await procs[2]!.exited;
      for (const i of [0, 1, 3]) procs[i]!.kill("SIGSTOP");
      procs[2] = start(2);
      await until("validator 2 answers", async () => ((await anchors(2)) >= 0n ? true : undefined));
      expect((await rpcCall<{ peers: number }>(rpc(2), "phantom_status")).peers).toBe(0);
      // The wallet's submit retries the same bytes, then reports that the node holds it unconfirmed.
      const refused = await submitTx(rpc(2), tx).then(() => null, (e: unknown) => e);
      expect(refused).toBeInstanceOf(SendError);
      expect((refused as SendError).code).toBe("WALLET_TX_NOT_RELAYED");
      const ack = { txid: String((refused as SendError).details?.txid) };
      procs[2]!.kill("SIGKILL");
      await procs[2]!.exited;
      for (const i of [0, 1, 3]) procs[i]!.kill("SIGCONT");
      // The others never saw it.
      expect((await status(0, ack.txid)).state).toBe("unknown");

      procs[2] = start(2);
      const first = await until("validator 2 is back", () => status(2, ack.txid));
      expect(["pending", "final"]).toContain(first.state);
      const final = await until("final at validator 2", async () => {
        const s = await status(2, ack.txid);
        return s.state === "final" ? s : undefined;
      });
      expect(final).toMatchObject({ reason: "INCLUDED" });
      const elsewhere = await until("final at validator 0", async () => {
        const s = await status(0, ack.txid);
        return s.state === "final" ? s : undefined;
      });
      expect(elsewhere.anchorIndex).toBe(final.anchorIndex);

      // Acknowledged with the peers up, then the store is lost: a peer holds the tx.
      const payee = accountFromSeed(new Uint8Array(32).fill(6));
      const tx2 = buildTransfer({
        keyPair: payee.keyPair, spend: [{ outpoint: { txid: fromHex(ack.txid, 32, "txid"), index: 0 }, amount: 100_000_000n }],
        to: [payTo(sigLock(wallet.keyPair.publicKey), 99_990_000n)], fee: 10_000n,
      });
      const [ack2] = await until("validator 2 acknowledges with its peers up", async () => {
        const r = await rpcCall<{ accepted: boolean; txid: string; code?: string }[]>(rpc(2), "tx_submit", { tx: toHex(encodeMicroTx(tx2)) });
        return r[0]?.accepted ? r : undefined; // TX_NOT_RELAYED while sessions come back
      });
      procs[2]!.kill("SIGKILL");
      await procs[2]!.exited;
      rmSync(join(dir, "store-2"), { recursive: true, force: true });
      procs[2] = start(2);
      await until("the acknowledged tx is final at validator 0", async () => ((await status(0, ack2!.txid)).state === "final" ? true : undefined));
    } finally {
      for (const p of procs) {
        p.kill("SIGCONT");
        p.kill("SIGTERM");
      }
      await Promise.all(procs.map((p) => Promise.race([p.exited, Bun.sleep(15_000).then(() => p.kill("SIGKILL"))])));
    }
  }, 240_000);
});
