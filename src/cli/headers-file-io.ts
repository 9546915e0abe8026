/** File I/O for headers.bin (the format lives in src/consensus/headers-file.ts). */
import { readFileSync, statSync, writeFileSync, renameSync } from "node:fs";
import type { SignedEvent } from "../types/event.ts";
import { HEADERS_FILE_BYTES_MAX, HeadersFileError, decodeHeadersFile, encodeHeadersFile } from "../consensus/headers-file.ts";

/** Writes events (topological order) atomically: a temporary file renamed into place. */
export function writeHeadersFile(path: string, events: readonly SignedEvent[]): void {
  const bytes = encodeHeadersFile(events);
  const tmp = `${path}.tmp`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    throw new HeadersFileError("HEADERS_IO", `cannot write headers file ${path}: ${(e as Error).message}`);
  }
}

/** Reads and strictly decodes a headers file; its size is checked before it is read. */
export function readHeadersFile(path: string): SignedEvent[] {
  let bytes: Uint8Array;
  try {
    const size = statSync(path).size;
    if (size > HEADERS_FILE_BYTES_MAX) throw new HeadersFileError("HEADERS_OVERSIZE", `headers file ${path}: ${size} bytes exceed ${HEADERS_FILE_BYTES_MAX}`);
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    if (e instanceof HeadersFileError) throw e;
    throw new HeadersFileError("HEADERS_IO", `cannot read headers file ${path}: ${(e as Error).message}`);
  }
  return decodeHeadersFile(bytes);
}
