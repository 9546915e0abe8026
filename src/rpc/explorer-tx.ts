/**
 * The explorer's transaction page (browser JavaScript, embedded in the page), from
 * /api/transaction (tx_get): state, fee, inputs with their amounts, outputs with where
 * they went, and a status history: what the node records (admission, the terminal
 * state with its reason and anchor) plus every state change this page saw while open.
 */

export const explorerTxStyle = `
 .badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-family:system-ui,sans-serif;margin-left:8px;vertical-align:1px}
 .badge.final{background:#163d2c;color:#3ecf8e} .badge.pending,.badge.unknown{background:#3d3216;color:#e0a84e}
 .badge.void,.badge.expired,.badge.replaced,.badge.evicted{background:#3d1a1a;color:#ff8080}
 ol.history{margin:0;padding-left:20px;font-size:13px} ol.history li{margin:2px 0} ol.history .muted{font-size:12px}
`;

export const explorerTxScript = String.raw`
function noteTxState(w, st) {
  const lastSeen = w.seen[w.seen.length - 1];
  if (!lastSeen || lastSeen.state !== st.state) w.seen.push({ state: st.state, at: new Date().toLocaleTimeString() });
}
function txHistory(res) {
  const st = res.status, items = [];
  if (st.admittedAt !== null) items.push("accepted into this node's mempool while anchor " + link(st.admittedAt) + " was next");
  if (st.state === "pending") items.push("pending: not final yet" + (st.expiresAfter !== null ? "; leaves this node's mempool after anchor " + link(st.expiresAfter) + " if still not final" : ""));
  else if (st.state === "final") items.push("final: applied by anchor " + (st.anchorIndex !== null ? link(st.anchorIndex) : "?") + (res.eventId ? ", carried by event " + link(res.eventId, short(res.eventId)) : ""));
  else if (st.state !== "unknown") items.push(esc(st.state) + " (" + esc(st.reason) + "): " + esc(st.message) + (st.by ? "; " + (st.state === "replaced" ? "replaced by " : "winner ") + link(st.by, short(st.by)) : "") + (st.anchorIndex !== null ? " at anchor " + link(st.anchorIndex) : ""));
  const seen = (res.seen || []).map((s) => '<span class="muted">seen ' + esc(s.state) + " by this page at " + esc(s.at) + "</span>");
  return '<ol class="history">' + items.concat(seen).map((x) => "<li>" + x + "</li>").join("") + "</ol>";
}
function renderTx(res) {
  const st = res.status;
  const inTotal = res.inputs.every((i) => i.amount !== null) ? res.inputs.reduce((s, i) => s + BigInt(i.amount), 0n) : null;
  const outTotal = res.outputs.reduce((s, o) => s + BigInt(o.amount || 0), 0n);
  const head = '<h3>Transaction ' + esc(res.txid) + '<span class="badge ' + esc(st.state) + '" data-state="' + esc(st.state) + '">' + esc(st.state) + '</span></h3>';
  const facts = kv([
    ["kind", res.kind === "mint" ? "mint (new coins from proof of work)" : res.kind === "micro" ? "transfer" : '<span class="muted">this node no longer holds its bytes</span>'],
    ["status", esc(st.message)],
    ["anchor", st.anchorIndex !== null ? link(st.anchorIndex) : '<span class="muted">—</span>'],
    ["fee (PC)", res.fee !== null ? '<span data-fee="' + esc(res.fee) + '">' + esc(units(res.fee)) + '</span>' : '<span class="muted">' + (res.kind === "mint" ? "none (a mint)" : "unknown") + '</span>'],
    ["in / out (PC)", (inTotal !== null && res.kind === "micro" ? esc(units(inTotal)) : "—") + " / " + esc(units(outTotal))],
    ["size", res.sizeBytes !== null ? esc(res.sizeBytes) + " bytes" : '<span class="muted">—</span>'],
  ]);
  const inputs = grid(["spends output", "address", "amount (PC)", "created at anchor"], res.inputs.map((i) => [
    link(i.txid, short(i.txid)) + ":" + esc(i.index), i.address ? link(i.address, i.address.slice(0, 30) + "…") : '<span class="muted">unknown</span>',
    i.amount !== null ? esc(units(i.amount)) : '<span class="muted">unknown</span>', i.createdAt !== null ? link(i.createdAt) : "—"]), res.kind === "mint" ? "none: a mint creates new coins" : "none known");
  // Several shards: each output's shard; one for another shard leaves this one (an export, SPEC_SHARDING §5).
  const sharded = node.shardCount > 1;
  const exported = (o) => sharded && o.shard !== undefined && o.shard !== node.shard;
  const outputs = grid(["output", "address"].concat(sharded ? ["shard"] : [], ["amount (PC)", "created at anchor", "spent"]), res.outputs.map((o) => [esc(o.index), link(o.address, o.address.slice(0, 30) + "…")].concat(
    sharded ? [exported(o) ? '<span data-export="' + esc(o.shard) + '">' + esc(o.shard) + ", cross-shard from " + esc(node.shard) + "</span>" : esc(o.shard)] : [], [
    o.amount !== null ? esc(units(o.amount)) : "—",
    o.createdAt !== null ? link(o.createdAt) : exported(o) ? '<span class="muted">on shard ' + esc(o.shard) + " once imported there</span>" : '<span class="muted">not yet</span>',
    o.spentAt !== null ? "at " + link(o.spentAt) + (o.spentBy ? " by " + link(o.spentBy, short(o.spentBy)) : "") : exported(o) ? '<span class="muted">—</span>' : '<span class="muted">unspent</span>'])));
  return head + facts + "<h4>Status history</h4>" + txHistory(res) + '<h4>Inputs</h4><div class="tx-inputs">' + inputs + '</div><h4>Outputs</h4><div class="tx-outputs">' + outputs + "</div>";
}
`;
