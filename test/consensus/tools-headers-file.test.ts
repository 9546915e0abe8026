// headers.bin: strict decoding with typed errors, the fs wrapper, and the generator.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  decodeHeadersFile, encodeHeadersFile, checkHeadersRules, HeadersFileError, HEADERS_FILE_PREFIX_BYTES, HEADERS_FILE_EVENTS_MAX,
  HEADERS_ENTRY_BYTES_MIN,
} from "../../src/consensus/headers-file.ts";
import { generateSignedDag } from "../../src/consensus/headers-gen.ts";
import { readHeadersFile, writeHeadersFile } from "../../src/cli/headers-file-io.ts";
import { encodeSignedEvent } from "../../src/types/event.ts";
import { toHex } from "../../src/crypto/bytes.ts";
import { committeeKeys, signed, DagBuilder } from "./tools-fixtures.ts";
import { thrownCode } from "../thrown-code.ts";

const KEYS = committeeKeys(4);
const SEED = new TextEncoder().encode("headers-file-test");
const EVENTS = generateSignedDag({ secretKeys: KEYS.map((k) => k.secretKey), eventCount: 48, seed: SEED });
const BYTES = encodeHeadersFile(EVENTS);
const CTX = { k: 4, shardCount: 1, parentsMax: 4, publicKeys: KEYS.map((k) => k.publicKey) };

const codeOf = (f: () => unknown): string => thrownCode(f, HeadersFileError, "OK");

describe("headers file format", () => {
  test("round-trips a generated DAG byte for byte", () => {
    const back = decodeHeadersFile(BYTES);
    expect(back.map((e) => toHex(e.id))).toEqual(EVENTS.map((e) => toHex(e.id)));
    expect(encodeHeadersFile(back)).toEqual(BYTES);
    expect(Buffer.from(BYTES.subarray(0, 4)).toString()).toBe("PHHD");
  });

  test("the empty file is valid", () => {
    expect(decodeHeadersFile(encodeHeadersFile([]))).toEqual([]);
  });

  test("every truncation is rejected with a typed code", () => {
    for (let n = 0; n < BYTES.length; n++) {
      const code = codeOf(() => decodeHeadersFile(BYTES.subarray(0, n)));
      expect(n < 4 && n > 0 ? ["HEADERS_TRUNCATED"] : ["HEADERS_TRUNCATED", "HEADERS_BAD_MAGIC", "HEADERS_BAD_EVENT"]).toContain(code);
    }
    // Cut inside an entry: truncated, not a misparse.
    expect(codeOf(() => decodeHeadersFile(BYTES.subarray(0, BYTES.length - 10)))).toBe("HEADERS_TRUNCATED");
  });

  test("bad magic, wrong version, oversize count and entry, trailing bytes", () => {
    const bad = (at: number, value: number) => {
      const b = BYTES.slice();
      b[at] = value;
      return b;
    };
    expect(codeOf(() => decodeHeadersFile(bad(0, 0x51)))).toBe("HEADERS_BAD_MAGIC");
    expect(codeOf(() => decodeHeadersFile(bad(4, 2)))).toBe("HEADERS_BAD_VERSION");
    const huge = BYTES.slice();
    new DataView(huge.buffer).setUint32(5, HEADERS_FILE_EVENTS_MAX + 1, true);
    expect(codeOf(() => decodeHeadersFile(huge))).toBe("HEADERS_OVERSIZE");
    const tooMany = BYTES.slice();
    new DataView(tooMany.buffer).setUint32(5, 1_000, true);
    expect(codeOf(() => decodeHeadersFile(tooMany))).toBe("HEADERS_TRUNCATED");
    const longEntry = BYTES.slice();
    new DataView(longEntry.buffer).setUint32(HEADERS_FILE_PREFIX_BYTES, 5_000, true);
    expect(codeOf(() => decodeHeadersFile(longEntry))).toBe("HEADERS_OVERSIZE");
    const trailing = new Uint8Array(BYTES.length + 1);
    trailing.set(BYTES);
    expect(codeOf(() => decodeHeadersFile(trailing))).toBe("HEADERS_TRAILING_BYTES");
  });

  test("precedence (SPEC_FEES §5): magic, then version, then truncation; minimum entry size", () => {
    const p = (...b: number[]) => new Uint8Array(b);
    expect(codeOf(() => decodeHeadersFile(p(0x50, 0x48, 0x48, 0x44, 0x02)))).toBe("HEADERS_BAD_VERSION");
    expect(codeOf(() => decodeHeadersFile(p(0x50, 0x48, 0x48, 0x44, 0x02, 1, 0, 0, 0)))).toBe("HEADERS_BAD_VERSION");
    expect(codeOf(() => decodeHeadersFile(p(0x50, 0x48, 0x58)))).toBe("HEADERS_BAD_MAGIC");
    expect(codeOf(() => decodeHeadersFile(p(0x51, 0x48, 0x48, 0x44, 0x02)))).toBe("HEADERS_BAD_MAGIC");
    expect(codeOf(() => decodeHeadersFile(p(0x50, 0x48)))).toBe("HEADERS_TRUNCATED");
    expect(codeOf(() => decodeHeadersFile(p(0x50, 0x48, 0x48, 0x44, 0x01)))).toBe("HEADERS_TRUNCATED");
    // The smallest signed event (seq 0, no parents) is exactly the stated minimum.
    const seq0 = EVENTS.find((e) => e.header.parents.length === 0)!;
    expect(encodeSignedEvent(seq0).length).toBe(HEADERS_ENTRY_BYTES_MIN);
    // A count whose minimum-size entries cannot fit is truncation, found before decoding entries.
    const one = encodeHeadersFile([seq0]);
    const two = one.slice();
    new DataView(two.buffer).setUint32(5, 2, true);
    expect(codeOf(() => decodeHeadersFile(two))).toBe("HEADERS_TRUNCATED");
    // An entry shorter than the minimum cannot decode.
    const short = new Uint8Array(HEADERS_FILE_PREFIX_BYTES + 4 + HEADERS_ENTRY_BYTES_MIN);
    short.set(one.subarray(0, HEADERS_FILE_PREFIX_BYTES));
    new DataView(short.buffer).setUint32(HEADERS_FILE_PREFIX_BYTES, HEADERS_ENTRY_BYTES_MIN - 1, true);
    expect(codeOf(() => decodeHeadersFile(short))).toBe("HEADERS_BAD_EVENT");
  });

  test("a corrupted entry is HEADERS_BAD_EVENT", () => {
    const b = BYTES.slice();
    b[HEADERS_FILE_PREFIX_BYTES + 4] = 0x99; // the signed-event tag of entry 0
    expect(codeOf(() => decodeHeadersFile(b))).toBe("HEADERS_BAD_EVENT");
  });

  test("duplicated, reordered and orphaned events are reported", () => {
    expect(codeOf(() => decodeHeadersFile(encodeHeadersFile([...EVENTS, EVENTS[5]!])))).toBe("HEADERS_DUPLICATE_EVENT");
    const swapped = [...EVENTS];
    [swapped[3], swapped[10]] = [swapped[10]!, swapped[3]!];
    expect(codeOf(() => decodeHeadersFile(encodeHeadersFile(swapped)))).toBe("HEADERS_NOT_TOPOLOGICAL");
    expect(codeOf(() => decodeHeadersFile(encodeHeadersFile(EVENTS.slice(1))))).toBe("HEADERS_UNKNOWN_PARENT");
  });

  test("fuzz: random bytes and mutations only ever raise HeadersFileError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        expect(codeOf(() => decodeHeadersFile(bytes))).not.toBe("OK");
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: BYTES.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, value) => {
        const b = BYTES.slice();
        b[at] = value;
        codeOf(() => decodeHeadersFile(b)); // must not throw anything untyped
      }),
      { numRuns: 300 },
    );
  });
});

describe("headers rules against a committee", () => {
  test("generated DAGs pass every rule and signature check", () => {
    expect(() => checkHeadersRules(EVENTS, CTX)).not.toThrow();
    const k1 = committeeKeys(1);
    const solo = generateSignedDag({ secretKeys: [k1[0]!.secretKey], eventCount: 10, seed: SEED });
    expect(() => checkHeadersRules(solo, { k: 1, shardCount: 1, parentsMax: 4, publicKeys: [k1[0]!.publicKey] })).not.toThrow();
  });

  test("bad signature, unknown creator and a broken rule are typed", () => {
    const forged = { ...EVENTS[7]!, signature: EVENTS[8]!.signature };
    expect(codeOf(() => checkHeadersRules([...EVENTS.slice(0, 7), forged], CTX))).toBe("HEADERS_BAD_SIGNATURE");
    expect(codeOf(() => checkHeadersRules(EVENTS, { ...CTX, k: 3, publicKeys: CTX.publicKeys.slice(0, 3) }))).toBe("HEADERS_BAD_CREATOR");
    const d = new DagBuilder(KEYS);
    const a = d.add(0);
    const b = d.add(1, a);
    const wrongLamport = signed(KEYS, { creator: 2, parents: [b.id], lamport: 7 });
    expect(codeOf(() => checkHeadersRules([a, b, wrongLamport], CTX))).toBe("HEADERS_RULE_VIOLATION");
    expect(codeOf(() => checkHeadersRules([b], CTX))).toBe("HEADERS_UNKNOWN_PARENT");
  });
});

describe("generator and file I/O", () => {
  test("the generator is deterministic in its seed", () => {
    const again = generateSignedDag({ secretKeys: KEYS.map((k) => k.secretKey), eventCount: 48, seed: SEED });
    expect(encodeHeadersFile(again)).toEqual(BYTES);
    const other = generateSignedDag({ secretKeys: KEYS.map((k) => k.secretKey), eventCount: 48, seed: new TextEncoder().encode("other") });
    expect(encodeHeadersFile(other)).not.toEqual(BYTES);
    // Every event after the first has a cross-link; creators lag differently.
    for (const e of EVENTS.slice(1)) expect(e.header.parents.length).toBeGreaterThanOrEqual(1);
  });

  test("writeHeadersFile / readHeadersFile round-trip; I/O problems are typed", () => {
    const dir = mkdtempSync(join(tmpdir(), "phantom-headers-"));
    const path = join(dir, "headers.bin");
    writeHeadersFile(path, EVENTS);
    expect(readHeadersFile(path).map((e) => toHex(e.id))).toEqual(EVENTS.map((e) => toHex(e.id)));
    expect(codeOf(() => readHeadersFile(join(dir, "missing.bin")))).toBe("HEADERS_IO");
    writeFileSync(path, encodeSignedEvent(EVENTS[0]!));
    expect(codeOf(() => readHeadersFile(path))).toBe("HEADERS_BAD_MAGIC");
  });
});
