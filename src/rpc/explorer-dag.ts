/**
 * The explorer's live DAG picture (browser JavaScript, embedded in the page): one lane
 * per validator, rounds as horizontal bands (newest on top), witnesses ringed by fame,
 * finalized events filled and labelled with their anchor index, forks and evidence in
 * red. Drawn as SVG from /api/dag; every value from the API is escaped.
 */

/** Events the DAG view asks for by default (the page offers other sizes). */
export const explorerDagEvents = 96;

export const explorerDagStyle = `
 #dag-box{background:#131821;border:1px solid #2a3140;border-radius:6px;overflow:auto;max-height:660px}
 #dag-box svg{display:block} .lane-head{font:12px system-ui,sans-serif;fill:#8b96a8} .lane-head.me{fill:#dde3ea;font-weight:600} .lane-head.bad{fill:#ff8080}
 .band{fill:#171c25} .band.odd{fill:#141922} .rlabel{font:11px ui-monospace,monospace;fill:#8b96a8} .rlabel.open{fill:#e0a84e}
 .edge{stroke:#3a4456;stroke-width:1} .edge.self{stroke:#56627a;stroke-width:1.5} .edge.ancient{stroke:#ff8080;stroke-dasharray:3 3;opacity:.6}
 .ev{cursor:pointer} .ev circle.dot{fill:#6b778c} .ev.final circle.dot{fill:#3ecf8e} .ev.stale circle.dot{fill:#ff8080}
 .ev circle.ring{fill:none;stroke-width:2.5} .ev.famous circle.ring{stroke:#f5c542} .ev.not_famous circle.ring{stroke:#8b96a8}
 .ev.undecided circle.ring{stroke:#e0a84e;stroke-dasharray:3 2} .ev circle.forkmark{fill:none;stroke:#ff4d4d;stroke-width:2}
 .ev text{font:10px ui-monospace,monospace;fill:#3ecf8e} .ev:hover circle.dot{stroke:#fff;stroke-width:1.5}
 .legend{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12px;color:#8b96a8;margin:6px 0 8px} .legend svg{vertical-align:middle;margin-right:4px}
 #dag-evidence{font-size:12px;margin-top:6px} #dag-evidence .err{font-family:ui-monospace,monospace}
`;

export const explorerDagScript = String.raw`
const SVGNS = "http://www.w3.org/2000/svg";
function drawDag(d, box) {
  const k = d.k, laneW = Math.max(80, Math.min(170, Math.floor((box.clientWidth - 70) / Math.max(1, k)))), gutter = 62, head = 28, rowH = 26;
  const byRound = new Map();
  for (const e of d.events) { if (!byRound.has(e.round)) byRound.set(e.round, []); byRound.get(e.round).push(e); }
  const rounds = [...byRound.keys()].sort((a, b) => b - a);
  const pos = new Map(); let y = head; const bands = [];
  for (const r of rounds) {
    const evs = byRound.get(r), rows = new Map();
    for (const e of evs.sort((a, b) => b.seq - a.seq || (a.id < b.id ? -1 : 1))) {
      const row = rows.get(e.creator) || 0; rows.set(e.creator, row + 1);
      pos.set(e.id, { x: gutter + e.creator * laneW + laneW / 2 - 18, y: y + row * rowH + rowH / 2, e });
    }
    const h = Math.max(...rows.values()) * rowH; bands.push({ r, y, h }); y += h;
  }
  const W = gutter + k * laneW + 8, H = y + 8;
  const bad = new Set(d.forkedCreators.concat(d.evidence.map((x) => x.offender)));
  const out = ['<svg xmlns="' + SVGNS + '" width="' + W + '" height="' + H + '" id="dag-svg" data-events="' + d.events.length + '">'];
  bands.forEach((b, i) => {
    out.push('<rect class="band' + (i % 2 ? " odd" : "") + '" x="0" y="' + b.y + '" width="' + W + '" height="' + b.h + '"/>');
    out.push('<text class="rlabel' + (b.r > d.lastDecidedRound ? " open" : "") + '" x="6" y="' + (b.y + 16) + '">r' + esc(b.r) + '</text>');
  });
  for (let c = 0; c < k; c++) {
    const me = c === d.validator, forked = bad.has(c);
    out.push('<text class="lane-head' + (me ? " me" : "") + (forked ? " bad" : "") + '" x="' + (gutter + c * laneW + laneW / 2 - 18) + '" y="18" text-anchor="middle">v' + c + (me ? " (this node)" : "") + (forked ? " ⚠" : "") + '</text>');
  }
  for (const p of pos.values()) {
    p.e.parents.forEach((par, i) => {
      const q = pos.get(par.id); if (!q) return;
      const cls = !par.inPlay ? "edge ancient" : i === 0 && q.e.creator === p.e.creator ? "edge self" : "edge";
      out.push('<line class="' + cls + '" x1="' + p.x + '" y1="' + p.y + '" x2="' + q.x + '" y2="' + q.y + '"/>');
    });
  }
  for (const p of pos.values()) {
    const e = p.e, cls = ["ev"];
    if (e.anchorIndex !== null) cls.push("final"); else if (e.stale) cls.push("stale");
    if (e.witness) cls.push("witness", e.fame); if (e.fork) cls.push("fork");
    const tip = "event " + e.id + "\nvalidator " + e.creator + ", seq " + e.seq + ", round " + e.round + ", lamport " + e.lamport +
      (e.witness ? "\nwitness: " + e.fame.replace("_", " ") : "") + "\n" + (e.anchorIndex !== null ? "final: anchor " + e.anchorIndex : e.stale ? "stale (never ordered)" : "not final yet") + (e.fork ? "\nFORK: another event with this seq exists" : "");
    out.push('<g class="' + cls.join(" ") + '" data-id="' + esc(e.id) + '"' + (e.anchorIndex !== null ? ' data-anchor="' + esc(e.anchorIndex) + '"' : "") + '><title>' + esc(tip) + '</title>' +
      (e.fork ? '<circle class="forkmark" cx="' + p.x + '" cy="' + p.y + '" r="14"/>' : "") +
      (e.witness ? '<circle class="ring" cx="' + p.x + '" cy="' + p.y + '" r="10"/>' : "") +
      '<circle class="dot" cx="' + p.x + '" cy="' + p.y + '" r="' + (e.witness ? 6 : 5) + '"/>' +
      (e.anchorIndex !== null ? '<text x="' + (p.x + 13) + '" y="' + (p.y + 4) + '">#' + esc(e.anchorIndex) + '</text>' : "") + '</g>');
  }
  out.push("</svg>");
  box.innerHTML = out.join("");
  const ev = d.evidence.map((x) => '<div class="err">evidence: ' + esc(x.kind) + ' by validator ' + esc(x.offender) + ' recorded at anchor ' + link(x.anchorIndex) + ' (' + esc(x.id.slice(0, 16)) + '…)</div>');
  const forks = d.forkedCreators.length ? ['<div class="err">forks seen from validator ' + d.forkedCreators.map(esc).join(", ") + '</div>'] : [];
  $("dag-evidence").innerHTML = forks.concat(ev).join("") || '<span class="muted">no fork seen, no evidence recorded</span>';
  $("dag-meta").textContent = d.events.length + " newest events in memory · rounds " + (rounds.length ? rounds[rounds.length - 1] + "–" + rounds[0] : "—") + " · fame decided up to round " + d.lastDecidedRound;
}
`;

/** The legend and container markup of the DAG section. */
export const explorerDagHtml = `
<div class="legend">
 <span><svg width="14" height="14"><circle cx="7" cy="7" r="5" fill="#3ecf8e"/></svg>final (#anchor index)</span>
 <span><svg width="14" height="14"><circle cx="7" cy="7" r="5" fill="#6b778c"/></svg>not final yet</span>
 <span><svg width="22" height="22"><circle cx="11" cy="11" r="8" fill="none" stroke="#f5c542" stroke-width="2.5"/></svg>famous witness</span>
 <span><svg width="22" height="22"><circle cx="11" cy="11" r="8" fill="none" stroke="#8b96a8" stroke-width="2.5"/></svg>not famous</span>
 <span><svg width="22" height="22"><circle cx="11" cy="11" r="8" fill="none" stroke="#e0a84e" stroke-width="2.5" stroke-dasharray="3 2"/></svg>fame undecided</span>
 <span><svg width="22" height="22"><circle cx="11" cy="11" r="9" fill="none" stroke="#ff4d4d" stroke-width="2"/></svg>fork</span>
 <span><svg width="22" height="10"><line x1="0" y1="5" x2="22" y2="5" stroke="#ff8080" stroke-dasharray="3 3"/></svg>ancient parent (out of play)</span>
</div>
<div id="dag-box"></div>
<div id="dag-evidence"></div>`;
