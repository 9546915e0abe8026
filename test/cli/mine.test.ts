// `phantom mine` as an operator runs it: it waits for a node that is not up yet and
// stops cleanly on SIGINT; a bad address is a typed error before anything starts.
import { expect, test } from "bun:test";
import { BIN, readUntil, runPhantom } from "../phantom-cli.ts";
import { accountFromSeed } from "../../src/wallet/keys.ts";

const address = accountFromSeed(new Uint8Array(32).fill(3)).address;

test("mine waits for an unreachable node and stops cleanly on SIGINT", async () => {
  const proc = Bun.spawn([BIN, "mine", "--rpc", "http://127.0.0.1:9", "--to", address, "--threads", "1"], { stdout: "pipe", stderr: "pipe" });
  // Waiting and stopping are log lines on stdout; stderr (errors only) stays empty.
  const reader = proc.stdout.getReader();
  expect(await readUntil(reader, "not reachable yet")).toContain('"type":"miner_waiting"');
  proc.kill("SIGINT");
  expect(await proc.exited).toBe(0);
  expect(await readUntil(reader)).toContain("miner stopped after 0 accepted mints");
  expect(await new Response(proc.stderr).text()).toBe("");
});

test("a bad reward address is a typed error", () => {
  const r = runPhantom(["mine", "--rpc", "http://127.0.0.1:9", "--to", "pc1notanaddress"]);
  expect(r.code).toBe(2);
  expect(r.err).toMatch(/^error \[ADDRESS_INVALID\]/);
});
