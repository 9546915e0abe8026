import { PhantomError } from "../errors.ts";

export type StoreErrorCode =
  | "STORE_OPEN_FAILED"
  | "STORE_SCHEMA_TOO_NEW"
  | "STORE_GENESIS_MISMATCH"
  | "STORE_PAYLOAD_DIGEST_MISMATCH"
  | "STORE_CORRUPT"
  | "STORE_CLOSED"
  /** SQLite refused a write (disk full, I/O error, read-only file): the node fail-stops. */
  | "STORE_WRITE_FAILED";

export class StoreError extends PhantomError<StoreErrorCode> {
  constructor(code: StoreErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.name = "StoreError";
  }
}
