/**
 * A small DAG description language for hand-made consensus cases.
 *
 *   # comment
 *   a0 ; b0 ; c0 ; d0                      <- one line per round, events separated by ";"
 *   a1 <- a0 b0 c0 ; b1 <- b0 a0 c0        <- "event <- parents" (self-parent first)
 *   d1' <- d0 a1                           <- a trailing ' makes a second event with the same
 *                                             seq: a fork (each ' is a distinct twin)
 *
 * The letter is the creator (a = 0, b = 1, ...), the number is the seq. Lamport values are
 * derived; payload digests come from the name, so every name is a distinct event.
 */
import { buildEventHeader } from "../../src/consensus/header.ts";
import { signEvent, type SignedEvent } from "../../src/types/event.ts";
import type { TestCommittee } from "./helpers.ts";
import { digest, RoundOracle } from "./helpers.ts";

export interface Picture {
  /** Events in the order written (a topological order). */
  events: SignedEvent[];
  byName: Map<string, SignedEvent>;
  name(e: SignedEvent): string;
}

const NAME = /^([a-z])(\d+)('*)$/;

export function parsePicture(text: string, tc: TestCommittee, opts: { lamportOverride?: Map<string, number> } = {}): Picture {
  const byName = new Map<string, SignedEvent>();
  const names = new Map<string, string>();
  const events: SignedEvent[] = [];
  const rounds = new RoundOracle(tc.config);
  for (const rawLine of text.split("\n")) {
    const line = rawLine.replace(/#.*$/, "").trim();
    if (line === "") continue;
    for (const part of line.split(";")) {
      const [lhs, rhs] = part.split("<-").map((s) => s.trim());
      const m = NAME.exec(lhs ?? "");
      if (m === null) throw new Error(`bad event name "${lhs}"`);
      if (byName.has(lhs!)) throw new Error(`event ${lhs} defined twice`);
      const creator = m[1]!.charCodeAt(0) - 97;
      const parentNames = rhs === undefined || rhs === "" ? [] : rhs.split(/\s+/);
      const parents = parentNames.map((p) => {
        const e = byName.get(p);
        if (e === undefined) throw new Error(`${lhs}: unknown parent ${p} (define parents first)`);
        return rounds.ref(e);
      });
      const header = buildEventHeader({
        shard: 0, creator, seq: Number(m[2]), parents, payloadDigest: digest(`picture ${lhs}`),
        ...(opts.lamportOverride?.has(lhs!) ? { lamport: opts.lamportOverride.get(lhs!)! } : {}),
      });
      const e = signEvent(header, tc.keys[creator]!.secretKey);
      rounds.add(e);
      byName.set(lhs!, e);
      names.set(Buffer.from(e.id).toString("hex"), lhs!);
      events.push(e);
    }
  }
  return { events, byName, name: (e) => names.get(Buffer.from(e.id).toString("hex")) ?? "?" };
}

/** A full-mesh layer: every creator's next event sees every event of the previous layer. */
export function meshLayers(creators: string, layers: number, from = 0): string {
  const lines: string[] = [];
  for (let s = from; s < from + layers; s++) {
    const parts = [...creators].map((c) => {
      if (s === 0) return `${c}0`;
      const others = [...creators].filter((o) => o !== c).slice(0, 3).map((o) => `${o}${s - 1}`);
      return `${c}${s} <- ${c}${s - 1} ${others.join(" ")}`;
    });
    lines.push(parts.join(" ; "));
  }
  return lines.join("\n");
}
