export { Writer } from "./writer.ts";
export { Reader, decodeExact } from "./reader.ts";
export { CodecError, type CodecErrorCode } from "./errors.ts";
