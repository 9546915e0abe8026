/** `phantom ConsensusAckDists`: every validator's ack distance for one anchor (docs/SPEC_FEES.md). */
import type { Command } from "../command.ts";
import { toHex } from "../../crypto/bytes.ts";
import { ackDistances, buildHeaderDag } from "../../consensus/ack-distance.ts";
import { toolFlags, loadToolCommittee, loadToolInputs, MAKE_HEADERS_HINT } from "../consensus-tools.ts";

export const command: Command = {
  name: "ConsensusAckDists",
  aliases: ["consensus-ack-dists"],
  summary: "ack distances of an anchor from a headers file",
  usage: `phantom ConsensusAckDists --ack_id <hex32> --headers_file headers.bin --genesis genesis.toml   (${MAKE_HEADERS_HINT})`,
  flags: toolFlags,
  async run(ctx) {
    const committee = await loadToolCommittee(ctx);
    const { anchorId, events } = loadToolInputs(ctx, committee);
    const ack = ackDistances(buildHeaderDag(events), anchorId, committee.k, committee.fees.dMax);
    ctx.out(JSON.stringify({
      type: "ack_dists",
      ack_id: toHex(ack.anchorId),
      creator: ack.creator,
      lamport: ack.lamport,
      k: committee.k,
      d_max: ack.dMax,
      source: committee.source,
      dists: ack.distances.map((d) => d.distance),
      validators: ack.distances.map((d) => ({ index: d.index, distance: d.distance, acknowledged: d.acknowledged, event: d.eventId ? toHex(d.eventId) : null })),
    }));
    return 0;
  },
};
