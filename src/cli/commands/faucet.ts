/**
 * `phantom faucet`: a new user on a devnet gets coins without mining. Pays from the
 * devnet miner account (public key material; see src/wallet/faucet.ts) over a node's
 * RPC, only when that node runs the devnet genesis of --devnet_label.
 */
import type { Command } from "../command.ts";
import { CliError } from "../args.ts";
import { RPC_TOKEN_FILE_FLAG, rpcUrl } from "../rpc-target.ts";
import { walletRpcTimeoutMs, withDeadline } from "../wallet-common.ts";
import { formatPc, parseAmount } from "../../wallet/amount.ts";
import { minerAccount, faucetAddressCapUnits, faucetAmountDefault, faucetAmountMaxUnits, faucetSend } from "../../wallet/faucet.ts";
import { waitForFinality } from "../../wallet/remote.ts";

export const command: Command = {
  name: "faucet",
  aliases: [],
  summary: "devnet only: send coins from the devnet faucet (the localnet miner's account) to an address",
  usage: [
    "phantom faucet --to pc1… [--amount 10] [--rpc http://127.0.0.1:8645] [--devnet_label localnet] [--wait_s 30]",
    "phantom faucet --address   (prints the faucet's address for --devnet_label)",
    `limits: at most ${formatPc(faucetAmountMaxUnits)} PC a request; an address is topped up to at most ${formatPc(faucetAddressCapUnits)} PC`,
  ].join("\n"),
  flags: [
    { name: "rpc", type: "string", help: "node RPC URL (a devnet node)", default: "http://127.0.0.1:8645" },
    RPC_TOKEN_FILE_FLAG,
    { name: "to", type: "string", help: "recipient address (pc1…)" },
    { name: "amount", type: "string", help: "amount, PC decimal (10) or units (1000000000u)", default: faucetAmountDefault },
    { name: "fee", type: "string", help: "fee paid by the faucet, PC decimal or units", default: "10000u" },
    { name: "devnet_label", type: "string", help: "label the devnet keys derive from (as given to localnet)", default: "localnet" },
    { name: "wait_s", type: "int", help: "then wait up to this long for the payment to be final (0 = do not wait)", default: "0" },
    { name: "rpc_timeout_ms", type: "int", help: "give up on an RPC call after this long", default: String(walletRpcTimeoutMs) },
    { name: "address", type: "bool", help: "only print the faucet's address (no network)", default: "false" },
    { name: "shards", type: "int", help: "with --address: the devnet's shard_count (the faucet account is then the first of the label's accounts on shard 0)", default: "1" },
  ],
  async run(ctx) {
    const label = ctx.flags.devnet_label as string;
    if (ctx.flags.address) {
      const shards = ctx.flags.shards as number;
      if (shards < 1 || shards > 1024) throw new CliError("CLI_BAD_VALUE", `--shards must be 1..1024, got ${shards}`);
      const faucet = minerAccount(label, shards);
      faucet.keyPair.secretKey.fill(0);
      ctx.out(JSON.stringify({ type: "faucet_address", label, address: faucet.address }));
      return 0;
    }
    const to = ctx.flags.to as string | undefined;
    if (!to) throw new CliError("CLI_MISSING_FLAG", "faucet needs --to <pc1… address> (make one with `phantom wallet new`)");
    const amount = parseAmount(ctx.flags.amount as string);
    const fee = parseAmount(ctx.flags.fee as string, { allowZero: true });
    return withDeadline(ctx, async (c) => {
      const rpc = rpcUrl(c.flags);
      const res = await faucetSend({ rpc, label, to, amount, fee, signal: c.signal });
      c.out(JSON.stringify({ type: "faucet_sent", txid: res.txid, from: res.from, to, amountPc: formatPc(res.amount), amountUnits: res.amount.toString(), feeUnits: res.fee.toString() }));
      const waitS = c.flags.wait_s as number;
      if (waitS > 0) {
        const anchor = await waitForFinality(rpc, res.txid, waitS * 1000, c.signal);
        c.out(JSON.stringify({ type: "tx_final", txid: res.txid, anchorIndex: anchor.toString() }));
      }
      return 0;
    });
  },
};
