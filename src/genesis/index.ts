export * from "./genesis.ts";
export * from "./emission-schedule.ts";
export { createGenesis, type CreatedGenesis } from "./create.ts";
