// RPC params at the edge: numbers are decimal strings or safe JSON integers; anything
// else, or out of range, is RPC_BAD_PARAMS (never an internal error, never rounded).
import { describe, expect, test } from "bun:test";
import { anchorIndexMax, anchorIndexParam, countParam, hexParam, objectParams } from "../../src/rpc/params.ts";
import { dispatch, type RpcResponse } from "../../src/rpc/jsonrpc.ts";

const code = (fn: () => unknown): string => {
  try {
    fn();
    return "ok";
  } catch (e) {
    return (e as { code?: string }).code ?? "untyped";
  }
};

describe("anchorIndexParam", () => {
  test("accepts decimal strings and safe integers up to 2^63-1", () => {
    expect(anchorIndexParam({ i: "0" }, "i")).toBe(0n);
    expect(anchorIndexParam({ i: 7 }, "i")).toBe(7n);
    expect(anchorIndexParam({ i: Number.MAX_SAFE_INTEGER }, "i")).toBe(2n ** 53n - 1n);
    expect(anchorIndexParam({ i: "9223372036854775807" }, "i")).toBe(anchorIndexMax);
    expect(anchorIndexParam({ i: "007" }, "i")).toBe(7n);
  });

  test("refuses out-of-range, rounded, fractional, negative and malformed values", () => {
    const bad: unknown[] = [
      "9223372036854775808", // 2^63
      "18446744073709551616", // 2^64
      "1".repeat(21),
      "1".repeat(5_000),
      2 ** 53, // not safe: 2^53 and 2^53+1 are the same double
      9007199254740993, // parsed from JSON as 2^53, silently rounded
      1e300, 1.5, -1, "-1", "1e3", " 7", "0x10", "", NaN, Infinity, true, null, [], {},
    ];
    for (const v of bad) expect(`${String(v)}:${code(() => anchorIndexParam({ i: v }, "i"))}`).toBe(`${String(v)}:RPC_BAD_PARAMS`);
    expect(code(() => anchorIndexParam({}, "i"))).toBe("RPC_BAD_PARAMS");
  });
});

describe("countParam", () => {
  test("defaults when absent, caps when large, refuses when malformed", () => {
    expect(countParam({}, "limit", 20, 200)).toBe(20);
    expect(countParam({ limit: "5" }, "limit", 20, 200)).toBe(5);
    expect(countParam({ limit: 10_000 }, "limit", 20, 200)).toBe(200);
    for (const v of [-1, 2.5, "abc", 2 ** 60, "99999999999999999999"]) expect(code(() => countParam({ limit: v }, "limit", 20, 200))).toBe("RPC_BAD_PARAMS");
  });
});

test("objectParams and hexParam", () => {
  expect(code(() => objectParams([1]))).toBe("RPC_BAD_PARAMS");
  expect(code(() => objectParams(null))).toBe("RPC_BAD_PARAMS");
  expect(code(() => hexParam({ id: "zz" }, "id"))).toBe("RPC_BAD_PARAMS");
  expect(code(() => hexParam({ id: "00" }, "id", 32))).toBe("RPC_BAD_PARAMS");
  expect(hexParam({ id: "0a0b" }, "id")).toEqual(new Uint8Array([10, 11]));
});

test("through JSON-RPC dispatch, a raw JSON number above 2^53 is -32602, not -32603", async () => {
  const methods = { get: (raw: unknown) => anchorIndexParam(objectParams(raw), "index").toString() };
  for (const text of ["9007199254740993", "18446744073709551615", "1e19", '"9223372036854775808"']) {
    const r = (await dispatch(methods, `{"jsonrpc":"2.0","id":1,"method":"get","params":{"index":${text}}}`)) as RpcResponse;
    expect(`${text}:${r.error?.code}:${r.error?.data?.code}`).toBe(`${text}:-32602:RPC_BAD_PARAMS`);
  }
  const ok = (await dispatch(methods, '{"jsonrpc":"2.0","id":1,"method":"get","params":{"index":"9223372036854775807"}}')) as RpcResponse;
  expect(ok.result).toBe("9223372036854775807");
});
