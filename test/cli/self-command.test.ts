// How `phantom localnet` starts its children: directly when it runs natively, and through
// the same emulator (with the emulator's own arguments) when it runs under qemu-user.
// The qemu case end to end (the arm64 binary's localnet finalizing under qemu) is in
// scripts/check-arm64, run by test/release/release.test.ts.
import { describe, expect, test, afterAll } from "bun:test";
import { mkdtempSync, writeFileSync, symlinkSync, rmSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emulatorPrefix, readProcessImage, selfCommand } from "../../src/cli/self-command.ts";

const dir = mkdtempSync(join(tmpdir(), "phantom-self-"));
const binary = join(dir, "phantom-linux-arm64");
const qemu = join(dir, "qemu-aarch64");
writeFileSync(binary, "");
writeFileSync(qemu, "");
symlinkSync(binary, join(dir, "phantom"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("emulatorPrefix", () => {
  test("under qemu: the emulator, its options and our binary, found by a relative path", () => {
    const image = { exe: qemu, argv: ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu", "./phantom-linux-arm64", "localnet", "--fresh"], cwd: dir };
    expect(emulatorPrefix(binary, image)).toEqual([qemu, "-L", "/usr/aarch64-linux-gnu", binary]);
  });

  test("the binary named through a symlink is still ours", () => {
    const image = { exe: qemu, argv: ["qemu-aarch64", join(dir, "phantom"), "localnet"], cwd: "/" };
    expect(emulatorPrefix(binary, image)).toEqual([qemu, binary]);
  });

  test("native, unknown or unreadable: start children directly", () => {
    expect(emulatorPrefix(binary, { exe: binary, argv: [binary, "localnet"], cwd: dir })).toBeNull();
    expect(emulatorPrefix(binary, { exe: join(dir, "phantom"), argv: ["phantom", "localnet"], cwd: dir })).toBeNull();
    // An emulator whose arguments do not name our binary: nothing to copy.
    expect(emulatorPrefix(binary, { exe: qemu, argv: ["qemu-aarch64", "/elsewhere/phantom", "localnet"], cwd: dir })).toBeNull();
    expect(emulatorPrefix(binary, null)).toBeNull();
  });
});

describe.skipIf(process.platform !== "linux")("this process", () => {
  test("the kernel's image of a native process is its own executable", () => {
    const image = readProcessImage();
    expect(image).not.toBeNull();
    expect(realpathSync(image!.exe)).toBe(realpathSync(process.execPath));
    expect(image!.cwd).toBe(realpathSync(process.cwd()));
    expect(emulatorPrefix(process.execPath, image)).toBeNull();
  });

  test("selfCommand: source checkout runs bun with main.ts; a native binary runs itself", () => {
    expect(selfCommand("/repo/src/cli/main.ts", process.execPath)).toEqual([process.execPath, "/repo/src/cli/main.ts"]);
    expect(selfCommand("/$bunfs/root/phantom", process.execPath)).toEqual([process.execPath]);
    const underQemu = () => ({ exe: qemu, argv: ["qemu-aarch64", "-L", "/sysroot", binary, "localnet"], cwd: dir });
    expect(selfCommand("/$bunfs/root/phantom", binary, underQemu)).toEqual([qemu, "-L", "/sysroot", binary]);
  });
});
