/**
 * Relays chosen metric families of other processes' /metrics endpoints: what
 * `P2pMetricsServe --sources` serves next to its own process metrics. Each relayed
 * sample gets a `source` label (the endpoint's host:port) so nodes never collide.
 */
import { Counter, type Registry } from "prom-client";

/** Families relayed by default: the P2P and QUIC transport metrics. */
export const RELAYED_PREFIXES_DEFAULT = ["pc_p2p_", "pc_quic_"] as const;
export const RELAY_FETCH_TIMEOUT_MS = 2_000;

/** Keeps the families whose name starts with one of `prefixes`, labelling each sample `source`. */
export function relayFamilies(text: string, source: string, prefixes: readonly string[]): { meta: Map<string, string[]>; samples: string[] } {
  const meta = new Map<string, string[]>();
  const samples: string[] = [];
  const wanted = (name: string) => prefixes.some((p) => name.startsWith(p));
  const label = `source="${source.replace(/["\\\n]/g, "_")}"`;
  for (const line of text.split("\n")) {
    const m = /^# (HELP|TYPE) (\S+)/.exec(line);
    if (m) {
      if (wanted(m[2]!)) meta.set(m[2]!, [...(meta.get(m[2]!) ?? []), line]);
      continue;
    }
    if (!line || line.startsWith("#")) continue;
    const s = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?(\s.*)$/.exec(line);
    if (!s || !wanted(s[1]!)) continue;
    const labels = s[2] && s[2] !== "{}" ? `{${label},${s[2].slice(1)}` : `{${label}}`;
    samples.push(`${s[1]}${labels}${s[3]}`);
  }
  return { meta, samples };
}

/** Groups samples under their family's HELP/TYPE (one per family), as the exposition format wants. */
function familyOf(sample: string, families: Iterable<string>): string | null {
  const name = /^[^{\s]+/.exec(sample)![0];
  let best: string | null = null;
  for (const f of families) if ((name === f || name.startsWith(`${f}_`)) && (best === null || f.length > best.length)) best = f;
  return best;
}

export interface MetricsRelay {
  /** Exposition text of every source's relayed families (sources that fail are counted and skipped). */
  text(): Promise<string>;
}

export function metricsRelay(sources: readonly string[], registry: Registry, prefixes: readonly string[] = RELAYED_PREFIXES_DEFAULT): MetricsRelay {
  const failures = new Counter({ name: "pc_metrics_relay_failures_total", help: "Scrapes of a relayed /metrics endpoint that failed, by source", labelNames: ["source"] as const, registers: [registry] });
  return {
    async text() {
      const results = await Promise.all(sources.map(async (url) => {
        const source = new URL(url).host;
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(RELAY_FETCH_TIMEOUT_MS) });
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
          return relayFamilies(await res.text(), source, prefixes);
        } catch {
          failures.inc({ source });
          return null;
        }
      }));
      const meta = new Map<string, string[]>();
      const byFamily = new Map<string, string[]>();
      for (const r of results) {
        if (!r) continue;
        for (const [f, lines] of r.meta) if (!meta.has(f)) meta.set(f, lines);
        for (const s of r.samples) {
          const f = familyOf(s, meta.keys()) ?? "";
          byFamily.set(f, [...(byFamily.get(f) ?? []), s]);
        }
      }
      const out: string[] = [];
      for (const [f, samples] of byFamily) out.push(...(meta.get(f) ?? []), ...samples);
      return out.length ? out.join("\n") + "\n" : "";
    },
  };
}
