// Lock text and the offline tx file, in process: parsing and printing locks, partial
// signing by several signers, witness assembly judged by the ledger's own predicate
// checks, and a file that lies about its txid, fee or signatures.
import { describe, expect, test } from "bun:test";
import { formatLockSpec, lockAddress, parseLockSpec, LockSpecError } from "../../src/wallet/lock-spec.ts";
import { finishTx, incompleteInputs, newTxFile, parseTxFile, signTxFile, txFileToJson, TxFileError } from "../../src/wallet/tx-file.ts";
import { accountFromSeed } from "../../src/wallet/keys.ts";
import { lockCommitment, type Lock } from "../../src/types/lock.ts";
import { checkPredicateShape, collectPredicate, type SigCheck } from "../../src/ledger/predicates.ts";
import { verify } from "../../src/crypto/ed25519.ts";
import { blake3_32 } from "../../src/crypto/hash.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { digestMicroTx, type MicroTx } from "../../src/types/tx.ts";
import { thrownCode } from "../thrown-code.ts";

const [a, b, c] = [1, 2, 3].map((i) => accountFromSeed(new Uint8Array(32).fill(i)));
const pk = (x: typeof a) => toHex(x!.keyPair.publicKey);
const secret = new TextEncoder().encode("open sesame");

/** Judges a tx's witnesses as the ledger does (shape, timelocks at `anchorIndex`, every signature). */
function ledgerAccepts(tx: MicroTx, anchorIndex: bigint): string {
  const message = digestMicroTx(tx);
  const checks: SigCheck[] = [];
  try {
    tx.witnesses.forEach((w, i) => {
      checkPredicateShape(w.lock, w.witness, i);
      collectPredicate(w.lock, w.witness, { message, anchorIndex }, checks, i);
    });
  } catch (e) {
    return (e as { code: string }).code;
  }
  return checks.every((s) => verify(s.signature, s.message, s.publicKey)) ? "ok" : "TX_BAD_SIGNATURE";
}

function fileFor(locks: Lock[]) {
  return newTxFile(
    locks.map((lock, i) => ({ outpoint: { txid: blake3_32(new Uint8Array([i])), index: i }, amount: 100_000n + BigInt(i), lock })),
    [{ amount: 90_000n, lockCommitment: a!.lockCommitment }],
  );
}

describe("lock text", () => {
  test("every Lock v0 kind parses, prints canonically and round-trips", () => {
    const texts = [
      `sig(${pk(a)})`,
      `multi(2,${pk(a)},${pk(b)},${pk(c)})`,
      `hash(${toHex(blake3_32(secret))})`,
      "after(18446744073709551615)",
      `or(and(hash(${toHex(blake3_32(secret))}),sig(${pk(b)})),and(after(900),sig(${pk(a)})))`,
    ];
    for (const t of texts) {
      const lock = parseLockSpec(t);
      expect(formatLockSpec(lock)).toBe(t);
      // Spaces and upper-case hex name the same lock.
      const loose = t.replace(/[0-9a-f]{64}/g, (h) => h.toUpperCase()).replace(/,/g, ", ");
      expect(lockAddress(parseLockSpec(` ${loose} `))).toBe(lockAddress(lock));
    }
    expect(formatLockSpec(a!.lock)).toBe(`sig(${pk(a)})`);
  });

  test("bad lock text is WALLET_BAD_LOCK", () => {
    const bad = ["", "sig()", "sig(00)", `multi(3,${pk(a)},${pk(b)})`, `multi(0,${pk(a)})`, "after(-1)", "after(18446744073709551616)", "xor(after(1),after(2))",
      "after(1))", "and(after(1))", `${"and(after(1),".repeat(40)}after(1)${")".repeat(40)}`, "x".repeat(9_000)];
    for (const t of bad) expect({ t: t.slice(0, 30), code: thrownCode(() => parseLockSpec(t), LockSpecError, "none") }).toEqual({ t: t.slice(0, 30), code: "WALLET_BAD_LOCK" });
  });
});

describe("tx file", () => {
  test("2-of-3 multisig: signers add signatures in turn through the JSON file; the ledger accepts the result", () => {
    const multi = parseLockSpec(`multi(2,${pk(a)},${pk(b)},${pk(c)})`);
    let text = txFileToJson(fileFor([multi]));
    let f = parseTxFile(text);
    expect(f.fee).toBe(10_000n);
    expect(signTxFile(f, [c!.keyPair], [])).toEqual({ signatures: 1, preimages: 0 });
    expect(incompleteInputs(f)).toEqual([0]);
    expect(thrownCode(() => finishTx(f, 0n), TxFileError, "none")).toBe("WALLET_TX_INCOMPLETE");
    text = txFileToJson(f);
    f = parseTxFile(text);
    expect(signTxFile(f, [c!.keyPair], [])).toEqual({ signatures: 0, preimages: 0 }); // already signed by c
    expect(signTxFile(f, [a!.keyPair], [])).toEqual({ signatures: 1, preimages: 0 });
    const tx = finishTx(parseTxFile(txFileToJson(f)), 0n);
    expect(tx.witnesses[0]!.witness).toMatchObject({ kind: "multisig", signatures: [{ index: 0 }, { index: 2 }] });
    expect(ledgerAccepts(tx, 0n)).toBe("ok");
  });

  test("hash lock, timelock and an HTLC: witnesses as the ledger wants them", () => {
    const digest = toHex(blake3_32(secret));
    const htlc = parseLockSpec(`or(and(hash(${digest}),sig(${pk(b)})),and(after(900),sig(${pk(a)})))`);
    const f = fileFor([parseLockSpec(`hash(${digest})`), parseLockSpec("after(50)"), htlc]);
    expect(signTxFile(f, [], [new TextEncoder().encode("wrong")])).toEqual({ signatures: 0, preimages: 0 });
    expect(incompleteInputs(f)).toEqual([0, 2]);
    // The refund branch: a alone, after anchor 900.
    signTxFile(f, [a!.keyPair], []);
    expect(incompleteInputs(f)).toEqual([0]);
    signTxFile(f, [], [secret]);
    expect(incompleteInputs(f)).toEqual([]);
    // Before 50 no branch of input 1 is open: built anyway, the ledger refuses it.
    expect(ledgerAccepts(finishTx(f, 10n), 10n)).toBe("TX_TIMELOCK");
    const at100 = finishTx(f, 100n);
    expect(ledgerAccepts(at100, 100n)).toBe("TX_TIMELOCK"); // HTLC refund (branch 1) not open before 900; b has not signed branch 0
    expect(ledgerAccepts(finishTx(f, 900n), 900n)).toBe("ok");
    signTxFile(f, [b!.keyPair], []);
    const claim = finishTx(f, 100n);
    expect(claim.witnesses[2]!.witness).toMatchObject({ kind: "or", branch: 0 });
    expect(ledgerAccepts(claim, 100n)).toBe("ok");
    expect(claim.witnesses.map((w) => toHex(lockCommitment(w.lock)))).toEqual(f.inputs.map((i) => toHex(lockCommitment(i.lock))));
  });

  test("a file that lies about its txid, fee or signatures is WALLET_TX_FILE_INVALID", () => {
    const f = fileFor([a!.lock]);
    signTxFile(f, [a!.keyPair], []);
    const good = JSON.parse(txFileToJson(f));
    const code = (edit: (v: typeof good) => void) => {
      const v = structuredClone(good);
      edit(v);
      return thrownCode(() => parseTxFile(JSON.stringify(v)), TxFileError, "none");
    };
    expect(code(() => {})).toBe("none");
    expect(code((v) => (v.outputs[0].amountUnits = "90001"))).toBe("WALLET_TX_FILE_INVALID"); // txid no longer matches
    expect(code((v) => (v.inputs[0].amountUnits = "100001"))).toBe("WALLET_TX_FILE_INVALID"); // fee no longer matches
    expect(code((v) => (v.feeUnits = "1"))).toBe("WALLET_TX_FILE_INVALID");
    expect(code((v) => (v.inputs[0].signatures[pk(a)] = "00".repeat(64)))).toBe("WALLET_TX_FILE_INVALID");
    expect(code((v) => (v.version = 2))).toBe("WALLET_TX_FILE_INVALID");
    expect(code((v) => (v.outputs[0].address = "pc1notanaddress"))).toBe("WALLET_TX_FILE_INVALID");
    expect(code((v) => (v.inputs[0].amountUnits = 5))).toBe("WALLET_TX_FILE_INVALID");
    expect(thrownCode(() => parseTxFile("{"), TxFileError, "none")).toBe("WALLET_TX_FILE_INVALID");
  });
});
