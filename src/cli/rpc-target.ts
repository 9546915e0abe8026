/** The RPC URL of the client commands (wallet, mine): `--rpc`, with the token of `--rpc_token_file` if given. */
import type { FlagSpec, FlagValue } from "./command.ts";
import { readTokenFile } from "../rpc/auth.ts";
import { withRpcToken } from "../rpc/client.ts";
import { CliError } from "./args.ts";

export const RPC_TOKEN_FILE_FLAG: FlagSpec = {
  name: "rpc_token_file",
  type: "string",
  help: "file holding the node's RPC bearer token (its --rpc_token_file, or <store_dir>/.cookie) for a node that requires one",
};

export function rpcUrl(flags: Record<string, FlagValue>): string {
  const url = flags.rpc as string;
  const tokenFile = flags.rpc_token_file as string | undefined;
  if (!tokenFile) return url;
  const token = readTokenFile(tokenFile);
  try {
    return withRpcToken(url, token);
  } catch {
    throw new CliError("CLI_BAD_VALUE", `--rpc must be a URL such as http://127.0.0.1:8645, got "${url}"`);
  }
}
