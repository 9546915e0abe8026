/**
 * The explorer's charts over time (browser JavaScript, embedded in the page): finalized
 * transactions per second, finality latency, mempool size and peers, drawn as plain SVG
 * line charts from the node's sampled series (/api/series). No chart library.
 */

export const explorerChartsStyle = `
 #charts{display:grid;grid-template-columns:1fr;gap:10px}
 figure.chart{margin:0;background:#171c25;border:1px solid #2a3140;border-radius:6px;padding:8px 10px 4px}
 figure.chart figcaption{display:flex;justify-content:space-between;font-size:12px;color:#8b96a8} figure.chart figcaption b{color:#fff;font-size:14px;font-variant-numeric:tabular-nums}
 figure.chart svg{display:block} .axis{font:10px ui-monospace,monospace;fill:#6b778c} .grid{stroke:#232a36}
 .line{fill:none;stroke-width:1.6} .line.a{stroke:#4d7cfe} .line.b{stroke:#e0a84e;stroke-dasharray:4 2} .area{fill:#4d7cfe;opacity:.12}
`;

/** Each chart: key, title, unit, the series it plots (a: main line, b: optional second line). */
export const explorerCharts = [
  { key: "tps", title: "finalized tx/s", unit: "tx/s", a: "tps" },
  { key: "latency", title: "finality latency p50 / max", unit: "ms", a: "latencyP50Ms", b: "latencyMaxMs" },
  { key: "mempool", title: "mempool", unit: "txs", a: "mempool" },
  { key: "peers", title: "peers", unit: "", a: "peers" },
] as const;

export const explorerChartsScript = String.raw`
const CHARTS = ` + JSON.stringify(explorerCharts) + String.raw`;
function fmtNum(v) { return v === null || v === undefined ? "—" : Math.abs(v) >= 100 ? String(Math.round(v)) : String(Math.round(v * 100) / 100); }
function drawCharts(s, box) {
  const pts = s.points, W = Math.max(240, (box.clientWidth || 420) - 22), H = 86, L = 34, B = 14;
  box.innerHTML = CHARTS.map((c) => {
    const last = pts.length ? pts[pts.length - 1] : null;
    const vals = pts.map((p) => p[c.a]).concat(c.b ? pts.map((p) => p[c.b]) : []).filter((v) => v !== null);
    const max = Math.max(1, ...vals), t0 = pts.length ? pts[0].atMs : 0, t1 = pts.length ? pts[pts.length - 1].atMs : 1, span = Math.max(1, t1 - t0);
    const xy = (p, key) => p[key] === null ? null : [(L + (W - L - 4) * (p.atMs - t0) / span).toFixed(1), (4 + (H - B - 4) * (1 - p[key] / max)).toFixed(1)];
    const path = (key) => { let d = "", pen = false; for (const p of pts) { const q = xy(p, key); if (!q) { pen = false; continue; } d += (pen ? "L" : "M") + q[0] + " " + q[1]; pen = true; } return d; };
    let body = '<line class="grid" x1="' + L + '" y1="4" x2="' + W + '" y2="4"/><line class="grid" x1="' + L + '" y1="' + (H - B) + '" x2="' + W + '" y2="' + (H - B) + '"/>' +
      '<text class="axis" x="' + (L - 4) + '" y="10" text-anchor="end">' + esc(fmtNum(max)) + '</text><text class="axis" x="' + (L - 4) + '" y="' + (H - B) + '" text-anchor="end">0</text>';
    if (pts.length >= 2) {
      const a = path(c.a);
      if (!c.b && a) body += '<path class="area" d="' + a + "L" + (W - 4) + " " + (H - B) + "L" + L + " " + (H - B) + 'Z"/>';
      body += '<path class="line a" d="' + a + '"/>' + (c.b ? '<path class="line b" d="' + path(c.b) + '"/>' : "") +
        '<text class="axis" x="' + L + '" y="' + (H - 2) + '">-' + esc(Math.round(span / 1000)) + ' s</text><text class="axis" x="' + W + '" y="' + (H - 2) + '" text-anchor="end">now</text>';
    } else body += '<text class="axis" x="' + ((W + L) / 2) + '" y="' + (H / 2) + '" text-anchor="middle">collecting: one sample every ' + esc(s.intervalMs / 1000) + ' s</text>';
    const shown = last === null ? "—" : fmtNum(last[c.a]) + (c.b ? " / " + fmtNum(last[c.b]) : "") + (c.unit ? " " + c.unit : "");
    return '<figure class="chart" data-key="' + c.key + '" data-points="' + pts.length + '"><figcaption><span>' + esc(c.title) + '</span><b>' + esc(shown) + '</b></figcaption>' +
      '<svg width="' + W + '" height="' + H + '">' + body + '</svg></figure>';
  }).join("");
}
`;
