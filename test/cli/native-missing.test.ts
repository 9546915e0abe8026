// A node whose native library cannot be loaded says so in one typed line, not a stack trace.
import { expect, test } from "bun:test";
import { join } from "node:path";

test("an unloadable libphantom is one typed error line and exit code 2", () => {
  const bin = join(import.meta.dir, "..", "..", "bin", "phantom");
  const p = Bun.spawnSync([bin, "selftest"], { env: { ...process.env, PHANTOM_LIB: "/nonexistent/libphantom.so" }, stdout: "pipe", stderr: "pipe" });
  expect(p.exitCode).toBe(2);
  const lines = p.stderr.toString().trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toStartWith("error [NATIVE_LIBRARY_UNLOADABLE]: cannot load libphantom from /nonexistent/libphantom.so");
});
