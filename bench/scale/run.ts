/**
 * `bun run scale`: measures the inputs (measure.ts), records them in bench/scale/inputs.json
 * and writes docs/SCALING.md (report.ts). `--render-only` rewrites the doc from the recorded
 * inputs without measuring.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { measure } from "./measure.ts";
import { render } from "./report.ts";
import type { MeasuredInputs } from "./model.ts";

const INPUTS = join(import.meta.dir, "inputs.json");
const DOC = join(import.meta.dir, "..", "..", "docs", "SCALING.md");

const inputs: MeasuredInputs = process.argv.includes("--render-only")
  ? (JSON.parse(readFileSync(INPUTS, "utf8")) as MeasuredInputs)
  : await measure();
if (!process.argv.includes("--render-only")) writeFileSync(INPUTS, JSON.stringify(inputs, null, 2) + "\n");
writeFileSync(DOC, render(inputs));
console.log(JSON.stringify({ type: "scaling_written", doc: DOC, inputs: INPUTS }));
