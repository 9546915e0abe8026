// The API descriptions the node publishes (src/rpc/openrpc.json, src/rpc/openapi.json)
// match the code: every JSON-RPC method the node registers is described and nothing
// else is; every path the HTTP server answers (its literal paths in src/rpc/server.ts and
// every REST route) is in the OpenAPI document and nothing else is; each REST operation
// names the method it runs and takes that method's params.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { nodeRpcMethods, NODE_REST_ROUTES, NODE_RPC_COSTS } from "../../src/node/rpc-methods.ts";
import { DISCOVER_METHOD, openapi, openrpc } from "../../src/rpc/descriptions.ts";
import { createGenesis } from "../../src/genesis/create.ts";
import { parseGenesis } from "../../src/genesis/genesis.ts";
import type { PhantomNode } from "../../src/node/node.ts";
import type { SqliteStore } from "../../src/store/sqlite-store.ts";

const ROOT = join(import.meta.dir, "..", "..");

interface Param { name: string; required: boolean }
interface Method { name: string; params: Param[]; errors: unknown[] }
interface Operation { "x-rpc-method"?: string; parameters?: { name: string; in: string; required: boolean }[] }
const rpcDoc = openrpc as unknown as { openrpc: string; methods: Method[] };
const apiDoc = openapi as unknown as { openapi: string; paths: Record<string, Record<string, Operation>> };

/** The method names the node registers (building the table runs no handler). */
function registeredMethods(): string[] {
  const genesis = parseGenesis(createGenesis({ k: 1, devnetLabel: "api-descriptions" }).toml);
  return Object.keys(nodeRpcMethods({} as PhantomNode, {} as SqliteStore, genesis)).sort();
}

test("OpenRPC describes exactly the methods the node registers", () => {
  expect(rpcDoc.openrpc).toMatch(/^1\.2\./);
  const described = rpcDoc.methods.map((m) => m.name).sort();
  // rpc.discover is the OpenRPC discovery method: served, and by the spec not listed.
  expect(described).toEqual(registeredMethods().filter((m) => m !== DISCOVER_METHOD));
  expect(registeredMethods()).toContain(DISCOVER_METHOD);
  // Every method with a cost is a method (costs of a removed method would hide a typo).
  for (const m of Object.keys(NODE_RPC_COSTS)) expect(described).toContain(m);
});

test("OpenAPI describes exactly the paths the HTTP server answers", () => {
  expect(apiDoc.openapi).toMatch(/^3\.1\./);
  const source = readFileSync(join(ROOT, "src", "rpc", "server.ts"), "utf8");
  const literal = [...source.matchAll(/path === "(\/[^"]*)"/g)].map((m) => m[1]!);
  const rest = Object.keys(NODE_REST_ROUTES).map((name) => `/api/${name}`);
  expect(Object.keys(apiDoc.paths).sort()).toEqual([...new Set([...literal, ...rest])].sort());
});

test("each REST operation runs the method its route names, with that method's params", () => {
  const byName = new Map(rpcDoc.methods.map((m) => [m.name, m]));
  for (const [name, method] of Object.entries(NODE_REST_ROUTES)) {
    const op = apiDoc.paths[`/api/${name}`]!.get!;
    expect(`${name}:${op["x-rpc-method"]}`).toBe(`${name}:${method}`);
    const query = (op.parameters ?? []).map((p) => `${p.name}:${p.in}:${p.required}`).sort();
    const params = byName.get(method)!.params.map((p) => `${p.name}:query:${p.required}`).sort();
    expect(`${name} ${query.join(",")}`).toBe(`${name} ${params.join(",")}`);
  }
});
