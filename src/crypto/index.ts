export * from "./bytes.ts";
export * from "./hash.ts";
export * from "./ed25519.ts";
export * from "./x25519.ts";
export * from "./chacha.ts";
export { powSearch, leadingZeroBits, POW_HEADER_BYTES_MAX, type PowResult, type PowOutcome } from "./pow.ts";
