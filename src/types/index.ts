export * from "./constants.ts";
export * from "./event.ts";
export * from "./lock.ts";
export * from "./tx.ts";
export * from "./mint.ts";
export * from "./evidence.ts";
export * from "./payload.ts";
