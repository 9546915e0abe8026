// Property test from the published API descriptions: a live validator process serves its
// OpenRPC document (rpc.discover, GET /openrpc.json) and OpenAPI document (GET
// /openapi.json); requests are generated from their schemas (valid and invalid params,
// seeded PRNG, bounded count) and every answer must be JSON: a result, or a typed error
// whose code the description documents. Never a 500, a stack, -32603 or a hang; invalid
// params are always RPC_BAD_PARAMS. PHANTOM_PROPERTY_SEED picks another seed.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Cluster } from "./cluster.ts";

const SEED = Number(process.env.PHANTOM_PROPERTY_SEED ?? "13");
const RPC_CASES = 300;
const REST_CASES = 150;
const REPLY_LIMIT_MS = 10_000;

interface Schema {
  type?: string;
  pattern?: string;
  oneOf?: Schema[];
  examples?: unknown[];
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: Schema;
  "x-maximum"?: string;
}
interface Param { name: string; required: boolean; schema: Schema }
interface ErrorObj { code: number; data?: { code: string }; $ref?: string }
interface Method { name: string; params: Param[]; errors: ErrorObj[] }
interface OpenRpc { methods: Method[]; components: { errors: Record<string, ErrorObj> } }
interface Operation { "x-rpc-method"?: string; parameters?: Param[]; responses: Record<string, unknown> }
interface OpenApi { paths: Record<string, Record<string, Operation>> }

/** mulberry32: a small seeded PRNG (tests only; the node never sees it). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(SEED);
const int = (n: number) => Math.floor(rand() * n);
const pick = <T,>(xs: readonly T[]): T => xs[int(xs.length)]!;
const hex = (bytes: number) => Array.from({ length: bytes * 2 }, () => "0123456789abcdef"[int(16)]).join("");

/** A value the schema accepts (the patterns the descriptions use). */
function valid(s: Schema): unknown {
  if (s.examples?.length) return pick(s.examples);
  if (s.oneOf) return valid(pick(s.oneOf));
  if (s.type === "integer") return (s.minimum ?? 0) + int(Math.min((s.maximum ?? 1e6) - (s.minimum ?? 0), 1e6) + 1);
  if (s.type === "array") return Array.from({ length: Math.max(s.minItems ?? 0, 1 + int(3)) }, () => valid(s.items ?? { type: "string" }));
  if (s.pattern === "^[0-9]{1,20}$") {
    const max = BigInt(s["x-maximum"] ?? "99999999999999999999");
    const r = BigInt(Math.floor(rand() * Number.MAX_SAFE_INTEGER)) * BigInt(int(2 ** 20) + 1);
    return (rand() < 0.5 ? BigInt(int(1_000)) : r % (max + 1n)).toString();
  }
  if (s.pattern === "^[0-9a-fA-F]{64}$") return hex(32);
  if (s.pattern === "^([0-9a-fA-F]{2})+$") return hex(1 + int(200));
  throw new Error(`the generator does not know schema ${JSON.stringify(s)}`);
}

/** A value the schema refuses. */
function invalid(s: Schema): unknown {
  const always: unknown[] = [true, null, {}, [], 1.5, -1, "", "x".repeat(5_000), "\u0000", 2 ** 53 + 2];
  const branches = s.oneOf ?? [s];
  const types = new Set(branches.map((b) => b.type));
  const extra: unknown[] = [];
  if (types.has("string") && branches.some((b) => b.pattern?.startsWith("^[0-9]"))) extra.push("-1", "1e3", "0x10", "1.0", " 7", "99999999999999999999999", "9223372036854775808", "18446744073709551616");
  if (branches.some((b) => b.pattern?.includes("a-fA-F"))) extra.push("zz", "abc", hex(33), hex(31) + "g");
  if (branches.some((b) => b.pattern?.startsWith("^pc1"))) extra.push("pc1qqqq", "bc1qxyz", "PC1" + "q".repeat(58));
  if (types.has("array")) extra.push(["zz"], Array.from({ length: (s.maxItems ?? 256) + 1 }, () => "00"), [1]);
  // None of these is accepted by a schema the descriptions use (no number, object or bool params).
  return pick([...always, ...extra]);
}

let cluster: Cluster;
let rpc: string;
beforeAll(async () => {
  cluster = await Cluster.start({ k: 1, label: "security-api-property", extraArgs: ["--rpc_rate_per_s", "0"] });
  rpc = cluster.nodes[0]!.rpc;
  await cluster.untilAll((s) => BigInt(s.anchorCount) >= 3n);
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
}, 60_000);

async function post(body: string): Promise<{ status: number; json: unknown; text: string }> {
  const res = await fetch(`${rpc}/rpc`, { method: "POST", body, headers: { "content-type": "application/json" }, signal: AbortSignal.timeout(REPLY_LIMIT_MS) });
  const text = await res.text();
  return { status: res.status, text, json: text ? JSON.parse(text) : null };
}

test("the node publishes its descriptions: rpc.discover = GET /openrpc.json; GET /openapi.json", async () => {
  const discovered = (await post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "rpc.discover" }))).json as { result: OpenRpc };
  const served = (await (await fetch(`${rpc}/openrpc.json`)).json()) as OpenRpc;
  expect(discovered.result).toEqual(served);
  expect(served.methods.length).toBeGreaterThan(10);
  const api = (await (await fetch(`${rpc}/openapi.json`)).json()) as OpenApi;
  expect(Object.keys(api.paths)).toContain("/api/anchor");
}, 30_000);

test(`${RPC_CASES} JSON-RPC requests generated from the OpenRPC schemas get a result or a documented typed error`, async () => {
  const doc = (await (await fetch(`${rpc}/openrpc.json`)).json()) as OpenRpc;
  const resolve = (e: ErrorObj): ErrorObj => (e.$ref ? doc.components.errors[e.$ref.split("/").pop()!]! : e);
  // Envelope-level codes any call may get (docs/RPC.md); -32603 (a bug) is never allowed.
  const envelope = new Set(["-32700:", "-32600:", "-32601:"]);
  const tally = { valid: 0, invalid: 0, results: 0, errors: new Map<string, number>() };
  for (let i = 0; i < RPC_CASES; i++) {
    const m = pick(doc.methods);
    const params: Record<string, unknown> = {};
    for (const p of m.params) if (p.required || rand() < 0.5) params[p.name] = valid(p.schema);
    // tx_submit takes tx or txs: keep exactly one.
    if (m.name === "tx_submit") {
      if ("txs" in params && "tx" in params) delete params.tx;
      if (!("txs" in params) && !("tx" in params)) params.tx = valid(m.params[0]!.schema);
    }
    const makeInvalid = m.params.length > 0 && rand() < 0.5;
    let sent: unknown = params;
    if (makeInvalid) {
      const how = int(3);
      if (how === 0) sent = pick([[], "x", 5, [params]]);
      else {
        const present = m.params.filter((p) => p.name in params);
        const p = present.length > 0 ? pick(present) : m.params[0]!;
        const required = m.params.filter((q) => q.required);
        if (how === 1 && required.length > 0) delete params[pick(required).name];
        else params[p.name] = invalid(p.schema);
      }
    }
    const { status, json, text } = await post(JSON.stringify({ jsonrpc: "2.0", id: i, method: m.name, params: sent }));
    expect(text).not.toContain("    at ");
    expect(status).toBe(200);
    const r = json as { id: number; result?: unknown; error?: { code: number; data?: { code: string } } };
    expect(r.id).toBe(i);
    const what = `${m.name} ${JSON.stringify(sent).slice(0, 200)}`;
    if (makeInvalid) tally.invalid++;
    else tally.valid++;
    if (r.error) {
      const key = `${r.error.code}:${r.error.data?.code ?? ""}`;
      tally.errors.set(key, (tally.errors.get(key) ?? 0) + 1);
      const documented = new Set([...m.errors.map(resolve).map((e) => `${e.code}:${e.data?.code ?? ""}`), ...envelope]);
      expect(`${what} -> ${key}:${documented.has(key)}`).toBe(`${what} -> ${key}:true`);
      // Valid params are never refused as invalid; invalid ones always are.
      expect(`${what} -> ${key}`).toBe(makeInvalid ? `${what} -> -32602:RPC_BAD_PARAMS` : `${what} -> ${key === "-32602:RPC_BAD_PARAMS" ? "(valid params refused)" : key}`);
    } else {
      tally.results++;
      expect(`${what} -> ${makeInvalid ? "answered invalid params" : "ok"}`).toBe(`${what} -> ok`);
    }
  }
  // Envelope garbage: not JSON, not JSON-RPC, unknown methods, oversize and empty batches.
  const garbage = ["{", "[]", "null", '{"jsonrpc":"1.0","id":1,"method":"phantom_status"}', '{"jsonrpc":"2.0","id":1,"method":"nope_nope"}', JSON.stringify(Array.from({ length: 101 }, (_, i) => ({ jsonrpc: "2.0", id: i, method: "peers_list" }))), '{"jsonrpc":"2.0","id":1,"method":"__proto__"}', '{"jsonrpc":"2.0","id":1,"method":"constructor"}'];
  for (const body of garbage) {
    const { status, json } = await post(body);
    expect(status).toBe(200);
    const code = (json as { error: { code: number } }).error.code;
    expect(`${body.slice(0, 40)}:${[-32700, -32600, -32601].includes(code)}`).toBe(`${body.slice(0, 40)}:true`);
  }
  console.log(JSON.stringify({ type: "security_figure", name: "openrpc_property", seed: SEED, ...tally, errors: Object.fromEntries(tally.errors) }));
  expect(tally.results).toBeGreaterThan(0);
  expect(tally.invalid).toBeGreaterThan(0);
  await cluster.keepsFinalizing(3n);
}, 180_000);

test(`${REST_CASES} REST requests generated from the OpenAPI schemas get a documented status and JSON`, async () => {
  const doc = (await (await fetch(`${rpc}/openapi.json`)).json()) as OpenApi;
  const ops = Object.entries(doc.paths).filter(([p]) => p.startsWith("/api/")).map(([path, o]) => ({ path, op: o.get! }));
  const statuses = new Map<number, number>();
  for (let i = 0; i < REST_CASES; i++) {
    const { path, op } = pick(ops);
    const params = op.parameters ?? [];
    const q = new URLSearchParams();
    for (const p of params) if (p.required || rand() < 0.5) q.set(p.name, String(valid(p.schema)));
    const makeInvalid = params.length > 0 && rand() < 0.5;
    if (makeInvalid) {
      const p = pick(params);
      // A query carries strings: 2^53+2 becomes a valid decimal string, so draw again (bounded).
      const accepts = (v: string) => new RegExp(p.schema.pattern ?? "^$").test(v) && !(p.schema["x-maximum"] && BigInt(v) > BigInt(p.schema["x-maximum"]));
      let v = "";
      for (let t = 0; t < 20 && (v === "" || accepts(v)); t++) {
        const x = invalid(p.schema);
        v = typeof x === "string" ? x : JSON.stringify(x);
      }
      q.set(p.name, v);
    }
    const res = await fetch(`${rpc}${path}?${q}`, { signal: AbortSignal.timeout(REPLY_LIMIT_MS) });
    const text = await res.text();
    const what = `${path}?${q.toString().slice(0, 200)} -> ${res.status}`;
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    expect(`${what}:${String(res.status) in op.responses}`).toBe(`${what}:true`);
    expect(res.headers.get("content-type")).toBe("application/json");
    const body = JSON.parse(text) as { error?: { data?: { code: string } } };
    // Query strings carry only strings, so a value such as "true" or "{}" is still invalid.
    if (makeInvalid) expect(`${what} ${body.error?.data?.code}`).toBe(`${what.replace(/-> \d+$/, "-> 400")} RPC_BAD_PARAMS`);
    else expect(`${what}`).toMatch(/-> (200|422)$/);
  }
  console.log(JSON.stringify({ type: "security_figure", name: "openapi_property", seed: SEED, cases: REST_CASES, statuses: Object.fromEntries(statuses) }));
}, 180_000);
