/** `phantom ConsensusPayoutRoot`: the fee split of one anchor and its payout Merkle root (docs/SPEC_FEES.md). */
import type { Command } from "../command.ts";
import { CliError } from "../args.ts";
import { fromHex, toHex } from "../../crypto/bytes.ts";
import { anchorPayout, FeesError } from "../../consensus/fees.ts";
import { toolFlags, loadToolCommittee, loadToolInputs, MAKE_HEADERS_HINT } from "../consensus-tools.ts";

export const command: Command = {
  name: "ConsensusPayoutRoot",
  aliases: ["consensus-payout-root"],
  summary: "committee payout Merkle root of an anchor",
  usage: `phantom ConsensusPayoutRoot --ack_id <hex32> --headers_file headers.bin --fees 1000000 --recipients <hex32>,<hex32>,... --proposer_index 0 --genesis genesis.toml   (${MAKE_HEADERS_HINT})`,
  flags: [
    ...toolFlags,
    { name: "fees", type: "string", help: "fees of the anchor in units (u64; anything else is FEES_OUT_OF_RANGE)", required: true },
    { name: "recipients", type: "list", help: "k comma-separated 32-byte hex recipients (lock commitments), validator order", required: true },
    { name: "proposer_index", type: "int", help: "the anchor's creator (checked; defaults to it)" },
    { name: "stakes", type: "list", help: "k comma-separated stakes in units, overriding the genesis ones: the chain's stake table at the settling anchor after a slash (RPC chain_stakes)" },
  ],
  async run(ctx) {
    // Check order (SPEC_FEES §6): flags as parsed, --fees, committee, --recipients, --ack_id,
    // headers file, --stakes, then the payout computation.
    const fees = parseFees(ctx.flags.fees as string);
    const committee = await loadToolCommittee(ctx);
    const recipientsHex = ctx.flags.recipients as string[];
    if (recipientsHex.length !== committee.k) {
      throw new CliError("CLI_BAD_VALUE", `--recipients lists ${recipientsHex.length} recipients, the committee has k = ${committee.k}`);
    }
    const recipients = recipientsHex.map((h, i) => fromHex(h, 32, `--recipients[${i}]`));
    const { anchorId, events } = loadToolInputs(ctx, committee);
    const stakes = ctx.flags.stakes === undefined ? committee.stakes : parseStakes(ctx.flags.stakes as string[], committee.k);
    const p = anchorPayout({
      events, anchorId, feesUnits: fees, recipients, stakes, params: committee.fees,
      proposerIndex: ctx.flags.proposer_index as number | undefined,
    });
    const s = p.split;
    ctx.out(JSON.stringify({
      type: "payout_root",
      ack_id: toHex(p.ack.anchorId),
      root: toHex(p.root),
      fees: fees.toString(),
      k: committee.k,
      proposer_index: p.ack.creator,
      source: committee.source,
      dists: p.ack.distances.map((d) => d.distance),
      pools: { floor: s.pools.floor.toString(), proposer: s.pools.proposer.toString(), performance: s.pools.performance.toString(), attestor: s.pools.attestor.toString() },
      unearned_bonus: s.unearnedBonus.toString(),
      dust: s.dust.toString(),
      attestors: s.attestors,
      payouts: s.payouts.map((row) => ({
        index: row.index, recipient: toHex(recipients[row.index]!), amount: row.total.toString(),
        floor: row.floor.toString(), proposer: row.proposer.toString(), bonus: row.bonus.toString(), attestor: row.attestor.toString(), dust: row.dust.toString(),
      })),
    }));
    return 0;
  },
};

const U64_MAX = (1n << 64n) - 1n;

/** --fees: a decimal u64; a negative, fractional or too large value is the spec's FEES_OUT_OF_RANGE. */
function parseFees(raw: string): bigint {
  if (!/^\d{1,20}$/.test(raw) || BigInt(raw) > U64_MAX) {
    throw new FeesError("FEES_OUT_OF_RANGE", `--fees must be a u64 in units (0..${U64_MAX}), got "${raw}"`);
  }
  return BigInt(raw);
}

function parseStakes(list: readonly string[], k: number): bigint[] {
  if (list.length !== k) throw new CliError("CLI_BAD_VALUE", `--stakes lists ${list.length} stakes, the committee has k = ${k}`);
  return list.map((v, i) => {
    if (!/^\d{1,20}$/.test(v) || BigInt(v) > U64_MAX) throw new CliError("CLI_BAD_VALUE", `--stakes[${i}] must be a u64 in units, got "${v}"`);
    return BigInt(v);
  });
}
