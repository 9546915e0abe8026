/**
 * `phantom mine --rpc http://127.0.0.1:8645 --to <address>`: asks the node for a
 * mint template, searches nonces on all cores with native PoW, submits a hit, and
 * starts over on the new tip. SIGINT/SIGTERM stop it cleanly between or during searches.
 */
import { RPC_TOKEN_FILE_FLAG, rpcUrl } from "../rpc-target.ts";
import { formatLogLine } from "../log-line.ts";
import type { Command } from "../command.ts";
import { rpcCall } from "../../rpc/client.ts";
import { powSearch } from "../../crypto/pow.ts";
import { fromHex, toHex } from "../../crypto/bytes.ts";
import { decodeAddress } from "../../wallet/address.ts";
import { availableParallelism } from "node:os";
import { isPhantomError } from "../../errors.ts";

interface MintTemplate {
  header: string;
  nonceOffset: number;
  targetBits: number;
  height: string;
  prevMint: string;
}

/** Wait between attempts while the node is unreachable. */
const retryMs = 1_000;

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => { clearTimeout(t); resolve(); }, { once: true });
  });
}

/** How often, and how long at most, the miner polls for the tip to move after a submission. */
const tipPollMs = 200;
const tipWaitMs = 60_000;

async function waitForNextHeight(url: string, to: string, height: string, signal: AbortSignal): Promise<void> {
  for (let waited = 0; waited < tipWaitMs && !signal.aborted; waited += tipPollMs) {
    await abortableSleep(tipPollMs, signal);
    const t = await rpcCall<MintTemplate>(url, "mint_getTemplate", { recipient: to }, signal).catch(() => null);
    if (t && t.height !== height) return;
  }
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
    RPC_TOKEN_FILE_FLAG,
    { name: "to", type: "string", help: "address that receives the rewards", required: true },
    { name: "threads", type: "int", help: "PoW threads (default: all cores)" },
    { name: "max_mints", type: "int", help: "stop after this many accepted mints (0 = run until stopped)", default: "0" },
  ],
  async run(ctx) {
    const url = rpcUrl(ctx.flags);
    const to = ctx.flags.to as string;
    decodeAddress(to); // fail fast on a bad address
    const threads = (ctx.flags.threads as number | undefined) ?? availableParallelism();
    const maxMints = ctx.flags.max_mints as number;
    let accepted = 0;
    let waiting = false;
    let nonce = BigInt(process.pid) << 32n; // different miners start in different nonce ranges
    while (!ctx.signal.aborted && (maxMints === 0 || accepted < maxMints)) {
      const t = await rpcCall<MintTemplate>(url, "mint_getTemplate", { recipient: to }, ctx.signal).catch((e) => {
        if (ctx.signal.aborted) return null;
        // A node that is starting or restarting is not an error for a miner: wait and retry.
        if (isPhantomError(e) && e.code === "RPC_UNREACHABLE") return "unreachable" as const;
        throw e;
      });
      if (!t) break;
      if (t === "unreachable") {
        // Waiting is not a failure: a log line on stdout (stderr carries errors only).
        if (!waiting) ctx.out(formatLogLine("json", { type: "miner_waiting", message: `node at ${ctx.flags.rpc as string} is not reachable yet; retrying every ${retryMs} ms` }));
        waiting = true;
        await abortableSleep(retryMs, ctx.signal);
        continue;
      }
      waiting = false;
      const header = fromHex(t.header);
      const result = await powSearch(header, { nonceOffset: t.nonceOffset, targetBits: t.targetBits, startNonce: nonce, maxIters: itersPerRound, threads, signal: ctx.signal });
      nonce += itersPerRound;
      if (result.outcome !== "found" || result.nonce === null) continue;
      new DataView(header.buffer).setBigUint64(t.nonceOffset, result.nonce, true);
      const res = await rpcCall<{ accepted: boolean; mintId: string; code?: string }>(url, "mint_submit", { header: toHex(header) }, ctx.signal).catch((e) => {
        if (ctx.signal.aborted || (isPhantomError(e) && e.code === "RPC_UNREACHABLE")) return null;
        throw e;
      });
      if (!res) continue;
      if (res.accepted) accepted++;
      ctx.out(formatLogLine("json", { type: "mint_submitted", height: t.height, targetBits: t.targetBits, accepted: res.accepted, mintId: res.mintId, code: res.code, hashes: result.hashes.toString() }));
      // A queued mint holds the tip until it is final: mining on the same template again
      // would only produce a competitor that is void. Wait (bounded) for the next height.
      if (res.accepted || res.code === "MINT_ALREADY_PENDING") await waitForNextHeight(url, to, t.height, ctx.signal);
    }
    ctx.out(formatLogLine("json", { type: "miner_stopped", message: `miner stopped after ${accepted} accepted mints`, accepted }));
    return 0;
  },
};
