/**
 * A deliberately naive, independent implementation of the proposer policy
 * (docs/SPEC_TX.md "Proposer policy"), written straight from the rules with
 * quadratic loops; the real `buildPayload` must pick exactly the same txs in the
 * same order.
 */
import { payloadBytesFor, type ProposerCandidate } from "../../src/mempool/proposer.ts";

const before = (a: ProposerCandidate, b: ProposerCandidate) => a.encodedBytes < b.encodedBytes || (a.encodedBytes === b.encodedBytes && a.seq < b.seq);

export function referencePicks(candidates: readonly ProposerCandidate[], txsMax: number, budgetBytes: number, pendingTxids: ReadonlySet<string>, pendingInputs: ReadonlySet<string>): ProposerCandidate[] {
  const groups = new Map<string, ProposerCandidate[]>();
  for (const c of candidates) groups.set(c.group, [...(groups.get(c.group) ?? []), c]);
  const used = new Set<string>();
  const picked = new Set<ProposerCandidate>();
  const picks: ProposerCandidate[] = [];
  let txBytes = 0;
  const eligible = (c: ProposerCandidate) => !picked.has(c) && !pendingTxids.has(c.txidHex) && c.inputKeys.every((k) => !used.has(k) && !pendingInputs.has(k));
  const headOf = (g: string) => groups.get(g)!.filter(eligible).sort((a, b) => (before(a, b) ? -1 : 1))[0];
  let active = [...groups.keys()];
  while (active.length > 0 && picks.length < txsMax) {
    const served: string[] = [];
    let remaining = [...active];
    while (remaining.length > 0 && picks.length < txsMax) {
      remaining = remaining.filter((g) => headOf(g) !== undefined);
      if (remaining.length === 0) break;
      const g = remaining.reduce((best, x) => (before(headOf(x)!, headOf(best)!) ? x : best));
      const head = headOf(g)!;
      remaining = remaining.filter((x) => x !== g);
      if (payloadBytesFor(picks.length + 1, txBytes + head.encodedBytes) > budgetBytes) continue;
      picks.push(head);
      picked.add(head);
      txBytes += head.encodedBytes;
      for (const k of head.inputKeys) used.add(k);
      served.push(g);
    }
    active = served;
  }
  return picks;
}
