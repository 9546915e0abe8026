// The free-space watch (--min_free_disk_mb) asks the real file system: below the reserve it
// throws the same STORE_WRITE_FAILED a refused write gives, with reason DISK_LOW.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkDiskSpace, freeBytes } from "../../src/store/disk-space.ts";
import { isFatal } from "../../src/node/fail-stop.ts";
import { PhantomError } from "../../src/errors.ts";

describe("disk space watch", () => {
  const dir = mkdtempSync(join(tmpdir(), "phantom-disk-"));
  test("reports the free bytes and passes above the reserve", () => {
    const seen: number[] = [];
    checkDiskSpace(dir, 1, (f) => seen.push(f));
    expect(seen.length).toBe(1);
    expect(seen[0]!).toBeGreaterThan(0);
    expect(Math.abs(seen[0]! - freeBytes(dir))).toBeLessThan(1024 ** 3); // the same file system, moments apart
  });
  test("below the reserve: a fatal STORE_WRITE_FAILED with reason DISK_LOW", () => {
    let err: unknown;
    try {
      checkDiskSpace(dir, Number.MAX_SAFE_INTEGER, () => {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PhantomError);
    expect((err as PhantomError).code).toBe("STORE_WRITE_FAILED");
    expect((err as PhantomError).details).toMatchObject({ reason: "DISK_LOW" });
    expect(isFatal(err)).toBe(true);
  });
  test("a directory that cannot be asked is left to SQLite's own refusal", () => {
    let observed = false;
    checkDiskSpace(join(dir, "missing", "deeper"), Number.MAX_SAFE_INTEGER, () => (observed = true));
    expect(observed).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });
});
