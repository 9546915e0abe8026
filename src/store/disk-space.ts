/**
 * Free space of the store's file system, watched on a timer. A write SQLite refuses for
 * lack of space can come long after the disk filled up (SQLite reuses WAL pages it
 * already has), so the node also fail-stops as soon as free space drops below a reserve:
 * one STORE_WRITE_FAILED line and exit 74, before any write is refused half-way.
 */
import { statfsSync } from "node:fs";
import { PhantomError } from "../errors.ts";

/** Bytes available to this process on the file system holding `dir`. */
export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
}

/** The error a low disk fails with (same code and exit status as a refused write). */
export function diskLowError(dir: string, free: number, reserveBytes: number): PhantomError {
  return new PhantomError(
    "STORE_WRITE_FAILED",
    `the store's file system has ${free} bytes free, below the ${reserveBytes}-byte reserve (--min_free_disk_mb); free space under ${dir} and restart`,
    { reason: "DISK_LOW", freeBytes: free, reserveBytes },
  );
}

/**
 * Checks once: records the free bytes (`observe`) and throws diskLowError below the
 * reserve. A file system that cannot be asked (statfs failing) is not an error here:
 * SQLite's own refusal still fail-stops.
 */
export function checkDiskSpace(dir: string, reserveBytes: number, observe: (free: number) => void): void {
  let free: number;
  try {
    free = freeBytes(dir);
  } catch {
    return;
  }
  observe(free);
  if (free < reserveBytes) throw diskLowError(dir, free, reserveBytes);
}
