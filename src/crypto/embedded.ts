// In a source checkout this is null and native.ts finds libphantom under native/out/.
// Release builds never edit this file: scripts/compile-release.ts (run by
// scripts/build-release) swaps this module, inside the bundle only, for
//   import lib from "<native/out/<target>/lib/libphantom.so>" with { type: "file" };
//   export const embeddedLibPath: string | null = lib;
// so the compiled binary carries its own libphantom and dlopens it at run time.
export const embeddedLibPath: string | null = null;
