// Random Lock trees with real keys: what the builder signs always validates, and each
// kind of tampering gives its own code (docs/SPEC_TX.md §3).
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { validateMicroTxBatch, type ValidationContext } from "../../src/ledger/validate.ts";
import {
  buildMicroTx, payTo, sigLock, multisigLock, hashLock, afterLock, andLock, orLock,
  sigSolution, multisigSolution, hashSolution, afterSolution, andSolution, orSolution, autoSolve, buildMicroTx as build, type Solution,
} from "../../src/wallet/tx-builder.ts";
import { decodeMicroTx, encodeMicroTx, type MicroTx } from "../../src/types/tx.ts";
import { lockCommitment, type Lock, type Witness } from "../../src/types/lock.ts";
import { equalBytes } from "../../src/crypto/bytes.ts";
import { key, outpoint, MapUtxoView } from "./validate-fixtures.ts";

const KEYS = [0, 1, 2, 3].map((i) => key(50 + i));
const ANCHOR = 20n;
const CTX: ValidationContext = { anchorIndex: ANCHOR, maturityAnchors: 0n };

interface Spend {
  lock: Lock;
  solution: Solution;
  /** Largest After(n) on the satisfied path (0 when none). */
  afterMax: bigint;
}

const leafArb: fc.Arbitrary<Spend> = fc.oneof(
  fc.nat(3).map((k) => ({ lock: sigLock(KEYS[k]!.publicKey), solution: sigSolution(KEYS[k]!), afterMax: 0n })),
  fc.record({ keys: fc.uniqueArray(fc.nat(3), { minLength: 1, maxLength: 4 }), m: fc.nat(3), extra: fc.boolean() }).map(({ keys, m, extra }) => {
    const need = Math.min(keys.length, m + 1);
    const count = extra ? keys.length : need;
    const signers = Array.from({ length: count }, (_, i) => ({ index: i, keyPair: KEYS[keys[i]!]! }));
    return { lock: multisigLock(need, keys.map((k) => KEYS[k]!.publicKey)), solution: multisigSolution(signers), afterMax: 0n };
  }),
  fc.uint8Array({ maxLength: 64 }).map((p) => ({ lock: hashLock(p), solution: hashSolution(p), afterMax: 0n })),
  fc.bigInt({ min: 0n, max: ANCHOR }).map((n) => ({ lock: afterLock(n), solution: afterSolution(), afterMax: n })),
);

const spendArb: fc.Arbitrary<Spend> = fc.letrec<{ spend: Spend }>((tie) => ({
  spend: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leafArb,
    fc.tuple(tie("spend"), tie("spend")).map(([l, r]) => ({ lock: andLock(l.lock, r.lock), solution: andSolution(l.solution, r.solution), afterMax: l.afterMax > r.afterMax ? l.afterMax : r.afterMax })),
    fc.tuple(tie("spend"), leafArb, fc.boolean()).map(([taken, other, right]) => {
      const lock = right ? orLock(other.lock, taken.lock) : orLock(taken.lock, other.lock);
      return { lock, solution: orSolution(right ? 1 : 0, taken.solution), afterMax: taken.afterMax };
    }),
  ),
})).spend.filter((s) => nodes(s.lock) <= 32 && depth(s.lock) <= 8);

function nodes(l: Lock): number {
  return l.kind === "and" || l.kind === "or" ? 1 + nodes(l.left) + nodes(l.right) : 1;
}
function depth(l: Lock): number {
  return l.kind === "and" || l.kind === "or" ? 1 + Math.max(depth(l.left), depth(l.right)) : 1;
}

function spendTx(s: Spend): { view: MapUtxoView; tx: MicroTx } {
  const view = new MapUtxoView();
  const op = view.add(outpoint(7), s.lock, 100_000n);
  return { view, tx: buildMicroTx({ inputs: [{ outpoint: op, lock: s.lock, solution: s.solution }], outputs: [payTo(sigLock(KEYS[0]!.publicKey), 90_000n)] }) };
}

const verdict = (view: MapUtxoView, tx: MicroTx, ctx = CTX) => {
  const [r] = validateMicroTxBatch(view, [tx], ctx);
  return r!.ok ? "ok" : r!.error.code;
};

/** The first signature on the satisfied path of a witness, to tamper with. */
function firstSignature(w: Witness): Uint8Array | undefined {
  switch (w.kind) {
    case "sig":
      return w.signature;
    case "multisig":
      return w.signatures[0]?.signature;
    case "and":
      return firstSignature(w.left) ?? firstSignature(w.right);
    case "or":
      return firstSignature(w.witness);
    default:
      return undefined;
  }
}

function firstPreimage(w: Witness): Uint8Array | undefined {
  switch (w.kind) {
    case "hashlock":
      return w.preimage;
    case "and":
      return firstPreimage(w.left) ?? firstPreimage(w.right);
    case "or":
      return firstPreimage(w.witness);
    default:
      return undefined;
  }
}

describe("predicate properties", () => {
  test("what the builder signs validates, with the exact fee, before and after an encode/decode round trip", () => {
    const kinds = new Set<string>();
    const collect = (l: Lock): void => {
      kinds.add(l.kind);
      if (l.kind === "and" || l.kind === "or") [l.left, l.right].forEach(collect);
    };
    fc.assert(fc.property(spendArb, (s) => {
      collect(s.lock);
      const { view, tx } = spendTx(s);
      const [r] = validateMicroTxBatch(view, [tx], CTX);
      expect(r).toEqual({ ok: true, fee: 10_000n });
      expect(verdict(view, decodeMicroTx(encodeMicroTx(tx)))).toBe("ok");
    }), { numRuns: 150 });
    // The generator reaches every predicate kind.
    expect([...kinds].sort()).toEqual(["after", "and", "hashlock", "multisig", "or", "sig"]);
  });

  test("one flipped signature bit is TX_BAD_SIGNATURE; an early anchor is TX_TIMELOCK; a wrong preimage is TX_HASHLOCK_MISMATCH", () => {
    fc.assert(fc.property(spendArb, fc.nat(63), fc.nat(7), (s, byte, bit) => {
      const { view, tx } = spendTx(s);
      const sig = firstSignature(tx.witnesses[0]!.witness);
      if (sig !== undefined) {
        const bad = structuredClone(tx);
        firstSignature(bad.witnesses[0]!.witness)![byte]! ^= 1 << bit;
        expect(verdict(view, bad)).toBe("TX_BAD_SIGNATURE");
      }
      if (s.afterMax > 0n) expect(verdict(view, tx, { ...CTX, anchorIndex: s.afterMax - 1n })).toBe("TX_TIMELOCK");
      const pre = firstPreimage(tx.witnesses[0]!.witness);
      if (pre !== undefined) {
        const bad = structuredClone(tx);
        const p = firstPreimage(bad.witnesses[0]!.witness)!;
        const replaced = Uint8Array.of(...p, 1);
        // Swap the preimage for a longer one (a different preimage, same tree).
        const swap = (w: Witness): Witness =>
          w.kind === "hashlock" && w.preimage === p ? { kind: "hashlock", preimage: replaced }
            : w.kind === "and" ? { kind: "and", left: swap(w.left), right: swap(w.right) }
              : w.kind === "or" ? { kind: "or", branch: w.branch, witness: swap(w.witness) } : w;
        bad.witnesses[0] = { lock: bad.witnesses[0]!.lock, witness: swap(bad.witnesses[0]!.witness) };
        expect(verdict(view, bad)).toBe("TX_HASHLOCK_MISMATCH");
      }
    }), { numRuns: 150 });
  });

  test("autoSolve with every key and preimage finds a valid spend; without keys, none for a signature-only lock", () => {
    const preimages: Uint8Array[] = [];
    const collect = (sol: Solution): void => {
      if (sol.kind === "hashlock") preimages.push(sol.preimage);
      if (sol.kind === "and") [sol.left, sol.right].forEach(collect);
      if (sol.kind === "or") collect(sol.solution);
    };
    fc.assert(fc.property(spendArb, (s) => {
      collect(s.solution);
      const solution = autoSolve(s.lock, { keyPairs: KEYS, preimages, anchorIndex: ANCHOR });
      expect(solution).toBeDefined();
      const { view } = spendTx(s);
      const tx = build({ inputs: [{ outpoint: outpoint(7), lock: s.lock, solution: solution! }], outputs: [payTo(sigLock(KEYS[0]!.publicKey), 90_000n)] });
      expect(verdict(view, tx)).toBe("ok");
    }), { numRuns: 100 });
    expect(autoSolve(multisigLock(2, [KEYS[0]!.publicKey, KEYS[1]!.publicKey]), { keyPairs: [KEYS[1]!], anchorIndex: 0n })).toBeUndefined();
    expect(autoSolve(orLock(afterLock(5n), sigLock(KEYS[2]!.publicKey)), { keyPairs: [], anchorIndex: 4n })).toBeUndefined();
    expect(autoSolve(orLock(afterLock(5n), sigLock(KEYS[2]!.publicKey)), { keyPairs: [KEYS[2]!], anchorIndex: 4n })?.kind).toBe("or");
  });

  test("revealing any other lock than the committed one is TX_LOCK_MISMATCH", () => {
    fc.assert(fc.property(spendArb, spendArb, (s, t) => {
      fc.pre(!equalBytes(lockCommitment(s.lock), lockCommitment(t.lock)));
      const { view, tx } = spendTx(s);
      expect(verdict(view, { ...tx, witnesses: spendTx(t).tx.witnesses })).toBe("TX_LOCK_MISMATCH");
    }), { numRuns: 100 });
  });
});
