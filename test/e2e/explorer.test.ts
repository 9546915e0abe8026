// The explorer in a real browser, and the dashboards/alerts against real metrics.
// One localnet (4 validator processes over QUIC on loopback, a miner, own ports) serves
// both. Headless Chromium (Debian's `chromium`, installed by scripts/setup-browser)
// loads the explorer, runs its JavaScript, and the rendered DOM must show real
// numbers; a missing browser is a failure that says what to install, never a skip.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, statSync, existsSync, mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalnet, until, getJson, ROOT, type Localnet } from "../wallet/localnet-harness.ts";
import { nodeRpcMethods, NODE_REST_ROUTES } from "../../src/node/rpc-methods.ts";
import { accountFromSeed } from "../../src/wallet/keys.ts";
import { blake3DeriveKey } from "../../src/crypto/hash.ts";
import { fromHex, toHex } from "../../src/crypto/bytes.ts";
import { buildTransfer, payTo, sigLock } from "../../src/wallet/tx-builder.ts";
import { digestMicroTx, encodeMicroTx } from "../../src/types/tx.ts";
import { rpcCall } from "../../src/rpc/client.ts";

const chromiumCandidates = [process.env.PHANTOM_CHROMIUM ?? "", "chromium", "chromium-browser", "google-chrome"].filter((c) => c.length > 0);
const chromium = chromiumCandidates.map((c) => Bun.which(c)).find((p): p is string => p !== null);
/** Virtual time the page gets to run its fetches before the DOM is dumped. */
const virtualTimeMs = 5_000;
const browserTimeoutMs = 40_000;
const window = { width: 1280, height: 900 };
/** Screenshots are kept for a person to look at (never committed): PHANTOM_SCREENSHOT_DIR or a new temp folder. */
const screenshotDir = process.env.PHANTOM_SCREENSHOT_DIR ?? mkdtempSync(join(tmpdir(), "phantom-explorer-screenshots-"));
mkdirSync(screenshotDir, { recursive: true });
const label = `explorer-e2e-${process.pid}`;
const maturityAnchors = 5n;

interface Status { chainId: string; anchorCount: string; peers: number; mintHeight: string; supplyUnits: string; k: number }
interface Anchor { anchorIndex: string; eventId: string; round: number; creator: number; stateRoot: string }

function runChromium(args: string[]): { code: number | null; out: string; err: string } {
  if (!chromium) throw new Error("chromium is not installed: run scripts/setup-browser (apt-get install -y chromium) or set PHANTOM_CHROMIUM");
  const p = Bun.spawnSync([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
    `--virtual-time-budget=${virtualTimeMs}`, `--window-size=${window.width},${window.height}`, ...args], { stdout: "pipe", stderr: "pipe", timeout: browserTimeoutMs });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}

/** Saves a screenshot of `url` as `name` in the screenshot folder; returns its path. */
function screenshot(name: string, url: string): string {
  const file = join(screenshotDir, name);
  const r = runChromium([`--screenshot=${file}`, url]);
  if (r.code !== 0) throw new Error(`chromium --screenshot exited ${r.code}: ${r.err.slice(-500)}`);
  console.log(`screenshot: ${file}`);
  return file;
}

/** The value shown in the status card `key` of a dumped explorer DOM. */
function cardValue(dom: string, key: string): string {
  const m = new RegExp(`<div class="card[^"]*" data-key="${key}"[^>]*><span>[^<]*</span><b>([^<]*)</b></div>`).exec(dom);
  if (!m) throw new Error(`card ${key} not in the rendered page`);
  return m[1]!;
}

let net: Localnet;
let minerAddress = "";
beforeAll(async () => {
  net = await startLocalnet({ label, miner: true, durationS: 120, maturityAnchors });
  const rpc = net.rpc[0]!;
  // Anchors, a full mesh and at least one applied mint before the page is looked at.
  let last: Status | undefined;
  await until("anchors, peers and a mint", async () => {
    const s = (last = await getJson<Status>(`${rpc}/api/status`));
    return BigInt(s.anchorCount) >= 20n && s.peers === s.k - 1 && BigInt(s.mintHeight) >= 1n ? s : undefined;
  }, 45_000).catch((e: Error) => {
    throw new Error(`${e.message}; last status ${JSON.stringify(last)}; localnet log tail:\n${net.log().slice(-3_000)}`);
  });
  minerAddress = (/"miner":\{"address":"(pc1[a-z0-9]+)"\}/.exec(net.log()) ?? [])[1] ?? "";
}, 60_000);
afterAll(async () => {
  await net?.stop();
});

describe("explorer in headless Chromium", () => {
  test("a browser is installed (scripts/setup-browser)", () => {
    expect(chromium, "chromium not found: run scripts/setup-browser (apt-get install -y chromium) or set PHANTOM_CHROMIUM").toBeDefined();
  });

  test("the rendered page shows status cards with real numbers, the anchors table and an anchor search", async () => {
    const rpc = net.rpc[0]!;
    const r = runChromium(["--dump-dom", `${rpc}/?q=3`]);
    expect(r.code).toBe(0);
    const dom = r.out;
    expect(dom).toContain("<h1>Phantom explorer</h1>");
    expect(cardValue(dom, "chain")).toBe("phantom-localnet");
    // The shard this node serves, of how many: a single-shard localnet.
    expect(cardValue(dom, "shard")).toBe("0 of 1");
    // One shard: no cross-shard section (and nothing asked for it).
    expect(dom).toContain('<section id="xshard" hidden="">');
    expect(Number(cardValue(dom, "anchors"))).toBeGreaterThanOrEqual(20);
    expect(cardValue(dom, "peers")).toBe("3 / 3");
    expect(Number(cardValue(dom, "mint-height"))).toBeGreaterThanOrEqual(1);
    expect(Number(cardValue(dom, "decided-round"))).toBeGreaterThan(0);
    expect(cardValue(dom, "supply")).toMatch(/^[1-9]\d*\.\d{8}$/);
    expect(cardValue(dom, "state-root")).toMatch(/^[0-9a-f]{24}…$/);

    // The anchors table: 20 rows, consecutive indexes, newest first, each with a full event id.
    const rows = [...dom.matchAll(/<tr data-anchor="(\d+)">(.*?)<\/tr>/g)];
    expect(rows).toHaveLength(20);
    const indexes = rows.map((m) => BigInt(m[1]!));
    indexes.forEach((ix, i) => i > 0 && expect(ix).toBe(indexes[i - 1]! - 1n));
    for (const m of rows) expect(m[2]).toMatch(/<td title="[0-9a-f]{64}">[0-9a-f]{64}<\/td>/);
    const top = await getJson<Anchor>(`${rpc}/api/anchor?index=${indexes[0]}`);
    expect(rows[0]![2]).toContain(top.eventId);

    // The ?q=3 search ran in the page: its result is anchor 3, as every validator has it.
    const lookup = /<pre id="lookup"[^>]*>([\s\S]*?)<\/pre>/.exec(dom);
    expect(lookup).not.toBeNull();
    const shown = JSON.parse(lookup![1]!.replace(/&quot;/g, '"')) as Anchor;
    expect(shown.anchorIndex).toBe("3");
    // The rendered view: a heading and the event as a link that searches it.
    expect(dom).toContain("<h3>Anchor 3</h3>");
    // Its fees (none here) were settled k·D_max = 16 anchors later: the payouts section says where.
    expect(dom).toContain("<h3>Fee payouts</h3>");
    expect(dom).toContain('<td>settled at anchor</td><td><a href="?q=19">19</a></td>');
    expect(dom).toContain(`<a href="?q=${shown.eventId}">${shown.eventId}</a>`);
    for (const other of net.rpc) {
      const a = await getJson<Anchor>(`${other}/api/anchor?index=3`);
      expect([a.eventId, a.stateRoot]).toEqual([shown.eventId, shown.stateRoot]);
    }
  }, 60_000);

  test("an address search renders the miner's balance; a bad query renders the typed error", () => {
    expect(minerAddress).toMatch(/^pc1/);
    const dom = runChromium(["--dump-dom", `${net.rpc[1]}/?q=${minerAddress}`]).out;
    const pre = /<pre id="lookup"[^>]*>([\s\S]*?)<\/pre>/.exec(dom)![1]!.replace(/&quot;/g, '"');
    const info = JSON.parse(pre) as { address: string; balanceUnits: string; utxos: unknown[] };
    expect(info.address).toBe(minerAddress);
    expect(BigInt(info.balanceUnits)).toBeGreaterThan(0n);
    expect(dom).toContain(`<h3>Address ${minerAddress}</h3>`);
    // Its shard, which is this node's (no "this node serves shard" warning).
    expect(dom).toContain('<td>shard</td><td><span data-shard="0">0 of 1</span></td>');
    expect(/<div id="result-view">([\s\S]*?)<\/div><details>/.exec(dom)![1]).not.toContain("this node serves shard");
    const utxoRows = [...dom.matchAll(/<tr><td><a href="\?q=([0-9a-f]{64})">/g)].map((m) => m[1]);
    expect(utxoRows).toHaveLength(info.utxos.length);
    const bad = runChromium(["--dump-dom", `${net.rpc[1]}/?q=pc1nothing`]).out;
    expect(bad).toMatch(/<pre id="lookup" class="err">[^<]*\[RPC_BAD_PARAMS\]<\/pre>/);
  }, 60_000);

  test("the DAG view shows the validators' lanes and finalized events with the anchor index every validator agrees on; charts have samples", async () => {
    const dom = runChromium(["--dump-dom", `${net.rpc[1]}/`]).out;
    const svg = /<svg[^>]* id="dag-svg" data-events="(\d+)">([\s\S]*?)<\/svg>/.exec(dom);
    expect(svg, "the DAG picture is not in the rendered page").not.toBeNull();
    expect(Number(svg![1])).toBeGreaterThan(20);
    expect(dom).toContain('<span id="conn" class="live">'); // subscribed to the anchors topic: redrawn as anchors arrive
    const lanes = [...svg![2]!.matchAll(/<text class="lane-head[^"]*"[^>]*>(v\d)[^<]*<\/text>/g)].map((m) => m[1]);
    expect(lanes).toEqual(["v0", "v1", "v2", "v3"]);
    expect(svg![2]).toContain("v1 (this node)");
    // Finalized events: filled, with "#<anchor index>" next to them.
    const finals = [...svg![2]!.matchAll(/<g class="ev final[^"]*" data-id="([0-9a-f]{64})" data-anchor="(\d+)">[\s\S]*?<text[^>]*>#(\d+)<\/text><\/g>/g)];
    expect(finals.length).toBeGreaterThan(8);
    for (const m of finals) expect(m[3]).toBe(m[2]);
    // The same anchor index names the same event at another validator: the total order.
    for (const m of finals.slice(0, 6)) expect((await getJson<Anchor>(`${net.rpc[3]}/api/anchor?index=${m[2]}`)).eventId).toBe(m[1]!);
    // Witnesses carry their fame; the newest rounds are still undecided.
    expect(svg![2]).toMatch(/<g class="ev final witness famous"/);
    expect(svg![2]).toMatch(/<g class="ev witness undecided"/);
    const charts = [...dom.matchAll(/<figure class="chart" data-key="(\w+)" data-points="(\d+)"><figcaption><span>[^<]*<\/span><b>([^<]*)<\/b>/g)];
    expect(charts.map((c) => c[1])).toEqual(["tps", "latency", "mempool", "peers"]);
    for (const c of charts) expect(Number(c[2])).toBeGreaterThanOrEqual(2);
    expect(charts[3]![3]).toBe("3"); // peers now
    // Own events were finalized: latencies were measured and drawn.
    expect(/<figure class="chart" data-key="latency"[\s\S]*?<\/figure>/.exec(dom)![0]).toMatch(/<path class="line a" d="M\d/);
  }, 60_000);

  test("a transfer's page shows its status, fee, input and outputs", async () => {
    const rpc = net.rpc[0]!;
    const miner = accountFromSeed(blake3DeriveKey("phantom devnet miner seed v0", new TextEncoder().encode(label)));
    expect(miner.address).toBe(minerAddress);
    interface Utxo { txid: string; index: number; amount: string; createdAt: string }
    const coin = await until("a mature mint reward", async () => {
      const next = BigInt((await getJson<Status>(`${rpc}/api/status`)).anchorCount);
      return (await getJson<{ utxos: Utxo[] }>(`${rpc}/api/address?address=${miner.address}`)).utxos.find((u) => BigInt(u.createdAt) + maturityAnchors <= next);
    }, 30_000);
    const to = accountFromSeed(new Uint8Array(32).fill(77));
    const fee = 12_345n;
    const tx = buildTransfer({ keyPair: miner.keyPair, spend: [{ outpoint: { txid: fromHex(coin.txid), index: coin.index }, amount: BigInt(coin.amount) }], to: [payTo(sigLock(to.keyPair.publicKey), 123_000_000n)], fee });
    const txid = toHex(digestMicroTx(tx));
    const [submitted] = await rpcCall<{ accepted: boolean }[]>(rpc, "tx_submit", { tx: toHex(encodeMicroTx(tx)) });
    expect(submitted).toMatchObject({ accepted: true });
    const status = await until("the transfer final", async () => {
      const st = await getJson<{ state: string; anchorIndex: string | null }>(`${net.rpc[2]}/api/tx?txid=${txid}`);
      return st.state === "final" ? st : undefined;
    }, 30_000);
    // Searched on another validator than the one it was submitted to.
    const page = `${net.rpc[2]}/?q=${txid}`;
    const dom = runChromium(["--dump-dom", page]).out;
    expect(dom).toContain(`<h3>Transaction ${txid}<span class="badge final" data-state="final">final</span></h3>`);
    expect(dom).toContain(`<span data-fee="${fee}">0.00012345</span>`);
    expect(dom).toContain(`applied by anchor <a href="?q=${status.anchorIndex}">${status.anchorIndex}</a>`);
    const inputs = /<div class="tx-inputs">([\s\S]*?)<\/div>/.exec(dom)![1]!;
    expect(inputs).toContain(`<a href="?q=${coin.txid}">${coin.txid.slice(0, 16)}…</a>:${coin.index}`);
    expect(inputs).toContain(`${(BigInt(coin.amount) / 100_000_000n).toString()}.00000000`);
    const outputs = /<div class="tx-outputs">([\s\S]*?)<\/div>/.exec(dom)![1]!;
    expect([...outputs.matchAll(/<tr><td>(\d)<\/td>/g)].map((m) => m[1])).toEqual(["0", "1"]);
    expect(outputs).toContain("1.23000000");
    expect(outputs).toContain(`<a href="?q=${to.address}">`);
    screenshot("transaction.png", page);
  }, 90_000);

  test("a screenshot renders at the window size", () => {
    const file = screenshot("explorer.png", `${net.rpc[0]}/`);
    expect(existsSync(file)).toBe(true);
    const png = readFileSync(file);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const view = new DataView(png.buffer, png.byteOffset);
    expect([view.getUint32(16), view.getUint32(20)]).toEqual([window.width, window.height]); // IHDR
    expect(statSync(file).size).toBeGreaterThan(20_000); // a blank page compresses to a few KB
  }, 60_000);
});

describe("REST and WebSocket endpoints the explorer uses", () => {
  test("status, anchors, anchor, lookup answer; bad params and unknown anchors are typed errors", async () => {
    const rpc = net.rpc[2]!;
    const anchors = await getJson<Anchor[]>(`${rpc}/api/anchors?limit=5`);
    expect(anchors).toHaveLength(5);
    const ev = await getJson<{ type: string; id: string; anchorIndex: string }>(`${rpc}/api/lookup?id=${anchors[0]!.eventId}`);
    expect(ev).toMatchObject({ type: "event", id: anchors[0]!.eventId, anchorIndex: anchors[0]!.anchorIndex });
    const notFound = await fetch(`${rpc}/api/anchor?index=999999999999`);
    expect(notFound.status).toBe(422);
    expect(((await notFound.json()) as { error: { data: { code: string } } }).error.data.code).toBe("RPC_NOT_FOUND");
    const badParams = await fetch(`${rpc}/api/anchor?index=-1`);
    expect(badParams.status).toBe(400);
    expect(((await badParams.json()) as { error: { code: number; data: { code: string } } }).error).toMatchObject({ code: -32602, data: { code: "RPC_BAD_PARAMS" } });
    expect((await fetch(`${rpc}/api/nope`)).status).toBe(404);
  });

  test("docs/RPC.md documents every RPC method and REST name", () => {
    const doc = readFileSync(join(ROOT, "docs/RPC.md"), "utf8");
    // The handlers are closures: building the table touches neither node nor store.
    const methods = Object.keys(nodeRpcMethods({} as never, {} as never, {} as never));
    expect(methods.length).toBeGreaterThan(5);
    for (const m of methods) expect(doc, `docs/RPC.md lacks ### ${m}`).toContain(`### ${m}\n`);
    for (const [rest, m] of Object.entries(NODE_REST_ROUTES)) expect(doc).toContain(`| \`${m}\` | \`${rest}\` |`);
  });

  test("the field tables of docs/RPC.md list exactly the fields a node returns", async () => {
    const doc = readFileSync(join(ROOT, "docs/RPC.md"), "utf8");
    /** Backticked names in the first column of the `| field |` table under `### method`. */
    const documented = (method: string): string[] => {
      const section = doc.split(`### ${method}\n`)[1]!.split("\n### ")[0]!;
      const table = section.split("\n").filter((l) => l.startsWith("| `"));
      return table.flatMap((l) => [...l.split("|")[1]!.matchAll(/`(\w+)`/g)].map((m) => m[1]!)).sort();
    };
    const rpc = net.rpc[0]!;
    const status = await getJson<Record<string, unknown>>(`${rpc}/api/status`);
    expect(documented("phantom_status")).toEqual(Object.keys(status).sort());
    const [anchor] = await getJson<Record<string, unknown>[]>(`${rpc}/api/anchors?limit=1`);
    expect(documented("chain_anchors")).toEqual(Object.keys(anchor!).sort());
    const address = await getJson<Record<string, unknown>>(`${rpc}/api/address?address=${minerAddress}`);
    expect(documented("address_get")).toEqual(Object.keys(address).sort());
    const dag = await getJson<Record<string, unknown>>(`${rpc}/api/dag?limit=1`);
    expect(documented("dag_recent")).toEqual(Object.keys(dag).sort());
    const series = await getJson<Record<string, unknown>>(`${rpc}/api/series?limit=1`);
    expect(documented("node_series")).toEqual(Object.keys(series).sort());
    const mint = await getJson<Record<string, unknown>>(`${rpc}/api/transaction?txid=${(anchor as { eventId: string }).eventId.replace(/./g, "0")}`).catch(() => undefined);
    expect(mint).toBeUndefined(); // unknown txid: RPC_NOT_FOUND (HTTP 422)
    const utxo = (address.utxos as { txid: string }[])[0]!;
    const tx = await getJson<Record<string, unknown>>(`${rpc}/api/transaction?txid=${utxo.txid}`);
    expect(documented("tx_get")).toEqual(Object.keys(tx).sort());
  });

  test("the anchors WebSocket topic delivers finalized anchors", async () => {
    const ws = new WebSocket(net.rpc[3]!.replace("http", "ws") + "/ws");
    const got: { topic?: string; data?: { anchorIndex: string | number; eventId: string } }[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no anchor message within 20 s")), 20_000);
        ws.onopen = () => ws.send(JSON.stringify({ subscribe: "anchors" }));
        ws.onmessage = (m) => {
          got.push(JSON.parse(String(m.data)));
          if (got.filter((g) => g.topic === "anchors").length >= 3) {
            clearTimeout(timer);
            resolve();
          }
        };
        ws.onerror = () => reject(new Error("websocket error"));
      });
    } finally {
      ws.close();
    }
    expect(got[0]).toEqual({ ok: true, subscribed: "anchors", topicCount: 1 } as never);
    const anchors = got.filter((g) => g.topic === "anchors");
    expect(anchors[0]!.data!.eventId).toMatch(/^[0-9a-f]{64}$/);
    expect(BigInt(anchors[1]!.data!.anchorIndex)).toBe(BigInt(anchors[0]!.data!.anchorIndex) + 1n);
  });
});

// ---------------------------------------------------------------- dashboards and alerts

const promqlWords = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset", "inf", "nan"]);
/** Metric names a PromQL expression reads (functions, keywords, label lists, strings and durations removed). */
export function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, " ")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/(?<![a-zA-Z0-9_:])\d[\w.]*/g, " "); // numbers: 0.95, 1e8, 4 * 1024, 5m
  const names: string[] = [];
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const after = stripped.slice(m.index! + m[0].length).trimStart();
    if (after.startsWith("(") || promqlWords.has(m[0].toLowerCase())) continue;
    names.push(m[0]);
  }
  return names;
}

async function exposedNames(): Promise<Set<string>> {
  const text = await (await fetch(net.metrics[0]!, { signal: AbortSignal.timeout(5_000) })).text();
  const names = new Set<string>(["up"]); // Prometheus's own per-target series
  // Every sample names the node's shard (the dashboard's `shard` variable selects on it).
  const unlabelled = text.split("\n").filter((l) => l && !l.startsWith("#") && !/\{(?:[^}]*,)?shard="0"[,}]/.test(l));
  expect(unlabelled.slice(0, 3), "samples without shard=\"0\"").toEqual([]);
  for (const line of text.split("\n")) {
    const t = /^# TYPE (\S+) /.exec(line);
    if (t) names.add(t[1]!);
    else if (line && !line.startsWith("#")) names.add(line.split(/[{ ]/)[0]!);
  }
  return names;
}

describe("Grafana dashboard and Prometheus alerts query metrics a node exports", () => {
  test("promqlMetricNames finds metrics and skips functions, labels and keywords", () => {
    expect(promqlMetricNames('histogram_quantile(0.95, sum by (le, instance) (rate(pc_a_bucket{x="y z"}[5m]))) / 1e8')).toEqual(["pc_a_bucket"]);
    expect(promqlMetricNames("max by (chain) (pc_b) - on (chain) group_right pc_c > 500")).toEqual(["pc_b", "pc_c"]);
    expect(promqlMetricNames("up{job=\"phantom\"} == 0 and on(instance) pc_d > 0")).toEqual(["up", "pc_d"]);
  });

  test("every dashboard panel query names exported metrics; panels are well-formed", async () => {
    const names = await exposedNames();
    const dash = JSON.parse(readFileSync(join(ROOT, "docs/grafana/phantom-node-mempool-dashboard.json"), "utf8")) as {
      uid: string; templating: { list: { name: string; type: string; query: string | { query: string }; includeAll?: boolean; multi?: boolean; allValue?: string }[] }; panels: { id: number; type: string; title: string; gridPos: { x: number; y: number; w: number; h: number }; datasource?: { uid: string }; targets?: { expr: string; refId: string; legendFormat?: string }[] }[];
    };
    const datasourceUid = /uid:\s*(\S+)/.exec(readFileSync(join(ROOT, "docs/observability/grafana-datasource.yml"), "utf8"))![1];
    expect(new Set(dash.panels.map((p) => p.id)).size).toBe(dash.panels.length);
    // A `shard` selector: its values are the shard labels the nodes export; "All" matches every shard.
    const shardVar = dash.templating.list.find((v) => v.name === "shard");
    expect(shardVar, "dashboard lacks the shard variable").toBeDefined();
    const shardQuery = typeof shardVar!.query === "string" ? shardVar!.query : shardVar!.query.query;
    const valuesOf = /^label_values\((\w+), shard\)$/.exec(shardQuery);
    expect(valuesOf, `shard variable query ${shardQuery}`).not.toBeNull();
    expect(names.has(valuesOf![1]!)).toBe(true);
    expect(shardVar).toMatchObject({ type: "query", includeAll: true, multi: true, allValue: ".*" });
    const queried = new Set<string>();
    const cells = new Set<string>();
    for (const p of dash.panels) {
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect(cells.has(`${x},${y}`), `panel "${p.title}" overlaps another`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      if (p.type === "row") continue;
      expect(p.datasource?.uid).toBe(datasourceUid);
      expect(p.targets?.length, `panel "${p.title}" has no query`).toBeGreaterThan(0);
      expect(new Set(p.targets!.map((t) => t.refId)).size).toBe(p.targets!.length);
      for (const t of p.targets!) {
        // A legend can only name labels the query keeps: after `sum by (a, b)` only a and b.
        const legendLabels = [...(t.legendFormat ?? "").matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]!);
        const by = /\bby \(([^)]*)\)/.exec(t.expr);
        if (by && !t.expr.includes("group_right")) {
          const kept = by[1]!.split(",").map((x) => x.trim());
          for (const l of legendLabels) expect(kept, `panel "${p.title}": legend {{${l}}} is dropped by "${t.expr}"`).toContain(l);
        }
        if (/^(sum|max|min|avg|count)\(/.test(t.expr)) expect(legendLabels, `panel "${p.title}": "${t.expr}" keeps no labels`).toEqual([]);
        const used = promqlMetricNames(t.expr);
        expect(used.length, `"${t.expr}" reads no metric`).toBeGreaterThan(0);
        // Every series the panel reads is filtered by the shard selector.
        for (const m of t.expr.matchAll(/(?<![\w:])([a-zA-Z_:][\w:]*)(\{[^}]*\})?/g)) {
          if (!used.includes(m[1]!)) continue;
          expect(m[2] ?? "", `panel "${p.title}": ${m[1]} in "${t.expr}" is not filtered by $shard`).toContain('shard=~"$shard"');
        }
        for (const n of used) {
          expect(names.has(n), `panel "${p.title}": ${n} is not exported by a node`).toBe(true);
          queried.add(n);
        }
      }
    }
    // The areas the dashboard must cover.
    for (const n of ["pc_node_anchors_finalized_total", "pc_node_last_decided_round", "pc_node_events_rejected_total", "pc_node_supply_units",
      "pc_node_mint_height", "pc_p2p_errors_total", "pc_p2p_bans_total", "pc_node_mempool_size", "pc_node_store_anchor_commit_seconds_bucket"]) {
      expect(queried.has(n), `dashboard lacks ${n}`).toBe(true);
    }
  });

  test("the alert rules are valid YAML and every expression uses exported metrics", async () => {
    const names = await exposedNames();
    const doc = Bun.YAML.parse(readFileSync(join(ROOT, "docs/prometheus/phantom-node-alerts.yaml"), "utf8")) as {
      groups: { name: string; rules: { alert: string; expr: string; for?: string; labels: { severity: string }; annotations: { summary: string } }[] }[];
    };
    const rules = doc.groups.flatMap((g) => g.rules);
    expect(rules.length).toBeGreaterThan(10);
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
    for (const r of rules) {
      expect(["critical", "warning", "info"]).toContain(r.labels.severity);
      expect(r.annotations.summary.length).toBeGreaterThan(10);
      if (r.for !== undefined) expect(r.for).toMatch(/^\d+[smh]$/);
      const used = promqlMetricNames(String(r.expr));
      expect(used.length).toBeGreaterThan(0);
      const by = /\bby \(([^)]*)\)/.exec(String(r.expr));
      if (by && !String(r.expr).includes("group_right")) {
        const kept = by[1]!.split(",").map((x) => x.trim());
        for (const m of r.annotations.summary.matchAll(/\$labels\.(\w+)/g)) expect(kept, `alert ${r.alert}: $labels.${m[1]} is dropped by its expression`).toContain(m[1]!);
      }
      for (const n of used) expect(names.has(n), `alert ${r.alert}: ${n} is not exported by a node`).toBe(true);
    }
    const prom = Bun.YAML.parse(readFileSync(join(ROOT, "docs/prometheus/prometheus.yml"), "utf8")) as { rule_files: string[] };
    expect(prom.rule_files).toContain("phantom-node-alerts.yaml");
  });
});
