/**
 * The one dlopen table for libphantom. Everything else in src/crypto wraps these
 * symbols with length checks and owned buffers; nothing outside src/crypto calls
 * them directly.
 */
import { dlopen, FFIType, suffix } from "bun:ffi";
import { existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { PhantomError } from "../errors.ts";
import { embeddedLibPath } from "./embedded.ts";

/** Must match ph_abi_version() in native/phantom.zig. */
export const NATIVE_ABI_VERSION = 3;

const { ptr, u32, u64, usize, i32, void: voidT } = {
  ptr: FFIType.ptr,
  u32: FFIType.u32,
  u64: FFIType.u64,
  usize: FFIType.u64,
  i32: FFIType.i32,
  void: FFIType.void,
};

const symbols = {
  ph_abi_version: { args: [], returns: u32 },
  ph_init: { args: [], returns: i32 },
  ph_blake3: { args: [ptr, usize, ptr, usize], returns: voidT },
  ph_blake3_keyed: { args: [ptr, ptr, usize, ptr, usize], returns: voidT },
  ph_blake3_derive_key: { args: [ptr, usize, ptr, usize, ptr, usize], returns: voidT },
  ph_blake3_batch: { args: [u32, ptr, ptr, ptr], returns: i32 },
  ph_ed25519_seed_keypair: { args: [ptr, ptr, ptr], returns: i32 },
  ph_ed25519_sign: { args: [ptr, ptr, usize, ptr], returns: i32 },
  ph_ed25519_verify: { args: [ptr, ptr, usize, ptr], returns: i32 },
  ph_ed25519_verify_batch: { args: [u32, ptr, ptr, ptr, ptr, ptr, u32], returns: i32 },
  ph_verify_start: { args: [u32, ptr, ptr, ptr, ptr, u32], returns: ptr },
  ph_verify_poll: { args: [ptr], returns: u32 },
  ph_verify_join: { args: [ptr, ptr], returns: i32 },
  ph_x25519: { args: [ptr, ptr, ptr], returns: i32 },
  ph_x25519_base: { args: [ptr, ptr], returns: i32 },
  ph_chacha20poly1305_seal: { args: [ptr, ptr, ptr, usize, ptr, usize, ptr, ptr], returns: i32 },
  ph_chacha20poly1305_open: { args: [ptr, ptr, usize, ptr, ptr, usize, ptr, ptr], returns: i32 },
  ph_chacha20_xor_ic: { args: [ptr, ptr, usize, ptr, u32, ptr], returns: i32 },
  ph_aes128gcm_seal: { args: [ptr, ptr, ptr, usize, ptr, usize, ptr, ptr], returns: i32 },
  ph_aes128gcm_open: { args: [ptr, ptr, usize, ptr, ptr, usize, ptr, ptr], returns: i32 },
  ph_quic_hardware_aes: { args: [], returns: u32 },
  ph_quic_force_portable: { args: [u32], returns: u32 },
  ph_quic_seal_batch: { args: [u32, ptr, ptr, usize, u32, ptr], returns: i32 },
  ph_quic_open_batch: { args: [u32, ptr, ptr, usize, u32, ptr, ptr, usize], returns: i32 },
  ph_quic_hp_mask: { args: [u32, ptr, ptr, ptr], returns: i32 },
  ph_pow_start: { args: [ptr, u32, u32, u32, u64, u64, u32], returns: ptr },
  ph_pow_status: { args: [ptr], returns: u32 },
  ph_pow_cancel: { args: [ptr], returns: voidT },
  ph_pow_join: { args: [ptr, ptr], returns: voidT },
  ph_leading_zero_bits: { args: [ptr], returns: u32 },
} as const;

function hostTarget(): string {
  const arch = process.arch === "arm64" ? "aarch64" : process.arch === "x64" ? "x86_64" : process.arch;
  const os = process.platform === "darwin" ? "macos" : process.platform === "linux" ? "linux-gnu" : process.platform;
  return `${arch}-${os}`;
}

/** Where libphantom is: $PHANTOM_LIB, the copy embedded in a compiled binary, or the source tree's build. */
export function nativeLibraryPath(): string {
  const fromEnv = process.env.PHANTOM_LIB;
  if (fromEnv) return fromEnv;
  if (embeddedLibPath) return embeddedLibPath;
  const root = join(dirname(import.meta.dir), "..");
  const candidate = join(root, "native", "out", hostTarget(), "lib", `libphantom.${suffix}`);
  if (existsSync(candidate)) return candidate;
  throw new PhantomError(
    "NATIVE_LIBRARY_MISSING",
    `libphantom not found at ${candidate}; run scripts/setup (or set PHANTOM_LIB)`,
  );
}

function open() {
  const path = nativeLibraryPath();
  let lib: ReturnType<typeof dlopen<typeof symbols>>;
  try {
    lib = dlopen(path, symbols);
  } catch (e) {
    throw new PhantomError("NATIVE_LIBRARY_UNLOADABLE", `cannot load libphantom from ${path}: ${(e as Error).message} (rebuild with scripts/setup; a release binary needs a writable, exec-allowed $TMPDIR)`);
  }
  const abi = lib.symbols.ph_abi_version();
  if (abi !== NATIVE_ABI_VERSION) {
    throw new PhantomError("NATIVE_ABI_MISMATCH", `libphantom ABI ${abi}, expected ${NATIVE_ABI_VERSION}; rebuild with scripts/build-native`);
  }
  if (lib.symbols.ph_init() !== 0) throw new PhantomError("NATIVE_INIT_FAILED", "libsodium failed to initialize");
  return lib.symbols;
}

/** The loaded symbol table (opened once, on first import). */
export const native = open();
