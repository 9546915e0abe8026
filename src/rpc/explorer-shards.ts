/**
 * The explorer's cross-shard section (browser JavaScript, embedded in the page), shown
 * only when the network has more than one shard: this node's shard summary (shard_info)
 * and the exports of its newest epochs with their state (shard_exports, one call per
 * epoch), over JSON-RPC at POST /rpc. A node without those methods (-32601) is said to
 * serve no cross-shard status. With one shard the section stays hidden and nothing is asked.
 */

/** Newest epochs whose exports are listed. */
export const explorerShardEpochs = 3;
/** Exports listed per epoch at most (the rest are counted). */
export const explorerShardExportRows = 20;

export const explorerShardsStyle = `
 #xshard table{min-width:0} #xshard .state-imported{color:#3ecf8e} #xshard .state-certified,#xshard .state-relayed{color:#e0a84e}
`;

export const explorerShardsHtml = `<section id="xshard" hidden><h2>Cross-shard transfers <small id="xshard-meta"></small></h2><div id="xshard-info"></div><div id="xshard-exports"></div></section>`;

export const explorerShardsScript = String.raw`
const rpc = async (method, params) => {
  const r = await fetch("/rpc", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  const body = await r.json();
  if (body.error) throw new ApiError(body.error.message, body.error.code === -32601 ? "METHOD_NOT_FOUND" : body.error.data && body.error.data.code);
  return body.result;
};
/** Scalar fields of an object as key/value rows (shard_info's shape is the node's to define). */
const scalars = (o) => Object.keys(o || {}).filter((k) => o[k] === null || typeof o[k] !== "object").map((k) => [k, esc(o[k])]);
async function drawCrossShard(s) {
  const box = $("xshard");
  if (!(node.shardCount > 1)) { box.hidden = true; return; }
  box.hidden = false;
  const interval = BigInt(s.shardRootInterval || "64"), count = BigInt(s.anchorCount || "0");
  const newest = count > 0n ? (count - 1n) / interval : 0n;
  const epochs = [];
  for (let e = newest; e >= 0n && epochs.length < ${explorerShardEpochs}; e--) epochs.push(e);
  $("xshard-meta").textContent = "shard " + node.shard + " of " + node.shardCount + " · " + interval + " anchors per epoch";
  try {
    const info = await rpc("shard_info", {});
    $("xshard-info").innerHTML = kv(scalars(info));
    const rows = [];
    for (const e of epochs) {
      const res = await rpc("shard_exports", { epoch: e.toString() });
      const leaves = (res && res.exports) || [];
      for (const l of leaves.slice(0, ${explorerShardExportRows})) rows.push([esc(e.toString()), esc(String(l.exportId || "").slice(0, 16)) + "…", esc(l.destShard), esc(units(l.amountUnits || 0)),
        '<span class="state-' + esc(l.state) + '">' + esc(l.state) + '</span>']);
      if (leaves.length > ${explorerShardExportRows}) rows.push([esc(e.toString()), '<span class="muted">' + esc(leaves.length - ${explorerShardExportRows}) + " more</span>", "", "", ""]);
    }
    $("xshard-exports").innerHTML = '<h4>Exports of epochs ' + epochs.map(String).join(", ") + '</h4>' + grid(["epoch", "export id", "to shard", "amount (PC)", "state"], rows, "no export in these epochs");
  } catch (e) {
    $("xshard-info").innerHTML = e.code === "METHOD_NOT_FOUND" ? '<span class="muted">this node does not support cross-shard status</span>' : '<span class="err">' + esc(e.message) + '</span>';
    $("xshard-exports").innerHTML = "";
  }
}
`;
