/**
 * The block explorer: one self-contained page over the node's REST API. It shows the
 * node's status, a live picture of the DAG (/api/dag), charts over time (/api/series),
 * the latest anchors (/api/anchors) and searches (/api/anchor with its fee payouts from
 * /api/payouts, /api/lookup,
 * /api/transaction, /api/address); it refreshes on the WebSocket "anchors" topic, at
 * most once per refreshMinMs, and every refreshEveryMs. `/?q=<query>` opens with that
 * search done (links can be shared; the browser test uses it). Every value from the API
 * is escaped before it reaches innerHTML. No external resource is loaded.
 */
import { explorerDagEvents, explorerDagHtml, explorerDagScript, explorerDagStyle } from "./explorer-dag.ts";
import { explorerChartsScript, explorerChartsStyle } from "./explorer-charts.ts";
import { explorerTxScript, explorerTxStyle } from "./explorer-tx.ts";
import { explorerShardsHtml, explorerShardsScript, explorerShardsStyle } from "./explorer-shards.ts";

/** Fewest milliseconds between two refreshes, however fast anchors arrive. */
export const explorerRefreshMinMs = 1_000;
/** A refresh at least this often, anchors or not (the DAG grows between anchors). */
export const explorerRefreshEveryMs = 2_000;
/** Anchors shown in the table. */
export const explorerAnchorRows = 20;
export { explorerDagEvents };

const style = `
 *{box-sizing:border-box}
 body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#0f1218;color:#dde3ea}
 header{padding:12px 24px;background:#171c25;border-bottom:1px solid #2a3140;display:flex;flex-wrap:wrap;gap:12px 24px;align-items:center}
 h1{font-size:18px;margin:0;white-space:nowrap} h2{font-size:15px;margin:20px 0 8px} h2 small{font-weight:normal;color:#8b96a8;font-size:12px;margin-left:8px}
 #q{flex:1 1 320px;max-width:640px;background:#0f1218;color:#dde3ea;border:1px solid #2a3140;padding:7px 10px;border-radius:4px;font:inherit}
 #q:focus{outline:none;border-color:#4d7cfe}
 #conn{font-size:12px;color:#8b96a8;white-space:nowrap} #conn.live::before{content:"● ";color:#3ecf8e} #conn.down::before{content:"● ";color:#ff8080}
 main{padding:12px 24px 24px;max-width:1600px}
 .cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px}
 .card{background:#171c25;border:1px solid #2a3140;border-radius:6px;padding:8px 12px;min-width:0}
 .card b{display:block;font-size:17px;color:#fff;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;font-variant-numeric:tabular-nums}
 .card span{color:#8b96a8;font-size:12px} .card.wide{grid-column:span 2}
 .cols{display:grid;grid-template-columns:minmax(0,3fr) minmax(280px,2fr);gap:20px} @media (max-width:900px){.cols{grid-template-columns:1fr}}
 select{background:#0f1218;color:#dde3ea;border:1px solid #2a3140;border-radius:4px;font:12px system-ui,sans-serif;padding:2px 4px}
 .scroll{overflow-x:auto}
 table{border-collapse:collapse;width:100%;min-width:720px;table-layout:fixed}
 td,th{padding:5px 8px;border-bottom:1px solid #232a36;text-align:left;font-family:ui-monospace,monospace;font-size:12px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
 th{color:#8b96a8;font-weight:normal} td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
 col.c-anchor{width:10%} col.c-round{width:8%} col.c-creator{width:8%} col.c-id{width:auto} col.c-txs{width:8%} col.c-fees{width:14%}
 #anchors tr{cursor:pointer} #anchors tr:hover{background:#171c25}
 pre{background:#0f1218;border:1px solid #2a3140;padding:10px;border-radius:6px;overflow:auto;font-size:12px;max-height:420px;white-space:pre-wrap;word-break:break-all}
 .err{color:#ff8080} .muted{color:#8b96a8}
 #result{margin-top:16px;background:#171c25;border:1px solid #2a3140;border-radius:6px;padding:12px 14px}
 #result h3{margin:0 0 8px;font-size:14px;word-break:break-all} #result h4{margin:14px 0 6px;font-size:13px;color:#8b96a8;font-weight:normal}
 #result table{min-width:0} #result table+table{margin-top:12px}
 #result details{margin-top:10px} #result summary{cursor:pointer;color:#8b96a8;font-size:12px}
 table.kv td:first-child{color:#8b96a8;width:160px;font-family:system-ui,sans-serif}
 a{color:#7aa2ff;text-decoration:none} a:hover{text-decoration:underline}
${explorerDagStyle}${explorerChartsStyle}${explorerTxStyle}${explorerShardsStyle}`;

const script = String.raw`
const $ = (id) => document.getElementById(id);
const esc = (v) => String(v).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
class ApiError extends Error { constructor(message, code) { super(message); this.code = code; } }
const api = async (name, params = {}) => {
  const r = await fetch("/api/" + name + "?" + new URLSearchParams(params));
  const body = await r.json();
  if (!r.ok) {
    const e = body.error || {}, code = e.data && e.data.code;
    throw new ApiError(e.message ? e.message + (code ? " [" + code + "]" : "") : JSON.stringify(body), code);
  }
  return body;
};
const card = (key, label, value, title, wide) => '<div class="card' + (wide ? " wide" : "") + '" data-key="' + key + '" title="' + esc(title || value) + '"' +
  '><span>' + label + '</span><b>' + esc(value) + '</b></div>';
const units = (u) => { const s = String(u).padStart(9, "0"); return s.slice(0, -8) + "." + s.slice(-8); };
const link = (q, text) => '<a href="?q=' + encodeURIComponent(q) + '">' + esc(text === undefined ? q : text) + '</a>';
const short = (h) => h.slice(0, 16) + "…";
const kv = (rows) => '<table class="kv">' + rows.map(([k, v]) => '<tr><td>' + esc(k) + '</td><td>' + v + '</td></tr>').join("") + '</table>';
const grid = (head, rows, empty) => '<table><thead><tr>' + head.map((h) => '<th>' + esc(h) + '</th>').join("") + '</tr></thead><tbody>' +
  (rows.length ? rows.map((r) => '<tr>' + r.map((c) => '<td>' + c + '</td>').join("") + '</tr>').join("") : '<tr><td colspan="' + head.length + '" class="muted">' + esc(empty || "none") + '</td></tr>') + '</tbody></table>';
let dagLimit = ${explorerDagEvents};
/** The node's last status: its shard and the shard count, for the address and transaction pages. */
let node = { shard: 0, shardCount: 1 };
async function refresh() {
  try {
    const s = await api("status");
    if (Number.isInteger(s.shardCount)) node = { shard: s.shard, shardCount: s.shardCount };
    $("cards").innerHTML = card("chain", "chain", s.chainId, "", true) + card("validator", "validator", s.validator) +
      card("shard", "shard", node.shard + " of " + node.shardCount, "this node validates shard " + node.shard + " of the network's " + node.shardCount) +
      card("anchors", "anchors", s.anchorCount) + card("decided-round", "decided round", s.lastDecidedRound) +
      card("peers", "peers", s.peers + " / " + (s.k - 1)) + card("mempool", "mempool txs", s.mempoolSize) +
      card("mint-height", "mint height", s.mintHeight) + card("target-bits", "target bits", s.targetBits) +
      card("supply", "supply (PC)", s.supplyPc, "", true) + card("state-root", "state root", s.stateRoot ? s.stateRoot.slice(0, 24) + "…" : "—", s.stateRoot, true);
    drawCrossShard(s); // several shards only; it reports its own errors
    const [dag, series, a] = await Promise.all([api("dag", { limit: dagLimit }), api("series"), api("anchors", { limit: ${explorerAnchorRows} })]);
    drawDag(dag, $("dag-box"));
    drawCharts(series, $("charts"));
    $("anchors").innerHTML = a.length === 0 ? '<tr><td colspan="6" class="muted">no finalized anchor yet</td></tr>' :
      a.map((x) => '<tr data-anchor="' + esc(x.anchorIndex) + '"><td class="n">' + esc(x.anchorIndex) + '</td><td class="n">' + esc(x.round) +
        '</td><td class="n">' + esc(x.creator) + '</td><td title="' + esc(x.eventId) + '">' + esc(x.eventId) + '</td><td class="n">' + esc(x.txCount) +
        '</td><td class="n">' + esc(units(x.fees)) + '</td></tr>').join("");
    $("updated").textContent = "updated " + new Date().toLocaleTimeString();
    if (watched && watched.pending) search(watched.q, true);
  } catch (e) { $("cards").innerHTML = '<div class="card err"><span>node</span><b>' + esc(e.message) + '</b></div>'; }
}
let pending = null, last = 0;
function scheduleRefresh() {
  if (pending) return;
  const wait = Math.max(0, last + ${explorerRefreshMinMs} - Date.now());
  pending = setTimeout(() => { pending = null; last = Date.now(); refresh(); }, wait);
}
function render(res) {
  if (res.utxos) return '<h3>Address ' + esc(res.address) + '</h3>' + kv([["shard", addressShard(res.shard)], ["balance", esc(res.balancePc) + " PC"], ["outputs", esc(res.utxos.length)]]) +
    grid(["txid", "index", "amount (PC)", "created at anchor", "mint reward"], res.utxos.map((u) => [link(u.txid, short(u.txid)), esc(u.index), esc(units(u.amount)), link(u.createdAt), u.coinbase ? "yes" : "no"]));
  if (res.status && res.inputs) return renderTx(res);
  if (res.type === "event") return '<h3>Event ' + esc(res.id) + '</h3>' + kv([["creator", esc(res.creator)], ["seq", esc(res.seq)], ["lamport", esc(res.lamport)],
    ["round", res.dag ? esc(res.dag.round) : '<span class="muted">pruned from memory</span>'], ["witness", res.dag ? (res.dag.witness ? "yes, " + esc(res.dag.fame.replace("_", " ")) : "no") : '<span class="muted">—</span>'],
    ["anchor", res.anchorIndex === null ? '<span class="muted">not finalized</span>' : link(res.anchorIndex)], ["payload digest", esc(res.payloadDigest)],
    ["parents", res.parents.map((p) => link(p)).join("<br>")]]);
  if (res.anchorIndex !== undefined) return '<h3>Anchor ' + esc(res.anchorIndex) + '</h3>' + kv([["event", link(res.eventId)], ["creator", esc(res.creator)],
    ["round", esc(res.round)], ["txs", esc(res.txCount)], ["fees (PC)", esc(units(res.fees))], ["state root", esc(res.stateRoot)],
    ["voided", res.voided.length ? res.voided.map((v) => link(v.id, v.kind + " " + short(v.id)) + " " + esc(v.code)).join("<br>") : '<span class="muted">none</span>']]);
  return "";
}
/** An address's shard; on another shard than this node's, the balance here is not its balance. */
function addressShard(shard) {
  if (shard === undefined) return '<span class="muted">—</span>';
  const text = '<span data-shard="' + esc(shard) + '">' + esc(shard) + " of " + esc(node.shardCount) + '</span>';
  return shard === node.shard ? text : text + ' <span class="err">this node serves shard ' + esc(node.shard) + ': it holds none of the outputs of this address; ask a node of shard ' + esc(shard) + '</span>';
}
function renderPayouts(p) {
  if (!p) return "";
  if (!p.settled) return '<h3>Fee payouts</h3>' + kv([["settles at anchor", esc(p.settlesAt)]]);
  return '<h3>Fee payouts</h3>' + kv([["settled at anchor", link(p.settlesAt)], ["payout root", esc(p.root)]]) +
    grid(["validator", "address", "amount (PC)", "ack distance"], p.payouts.map((x) => [esc(x.index), link(x.address, x.address.slice(0, 30) + "…"), esc(units(x.amount)), esc(p.ackDistances[x.index] ?? "")]));
}
/** The search shown now; a pending transaction is looked up again at every refresh. */
let watched = null;
async function lookupHex(q) {
  try {
    const res = await api("lookup", { id: q });
    if (res.type === "event") return res;
  } catch (e) { if (e.code !== "RPC_NOT_FOUND") throw e; }
  return api("transaction", { txid: q });
}
async function search(q, quiet) {
  q = q.trim(); if (!q) return;
  const box = $("result"), view = $("result-view"), out = $("lookup");
  if (!quiet) {
    box.hidden = false; out.className = ""; view.innerHTML = '<span class="muted">looking up ' + esc(q) + '…</span>'; out.textContent = "";
    history.replaceState(null, "", "?q=" + encodeURIComponent(q));
  }
  try {
    const isAnchor = /^\d+$/.test(q);
    // An anchor's payouts are fetched alongside it (same latency); not settled yet: where they will settle.
    const [res, payouts] = await Promise.all([
      q.startsWith("pc1") ? api("address", { address: q }) : isAnchor ? api("anchor", { index: q }) : lookupHex(q),
      isAnchor ? api("payouts", { index: q }).catch(() => null) : null,
    ]);
    if (watched && watched.q !== q) watched = null;
    if (res.status && res.inputs) { watched = watched || { q, seen: [] }; noteTxState(watched, res.status); watched.pending = res.status.state === "pending"; res.seen = watched.seen; }
    view.innerHTML = render(res) + renderPayouts(payouts); out.textContent = JSON.stringify(res, (k, v) => k === "seen" ? undefined : v, 2); out.dataset.query = q;
  } catch (e) { if (quiet) return; view.innerHTML = '<span class="err">' + esc(e.message) + '</span>'; out.textContent = e.message; out.className = "err"; }
}
$("q").addEventListener("keydown", (ev) => { if (ev.key === "Enter") search($("q").value); });
$("anchors").addEventListener("click", (ev) => { const tr = ev.target.closest("tr[data-anchor]"); if (tr) { $("q").value = tr.dataset.anchor; search(tr.dataset.anchor); } });
$("dag-box").addEventListener("click", (ev) => { const g = ev.target.closest("g[data-id]"); if (g) { $("q").value = g.dataset.id; search(g.dataset.id); window.scrollTo(0, 0); } });
$("dag-limit").addEventListener("change", (ev) => { dagLimit = Number(ev.target.value); scheduleRefresh(); });
${explorerDagScript}
${explorerChartsScript}
${explorerTxScript}
${explorerShardsScript}
const initial = new URLSearchParams(location.search).get("q");
// The status first: an address or transaction page shows shards relative to this node's.
last = Date.now(); refresh().then(() => { if (initial) { $("q").value = initial; search(initial); } }); setInterval(scheduleRefresh, ${explorerRefreshEveryMs});
function connect() {
  let ws;
  try { ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws"); } catch { return; }
  ws.onopen = () => { ws.send(JSON.stringify({ subscribe: "anchors" })); $("conn").className = "live"; $("conn").firstChild.textContent = "live "; };
  ws.onmessage = (m) => { if (String(m.data).includes('"topic"')) scheduleRefresh(); };
  ws.onclose = () => { $("conn").className = "down"; $("conn").firstChild.textContent = "reconnecting "; setTimeout(connect, 3000); };
}
connect();
`;

export const explorerHtml = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Phantom explorer</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${style}</style></head><body>
<header><h1>Phantom explorer</h1>
<input id="q" placeholder="address (pc1…), txid, event id or anchor index — Enter" autocomplete="off" spellcheck="false">
<span id="conn">connecting <span id="updated"></span></span></header>
<main>
<div class="cards" id="cards"></div>
<section id="result" hidden><div id="result-view"></div><details><summary>raw JSON</summary><pre id="lookup"></pre></details></section>
<div class="cols">
<section><h2>DAG <small id="dag-meta"></small> <select id="dag-limit" title="events shown">${[48, 96, 200, 400].map((n) => `<option${n === explorerDagEvents ? " selected" : ""}>${n}</option>`).join("")}</select></h2>
${explorerDagHtml}
</section>
<section><h2>Over time <small>sampled by this node</small></h2><div id="charts"></div></section>
</div>
${explorerShardsHtml}
<h2>Latest finalized anchors</h2>
<div class="scroll"><table><colgroup><col class="c-anchor"><col class="c-round"><col class="c-creator"><col class="c-id"><col class="c-txs"><col class="c-fees"></colgroup>
<thead><tr><th class="n">anchor</th><th class="n">round</th><th class="n">creator</th><th>event id</th><th class="n">txs</th><th class="n">fees (PC)</th></tr></thead>
<tbody id="anchors"></tbody></table></div>
</main>
<script>${script}</script></body></html>`;
