/**
 * Bearer-token authentication of the RPC listener. Loopback stays open by default; a
 * listener any other host can reach needs a token: `--rpc_token_file`, or a cookie file
 * the node writes (mode 0600) into its store directory at every start, as bitcoind does.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PhantomError } from "../errors.ts";
import { checkSecretFileMode } from "../store/private-files.ts";

export type RpcAuthMode = "auto" | "cookie" | "none";
export const RPC_AUTH_MODES: readonly RpcAuthMode[] = ["auto", "cookie", "none"];
/** Name of the cookie file in the store directory. */
export const cookieFileName = ".cookie";
/** Shortest token accepted from a token file (a guessable token is no protection). */
export const tokenLengthMin = 16;
/** Paths served without a token: liveness probes and the static explorer page (its API calls need one). */
export const OPEN_PATHS: ReadonlySet<string> = new Set(["/health", "/ready", "/", "/explorer"]);

export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Where the token will come from, decided before anything is opened or bound. */
export type RpcAuthPlan = { kind: "open" } | { kind: "token_file"; path: string } | { kind: "cookie"; path: string };

export function planRpcAuth(opts: { host: string; mode: RpcAuthMode; tokenFile: string | null; storeDir: string }): RpcAuthPlan {
  if (opts.tokenFile) return { kind: "token_file", path: opts.tokenFile };
  const wantCookie = opts.mode === "cookie" || (opts.mode === "auto" && !isLoopbackHost(opts.host));
  if (wantCookie) return { kind: "cookie", path: join(opts.storeDir, cookieFileName) };
  if (!isLoopbackHost(opts.host)) {
    throw new PhantomError("RPC_AUTH_REQUIRED", `--rpc_addr ${opts.host} is reachable from other hosts: give --rpc_token_file, or drop --rpc_auth none (a cookie file is then created in the store directory)`);
  }
  return { kind: "open" };
}

export interface SecretFileOptions {
  allowInsecure: boolean;
  warn(message: string): void;
}

/** Reads the token of a token file (first line, trimmed); refuses one group or others can access. */
export function readTokenFile(path: string, opts: SecretFileOptions = { allowInsecure: false, warn: () => {} }): string {
  checkSecretFileMode(path, "--rpc_token_file", "RPC_TOKEN_FILE_PERMISSIONS", opts.allowInsecure, opts.warn);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new PhantomError("RPC_TOKEN_FILE_UNREADABLE", `cannot read --rpc_token_file ${path}`);
  }
  const token = (text.split("\n")[0] ?? "").trim();
  if (token.length < tokenLengthMin || /\s/.test(token)) throw new PhantomError("RPC_TOKEN_FILE_BAD", `--rpc_token_file ${path}: the first line must be a token of at least ${tokenLengthMin} characters without spaces`);
  return token;
}

/** Writes a fresh random token to `path` (mode 0600, replacing an old cookie) and returns it. */
export function writeCookie(path: string): string {
  const token = randomBytes(32).toString("hex");
  rmSync(path, { force: true }); // a new file gets the mode below even if an old one was looser
  try {
    writeFileSync(path, token + "\n", { mode: 0o600, flag: "wx" });
  } catch (e) {
    throw new PhantomError("RPC_COOKIE_WRITE", `cannot write the RPC cookie ${path}: ${(e as Error).message}`);
  }
  return token;
}

export function removeCookie(path: string): void {
  rmSync(path, { force: true });
}

/** The token the plan calls for (null: open); writes the cookie when it is one. */
export function rpcTokenFromPlan(plan: RpcAuthPlan, fileOpts?: SecretFileOptions): string | null {
  if (plan.kind === "open") return null;
  return plan.kind === "token_file" ? readTokenFile(plan.path, fileOpts) : writeCookie(plan.path);
}

/** Checks `Authorization: Bearer <token>` in constant time (digests, so lengths leak nothing). */
export function bearerMatches(header: string | null, token: string): boolean {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!m) return false;
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(m[1]!), digest(token));
}
