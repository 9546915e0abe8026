/**
 * The wallet's journal of the transactions it submitted: one JSON line per accepted
 * tx (txid, spent outpoints with amounts and addresses, outputs, fee), appended by
 * `send` and `broadcast` next to the wallet file. The node's RPC lists only unspent
 * outputs by address, so the journal is what remembers outputs this wallet spent;
 * `wallet history` joins it with address_get, chain_lookup and tx_status. It holds no
 * secret (mode 0600 anyway: it tells what the wallet owns).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { toHex } from "../crypto/bytes.ts";
import { encodeAddress } from "./address.ts";
import { lockAddress } from "./lock-spec.ts";
import type { TxFile } from "./tx-file.ts";
import { PhantomError } from "../errors.ts";

/** A journal beyond this is not read whole (about 30,000 transactions). */
export const journalBytesMax = 32 * 1024 * 1024;

export interface JournalEntry {
  txid: string;
  inputs: { txid: string; index: number; amountUnits: string; address: string }[];
  outputs: { address: string; amountUnits: string }[];
  feeUnits: string;
}

export function journalEntry(f: TxFile): JournalEntry {
  return {
    txid: toHex(f.txid), feeUnits: f.fee.toString(),
    inputs: f.inputs.map((i) => ({ txid: toHex(i.outpoint.txid), index: i.outpoint.index, amountUnits: i.amount.toString(), address: lockAddress(i.lock) })),
    outputs: f.outputs.map((o) => ({ address: encodeAddress(o.lockCommitment), amountUnits: o.amount.toString() })),
  };
}

export function appendJournal(path: string, entry: JournalEntry): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  appendFileSync(path, JSON.stringify({ type: "sent", ...entry }) + "\n", { mode: 0o600 });
}

const digits = (v: unknown): boolean => typeof v === "string" && /^\d+$/.test(v);
const isEntry = (v: Record<string, unknown>): boolean =>
  v.type === "sent" && typeof v.txid === "string" && digits(v.feeUnits) && Array.isArray(v.inputs) && Array.isArray(v.outputs)
  && (v.inputs as Record<string, unknown>[]).every((i) => typeof i?.txid === "string" && Number.isSafeInteger(i.index) && digits(i.amountUnits) && typeof i.address === "string")
  && (v.outputs as Record<string, unknown>[]).every((o) => typeof o?.address === "string" && digits(o.amountUnits));

/** The journal's entries, oldest first; a missing journal is empty, a damaged line is a typed error. */
export function readJournal(path: string): JournalEntry[] {
  if (!existsSync(path)) return [];
  if (statSync(path).size > journalBytesMax) throw new PhantomError("WALLET_JOURNAL_INVALID", `${path} is larger than ${journalBytesMax} bytes`);
  const seen = new Set<string>();
  const out: JournalEntry[] = [];
  readFileSync(path, "utf8").split("\n").forEach((line, n) => {
    if (line.trim() === "") return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      v = null;
    }
    if (typeof v !== "object" || v === null || !isEntry(v as Record<string, unknown>)) throw new PhantomError("WALLET_JOURNAL_INVALID", `${path} line ${n + 1} is not a journal entry`);
    const e = v as JournalEntry;
    if (seen.has(e.txid)) return; // a re-broadcast appends the same tx again
    seen.add(e.txid);
    out.push({ txid: e.txid, inputs: e.inputs, outputs: e.outputs, feeUnits: e.feeUnits });
  });
  return out;
}
