/**
 * QUIC transport error codes (RFC 9000 §20.1, RFC 9221 adds none) and the typed
 * error every QUIC module raises for bad input from the peer. The connection turns
 * a QuicError into a CONNECTION_CLOSE frame with `wireCode` and `frameType`.
 */
import { PhantomError } from "../../errors.ts";

/** RFC 9000 §20.1 transport error codes, by their RFC names. */
export const TransportErrorCode = {
  NO_ERROR: 0x00,
  INTERNAL_ERROR: 0x01,
  CONNECTION_REFUSED: 0x02,
  FLOW_CONTROL_ERROR: 0x03,
  STREAM_LIMIT_ERROR: 0x04,
  STREAM_STATE_ERROR: 0x05,
  FINAL_SIZE_ERROR: 0x06,
  FRAME_ENCODING_ERROR: 0x07,
  TRANSPORT_PARAMETER_ERROR: 0x08,
  CONNECTION_ID_LIMIT_ERROR: 0x09,
  PROTOCOL_VIOLATION: 0x0a,
  INVALID_TOKEN: 0x0b,
  APPLICATION_ERROR: 0x0c,
  CRYPTO_BUFFER_EXCEEDED: 0x0d,
  KEY_UPDATE_ERROR: 0x0e,
  AEAD_LIMIT_REACHED: 0x0f,
  NO_VIABLE_PATH: 0x10,
} as const;

export type TransportErrorName = keyof typeof TransportErrorCode | "CRYPTO_ERROR";

/** CRYPTO_ERROR range (RFC 9000 §20.1): 0x0100 + TLS alert description. */
export const cryptoErrorBase = 0x0100;
export const cryptoErrorLast = 0x01ff;

export type QuicErrorCode = `QUIC_${TransportErrorName}`;

const nameByCode = new Map<number, TransportErrorName>(
  Object.entries(TransportErrorCode).map(([name, code]) => [code, name as TransportErrorName]),
);

/** RFC name of a wire error code ("CRYPTO_ERROR" for 0x0100–0x01ff), or undefined if unknown. */
export function transportErrorName(wireCode: number): TransportErrorName | undefined {
  if (wireCode >= cryptoErrorBase && wireCode <= cryptoErrorLast) return "CRYPTO_ERROR";
  return nameByCode.get(wireCode);
}

export interface QuicErrorOptions {
  /** Frame type that triggered the error, reported in CONNECTION_CLOSE (0 if unknown). */
  frameType?: number;
  /** TLS alert description for CRYPTO_ERROR (wire code = 0x0100 + alert). */
  tlsAlert?: number;
  details?: Record<string, unknown>;
}

/** A connection error caused by the peer (or by bytes it sent), carrying the RFC 9000 code. */
export class QuicError extends PhantomError<QuicErrorCode> {
  /** Transport error name as in RFC 9000 §20.1. */
  readonly transportError: TransportErrorName;
  /** The value to put in CONNECTION_CLOSE's Error Code field. */
  readonly wireCode: number;
  /** The frame type that caused it (CONNECTION_CLOSE's Frame Type field). */
  readonly frameType: number;

  constructor(transportError: TransportErrorName, message: string, opts: QuicErrorOptions = {}) {
    super(`QUIC_${transportError}`, message, opts.details);
    this.name = "QuicError";
    this.transportError = transportError;
    if (transportError === "CRYPTO_ERROR") {
      const alert = opts.tlsAlert ?? 0;
      if (!Number.isInteger(alert) || alert < 0 || alert > 0xff) throw new RangeError(`TLS alert out of range: ${alert}`);
      this.wireCode = cryptoErrorBase + alert;
    } else {
      this.wireCode = TransportErrorCode[transportError];
    }
    this.frameType = opts.frameType ?? 0;
  }

  /** CRYPTO_ERROR carrying a TLS alert description (RFC 9001 §4.8). */
  static crypto(tlsAlert: number, message: string, details?: Record<string, unknown>): QuicError {
    return new QuicError("CRYPTO_ERROR", message, { tlsAlert, details });
  }
}

export function isQuicError(e: unknown): e is QuicError {
  return e instanceof QuicError;
}
