/** The block explorer: one self-contained page that reads the node's REST API. */
export const explorerHtml = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Phantom explorer</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#0f1218;color:#dde3ea}
 header{padding:14px 24px;background:#171c25;border-bottom:1px solid #2a3140;display:flex;gap:24px;align-items:center}
 h1{font-size:18px;margin:0} h2{font-size:15px;margin:18px 0 8px}
 main{padding:8px 24px} .cards{display:flex;flex-wrap:wrap;gap:12px}
 .card{background:#171c25;border:1px solid #2a3140;border-radius:6px;padding:10px 14px;min-width:150px}
 .card b{display:block;font-size:18px;color:#fff} .card span{color:#8b96a8;font-size:12px}
 table{border-collapse:collapse;width:100%} td,th{padding:5px 8px;border-bottom:1px solid #232a36;text-align:left;font-family:ui-monospace,monospace;font-size:12px}
 th{color:#8b96a8;font-weight:normal} input{background:#0f1218;color:#dde3ea;border:1px solid #2a3140;padding:6px;width:480px;border-radius:4px}
 pre{background:#171c25;padding:10px;border-radius:6px;overflow:auto;font-size:12px} .err{color:#ff8080}
</style></head><body>
<header><h1>Phantom explorer</h1><input id="q" placeholder="address (pc1…), txid, event id or anchor index — Enter"></header>
<main>
<div class="cards" id="cards"></div>
<pre id="lookup" hidden></pre>
<h2>Latest finalized anchors</h2>
<table><thead><tr><th>anchor</th><th>round</th><th>creator</th><th>event id</th><th>txs</th><th>fees</th></tr></thead><tbody id="anchors"></tbody></table>
</main>
<script>
const $ = (id) => document.getElementById(id);
const api = async (name, params = {}) => {
  const r = await fetch("/api/" + name + "?" + new URLSearchParams(params));
  const body = await r.json();
  if (!r.ok) throw new Error(JSON.stringify(body.error ?? body));
  return body;
};
const card = (label, value) => '<div class="card"><span>' + label + '</span><b>' + value + '</b></div>';
async function refresh() {
  try {
    const s = await api("status");
    $("cards").innerHTML = card("chain", s.chainId) + card("validator", s.validator) + card("anchors", s.anchorCount) +
      card("decided round", s.lastDecidedRound) + card("peers", s.peers) + card("mempool", s.mempoolSize) +
      card("mint height", s.mintHeight) + card("target bits", s.targetBits) + card("supply (PC)", s.supplyPc) +
      card("state root", String(s.stateRoot).slice(0, 16) + "…");
    const a = await api("anchors", { limit: 20 });
    $("anchors").innerHTML = a.map((x) => "<tr><td>" + x.anchorIndex + "</td><td>" + x.round + "</td><td>" + x.creator +
      "</td><td>" + x.eventId.slice(0, 24) + "…</td><td>" + x.txCount + "</td><td>" + x.fees + "</td></tr>").join("");
  } catch (e) { $("cards").innerHTML = '<span class="err">' + e.message + '</span>'; }
}
$("q").addEventListener("keydown", async (ev) => {
  if (ev.key !== "Enter") return;
  const q = $("q").value.trim(); const out = $("lookup"); out.hidden = false;
  try {
    const res = q.startsWith("pc1") ? await api("address", { address: q }) : /^\\d+$/.test(q) ? await api("anchor", { index: q }) :
      await api("lookup", { id: q });
    out.textContent = JSON.stringify(res, null, 2); out.className = "";
  } catch (e) { out.textContent = e.message; out.className = "err"; }
});
refresh(); setInterval(refresh, 2000);
try { const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  ws.onopen = () => ws.send(JSON.stringify({ subscribe: "anchors" })); ws.onmessage = () => refresh(); } catch {}
</script></body></html>`;
