/**
 * Lock v0 as text, for the command line and the tx file (docs/OPERATIONS.md §11):
 *
 *   sig(PK)                 one Ed25519 key (64 hex)
 *   multi(M,PK1,…,PKn)      M of the n keys sign (1 <= M <= n <= 16)
 *   hash(DIGEST)            reveal a preimage with blake3_32(preimage) = DIGEST (64 hex)
 *   after(N)                spendable from anchor index N on
 *   and(A,B)  or(A,B)       both / either
 *
 * e.g. a timelocked key `and(after(500),sig(…))`, a hash-time-locked contract
 * `or(and(hash(…),sig(BOB)),and(after(900),sig(ALICE)))`. The output stores only the
 * lock's commitment (its address); whoever spends must reveal the lock, so keep the
 * text. `formatLockSpec` gives the one canonical spelling.
 */
import { PhantomError } from "../errors.ts";
import { fromHex, toHex } from "../crypto/bytes.ts";
import { lockCommitment, type Lock } from "../types/lock.ts";
import { LOCK_DEPTH_MAX, LOCK_NODES_MAX, MULTISIG_KEYS_MAX } from "../types/constants.ts";
import { encodeAddress } from "./address.ts";

export class LockSpecError extends PhantomError<"WALLET_BAD_LOCK"> {}

/** Longest lock text accepted (a full 16-key multisig is about 1,100 characters). */
export const lockSpecCharsMax = 8_192;
const U64_MAX = (1n << 64n) - 1n;

class Parser {
  private at = 0;
  private nodes = 0;
  constructor(private readonly text: string) {}

  fail(message: string): never {
    throw new LockSpecError("WALLET_BAD_LOCK", `lock "${this.text.length > 80 ? this.text.slice(0, 80) + "…" : this.text}" at character ${this.at}: ${message}`);
  }

  private expect(ch: string): void {
    if (this.text[this.at] !== ch) this.fail(`expected "${ch}"`);
    this.at++;
  }

  private token(): string {
    const m = /^[A-Za-z0-9]+/.exec(this.text.slice(this.at, this.at + 200));
    if (!m) this.fail("expected a name, a number or hex");
    this.at += m[0].length;
    return m[0];
  }

  private key(): Uint8Array {
    const t = this.token();
    if (!/^[0-9a-fA-F]{64}$/.test(t)) this.fail("a public key or digest is 64 hex characters");
    return fromHex(t.toLowerCase(), 32);
  }

  private integer(what: string): bigint {
    const t = this.token();
    if (!/^\d{1,20}$/.test(t)) this.fail(`${what} must be a decimal integer`);
    return BigInt(t);
  }

  node(depth: number): Lock {
    if (depth > LOCK_DEPTH_MAX) this.fail(`nested deeper than ${LOCK_DEPTH_MAX}`);
    if (++this.nodes > LOCK_NODES_MAX) this.fail(`more than ${LOCK_NODES_MAX} nodes`);
    const name = this.token();
    this.expect("(");
    let lock: Lock;
    switch (name) {
      case "sig":
        lock = { kind: "sig", publicKey: this.key() };
        break;
      case "multi": {
        const m = this.integer("M");
        const publicKeys: Uint8Array[] = [];
        while (this.text[this.at] === ",") {
          this.at++;
          if (publicKeys.length === MULTISIG_KEYS_MAX) this.fail(`more than ${MULTISIG_KEYS_MAX} keys`);
          publicKeys.push(this.key());
        }
        if (m < 1n || m > BigInt(publicKeys.length)) this.fail(`multi needs 1 <= M <= n, got M=${m} n=${publicKeys.length}`);
        lock = { kind: "multisig", m: Number(m), publicKeys };
        break;
      }
      case "hash":
        lock = { kind: "hashlock", digest: this.key() };
        break;
      case "after": {
        const anchorIndex = this.integer("the anchor index");
        if (anchorIndex > U64_MAX) this.fail("the anchor index exceeds u64");
        lock = { kind: "after", anchorIndex };
        break;
      }
      case "and":
      case "or": {
        const left = this.node(depth + 1);
        this.expect(",");
        lock = { kind: name, left, right: this.node(depth + 1) };
        break;
      }
      default:
        this.fail(`unknown lock "${name}" (sig, multi, hash, after, and, or)`);
    }
    this.expect(")");
    return lock;
  }

  end(): void {
    if (this.at !== this.text.length) this.fail("unexpected text after the lock");
  }
}

export function parseLockSpec(text: string): Lock {
  if (text.length > lockSpecCharsMax) throw new LockSpecError("WALLET_BAD_LOCK", `lock text is ${text.length} characters; at most ${lockSpecCharsMax}`);
  const parser = new Parser(text.replace(/\s+/g, ""));
  const lock = parser.node(1);
  parser.end();
  return lock;
}

export function formatLockSpec(lock: Lock): string {
  switch (lock.kind) {
    case "sig":
      return `sig(${toHex(lock.publicKey)})`;
    case "multisig":
      return `multi(${lock.m},${lock.publicKeys.map(toHex).join(",")})`;
    case "hashlock":
      return `hash(${toHex(lock.digest)})`;
    case "after":
      return `after(${lock.anchorIndex})`;
    case "and":
    case "or":
      return `${lock.kind}(${formatLockSpec(lock.left)},${formatLockSpec(lock.right)})`;
  }
}

/** The address (bech32m of the lock commitment) that pays `lock`. */
export const lockAddress = (lock: Lock): string => encodeAddress(lockCommitment(lock));
