// `phantom faucet` against a real localnet (4 validator processes over QUIC on
// loopback, own devnet label): empty before the miner's first reward matures, then a
// new address gets coins without mining; the limits and the devnet check are typed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rpcCall } from "../../src/rpc/client.ts";
import { FaucetError, devnetMinerAccount, faucetSend } from "../../src/wallet/faucet.ts";
import { accountFromSeed } from "../../src/wallet/keys.ts";
import { startLocalnet, until, phantom, type Localnet } from "../wallet/localnet-harness.ts";

const maturityAnchors = 3n;
const label = `faucet-${process.pid}`;
interface AddressGet { balanceUnits: string }

let net: Localnet;
beforeAll(async () => {
  net = await startLocalnet({ label, maturityAnchors, miner: false, durationS: 120 });
});
afterAll(async () => {
  await net?.stop();
});

async function faucetCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof FaucetError) return e.code;
    throw e;
  }
  return "paid";
}

describe("phantom faucet on a localnet", () => {
  test("empty, funded by the miner, pays a new address; limits and devnet check refuse with typed errors", async () => {
    const rpc = net.rpc[0]!;
    const user = accountFromSeed(new Uint8Array(32).fill(7)).address;
    await until("node ready", async () => ((await fetch(`${rpc}/ready`)).ok ? true : undefined), 30_000);

    const faucetAddr = JSON.parse(phantom(["faucet", "--address", "--devnet_label", label]).out).address as string;
    expect(faucetAddr).toBe(devnetMinerAccount(label).address);

    const empty = phantom(["faucet", "--rpc", rpc, "--devnet_label", label, "--to", user, "--amount", "1"]);
    expect(empty.code).toBe(2);
    expect(empty.err).toContain("[FAUCET_EMPTY]");

    // What localnet's miner does: mint to the faucet account.
    expect(phantom(["mine", "--rpc", rpc, "--to", faucetAddr, "--max_mints", "1", "--threads", "1"], 60_000).code).toBe(0);
    await until("faucet reward mature", async () => {
      const status = await rpcCall<{ anchorCount: string }>(rpc, "phantom_status");
      const info = await rpcCall<{ utxos: { createdAt: string }[] }>(rpc, "address_get", { address: faucetAddr });
      return info.utxos.some((u) => BigInt(status.anchorCount) >= BigInt(u.createdAt) + maturityAnchors) ? true : undefined;
    }, 30_000);

    const refuse = (args: string[], code: string) => {
      const r = phantom(["faucet", "--rpc", rpc, "--to", user, ...args]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`[${code}]`);
    };
    refuse(["--devnet_label", label, "--amount", "100.00000001"], "FAUCET_AMOUNT_LIMIT");
    refuse(["--devnet_label", "localnet"], "FAUCET_NOT_DEVNET"); // the node runs another devnet's genesis

    const paid = phantom(["faucet", "--rpc", rpc, "--devnet_label", label, "--to", user, "--amount", "10", "--wait_s", "30"]);
    expect(paid.code).toBe(0);
    const [sent, final] = paid.out.trim().split("\n").map((l) => JSON.parse(l));
    expect(sent).toMatchObject({ type: "faucet_sent", from: faucetAddr, to: user, amountUnits: "1000000000" });
    expect(final).toMatchObject({ type: "tx_final", txid: sent.txid });
    // Final on another validator too.
    const other = net.rpc[2]!;
    await until("user credited", async () => ((await rpcCall<AddressGet>(other, "address_get", { address: user })).balanceUnits === "1000000000" ? true : undefined), 30_000);

    // The per-address cap counts what the address already holds (10 PC): 10 + 6 > 15.
    const limits = { amountMaxUnits: 100n * 100_000_000n, addressCapUnits: 15n * 100_000_000n };
    expect(await faucetCode(faucetSend({ rpc, label, to: user, amount: 6n * 100_000_000n, fee: 10_000n, limits }))).toBe("FAUCET_ADDRESS_LIMIT");
    expect(await faucetCode(faucetSend({ rpc, label, to: faucetAddr, amount: 1n, fee: 10_000n, limits }))).toBe("FAUCET_ADDRESS_LIMIT");
  }, 150_000);
});
