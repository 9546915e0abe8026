/** Shared by the `phantom wallet` subcommands: deadlines, unlocking the account, the journal path. */
import type { CommandContext } from "./command.ts";
import { CliError } from "./args.ts";
import { isPhantomError } from "../errors.ts";
import { SendError } from "../wallet/remote.ts";
import { loadAccount } from "../wallet/wallet-file.ts";
import { defaultScryptParams, type ScryptParams } from "../wallet/keystore.ts";
import type { WalletAccount } from "../wallet/keys.ts";
import { loadGenesis } from "../genesis/index.ts";
import { readPassphrase } from "./passphrase.ts";

/** A node that accepts the connection but never answers must not hang the wallet (default of --rpc_timeout_ms). */
export const walletRpcTimeoutMs = 15_000;
/** Longest --wait_s accepted. */
export const waitSMax = 3_600;

/** Runs an RPC-using subcommand under a deadline; a timeout becomes WALLET_RPC_TIMEOUT. */
export async function withDeadline(ctx: CommandContext, run: (ctx: CommandContext) => Promise<number>): Promise<number> {
  const rpcTimeoutMs = ctx.flags.rpc_timeout_ms as number;
  const waitS = ctx.flags.wait_s as number;
  if (rpcTimeoutMs <= 0) throw new CliError("CLI_BAD_VALUE", "--rpc_timeout_ms must be positive");
  if (waitS < 0 || waitS > waitSMax) throw new CliError("CLI_BAD_VALUE", `--wait_s must be 0..${waitSMax}`);
  // Waiting for finality is bounded by --wait_s on top of the RPC deadline.
  const timeoutMs = rpcTimeoutMs + waitS * 1000;
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    return await run({ ...ctx, signal: AbortSignal.any([ctx.signal, timeout]) });
  } catch (e) {
    if (timeout.aborted && isPhantomError(e) && e.code === "RPC_ABORTED") throw new SendError("WALLET_RPC_TIMEOUT", `no answer from ${ctx.flags.rpc as string} within ${timeoutMs} ms`);
    throw e;
  }
}

export async function maturityFromGenesis(ctx: CommandContext): Promise<bigint | undefined> {
  const file = ctx.flags.genesis as string | undefined;
  return file ? (await loadGenesis(file)).emission.maturityAnchors : undefined;
}

/** scrypt cost for new and encrypt: the default unless --scrypt_log_n lowers or raises N. */
export function kdfParams(ctx: CommandContext): ScryptParams {
  return { ...defaultScryptParams, logN: ctx.flags.scrypt_log_n as number };
}

/** Loads the account for `use` and zeroes its secret key afterwards, whatever happens. */
export async function withAccount<T>(ctx: CommandContext, use: (acct: WalletAccount) => Promise<T> | T): Promise<T> {
  const passphrase = () => readPassphrase(ctx.flags, { confirm: false, purpose: `unlock ${ctx.flags.wallet as string}` });
  const acct = await loadAccount(ctx.flags.wallet as string, ctx.flags.account as number, passphrase, ctx.err);
  try {
    return await use(acct);
  } finally {
    acct.keyPair.secretKey.fill(0);
  }
}

/** The journal of submitted txs: --history_file, else next to the wallet file. */
export function journalPath(ctx: CommandContext): string {
  const explicit = ctx.flags.history_file as string | undefined;
  return explicit && explicit.length > 0 ? explicit : `${ctx.flags.wallet as string}.history.jsonl`;
}
