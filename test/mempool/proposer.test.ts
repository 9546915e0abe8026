// Proposer policy examples (docs/SPEC_TX.md "Proposer policy"); the general rules are in proposer.property.test.ts.
import { describe, expect, test } from "bun:test";
import { Registry } from "prom-client";
import { Mempool } from "../../src/mempool/mempool.ts";
import { Proposer, buildPayload, payloadBytesFor, ProposerError, type ProposerCandidate } from "../../src/mempool/proposer.ts";
import { encodeAnchorPayload, decodeAnchorPayload } from "../../src/types/payload.ts";
import { blake3_32 } from "../../src/crypto/hash.ts";
import { compareBytes, toHex } from "../../src/crypto/bytes.ts";
import { digestMicroTx } from "../../src/types/tx.ts";
import { CTX, fundedView, freeTx } from "./fixtures.ts";

/** A synthetic candidate: buildPayload only looks at these fields. */
function cand(name: string, group: string, size: number, seq: number, inputs: string[] = [name]): ProposerCandidate {
  return { txid: blake3_32(new TextEncoder().encode(name)), txidHex: name, encodedBytes: size, seq, group, inputKeys: inputs };
}
const names = (cs: ProposerCandidate[]) => cs.map((c) => c.txidHex);
const BIG = 1 << 20;

describe("buildPayload", () => {
  test("smaller first, then older, within one group", () => {
    const cs = [cand("a", "g", 200, 0), cand("b", "g", 100, 5), cand("c", "g", 100, 3), cand("d", "g", 150, 1)];
    expect(names(buildPayload({ candidates: cs, txsMax: 3, budgetBytes: BIG }).pickOrder)).toEqual(["c", "b", "d"]);
  });

  test("round-robin: a group with many small txs does not starve a group with one large tx", () => {
    const many = Array.from({ length: 10 }, (_, i) => cand(`s${i}`, "spam", 90, i));
    const lone = cand("L", "lone", 500, 99);
    const sel = buildPayload({ candidates: [...many, lone], txsMax: 3, budgetBytes: BIG });
    expect(names(sel.pickOrder)).toEqual(["s0", "L", "s1"]);
  });

  test("groups are served in order of their best tx within each round", () => {
    const cs = [cand("x1", "X", 300, 0), cand("x2", "X", 310, 1), cand("y1", "Y", 200, 2), cand("y2", "Y", 900, 3), cand("z1", "Z", 250, 4)];
    expect(names(buildPayload({ candidates: cs, txsMax: 10, budgetBytes: BIG }).pickOrder)).toEqual(["y1", "z1", "x1", "x2", "y2"]);
  });

  test("conflicting and pending txs are skipped; the group is served by its next tx", () => {
    const cs = [cand("a", "A", 100, 0, ["o1"]), cand("b", "B", 110, 1, ["o1"]), cand("b2", "B", 120, 2, ["o2"]), cand("c", "C", 90, 3, ["o3"]), cand("c2", "C", 95, 4, ["o4"])];
    const sel = buildPayload({ candidates: cs, txsMax: 10, budgetBytes: BIG, pendingTxids: new Set(["c"]), pendingInputs: new Set(["o4"]) });
    expect(names(sel.pickOrder)).toEqual(["a", "b2"]);
  });

  test("the byte budget counts the whole payload encoding; a group whose smallest tx does not fit is done", () => {
    const cs = [cand("a", "A", 100, 0), cand("b", "B", 60, 1), cand("b2", "B", 61, 2)];
    const budget = payloadBytesFor(2, 160);
    const sel = buildPayload({ candidates: cs, txsMax: 10, budgetBytes: budget });
    expect(names(sel.pickOrder)).toEqual(["b", "a"]);
    expect(sel.payloadBytes).toBe(budget);
    expect(buildPayload({ candidates: cs, txsMax: 10, budgetBytes: budget - 1 }).pickOrder.map((c) => c.txidHex)).toEqual(["b", "b2"]);
    expect(buildPayload({ candidates: cs, txsMax: 10, budgetBytes: 2 }).txs).toEqual([]);
  });

  test("the final list is sorted by txid", () => {
    const cs = Array.from({ length: 40 }, (_, i) => cand(`t${i}`, `g${i % 7}`, 100 + (i % 5), i));
    const { txs } = buildPayload({ candidates: cs, txsMax: 40, budgetBytes: BIG });
    for (let i = 1; i < txs.length; i++) expect(compareBytes(txs[i - 1]!.txid, txs[i]!.txid)).toBeLessThan(0);
  });

  test("bad options are typed errors", () => {
    expect(() => buildPayload({ candidates: [], txsMax: -1, budgetBytes: 10 })).toThrow(expect.objectContaining({ code: "PROPOSER_BAD_CONFIG" }));
    expect(() => new Proposer({ txsPerPayload: 0, payloadBudgetBytes: 1000 })).toThrow(ProposerError);
    expect(() => new Proposer({ txsPerPayload: 10, payloadBudgetBytes: 1 << 30 })).toThrow(ProposerError);
  });
});

describe("Proposer with a real mempool", () => {
  test("payload bytes are the canonical encoding; pending txs are skipped until released", async () => {
    const registry = new Registry();
    const { view, ops } = fundedView(30);
    const pool = new Mempool({ minRelayFeePerByte: 0n, view });
    expect(pool.admit(ops.map((op, i) => freeTx([op], 100n + BigInt(i), { group: i % 4, extraOutputs: i % 3 })), CTX).every((r) => r.ok)).toBe(true);
    const proposer = new Proposer({ txsPerPayload: 8, payloadBudgetBytes: 64 * 1024, registry });
    const first = proposer.build(pool.candidates)!;
    expect(first.txids.length).toBe(8);
    // Pending txs are parked out of the mempool's index, not skipped one by one.
    expect(pool.candidates.size).toBe(22);
    expect(toHex(first.bytes)).toBe(toHex(encodeAnchorPayload(first.payload)));
    expect(toHex(first.digest)).toBe(toHex(blake3_32(first.bytes)));
    expect(decodeAnchorPayload(first.bytes).txs.map((t) => toHex(digestMicroTx(t.tx as never)))).toEqual(first.txids.map(toHex));
    const second = proposer.build(pool.candidates)!;
    const firstSet = new Set(first.txids.map(toHex));
    expect(second.txids.some((t) => firstSet.has(toHex(t)))).toBe(false);
    expect(proposer.pendingPayloads).toBe(2);
    // The first payload was dropped (never finalized): its txs are eligible again.
    expect(proposer.release(first.digest)).toBe(true);
    expect(proposer.release(first.digest)).toBe(false);
    expect(pool.candidates.size).toBe(22);
    const third = proposer.build(pool.candidates)!;
    expect(third.txids.map(toHex).sort()).toEqual([...firstSet].sort());
    // The second payload was finalized: the mempool drops its txs, the proposer releases it.
    pool.onFinalized(second.payload.txs.flatMap((t) => (t.kind === "micro" ? t.tx.inputs : [])), second.txids);
    proposer.release(second.digest);
    // Finalized while parked: released, but gone from the index for good.
    expect(pool.candidates.size).toBe(30 - 8 - 8);
    // A plain list works too (pending txs are then skipped by txid).
    const fourth = proposer.build(pool.entries())!;
    expect(fourth.txids.length).toBe(8);
    // 30 - 8 finalized - 8 (third) - 8 (fourth) pending = 6 left.
    expect(proposer.build(pool.entries())!.txids.length).toBe(6);
    expect(proposer.build(pool.entries())).toBeUndefined();
    expect(proposer.build(pool.candidates)).toBeUndefined();
    const gauge = async (name: string) => (await registry.getSingleMetric(name)!.get()).values[0]?.value;
    expect(await gauge("pc_node_proposer_built_total")).toBe(5);
    expect(await gauge("pc_node_proposer_last_size")).toBe(6);
    expect(await gauge("pc_node_proposer_pending")).toBe(3);
  });

  test("too many pending payloads is a counted error", async () => {
    const registry = new Registry();
    const { view, ops } = fundedView(3);
    const pool = new Mempool({ minRelayFeePerByte: 0n, view });
    pool.admit(ops.map((op) => freeTx([op], 100n)), CTX);
    const proposer = new Proposer({ txsPerPayload: 1, payloadBudgetBytes: 4096, pendingPayloadsMax: 2, registry });
    proposer.build(pool.entries());
    proposer.build(pool.entries());
    expect(() => proposer.build(pool.entries())).toThrow(expect.objectContaining({ code: "PROPOSER_PENDING_FULL" }));
    expect((await registry.getSingleMetric("pc_node_proposer_errors_total")!.get()).values[0]?.value).toBe(1);
  });
});
