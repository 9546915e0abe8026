// How the harness reads tx_status answers (the method comes with the mempool-lifecycle
// work; docs/RPC.md there): a terminal state with a reason accounts for a transaction,
// pending and unknown do not, and a node without the method is reported as such. The
// node side is a real HTTP JSON-RPC listener on an OS-chosen loopback port answering
// per that contract, since this branch's validator has no tx_status yet.
import { afterAll, describe, expect, test } from "bun:test";
import { askTxStatus, accountsFor } from "./tx-status.ts";

type Req = { id: number; method: string; params: { txid: string } };
const states: Record<string, { state: string; reason: string | null }> = {
  aa: { state: "final", reason: "INCLUDED" },
  bb: { state: "expired", reason: "MEMPOOL_EXPIRED" },
  cc: { state: "pending", reason: null },
  dd: { state: "unknown", reason: null },
  ee: { state: "void", reason: "TX_DOUBLE_SPEND" },
};

function answer(r: Req) {
  if (r.method !== "tx_status") return { jsonrpc: "2.0", id: r.id, error: { code: -32601, message: "method not found" } };
  return { jsonrpc: "2.0", id: r.id, result: { txid: r.params.txid, ...states[r.params.txid]! } };
}

const withMethod = Bun.serve({ hostname: "127.0.0.1", port: 0, async fetch(req) {
  const body = (await req.json()) as Req | Req[];
  return Response.json(Array.isArray(body) ? body.map(answer) : answer(body));
} });
const without = Bun.serve({ hostname: "127.0.0.1", port: 0, async fetch(req) {
  const body = (await req.json()) as Req | Req[];
  const err = (r: Req) => ({ jsonrpc: "2.0", id: r.id, error: { code: -32601, message: "method not found" } });
  return Response.json(Array.isArray(body) ? body.map(err) : err(body));
} });
afterAll(() => {
  withMethod.stop(true);
  without.stop(true);
});

const acked = (txid: string, validator: number) => ({ txid, validator, atMs: 0 });

describe("tx_status in the chaos harness", () => {
  test("terminal states with a reason account for a tx; pending and unknown do not", async () => {
    const { available, answers } = await askTxStatus(Object.keys(states).map((t) => acked(t, 0)), () => `http://127.0.0.1:${withMethod.port}`);
    expect(available).toBe(true);
    expect(Object.keys(states).map((t) => accountsFor(answers.get(t)))).toEqual([true, true, false, false, true]);
    expect(accountsFor(undefined)).toBe(false);
  }, 10_000);

  test("a node without the method, or a down one, answers nothing", async () => {
    expect((await askTxStatus([acked("aa", 1)], () => `http://127.0.0.1:${without.port}`)).available).toBe(false);
    const down = await askTxStatus([acked("aa", 2)], () => null);
    expect([down.available, down.answers.size]).toEqual([false, 0]);
  }, 10_000);
});
