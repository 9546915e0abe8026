/**
 * File modes of what the node keeps private: the store folder is 0700 and its files 0600
 * (SQLite gives the -wal and -shm files the database file's mode), and a secret file (a
 * validator key, an RPC token) readable by group or others is refused unless the operator
 * explicitly allows it.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from "node:fs";
import { PhantomError } from "../errors.ts";

export const privateDirMode = 0o700;
export const privateFileMode = 0o600;

/** Creates `dir` (and missing parents) mode 0700; an existing folder keeps the mode its owner chose. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: privateDirMode });
}

/**
 * Creates `path` empty with mode 0600 if missing; tightens an existing file to 0600.
 * An existing file is never opened here: closing a descriptor would drop the POSIX locks
 * SQLite holds on it through another connection of this process.
 */
export function ensurePrivateFile(path: string): void {
  if (!existsSync(path)) {
    try {
      closeSync(openSync(path, "wx", privateFileMode));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
  tightenIfLoose(path);
}

/** Tightens `path` to 0600 if it exists and group or others have any access. */
export function tightenIfLoose(path: string): void {
  if (existsSync(path) && (statSync(path).mode & 0o077) !== 0) chmodSync(path, privateFileMode);
}

/**
 * Refuses a secret file that group or others may read or write (`code`), unless
 * `allowInsecure`: then `warn` says so and the file is used.
 */
export function checkSecretFileMode<C extends string>(path: string, what: string, code: C, allowInsecure: boolean, warn: (message: string) => void): void {
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch {
    return; // the caller's read reports a missing file with its own code
  }
  if ((mode & 0o077) === 0) return;
  const octal = mode.toString(8).padStart(3, "0");
  if (!allowInsecure) throw new PhantomError(code, `${what} ${path} has mode ${octal}: group or others can access it; chmod 600 it (or pass --allow_insecure_key_file)`);
  warn(`${what} ${path} has mode ${octal} (group or others can access it); used because --allow_insecure_key_file is set`);
}
