/**
 * Structure-aware mutation: JSON and TOML inputs are parsed, one value deep in the tree
 * replaced or deleted (or one key renamed) and serialized again; P2P streams keep their
 * framing. Byte mutations mostly break the syntax; these keep it and reach the
 * validators and handlers behind the parser.
 */
import { parse as parseToml, stringify as stringifyToml } from "smol-toml";
import type { Prng } from "./prng.ts";
import { mutate } from "./mutate.ts";

/** Values at the edges of what validators check: types, signs, 2^53, 2^63, 2^64, lengths. */
const JSON_VALUES: readonly unknown[] = [
  null, true, false, 0, -1, 1, 1.5, -0.0, 2 ** 53, 2 ** 53 + 2, 1e308, -1e308, "", "0", "-1", "1.0", " 1", "1e3", "0x10",
  "9007199254740993", "9223372036854775807", "9223372036854775808", "18446744073709551616", "99999999999999999999999",
  "00", "zz", "11".repeat(32), "11".repeat(33), "pc1qqqq", "x".repeat(300), [], {}, [1, 2], [[]], { a: 1 }, ["00"], new Array(300).fill("00"),
];

/** TOML values: integers at the limits the genesis and config validators check, wrong types. */
const TOML_VALUES: readonly unknown[] = [
  0n, 1n, -1n, 2n, 3n, 4n, 8n, 16n, 64n, 65n, 255n, 256n, 10_000n, 65535n, 65536n, (1n << 53n) + 1n, (1n << 63n) - 1n, -(1n << 63n),
  1.5, -0.5, Infinity, NaN, "", "x", "0", "127.0.0.1:0", "h:65536", "ab".repeat(32), "AB".repeat(32), true, false, [], {}, [1n, 2n], { a: 1n },
];

type Tree = Record<string, unknown> | unknown[];

function isTree(v: unknown): v is Tree {
  return typeof v === "object" && v !== null && !(v instanceof Date);
}

/** Every (container, key) pair of the tree, in a stable order. */
function slots(root: Tree): [Tree, string | number][] {
  const out: [Tree, string | number][] = [];
  const walk = (t: Tree, depth: number): void => {
    if (depth > 16) return;
    const keys: (string | number)[] = Array.isArray(t) ? t.map((_, i) => i) : Object.keys(t);
    for (const k of keys) {
      out.push([t, k]);
      const v = (t as Record<string | number, unknown>)[k];
      if (isTree(v)) walk(v, depth + 1);
    }
  };
  walk(root, 0);
  return out;
}

function mutateTree(root: Tree, prng: Prng, values: readonly unknown[]): void {
  const all = slots(root);
  if (all.length === 0) return;
  const [t, k] = prng.pick(all);
  const op = prng.below(6);
  const cell = t as Record<string | number, unknown>;
  if (op === 0 && !Array.isArray(t)) delete cell[k];
  else if (op === 1 && !Array.isArray(t)) {
    cell[`${String(k)}${prng.pick(["_", "x", ""])}`] = cell[k];
    delete cell[k];
  } else if (op === 2) {
    // Copy another slot's value here (a valid value in the wrong place).
    const [t2, k2] = prng.pick(all);
    cell[k] = structuredClone((t2 as Record<string | number, unknown>)[k2]);
  } else cell[k] = structuredClone(prng.pick(values));
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function mutateJson(input: Uint8Array, prng: Prng): Uint8Array | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(decoder.decode(input));
  } catch {
    return undefined;
  }
  if (!isTree(doc)) return undefined;
  const rounds = 1 + prng.below(3);
  for (let i = 0; i < rounds; i++) mutateTree(doc, prng, JSON_VALUES);
  return encoder.encode(JSON.stringify(doc));
}

export function mutateToml(input: Uint8Array, prng: Prng): Uint8Array | undefined {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(decoder.decode(input), { integersAsBigInt: true }) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const rounds = 1 + prng.below(3);
  for (let i = 0; i < rounds; i++) mutateTree(doc, prng, TOML_VALUES);
  try {
    return encoder.encode(stringifyToml(doc));
  } catch {
    return undefined; // a tree TOML cannot express (e.g. mixed arrays in older TOML): skip
  }
}

/**
 * P2P connection streams (first byte, then u32-LE length-prefixed frames): mutates the
 * body of one frame and fixes its length prefix, so the framing stays valid and the
 * mutation reaches the message decoder and the handlers behind it.
 */
export function mutateFramedStream(input: Uint8Array, prng: Prng): Uint8Array | undefined {
  const frames: Uint8Array[] = [];
  let o = 1;
  while (o + 4 <= input.length) {
    const len = new DataView(input.buffer, input.byteOffset + o, 4).getUint32(0, true);
    if (o + 4 + len > input.length) break;
    frames.push(input.subarray(o + 4, o + 4 + len));
    o += 4 + len;
  }
  if (frames.length === 0) return undefined;
  const i = prng.below(frames.length);
  const op = prng.below(4);
  if (op === 0) frames.splice(i, 1);
  else if (op === 1) frames.splice(i, 0, frames[prng.below(frames.length)]!);
  else frames[i] = mutate(frames[i]!, { prng, corpus: frames, dictionary: [], maxBytes: 4096 });
  const out: number[] = [input[0] ?? 0];
  for (const f of frames) out.push(f.length & 0xff, (f.length >>> 8) & 0xff, (f.length >>> 16) & 0xff, f.length >>> 24, ...f);
  return Uint8Array.from(out);
}
