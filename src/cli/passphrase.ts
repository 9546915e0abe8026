/**
 * Where a wallet passphrase comes from, in order: `--passphrase_file FILE` (its first
 * line), the environment variable PHANTOM_WALLET_PASSPHRASE, or a prompt on the
 * terminal (not echoed). Never a plain command-line argument: those show in `ps` and
 * shell history.
 */
import { readFileSync, statSync } from "node:fs";
import { PhantomError } from "../errors.ts";
import type { FlagSpec } from "./command.ts";

export const PASSPHRASE_ENV = "PHANTOM_WALLET_PASSPHRASE";
export const PASSPHRASE_FILE_FLAG: FlagSpec = { name: "passphrase_file", type: "string", help: `file whose first line is the wallet passphrase (else env ${PASSPHRASE_ENV}, else a prompt on the terminal)` };
/** A passphrase file is one line; a large file is a mistake. */
const passphraseFileBytesMax = 4_096;
/** Longest passphrase read from the terminal. */
const promptCharsMax = 1_024;

export type PassphraseErrorCode = "WALLET_NO_PASSPHRASE" | "WALLET_PASSPHRASE_MISMATCH";
export class PassphraseError extends PhantomError<PassphraseErrorCode> {}

function fromFile(path: string): string {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new PassphraseError("WALLET_NO_PASSPHRASE", `--passphrase_file ${path} cannot be read`);
  }
  if (size > passphraseFileBytesMax) throw new PassphraseError("WALLET_NO_PASSPHRASE", `--passphrase_file ${path} is ${size} bytes; it holds one line`);
  return readFileSync(path, "utf8").split(/\r?\n/)[0] ?? "";
}

/** Reads one line from the terminal with echo off. Ctrl-C or Ctrl-D abandons it. */
async function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  stdin.setRawMode(true); // echo off before the prompt invites typing
  stdin.resume();
  process.stderr.write(prompt);
  try {
    return await new Promise<string>((resolve, reject) => {
      let text = "";
      const onData = (chunk: Buffer) => {
        for (const ch of chunk.toString("utf8")) {
          if (ch === "\r" || ch === "\n") return done(() => resolve(text));
          if (ch === "\u0003" || ch === "\u0004") return done(() => reject(new PassphraseError("WALLET_NO_PASSPHRASE", "passphrase entry abandoned")));
          if (ch === "\u007f" || ch === "\b") text = [...text].slice(0, -1).join("");
          else if (text.length < promptCharsMax) text += ch;
        }
      };
      const done = (finish: () => void) => {
        stdin.off("data", onData);
        process.stderr.write("\n");
        finish();
      };
      stdin.on("data", onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
  }
}

/**
 * The passphrase for a wallet. `confirm` (new and encrypt): a prompt asks twice and the
 * two must match; a file or the environment is taken as given.
 */
export async function readPassphrase(flags: Record<string, unknown>, opts: { confirm: boolean; purpose: string }): Promise<string> {
  const file = flags.passphrase_file;
  if (typeof file === "string" && file.length > 0) return fromFile(file);
  const env = process.env[PASSPHRASE_ENV];
  if (env !== undefined && env.length > 0) return env;
  if (!process.stdin.isTTY) {
    throw new PassphraseError("WALLET_NO_PASSPHRASE", `${opts.purpose} needs the wallet passphrase: give --passphrase_file FILE or set ${PASSPHRASE_ENV} (no terminal to prompt on)`);
  }
  const first = await promptHidden(`wallet passphrase (${opts.purpose}): `);
  if (!opts.confirm) return first;
  const again = await promptHidden("repeat the passphrase: ");
  if (again !== first) throw new PassphraseError("WALLET_PASSPHRASE_MISMATCH", "the two passphrases differ; nothing was written");
  return first;
}
