// The wallet's script outputs, offline signing and history as a user runs them, against
// a real localnet (4 validator processes over QUIC on loopback): encrypted wallets,
// an offline build -> sign -> broadcast, a 2-of-3 multisig output spent by two signers,
// a hash lock spent with its preimage, a timelock refused before its anchor and spent
// after it, then `wallet history`.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { rpcCall } from "../../src/rpc/client.ts";
import { startLocalnet, until, phantom, type Localnet } from "./localnet-harness.ts";

const maturityAnchors = 2n;
const rewardUnits = 5_000_000_000n; // initial_reward_units of createGenesis
const feeUnits = 10_000n;
process.env.PHANTOM_WALLET_PASSPHRASE = "scripts e2e passphrase"; // inherited by the CLI children

interface AddressGet { balanceUnits: string; utxos: { txid: string; amount: string; createdAt: string; coinbase: boolean }[] }

let net: Localnet;
beforeAll(async () => {
  net = await startLocalnet({ label: `wallet-scripts-${process.pid}`, maturityAnchors, miner: false, durationS: 240 });
});
afterAll(async () => {
  await net?.stop();
});

/** Runs the CLI; expects exit 0 and returns its JSON lines. */
function ok(args: string[]): Record<string, unknown>[] {
  const r = phantom(["wallet", ...args], 60_000);
  if (r.code !== 0) throw new Error(`phantom wallet ${args.join(" ")} exited ${r.code}: ${r.err}`);
  return r.out.trim().split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l));
}

function refused(args: string[], code: string): string {
  const r = phantom(["wallet", ...args], 60_000);
  expect({ args, code: r.code, tagged: r.err.includes(`[${code}]`) }).toEqual({ args, code: 2, tagged: true });
  return r.err;
}

describe("wallet scripts and offline signing against a localnet", () => {
  test("offline build/sign/broadcast, multisig 2-of-3, hash lock, timelock, history", async () => {
    const rpc = net.rpc[0]!;
    const w = (n: string) => join(net.dir, `${n}.wallet`);
    for (const n of ["a", "b", "c"]) ok(["new", "--wallet", w(n), "--scrypt_log_n", "12"]);
    const pub = (n: string) => ok(["pubkey", "--wallet", w(n)])[0] as { publicKey: string; address: string; lock: string };
    const [A, B, C] = [pub("a"), pub("b"), pub("c")];
    const balance = async (address: string) => BigInt((await rpcCall<AddressGet>(rpc, "address_get", { address })).balanceUnits);
    const anchorCount = async () => BigInt((await rpcCall<{ anchorCount: string }>(rpc, "phantom_status")).anchorCount);

    await until("node ready", async () => ((await fetch(`${rpc}/ready`)).ok ? true : undefined), 30_000);
    expect(phantom(["mine", "--rpc", rpc, "--to", A.address, "--max_mints", "1", "--threads", "1"], 60_000).code).toBe(0);
    await until("mature reward", async () => {
      const info = await rpcCall<AddressGet>(rpc, "address_get", { address: A.address });
      const next = await anchorCount();
      return info.utxos.some((u) => u.coinbase && next >= BigInt(u.createdAt) + maturityAnchors) ? true : undefined;
    }, 60_000);

    // Offline signing: a watch-only build (public key only), a sign without network, a broadcast.
    const unsigned = join(net.dir, "pay-b.json");
    const built = ok(["send", "--offline", "--rpc", rpc, "--from_lock", A.lock, "--to", B.address, "--amount", "1.25", "--fee", `${feeUnits}u`, "--out", unsigned, "--genesis", net.genesisPath])[0]!;
    expect(built).toMatchObject({ type: "tx_built", from: A.address, inputs: 1, inputUnits: String(rewardUnits), feeUnits: String(feeUnits) });
    const file = JSON.parse(readFileSync(unsigned, "utf8"));
    expect(file).toMatchObject({ format: "phantom-tx", version: 1, txid: built.txid, inputs: [{ amountUnits: String(rewardUnits), lock: A.lock, signatures: {} }] });
    expect(file.outputs).toEqual([{ address: B.address, amountUnits: "125000000" }, { address: A.address, amountUnits: String(rewardUnits - 125_000_000n - feeUnits) }]);
    refused(["broadcast", "--rpc", rpc, "--in", unsigned], "WALLET_TX_INCOMPLETE");
    const signedPath = join(net.dir, "pay-b.signed.json");
    const signed = ok(["sign", "--wallet", w("a"), "--in", unsigned, "--out", signedPath, "--rpc", "http://127.0.0.1:1"])[0]!;
    expect(signed).toMatchObject({ type: "tx_signed", signaturesAdded: 1, complete: true, txid: built.txid });
    // A signed file edited to pay someone else no longer matches its txid.
    const forged = JSON.parse(readFileSync(signedPath, "utf8"));
    forged.outputs[0].address = C.address;
    writeFileSync(join(net.dir, "forged.json"), JSON.stringify(forged));
    refused(["broadcast", "--rpc", rpc, "--in", join(net.dir, "forged.json")], "WALLET_TX_FILE_INVALID");
    const sent = ok(["broadcast", "--rpc", rpc, "--in", signedPath, "--wait_s", "45", "--wallet", w("a")]);
    expect(sent.map((l) => l.type)).toEqual(["tx_submitted", "tx_final"]);
    expect(await balance(B.address)).toBe(125_000_000n);

    // Script outputs: pay each lock's address from A.
    const multi = ok(["lock", "--spec", `multi(2,${A.publicKey},${B.publicKey},${C.publicKey})`])[0] as { lock: string; address: string };
    const secret = join(net.dir, "secret.bin");
    writeFileSync(secret, "the swap secret 42");
    const digest = ok(["digest", "--preimage_file", secret])[0] as { lock: string };
    const hash = ok(["lock", "--spec", digest.lock])[0] as { lock: string; address: string };
    const fund = (target: { address: string }) => {
      const lines = ok(["send", "--wallet", w("a"), "--rpc", rpc, "--to", target.address, "--amount", "2", "--fee", `${feeUnits}u`, "--wait_s", "45", "--genesis", net.genesisPath]);
      expect(lines.map((l) => l.type)).toEqual(["tx_submitted", "tx_final"]);
    };
    for (const target of [multi, hash]) {
      fund(target);
      expect(await balance(target.address)).toBe(200_000_000n);
    }

    // Multisig 2-of-3: built without a key, signed by A then C, broadcast.
    const ms = join(net.dir, "multi.json");
    ok(["build", "--rpc", rpc, "--from_lock", multi.lock, "--to", B.address, "--amount", "1.5", "--fee", `${feeUnits}u`, "--change", C.address, "--out", ms]);
    expect(ok(["sign", "--wallet", w("a"), "--in", ms])[0]).toMatchObject({ signaturesAdded: 1, complete: false, incompleteInputs: [0] });
    refused(["broadcast", "--rpc", rpc, "--in", ms], "WALLET_TX_INCOMPLETE");
    expect(ok(["sign", "--wallet", w("c"), "--in", ms])[0]).toMatchObject({ signaturesAdded: 1, complete: true });
    expect(ok(["broadcast", "--rpc", rpc, "--in", ms, "--wait_s", "45", "--history_file", join(net.dir, "multi.jsonl")]).map((l) => l.type)).toEqual(["tx_submitted", "tx_final"]);
    expect(await balance(multi.address)).toBe(0n);
    expect(await balance(B.address)).toBe(125_000_000n + 150_000_000n);
    expect(await balance(C.address)).toBe(200_000_000n - 150_000_000n - feeUnits);

    // Hash lock: a wrong secret cannot open it; the right one does.
    const wrong = join(net.dir, "wrong.bin");
    writeFileSync(wrong, "not the secret");
    refused(["send", "--wallet", w("b"), "--rpc", rpc, "--from_lock", hash.lock, "--preimage_file", wrong, "--to", B.address, "--amount", "1"], "WALLET_TX_INCOMPLETE");
    const opened = ok(["send", "--wallet", w("b"), "--rpc", rpc, "--from_lock", hash.lock, "--preimage_file", secret, "--to", B.address, "--amount", "1", "--fee", `${feeUnits}u`, "--wait_s", "45"]);
    expect(opened.map((l) => l.type)).toEqual(["tx_submitted", "tx_final"]);
    expect(await balance(hash.address)).toBe(0n);

    // Timelock: the node refuses a spend before its anchor and accepts one after. While work
    // is pending every validator makes an event per tick (SPEC_CONSENSUS §15), so anchors
    // can pass faster than a wallet process starts: the refusal is shown on a lock a million
    // anchors ahead, the acceptance on one 40 anchors ahead once they passed.
    const now = await anchorCount();
    const far = ok(["lock", "--spec", `after(${now + 1_000_000n})`])[0] as { lock: string; address: string };
    const unlockAt = now + 40n;
    const timed = ok(["lock", "--spec", `after(${unlockAt})`])[0] as { lock: string; address: string };
    for (const target of [far, timed]) {
      fund(target);
      expect(await balance(target.address)).toBe(200_000_000n);
    }
    const early = refused(["send", "--wallet", w("b"), "--rpc", rpc, "--from_lock", far.lock, "--to", B.address, "--amount", "1"], "WALLET_TX_REJECTED");
    expect(early).toContain("TX_TIMELOCK");
    await until(`anchor ${unlockAt}`, async () => ((await anchorCount()) >= unlockAt ? true : undefined), 120_000);
    const late = ok(["send", "--wallet", w("b"), "--rpc", rpc, "--from_lock", timed.lock, "--to", B.address, "--amount", "1", "--fee", `${feeUnits}u`, "--wait_s", "45"]);
    expect(late.map((l) => l.type)).toEqual(["tx_submitted", "tx_final"]);
    expect(await balance(timed.address)).toBe(0n);
    // Exact amounts: B got 1.25 + 1.5 + 1 + 1 PC and change of the two script spends (2 - 1 - fee each).
    expect(await balance(B.address)).toBe(125_000_000n + 150_000_000n + 2n * 200_000_000n - 2n * feeUnits);

    // History of A: the reward it received and spent, five sends, each final with its fee.
    const history = ok(["history", "--wallet", w("a"), "--rpc", rpc]);
    const summary = history.at(-1)!;
    const sends = history.filter((l) => l.type === "sent");
    expect(sends).toHaveLength(5); // 1.25 to B, 2 to the multisig, 2 to the hash lock, 2 to each time lock
    for (const s of sends) expect(s).toMatchObject({ state: "final", feeUnits: String(feeUnits), reason: "INCLUDED" });
    expect(sends.map((s) => s.amountUnits)).toEqual(["125000000", "200000000", "200000000", "200000000", "200000000"]);
    // The mint reward: spent, so no longer in address_get; the journal and chain_lookup tell its story.
    const reward = history.find((l) => l.type === "received" && l.amountUnits === String(rewardUnits))!;
    expect(reward).toMatchObject({ address: A.address, spentBy: sent[0]!.txid, spentAt: (sent[1] as { anchorIndex: string }).anchorIndex });
    expect(reward.createdAt).toMatch(/^\d+$/);
    expect(history.indexOf(reward)).toBe(0); // oldest first
    expect(summary).toMatchObject({ type: "history_summary", address: A.address, sentFinalUnits: String(925_000_000n), feesFinalUnits: String(5n * feeUnits) });
    // Watch-only history of B from its address: what it received, nothing sent from this journal-less view.
    const bHistory = ok(["history", "--address", B.address, "--rpc", rpc, "--history_file", join(net.dir, "none.jsonl")]);
    expect(bHistory.filter((l) => l.type === "received").reduce((s, l) => s + BigInt(l.amountUnits as string), 0n)).toBe(await balance(B.address));
    expect(ok(["balance", "--address", B.address, "--rpc", rpc, "--wallet", join(net.dir, "absent.wallet")])[0]).toMatchObject({ address: B.address, balanceUnits: String(await balance(B.address)) });
  }, 420_000);
});
