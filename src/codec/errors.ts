import { PhantomError } from "../errors.ts";

export type CodecErrorCode =
  | "CODEC_TRUNCATED"
  | "CODEC_TRAILING_BYTES"
  | "CODEC_NON_MINIMAL_VARINT"
  | "CODEC_VARINT_OVERFLOW"
  | "CODEC_LENGTH_TOO_LARGE"
  | "CODEC_UNKNOWN_VERSION"
  | "CODEC_UNKNOWN_TAG"
  | "CODEC_VALUE_OUT_OF_RANGE"
  | "CODEC_INVALID";

/** Raised for any byte string that is not the canonical encoding of a value. */
export class CodecError extends PhantomError<CodecErrorCode> {
  constructor(code: CodecErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.name = "CodecError";
  }
}
