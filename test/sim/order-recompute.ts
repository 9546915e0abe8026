/**
 * An independent recomputation of the total order from a headers file, written from
 * docs/SPEC_CONSENSUS.md §4–§12 alone (no import from src/consensus): ancestry as explicit
 * sets, the definitions applied literally. Slow (quadratic) and meant for small simulated
 * DAGs, to check the simulator's `--order_out` file against something other than the engine.
 * Everything is kept (no pruning), which §12 says changes no order.
 */
import type { SignedEvent } from "../../src/types/event.ts";

export interface RecomputeParams {
  stakes: number[];
  coinRoundInterval: number;
  horizonRounds: number;
  ancientRounds: number;
}

export interface RecomputedEvent {
  id: string;
  roundReceived: number;
  medianLamport: number;
  lamport: number;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

interface Node {
  id: string;
  ev: SignedEvent;
  creator: number;
  seq: number;
  lamport: number;
  inPlay: string[];
  selfParent: string | undefined;
  anc: Set<string>;
  forks: Set<number>;
  round: number;
  witness: boolean;
  strong: string[]; // S(w)
}

/** The order of every event the DAG finalizes (all decided rounds), by the spec's rules. */
export function recomputeOrder(events: readonly SignedEvent[], p: RecomputeParams): RecomputedEvent[] {
  const k = p.stakes.length;
  const total = p.stakes.reduce((a, b) => a + b, 0);
  const q = Math.floor((2 * total) / 3) + 1;
  const nodes = new Map<string, Node>();
  const stakeOf = (creators: Iterable<number>): number => {
    let s = 0;
    for (const c of new Set(creators)) s += p.stakes[c]!;
    return s;
  };
  const sees = (x: Node, w: Node): boolean => x.anc.has(w.id) && !x.forks.has(w.creator);
  const stronglySees = (x: Node, w: Node): boolean => {
    if (!sees(x, w)) return false;
    const cs: number[] = [];
    for (let c = 0; c < k; c++) {
      if (x.forks.has(c)) continue;
      // c ∉ forks(x): its events in anc(x) are one chain; the top descends from w iff any does.
      for (const a of x.anc) {
        const n = nodes.get(a)!;
        if (n.creator === c && n.anc.has(w.id)) {
          cs.push(c);
          break;
        }
      }
    }
    return stakeOf(cs) >= q;
  };
  const witnessesOf = new Map<number, Node[]>();

  // §2, §4–§6: in-play parents, ancestry, forks, rounds, witnesses, S(w). Input is parents-first.
  for (const e of events) {
    const h = e.header;
    const maxClaim = h.parentRounds.reduce((m, r) => Math.max(m, r), -1);
    const inPlay = h.parents.map(hex).filter((_, i) => h.parentRounds[i]! + p.ancientRounds >= maxClaim);
    for (const pid of inPlay) if (!nodes.has(pid)) throw new Error(`recompute: parent ${pid} of ${hex(e.id)} not earlier in the file`);
    const id = hex(e.id);
    const sp = h.seq >= 1 && inPlay.includes(hex(h.parents[0]!)) ? hex(h.parents[0]!) : undefined;
    const anc = new Set<string>([id]);
    for (const pid of inPlay) for (const a of nodes.get(pid)!.anc) anc.add(a);
    const forks = new Set<number>();
    const slots = new Map<string, string>();
    for (const a of anc) {
      const n = a === id ? { creator: h.creator, seq: h.seq } : nodes.get(a)!;
      const key = `${n.creator}/${n.seq}`;
      if (slots.has(key)) forks.add(n.creator);
      slots.set(key, a);
    }
    const x: Node = { id, ev: e, creator: h.creator, seq: h.seq, lamport: h.lamport, inPlay, selfParent: sp, anc, forks, round: 0, witness: true, strong: [] };
    nodes.set(id, x);
    if (inPlay.length > 0) {
      const r = Math.max(...inPlay.map((pid) => nodes.get(pid)!.round));
      const seen = (witnessesOf.get(r) ?? []).filter((w) => stronglySees(x, w));
      x.round = stakeOf(seen.map((w) => w.creator)) >= q ? r + 1 : r;
      x.strong = (x.round === r + 1 ? seen : (witnessesOf.get(x.round - 1) ?? []).filter((w) => stronglySees(x, w))).map((w) => w.id);
    }
    x.witness = sp === undefined || nodes.get(sp)!.round < x.round;
    if (x.witness) {
      const list = witnessesOf.get(x.round) ?? [];
      list.push(x);
      witnessesOf.set(x.round, list);
    }
  }
  const byCreatorId = (a: Node, b: Node): number => a.creator - b.creator || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

  // §7: votes, cached per (voter, target); fame = the first decision, voters round by round.
  const votes = new Map<string, number>();
  const vote = (w: Node, y: Node): { vote: number; decision: number } => {
    const d = w.round - y.round;
    if (d === 1) return { vote: sees(w, y) ? 1 : 0, decision: -1 };
    // One voter per creator in S(w): the lowest id.
    const byCreator = new Map<number, string>();
    for (const u of w.strong) {
      const c = nodes.get(u)!.creator;
      const cur = byCreator.get(c);
      if (cur === undefined || u < cur) byCreator.set(c, u);
    }
    let yes = 0;
    let no = 0;
    for (const [c, u] of byCreator) {
      const v = votes.get(`${u}|${y.id}`);
      if (v === undefined) throw new Error("recompute: vote of a lower round missing");
      if (v === 1) yes += p.stakes[c]!;
      else no += p.stakes[c]!;
    }
    if (d >= 3 && d % p.coinRoundInterval === 0) {
      const coin = (w.ev.signature[32]! & 1) === 1 ? 1 : 0;
      return { vote: yes >= q ? 1 : no >= q ? 0 : coin, decision: -1 };
    }
    return { vote: yes >= no ? 1 : 0, decision: yes >= q ? 1 : no >= q ? 0 : -1 };
  };
  const maxRound = Math.max(...witnessesOf.keys());
  const fame = new Map<string, number>();
  const decide = (y: Node): number => {
    for (let r = y.round + 1; r <= maxRound; r++) {
      let decided = -1;
      for (const w of [...(witnessesOf.get(r) ?? [])].sort(byCreatorId)) {
        const v = vote(w, y);
        votes.set(`${w.id}|${y.id}`, v.vote);
        if (decided < 0 && v.decision >= 0) decided = v.decision;
      }
      if (decided >= 0) return decided;
    }
    return -1;
  };

  // §8, §10: decided rounds in order, judges, round received, consensus time, stale events.
  const out: (RecomputedEvent & { idBytes: string })[] = [];
  const ordered = new Set<string>();
  for (let r = 0; r <= maxRound; r++) {
    const ws = [...(witnessesOf.get(r) ?? [])].sort(byCreatorId);
    for (const y of ws) if (!fame.has(y.id)) fame.set(y.id, decide(y));
    if (ws.some((y) => fame.get(y.id)! < 0)) break; // round r undecided: nothing further is final
    const famous = ws.filter((y) => fame.get(y.id) === 1);
    const judges = famous.filter((j) => famous.filter((o) => o.creator === j.creator).length === 1);
    if (judges.length === 0) continue;
    const received: RecomputedEvent[] = [];
    for (const x of nodes.values()) {
      if (ordered.has(x.id) || !judges.every((j) => j.anc.has(x.id))) continue;
      ordered.add(x.id);
      if (x.round + p.horizonRounds < r) continue; // stale: never ordered
      const lamports = judges.map((j) => {
        let s = j;
        while (s.selfParent !== undefined && nodes.get(s.selfParent)!.anc.has(x.id)) s = nodes.get(s.selfParent)!;
        return s.lamport;
      }).sort((a, b) => a - b);
      received.push({ id: x.id, roundReceived: r, medianLamport: lamports[(lamports.length - 1) >> 1]!, lamport: x.lamport });
    }
    received.sort((a, b) => a.medianLamport - b.medianLamport || a.lamport - b.lamport || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const e of received) out.push({ ...e, idBytes: e.id });
  }
  return out.map(({ id, roundReceived, medianLamport, lamport }) => ({ id, roundReceived, medianLamport, lamport }));
}
