// Replaced by scripts/build-release with an embedded-file import of the target's
// libphantom, so a compiled binary carries its native library. In a source checkout
// the library is found under native/out/ instead.
export const embeddedLibPath: string | null = null;
