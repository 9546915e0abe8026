// `phantom CacheBench` as a user runs it (a real bin/phantom process) against a real store.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../../src/store/sqlite-store.ts";
import { signEvent } from "../../src/types/event.ts";
import { encodeAnchorPayload, payloadDigest } from "../../src/types/payload.ts";
import { committee } from "../ledger/fixtures.ts";
import { generateStream } from "../ledger/stream.ts";
import { ROOT, runPhantom } from "../phantom-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "phantom-cachebench-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const phantom = (args: string[]) => runPhantom(args, { cwd: ROOT });

test("CacheBench reads stored headers and payloads through the LRU caches and reports hits and misses", () => {
  const payloads = [encodeAnchorPayload({ txs: [] }), ...generateStream(12, 3).payloads.slice(1)];
  const store = new SqliteStore({ storeDir: dir, fsync: false });
  store.putEvents(payloads.map((p, seq) => ({ event: signEvent({ shard: 0, creator: 0, seq, parents: [], parentRounds: [], lamport: seq, payloadDigest: payloadDigest(p) }, committee[0]!.secretKey), payload: p })));
  store.close();
  const distinct = new Set(payloads.map((p) => payloadDigest(p).join(","))).size;

  const h = phantom(["CacheBench", "--store_dir", dir, "--mode", "headers", "--sample", "10", "--iterations", "3", "--cache_hdr_cap", "100"]);
  expect(h.code).toBe(0);
  expect(JSON.parse(h.out.trim())).toMatchObject({ type: "cache_bench", mode: "headers", sample: 10, found: 30, hdr_misses: 10, hdr_hits: 20 });

  const off = phantom(["CacheBench", "--store_dir", dir, "--mode", "payloads", "--sample", "100", "--iterations", "2", "--cache_pl_cap", "0"]);
  expect(JSON.parse(off.out.trim())).toMatchObject({ mode: "payloads", sample: distinct, pl_hits: 0, pl_misses: 2 * distinct });

  const bad = phantom(["CacheBench", "--store_dir", join(dir, "nope"), "--mode", "headers"]);
  expect(bad.code).not.toBe(0);
  expect(bad.err).toContain("no store at");
  expect(phantom(["CacheBench", "--store_dir", dir, "--mode", "sideways"]).code).not.toBe(0);
});
