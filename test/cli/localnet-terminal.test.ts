// What the localnet terminal shows: the status line's figures from validators' answers,
// which child lines reach the terminal, and red only for errors on a terminal.
import { describe, expect, test } from "bun:test";
import { formatStatusLine, statusFigures, type SeriesAnswer, type StatusAnswer } from "../../src/cli/localnet-status.ts";
import { classifyChildLine, errorColour } from "../../src/cli/child-log.ts";

const status = (anchorCount: number, peers: number, mempoolSize: number): StatusAnswer => ({ anchorCount: String(anchorCount), peers, mempoolSize });
const series = (points: [anchors: number, txs: number, latency: number | null][]): SeriesAnswer => ({
  intervalMs: 2_000, points: points.map(([anchors, txs, latencyP50Ms], i) => ({ atMs: 1_000 + i, anchors, txs, latencyP50Ms })),
});

describe("status line", () => {
  test("rates over the reference validator's window, median latency over all, per-validator peers, largest mempool", () => {
    const f = statusFigures({
      statuses: [null, status(120, 2, 4), status(118, 2, 9)],
      series: [null, series([[10, 30, 800], [14, 34, null]]), series([[12, 20, 400], [12, 20, 900]])],
    });
    // v1 is the first validator that answers: (10 + 14) anchors and (30 + 34) txs over 2 points of 2 s.
    expect(f).toEqual({ anchorsPerS: 6, txPerS: 16, finalityP50Ms: 800, anchorCount: 120n, peers: [null, 2, 2], mempoolMax: 9 });
    expect(formatStatusLine(f, new Date("2026-01-02T03:04:05Z"))).toBe("localnet 03:04:05Z  anchors 6.0/s (#120)  finalized 16.0 tx/s  finality p50 800 ms  peers - 2 2  mempool 9");
  });

  test("nobody answering gives dashes, not zeros", () => {
    const line = formatStatusLine(statusFigures({ statuses: [null, null], series: [null, null] }), new Date("2026-01-02T03:04:05Z"));
    expect(line).toBe("localnet 03:04:05Z  anchors -/s (#-)  finalized - tx/s  finality p50 -  peers - -  mempool -");
  });
});

describe("child lines on the terminal", () => {
  test("fatal, handler and proposer errors are errors; peer_dropped is a notice; the rest stays in the file", () => {
    expect(classifyChildLine("v1", '{"type":"fatal","code":"STORE_WRITE_FAILED"}')).toEqual({ show: "error", text: '[v1] {"type":"fatal","code":"STORE_WRITE_FAILED"}' });
    expect(classifyChildLine("v1", '{"type":"proposer_error","code":"X"}')?.show).toBe("error");
    expect(classifyChildLine("v0", '{"type":"peer_dropped","code":"P2P_LINK_CLOSED","reason":"idle timeout","validator":2}'))
      .toEqual({ show: "notice", text: "localnet: v0 lost peer v2 (peer_dropped P2P_LINK_CLOSED: idle timeout)" });
    for (const line of ['{"type":"node_started"}', '{"type":"miner_waiting","message":"node at x is not reachable yet"}', "plain text", "{not json"]) {
      expect(classifyChildLine("v0", line)).toBeNull();
    }
  });

  test("red only on a terminal, never with NO_COLOR; FORCE_COLOR turns it on", () => {
    expect(errorColour(true, {})("boom")).toBe("\x1b[31mboom\x1b[0m");
    expect(errorColour(false, {})("boom")).toBe("boom");
    expect(errorColour(true, { NO_COLOR: "1" })("boom")).toBe("boom");
    expect(errorColour(false, { FORCE_COLOR: "1" })("boom")).toBe("\x1b[31mboom\x1b[0m");
  });
});
