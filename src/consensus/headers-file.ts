/**
 * headers.bin (docs/SPEC_FEES.md, "Headers file"): a portable file of signed events
 * that the consensus tools (ConsensusAckDists, ConsensusPayoutRoot) read.
 *
 *   magic "PHHD" (4 bytes) | version u8 = 1 | count u32 LE |
 *   count × ( length u32 LE | encodeSignedEvent bytes )
 *
 * Entries are in topological order: every parent id an entry names is the id of an
 * earlier entry. Pure encode/decode only; file I/O lives in src/cli/headers-file-io.ts.
 */
import { PhantomError } from "../errors.ts";
import { CodecError } from "../codec/index.ts";
import { toHex } from "../crypto/bytes.ts";
import { EVENT_BYTES_MAX } from "../types/constants.ts";
import { type SignedEvent, encodeSignedEvent, decodeSignedEvent, verifyEventSignature } from "../types/event.ts";
import { type RuleContext, findRuleViolation } from "./slashing.ts";

export const HEADERS_FILE_MAGIC = new Uint8Array([0x50, 0x48, 0x48, 0x44]); // "PHHD"
export const HEADERS_FILE_VERSION = 1;
/** Largest number of events one headers file may hold. */
export const HEADERS_FILE_EVENTS_MAX = 1_000_000;
/** Fixed prefix: magic, version, count. */
export const HEADERS_FILE_PREFIX_BYTES = 4 + 1 + 4;
/** Per-entry length prefix. */
const ENTRY_LENGTH_BYTES = 4;
/**
 * Smallest entry: a signed seq-0 event without parents (SPEC_CODEC: 2 + 54 + 64 bytes). A
 * shorter entry cannot decode (HEADERS_BAD_EVENT).
 */
export const HEADERS_ENTRY_BYTES_MIN = 120;
/** Largest file the decoder accepts (every entry at EVENT_BYTES_MAX). */
export const HEADERS_FILE_BYTES_MAX = HEADERS_FILE_PREFIX_BYTES + HEADERS_FILE_EVENTS_MAX * (ENTRY_LENGTH_BYTES + EVENT_BYTES_MAX);

export type HeadersFileErrorCode =
  | "HEADERS_TRUNCATED"
  | "HEADERS_BAD_MAGIC"
  | "HEADERS_BAD_VERSION"
  | "HEADERS_OVERSIZE"
  | "HEADERS_TRAILING_BYTES"
  | "HEADERS_BAD_EVENT"
  | "HEADERS_DUPLICATE_EVENT"
  | "HEADERS_UNKNOWN_PARENT"
  | "HEADERS_NOT_TOPOLOGICAL"
  | "HEADERS_BAD_CREATOR"
  | "HEADERS_BAD_SIGNATURE"
  | "HEADERS_RULE_VIOLATION"
  | "HEADERS_IO";

export class HeadersFileError extends PhantomError<HeadersFileErrorCode> {
  constructor(code: HeadersFileErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.name = "HeadersFileError";
  }
}

/** Encodes events (already in topological order) as a headers file. */
export function encodeHeadersFile(events: readonly SignedEvent[]): Uint8Array {
  if (events.length > HEADERS_FILE_EVENTS_MAX) {
    throw new HeadersFileError("HEADERS_OVERSIZE", `headers file: ${events.length} events exceed ${HEADERS_FILE_EVENTS_MAX}`);
  }
  const encoded = events.map(encodeSignedEvent);
  const total = HEADERS_FILE_PREFIX_BYTES + encoded.reduce((s, e) => s + ENTRY_LENGTH_BYTES + e.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(HEADERS_FILE_MAGIC, 0);
  out[4] = HEADERS_FILE_VERSION;
  view.setUint32(5, events.length, true);
  let at = HEADERS_FILE_PREFIX_BYTES;
  for (const e of encoded) {
    view.setUint32(at, e.length, true);
    out.set(e, at + ENTRY_LENGTH_BYTES);
    at += ENTRY_LENGTH_BYTES + e.length;
  }
  return out;
}

/**
 * The prefix checks, in the precedence SPEC_FEES §5 states: file size, magic (over the bytes
 * present), version (when its byte is present), prefix length, count.
 */
function readPrefix(bytes: Uint8Array, view: DataView): number {
  if (bytes.length > HEADERS_FILE_BYTES_MAX) {
    throw new HeadersFileError("HEADERS_OVERSIZE", `headers file: ${bytes.length} bytes exceed ${HEADERS_FILE_BYTES_MAX}`);
  }
  for (let i = 0; i < Math.min(4, bytes.length); i++) {
    if (bytes[i] !== HEADERS_FILE_MAGIC[i]) throw new HeadersFileError("HEADERS_BAD_MAGIC", "headers file: not a headers file (magic \"PHHD\" missing)");
  }
  // A file that names another version is reported as such even when it is cut short.
  if (bytes.length > 4 && bytes[4] !== HEADERS_FILE_VERSION) {
    throw new HeadersFileError("HEADERS_BAD_VERSION", `headers file: version ${bytes[4]} unsupported (this node reads version ${HEADERS_FILE_VERSION})`);
  }
  if (bytes.length < HEADERS_FILE_PREFIX_BYTES) {
    throw new HeadersFileError("HEADERS_TRUNCATED", `headers file: ${bytes.length} bytes, shorter than the ${HEADERS_FILE_PREFIX_BYTES}-byte prefix`);
  }
  const count = view.getUint32(5, true);
  if (count > HEADERS_FILE_EVENTS_MAX) throw new HeadersFileError("HEADERS_OVERSIZE", `headers file: count ${count} exceeds ${HEADERS_FILE_EVENTS_MAX}`);
  // Each entry takes at least its length prefix and the smallest signed event: reject
  // impossible counts before any allocation.
  if (count * (ENTRY_LENGTH_BYTES + HEADERS_ENTRY_BYTES_MIN) > bytes.length - HEADERS_FILE_PREFIX_BYTES) {
    throw new HeadersFileError("HEADERS_TRUNCATED", `headers file: count ${count} does not fit in ${bytes.length} bytes`);
  }
  return count;
}

function decodeEntry(bytes: Uint8Array, view: DataView, at: number, index: number): { event: SignedEvent; next: number } {
  if (at + ENTRY_LENGTH_BYTES > bytes.length) throw new HeadersFileError("HEADERS_TRUNCATED", `headers file: entry ${index} length prefix truncated`, { index });
  const length = view.getUint32(at, true);
  if (length > EVENT_BYTES_MAX) throw new HeadersFileError("HEADERS_OVERSIZE", `headers file: entry ${index} is ${length} bytes, above ${EVENT_BYTES_MAX}`, { index });
  const start = at + ENTRY_LENGTH_BYTES;
  if (start + length > bytes.length) throw new HeadersFileError("HEADERS_TRUNCATED", `headers file: entry ${index} needs ${length} bytes, ${bytes.length - start} left`, { index });
  try {
    return { event: decodeSignedEvent(bytes.subarray(start, start + length)), next: start + length };
  } catch (e) {
    if (e instanceof CodecError) throw new HeadersFileError("HEADERS_BAD_EVENT", `headers file: entry ${index} is not a canonical signed event: ${e.message}`, { index, cause: e.code });
    throw e;
  }
}

/**
 * Strict decode: prefix, every entry, no trailing bytes, no duplicate event ids,
 * every parent named by an earlier entry (HEADERS_NOT_TOPOLOGICAL when it comes
 * later, HEADERS_UNKNOWN_PARENT when it is absent).
 */
export function decodeHeadersFile(bytes: Uint8Array): SignedEvent[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = readPrefix(bytes, view);
  const events: SignedEvent[] = [];
  let at = HEADERS_FILE_PREFIX_BYTES;
  for (let i = 0; i < count; i++) {
    const { event, next } = decodeEntry(bytes, view, at, i);
    events.push(event);
    at = next;
  }
  if (at !== bytes.length) throw new HeadersFileError("HEADERS_TRAILING_BYTES", `headers file: ${bytes.length - at} bytes after the last entry`);
  checkClosedAndOrdered(events);
  return events;
}

function checkClosedAndOrdered(events: readonly SignedEvent[]): void {
  const position = new Map<string, number>();
  events.forEach((e, i) => {
    const id = toHex(e.id);
    const earlier = position.get(id);
    if (earlier !== undefined) throw new HeadersFileError("HEADERS_DUPLICATE_EVENT", `headers file: entry ${i} duplicates entry ${earlier} (event ${id})`, { index: i, id });
    position.set(id, i);
  });
  events.forEach((e, i) => {
    for (const p of e.header.parents) {
      const at = position.get(toHex(p));
      if (at === undefined) throw new HeadersFileError("HEADERS_UNKNOWN_PARENT", `headers file: entry ${i} names parent ${toHex(p)}, which the file does not hold`, { index: i, parent: toHex(p) });
      if (at >= i) throw new HeadersFileError("HEADERS_NOT_TOPOLOGICAL", `headers file: entry ${i} names parent ${toHex(p)} at entry ${at}; parents must come first`, { index: i, parent: toHex(p) });
    }
  });
}

export interface HeadersRuleContext extends RuleContext {
  /** Committee public keys by index; when given, every signature is checked. */
  publicKeys?: readonly Uint8Array[];
}

/**
 * Checks decoded events against a committee: creator < k, the structural event
 * rules of docs/SPEC_SLASHING.md (seq, parents, Lamport, cross-link, shard) and,
 * when public keys are known, every signature (strict Ed25519 over event_id).
 * Events must be in topological order (as decodeHeadersFile guarantees).
 */
export function checkHeadersRules(events: readonly SignedEvent[], ctx: HeadersRuleContext): void {
  const byId = new Map<string, SignedEvent>();
  events.forEach((e, i) => {
    if (e.header.creator >= ctx.k) throw new HeadersFileError("HEADERS_BAD_CREATOR", `headers file: entry ${i} has creator ${e.header.creator}, committee size is ${ctx.k}`, { index: i });
    const pk = ctx.publicKeys?.[e.header.creator];
    if (pk && !verifyEventSignature(e, pk)) {
      throw new HeadersFileError("HEADERS_BAD_SIGNATURE", `headers file: entry ${i} (event ${toHex(e.id)}) has an invalid signature by validator ${e.header.creator}`, { index: i });
    }
    const parents = e.header.parents.map((p) => byId.get(toHex(p)));
    const missing = parents.findIndex((p) => p === undefined);
    if (missing !== -1) throw new HeadersFileError("HEADERS_UNKNOWN_PARENT", `headers file: entry ${i} names parent ${toHex(e.header.parents[missing]!)} that no earlier entry holds`, { index: i });
    const reason = findRuleViolation(e, parents as SignedEvent[], ctx);
    if (reason !== null) throw new HeadersFileError("HEADERS_RULE_VIOLATION", `headers file: entry ${i} (event ${toHex(e.id)}) breaks rule ${reason}`, { index: i, reason });
    byId.set(toHex(e.id), e);
  });
}
