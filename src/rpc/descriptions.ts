/**
 * The node's API descriptions: OpenAPI 3.1 of the HTTP paths (openapi.json) and OpenRPC
 * 1.2 of the JSON-RPC methods (openrpc.json), written by hand next to this file and kept
 * in sync with the code by test/repo/api-descriptions.test.ts. The node serves them at
 * GET /openapi.json, GET /openrpc.json and as the result of `rpc.discover`.
 */
import openapiDoc from "./openapi.json";
import openrpcDoc from "./openrpc.json";
import type { Json } from "./jsonrpc.ts";

export const openapi: Json = openapiDoc as Json;
export const openrpc: Json = openrpcDoc as Json;
/** The OpenRPC discovery method (https://spec.open-rpc.org/#service-discovery-method). */
export const DISCOVER_METHOD = "rpc.discover";
