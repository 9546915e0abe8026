/**
 * How to start this same program again (used by `phantom localnet` for its children):
 * the source checkout (`bun src/cli/main.ts`), the compiled binary, or the compiled
 * binary under a user-mode emulator.
 *
 * Under qemu-user without binfmt_misc (`qemu-aarch64 -L /usr/aarch64-linux-gnu
 * ./phantom-linux-arm64 localnet`), process.execPath is the arm64 binary, which the host
 * kernel cannot execute: every child would fail (exit 127). qemu-user fakes
 * /proc/self/exe and /proc/self/cmdline for the program it runs, but not the same files
 * under /proc/self/task/<pid>/ (the main thread's id is the pid): those name the
 * emulator and its real arguments. When that executable is not our own, the children
 * are started with the emulator's arguments up to and including our binary, exactly as
 * we were (the emulator's QEMU_* environment is inherited as it is).
 */
import { readFileSync, readlinkSync, realpathSync } from "node:fs";
import { resolve } from "node:path";

/** What the kernel says is running this process: its executable and its argv. */
export interface ProcessImage {
  exe: string;
  argv: string[];
  cwd: string;
}

/** The real image from /proc/self/task/<pid>/ (Linux), or null where there is none. */
export function readProcessImage(pid = process.pid): ProcessImage | null {
  try {
    const base = `/proc/self/task/${pid}`;
    const exe = readlinkSync(`${base}/exe`);
    const argv = readFileSync(`${base}/cmdline`, "latin1").split("\0");
    if (argv.at(-1) === "") argv.pop();
    return { exe, argv, cwd: readlinkSync(`${base}/cwd`) };
  } catch {
    return null; // not Linux, or /proc not mounted: run children directly
  }
}

function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * The emulator command that runs `execPath` (e.g. ["/usr/bin/qemu-aarch64", "-L",
 * "/usr/aarch64-linux-gnu", "/abs/phantom-linux-arm64"]), or null when `image` shows
 * this process runs natively or the binary cannot be found among the emulator's
 * arguments (then the children are started directly, as before).
 */
export function emulatorPrefix(execPath: string, image: ProcessImage | null): string[] | null {
  if (image === null) return null;
  const self = canonical(execPath);
  if (canonical(image.exe) === self) return null;
  for (let i = 1; i < image.argv.length; i++) {
    if (canonical(resolve(image.cwd, image.argv[i]!)) === self) return [image.exe, ...image.argv.slice(1, i), execPath];
  }
  return null;
}

/** The command line that starts this same program again; arguments follow it. */
export function selfCommand(main = Bun.main, execPath = process.execPath, image: () => ProcessImage | null = readProcessImage): string[] {
  if (main.endsWith(".ts")) return [execPath, main];
  return emulatorPrefix(execPath, image()) ?? [execPath];
}
