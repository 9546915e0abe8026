// Economics end to end on real processes (issue 12): three validators run as `phantom
// P2pQuicListen` processes over QUIC. A transfer's fee comes back k·D_max anchors later as
// payout outputs, with a Merkle proof of each that verifies against the committed root.
// Then the fourth validator's key signs two different
// events at one seq and sends both over an authenticated QUIC session (an equivocating
// "test build"). Every node finds the fork, puts the evidence on chain and slashes the
// offender to zero at the same anchor; the supply identity holds on every node, and
// finality goes on past the round where consensus stops counting the offender's stake
// (SPEC_CONSENSUS §1a: the round received of the evidence anchor + horizon_rounds).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { createGenesis } from "../../src/genesis/create.ts";
import { rpcCall } from "../../src/rpc/client.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { keyPairFromSeed } from "../../src/crypto/ed25519.ts";
import { blake3_32 } from "../../src/crypto/hash.ts";
import { buildEventHeader } from "../../src/consensus/engine.ts";
import { encodeSignedEvent, signEvent } from "../../src/types/event.ts";
import { EMPTY_PAYLOAD_BYTES } from "../../src/types/payload.ts";
import { quicTransport } from "../../src/node/quic-transport.ts";
import { encodeMessage, frame, P2P_PROTOCOL_VERSION, type P2pMessage } from "../../src/net/p2p/messages.ts";
import { parseGenesis } from "../../src/genesis/genesis.ts";
import { BIN, freePorts, phantom, until as pollUntil, ROOT } from "../wallet/localnet-harness.ts";
import { accountFromSeed } from "../../src/wallet/keys.ts";
import { buildTransfer, payTo, sigLock } from "../../src/wallet/tx-builder.ts";
import { submitTx } from "../../src/wallet/remote.ts";
import { fromHex } from "../../src/crypto/bytes.ts";
import { verifyPayoutProof } from "../../src/consensus/payout.ts";

const dir = mkdtempSync(join(tmpdir(), "phantom-equivocation-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const HORIZON = 16;
const OFFENDER = 3;
const FEE = 1_000_000n;

const until = <T>(what: string, probe: () => Promise<T | undefined>, limitMs = 120_000): Promise<T> => pollUntil(what, probe, limitMs, 250);

interface Stakes {
  stakes: { validator: number; stakeUnits: string }[];
  slashes: { anchorIndex: string; kind: string; offender: number; slashedUnits: string }[];
}

describe("economics on a real network", () => {
  test("fees come back as payouts with proofs; an equivocator is slashed to zero at one anchor on every node; the supply holds and finality goes on past the weight boundary", async () => {
    const ports = await freePorts();
    const created = createGenesis({ k: 4, devnetLabel: "e2e-equivocation", basePort: ports.p2p, initialTargetBits: 10, maturityAnchors: 4n });
    const toml = created.toml.replace("parents_max = 4\n", `parents_max = 4\nhorizon_rounds = ${HORIZON}\n`);
    expect(toml).toContain(`horizon_rounds = ${HORIZON}`);
    const genesisPath = join(dir, "genesis.toml");
    writeFileSync(genesisPath, toml);
    const genesis = parseGenesis(toml);
    created.seeds.forEach((s, i) => writeFileSync(join(dir, `v${i}.key`), toHex(s) + "\n", { mode: 0o600 }));
    const rpc = (i: number) => `http://127.0.0.1:${ports.rpc + i}`;
    const procs: Subprocess<"ignore", "ignore", "ignore">[] = [0, 1, 2].map((i) => Bun.spawn([
      BIN, "P2pQuicListen", "--genesis", genesisPath, "--key_file", join(dir, `v${i}.key`),
      "--store_dir", join(dir, `store-${i}`), "--rpc_addr", `127.0.0.1:${ports.rpc + i}`, "--metrics_addr", `127.0.0.1:${ports.metrics + i}`,
      "--fsync", "false", "--event_interval_ms", "50", "--idle_heartbeat_ms", "500",
    ], { cwd: ROOT, stdin: "ignore", stdout: "ignore", stderr: "ignore" }));
    const anchors = (i: number) => rpcCall<{ anchorCount: string }>(rpc(i), "phantom_status").then((s) => BigInt(s.anchorCount), () => -1n);
    const offenderKeys = keyPairFromSeed(created.seeds[OFFENDER]!);
    const rogue = quicTransport({ listenAddr: "127.0.0.1:0", identity: offenderKeys, committee: genesis.validators.map((v) => v.publicKey) });
    try {
      await until("three validators finalize", async () => ((await Promise.all([0, 1, 2].map(anchors))).every((a) => a >= 5n) ? true : undefined));

      // A transfer's fee is paid out to the validators k·D_max anchors after its anchor.
      const wallet = accountFromSeed(new Uint8Array(32).fill(7));
      expect(phantom(["mine", "--rpc", rpc(0), "--to", wallet.address, "--max_mints", "1", "--threads", "1"], 60_000).code).toBe(0);
      type Utxo = { txid: string; index: number; amount: string; createdAt: string };
      const coin = await until("the reward is mature", async () => {
        const [info, next] = [await rpcCall<{ utxos: Utxo[] }>(rpc(0), "address_get", { address: wallet.address }), await anchors(0)];
        const u = info.utxos[0];
        return u !== undefined && next >= BigInt(u.createdAt) + 4n ? u : undefined;
      });
      const tx = buildTransfer({
        keyPair: wallet.keyPair, spend: [{ outpoint: { txid: fromHex(coin.txid, 32, "txid"), index: coin.index }, amount: BigInt(coin.amount) }],
        to: [payTo(sigLock(accountFromSeed(new Uint8Array(32).fill(8)).keyPair.publicKey), 100_000_000n)], fee: FEE,
      });
      const { txid } = await submitTx(rpc(0), tx);
      const final = await until("the transfer is final", async () => {
        const st = await rpcCall<{ state: string; anchorIndex: string | null }>(rpc(0), "tx_status", { txid });
        return st.state === "final" ? BigInt(st.anchorIndex!) : undefined;
      });
      type Payouts = { settled: boolean; settlesAt: string; root: string; payouts: { index: number; recipient: string; address: string; amount: string; proof: { leafCount: number; siblings: string[] } }[] };
      const payouts = await until("the fee is settled", async () => {
        const p = await rpcCall<Payouts>(rpc(1), "chain_payouts", { index: final.toString() });
        return p.settled ? p : undefined;
      });
      expect(payouts.payouts).toHaveLength(genesis.k);
      expect(payouts.payouts.reduce((a, p) => a + BigInt(p.amount), 0n)).toBe(FEE);
      for (const p of payouts.payouts) {
        const entry = { index: p.index, recipient: fromHex(p.recipient), amount: BigInt(p.amount) };
        expect(verifyPayoutProof(fromHex(payouts.root), entry, { index: p.index, leafCount: p.proof.leafCount, siblings: p.proof.siblings.map((h) => fromHex(h)) })).toBe(true);
      }
      const paid = payouts.payouts.find((p) => BigInt(p.amount) > 0n)!;
      const rewards = await rpcCall<{ rewardsUnits: string }>(rpc(2), "address_get", { address: paid.address });
      expect(BigInt(rewards.rewardsUnits)).toBeGreaterThanOrEqual(BigInt(paid.amount));

      // The offender signs two events at seq 0 and sends both to validator 0 over QUIC.
      await rogue.listen(() => {});
      const link = await rogue.dial(genesis.validators[0]!.address, genesis.validators[0]!.publicKey);
      link.onData(() => {});
      const send = (m: P2pMessage) => link.send(frame(encodeMessage(m)));
      send({ kind: "hello", version: P2P_PROTOCOL_VERSION, commitment: genesis.commitment, validator: OFFENDER, highestSeq: new Array(genesis.k).fill(-1) });
      const other = Uint8Array.of(0);
      const fork = (payload: Uint8Array) => {
        const e = signEvent(buildEventHeader({ shard: 0, creator: OFFENDER, seq: 0, parents: [], payloadDigest: blake3_32(payload) }), offenderKeys.secretKey);
        return { event: encodeSignedEvent(e), payload, serveSignature: new Uint8Array(64) };
      };
      send({ kind: "events", items: [fork(EMPTY_PAYLOAD_BYTES), fork(other)] });

      const stakes = (i: number) => rpcCall<Stakes>(rpc(i), "chain_stakes");
      const slashed = await until("every node slashed the offender", async () => {
        const all = await Promise.all([0, 1, 2].map(stakes));
        return all.every((s) => s.slashes.length > 0) ? all : undefined;
      });
      for (const s of slashed) {
        expect(s.slashes).toHaveLength(1);
        expect(s.slashes[0]).toMatchObject({ kind: "equivocation", offender: OFFENDER, slashedUnits: genesis.validators[OFFENDER]!.stake.toString() });
        expect(s.stakes[OFFENDER]!.stakeUnits).toBe("0");
        expect(s.stakes.filter((x) => x.validator !== OFFENDER).every((x) => x.stakeUnits === genesis.validators[x.validator]!.stake.toString())).toBe(true);
      }
      expect(new Set(slashed.map((s) => s.slashes[0]!.anchorIndex)).size).toBe(1);

      // Finality goes on well past the boundary round (evidence round + horizon), and the nodes agree.
      const evidenceAnchor = BigInt(slashed[0]!.slashes[0]!.anchorIndex);
      const lookup = (i: number, index: bigint) => rpcCall<{ round: number; stateRoot: string; eventId: string } | null>(rpc(i), "chain_anchor", { index: index.toString() });
      const evidenceRound = (await lookup(0, evidenceAnchor))!.round;
      await until("rounds past the weight boundary are decided", async () => {
        const s = await rpcCall<{ lastDecidedRound: number }>(rpc(0), "phantom_status");
        return s.lastDecidedRound > evidenceRound + HORIZON + 10 ? true : undefined;
      });
      const common = (await Promise.all([0, 1, 2].map(anchors))).reduce((a, b) => (a < b ? a : b)) - 1n;
      expect(common).toBeGreaterThan(evidenceAnchor);
      const tips = await Promise.all([0, 1, 2].map((i) => lookup(i, common)));
      expect(new Set(tips.map((t) => `${t!.eventId}/${t!.stateRoot}`)).size).toBe(1);
      for (let i = 0; i < 3; i++) {
        const supply = await rpcCall<{ emittedUnits: string; unspentUnits: string; feesPendingUnits: string }>(rpc(i), "chain_supply");
        expect(BigInt(supply.emittedUnits)).toBe(BigInt(supply.unspentUnits) + BigInt(supply.feesPendingUnits));
      }
    } finally {
      await rogue.close();
      for (const p of procs) p.kill("SIGTERM");
      await Promise.all(procs.map((p) => Promise.race([p.exited, Bun.sleep(15_000).then(() => p.kill("SIGKILL"))])));
    }
  }, 300_000);
});
