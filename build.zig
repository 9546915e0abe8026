//! Builds libphantom: BLAKE3 (official C implementation, SIMD dispatch), libsodium
//! (Ed25519, X25519, ChaCha20-Poly1305) and our Zig glue (batch verify, PoW search).
//! Third-party sources are passed in by path (scripts/build-native fetches them);
//! nothing third-party lives in this repository.
const std = @import("std");

pub fn build(b: *std.Build) void {
    const target = b.standardTargetOptions(.{});
    const optimize = b.standardOptimizeOption(.{});
    const blake3_dir = b.option([]const u8, "blake3", "Directory with BLAKE3's C sources (the crate's c/ folder)") orelse
        @panic("-Dblake3=<dir> is required (scripts/build-native passes it)");
    const sodium_dir = b.option([]const u8, "sodium", "Install prefix of a static libsodium for this target") orelse
        @panic("-Dsodium=<prefix> is required (scripts/build-native passes it)");

    const mod = b.createModule(.{
        .root_source_file = b.path("native/phantom.zig"),
        .target = target,
        .optimize = optimize,
        .link_libc = true,
    });
    mod.addIncludePath(.{ .cwd_relative = blake3_dir });
    mod.addIncludePath(.{ .cwd_relative = b.fmt("{s}/include", .{sodium_dir}) });
    mod.addObjectFile(.{ .cwd_relative = b.fmt("{s}/lib/libsodium.a", .{sodium_dir}) });

    const c_flags = &.{ "-O3", "-fno-sanitize=undefined" };
    mod.addCSourceFiles(.{
        .root = .{ .cwd_relative = blake3_dir },
        .files = &.{ "blake3.c", "blake3_dispatch.c", "blake3_portable.c" },
        .flags = c_flags,
    });
    switch (target.result.cpu.arch) {
        .x86_64 => mod.addCSourceFiles(.{
            .root = .{ .cwd_relative = blake3_dir },
            .files = &.{
                "blake3_sse2_x86-64_unix.S",   "blake3_sse41_x86-64_unix.S",
                "blake3_avx2_x86-64_unix.S",   "blake3_avx512_x86-64_unix.S",
            },
            .flags = &.{},
        }),
        .aarch64 => {
            mod.addCSourceFiles(.{
                .root = .{ .cwd_relative = blake3_dir },
                .files = &.{"blake3_neon.c"},
                .flags = c_flags,
            });
            mod.addCMacro("BLAKE3_USE_NEON", "1");
        },
        else => {
            // Portable only: no SIMD for other architectures.
            mod.addCMacro("BLAKE3_NO_SSE2", "1");
            mod.addCMacro("BLAKE3_NO_SSE41", "1");
            mod.addCMacro("BLAKE3_NO_AVX2", "1");
            mod.addCMacro("BLAKE3_NO_AVX512", "1");
        },
    }

    // QUIC packet protection, second build with hardware AES (native/quic_crypto.zig
    // explains the split): the release targets' baseline CPUs (x86-64, generic ARMv8)
    // lack AES instructions, so std.crypto would otherwise use software AES there.
    // phantom.zig enters this object only after a CPUID / HWCAP check.
    switch (target.result.cpu.arch) {
        .x86_64, .aarch64 => {
            var q = target.query;
            switch (target.result.cpu.arch) {
                .x86_64 => {
                    // std's AES-NI and PCLMULQDQ code paths also require AVX.
                    q.cpu_features_add.addFeature(@intFromEnum(std.Target.x86.Feature.aes));
                    q.cpu_features_add.addFeature(@intFromEnum(std.Target.x86.Feature.pclmul));
                    q.cpu_features_add.addFeature(@intFromEnum(std.Target.x86.Feature.avx));
                },
                else => q.cpu_features_add.addFeature(@intFromEnum(std.Target.aarch64.Feature.aes)),
            }
            const fast = b.addObject(.{ .name = "quic_fast", .root_module = b.createModule(.{
                .root_source_file = b.path("native/quic_fast.zig"),
                .target = b.resolveTargetQuery(q),
                .optimize = optimize,
                .pic = true,
                .link_libc = true,
            }) });
            mod.addObject(fast);
        },
        else => {},
    }

    const lib = b.addLibrary(.{ .linkage = .dynamic, .name = "phantom", .root_module = mod });
    b.installArtifact(lib);
}
