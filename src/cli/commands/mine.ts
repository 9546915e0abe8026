/**
 * `phantom mine --rpc http://127.0.0.1:8645 --to <address>`: asks the node for a
 * mint template, searches nonces on all cores with native PoW, submits a hit, and
 * starts over on the new tip. SIGINT/SIGTERM stop it cleanly between or during searches.
 */
import type { Command } from "../command.ts";
import { rpcCall } from "../../rpc/client.ts";
import { powSearch } from "../../crypto/pow.ts";
import { fromHex, toHex } from "../../crypto/bytes.ts";
import { decodeAddress } from "../../wallet/address.ts";
import { availableParallelism } from "node:os";

interface MintTemplate {
  header: string;
  nonceOffset: number;
  targetBits: number;
  height: string;
  prevMint: string;
}

/** Nonces per search round; between rounds the miner checks whether the tip moved. */
const itersPerRound = 1n << 22n;

export const command: Command = {
  name: "mine",
  aliases: ["miner"],
  summary: "mine new coins against a node's RPC with native proof-of-work on all cores",
  usage: "phantom mine --rpc http://127.0.0.1:8645 --to <pc1… address> [--threads N] [--max_mints N]",
  flags: [
    { name: "rpc", type: "string", help: "node RPC URL", default: "http://127.0.0.1:8645" },
    { name: "to", type: "string", help: "address that receives the rewards", required: true },
    { name: "threads", type: "int", help: "PoW threads (default: all cores)" },
    { name: "max_mints", type: "int", help: "stop after this many accepted mints (0 = run until stopped)", default: "0" },
  ],
  async run(ctx) {
    const url = ctx.flags.rpc as string;
    const to = ctx.flags.to as string;
    decodeAddress(to); // fail fast on a bad address
    const threads = (ctx.flags.threads as number | undefined) ?? availableParallelism();
    const maxMints = ctx.flags.max_mints as number;
    let accepted = 0;
    let nonce = BigInt(process.pid) << 32n; // different miners start in different nonce ranges
    while (!ctx.signal.aborted && (maxMints === 0 || accepted < maxMints)) {
      const t = await rpcCall<MintTemplate>(url, "mint_getTemplate", { recipient: to }, ctx.signal).catch((e) => {
        if (ctx.signal.aborted) return null;
        throw e;
      });
      if (!t) break;
      const header = fromHex(t.header);
      const result = await powSearch(header, { nonceOffset: t.nonceOffset, targetBits: t.targetBits, startNonce: nonce, maxIters: itersPerRound, threads, signal: ctx.signal });
      nonce += itersPerRound;
      if (result.outcome !== "found" || result.nonce === null) continue;
      new DataView(header.buffer).setBigUint64(t.nonceOffset, result.nonce, true);
      const res = await rpcCall<{ accepted: boolean; mintId: string; code?: string }>(url, "mint_submit", { header: toHex(header) });
      if (res.accepted) accepted++;
      ctx.out(JSON.stringify({ type: "mint_submitted", height: t.height, targetBits: t.targetBits, accepted: res.accepted, mintId: res.mintId, code: res.code, hashes: result.hashes.toString() }));
    }
    ctx.err(`miner stopped after ${accepted} accepted mints`);
    return 0;
  },
};
