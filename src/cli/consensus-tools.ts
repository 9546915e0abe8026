/**
 * Shared setup of the consensus tools (ConsensusAckDists, ConsensusPayoutRoot):
 * committee parameters from genesis (authoritative) or, for local development
 * without a genesis, from --k with the documented default fee parameters.
 */
import type { CommandContext, FlagSpec } from "./command.ts";
import { CliError } from "./args.ts";
import { loadGenesis, type FeeParams } from "../genesis/index.ts";
import { fromHex } from "../crypto/bytes.ts";
import type { SignedEvent } from "../types/event.ts";
import { DEFAULT_FEE_PARAMS } from "../consensus/fees.ts";
import { checkHeadersRules } from "../consensus/headers-file.ts";
import { readHeadersFile } from "./headers-file-io.ts";

export const MAKE_HEADERS_HINT = "make a sample pair: bun scripts/make-headers.ts --k 4 --events 64 --out headers.bin --genesis_out genesis.toml";

export const toolFlags: FlagSpec[] = [
  { name: "ack_id", type: "string", help: "event id (64 hex) of the anchor", required: true },
  { name: "headers_file", type: "string", help: "headers.bin with the anchor and its descendants (docs/SPEC_FEES.md §5; usage shows how to make one)", required: true },
  { name: "genesis", type: "string", help: "genesis.toml: k, stakes, keys and [fees] come from it (signatures are checked)" },
  { name: "k", type: "int", help: "committee size when --genesis is omitted (local development only; default fee parameters, stake 1 each)" },
];

export interface ToolCommittee {
  k: number;
  fees: FeeParams;
  stakes: bigint[];
  /** Known only with a genesis; without one, signatures are not checked. */
  publicKeys: Uint8Array[] | undefined;
  shardCount: number;
  parentsMax: number;
  source: "genesis" | "cli";
}

export async function loadToolCommittee(ctx: CommandContext): Promise<ToolCommittee> {
  const path = ctx.flags.genesis as string | undefined;
  const k = ctx.flags.k as number | undefined;
  if (path !== undefined) {
    const g = await loadGenesis(path);
    if (k !== undefined && k !== g.k) ctx.err(`note: genesis k = ${g.k} overrides --k ${k}`);
    return {
      k: g.k, fees: g.fees, stakes: g.validators.map((v) => v.stake), publicKeys: g.validators.map((v) => v.publicKey),
      shardCount: g.shardCount, parentsMax: g.parentsMax, source: "genesis",
    };
  }
  if (k === undefined) throw new CliError("CLI_MISSING_FLAG", "--genesis or (for local development) --k is required");
  if (k < 1 || k > 64) throw new CliError("CLI_BAD_VALUE", `--k must be 1..64, got ${k}`);
  ctx.err("note: no --genesis: default fee parameters, equal stakes, signatures not checked (local development only)");
  return { k, fees: { ...DEFAULT_FEE_PARAMS }, stakes: new Array(k).fill(1n), publicKeys: undefined, shardCount: 1, parentsMax: 4, source: "cli" };
}

/** Parses --ack_id, reads the headers file and checks it against the committee. */
export function loadToolInputs(ctx: CommandContext, c: ToolCommittee): { anchorId: Uint8Array; events: SignedEvent[] } {
  const anchorId = fromHex(ctx.flags.ack_id as string, 32, "--ack_id");
  const events = readHeadersFile(ctx.flags.headers_file as string);
  checkHeadersRules(events, { k: c.k, shardCount: c.shardCount, parentsMax: c.parentsMax, publicKeys: c.publicKeys });
  return { anchorId, events };
}
