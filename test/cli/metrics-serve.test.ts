// `phantom P2pMetricsServe` as a real process: hostile HTTP requests get JSON errors and
// leave nothing on stderr (no stack per request).
import { expect, test } from "bun:test";
import { BIN, readUntil } from "../phantom-cli.ts";
import { rawRequest } from "../rpc/raw-http.ts";

test("requests without Host or to unknown paths log no stack", async () => {
  const proc = Bun.spawn([BIN, "P2pMetricsServe", "--addr", "127.0.0.1:0"], { stdout: "pipe", stderr: "pipe" });
  try {
    const line = await readUntil(proc.stdout.getReader(), "metrics_listening");
    const port = Number(new URL(JSON.parse(line.trim().split("\n").at(-1)!).url).port);
    for (let i = 0; i < 5; i++) {
      const health = await rawRequest(port, "GET /health HTTP/1.0\r\n\r\n");
      expect(health.status).toBe(200);
      const missing = await rawRequest(port, `GET /x${i} HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n`);
      expect(missing.body).not.toContain("<html");
    }
  } finally {
    proc.kill("SIGTERM");
  }
  expect(await proc.exited).toBe(0);
  expect(await new Response(proc.stderr).text()).toBe("");
}, 30_000);
