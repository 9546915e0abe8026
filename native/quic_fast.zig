//! The hardware-AES build of quic_crypto.zig: build.zig compiles this root with the
//! target's AES and carry-less-multiply CPU features switched on, so std.crypto
//! selects AES-NI/PCLMULQDQ (x86-64) or the ARMv8 crypto extensions. phantom.zig
//! calls these only after it has checked at run time that the CPU has them; they
//! are hidden, so nothing outside libphantom can reach them without that check.
const q = @import("quic_crypto.zig");

comptime {
    @export(&hardware, .{ .name = "phq_fast_hardware", .visibility = .hidden });
    @export(&sealBatch, .{ .name = "phq_fast_seal_batch", .visibility = .hidden });
    @export(&openBatch, .{ .name = "phq_fast_open_batch", .visibility = .hidden });
    @export(&aesSeal, .{ .name = "phq_fast_aes128gcm_seal", .visibility = .hidden });
    @export(&aesOpen, .{ .name = "phq_fast_aes128gcm_open", .visibility = .hidden });
    @export(&hpMask, .{ .name = "phq_fast_hp_mask", .visibility = .hidden });
}

fn hardware() callconv(.c) u32 {
    return @intFromBool(q.hardware_aes);
}

fn sealBatch(suite: u32, material: [*]const u8, buf: [*]u8, buf_len: usize, n: u32, descs: [*]const u32) callconv(.c) i32 {
    return q.sealBatch(suite, material, buf, buf_len, n, descs);
}

fn openBatch(suite: u32, material: [*]const u8, buf: [*]const u8, buf_len: usize, n: u32, descs: [*]u32, out: [*]u8, out_len: usize) callconv(.c) i32 {
    return q.openBatch(suite, material, buf, buf_len, n, descs, out, out_len);
}

fn aesSeal(out: [*]u8, tag: *[16]u8, msg: [*]const u8, msg_len: usize, ad: [*]const u8, ad_len: usize, nonce: *const [12]u8, key: *const [16]u8) callconv(.c) void {
    q.aes128gcmSeal(out, tag, msg, msg_len, ad, ad_len, nonce, key);
}

fn aesOpen(out: [*]u8, ct: [*]const u8, ct_len: usize, tag: *const [16]u8, ad: [*]const u8, ad_len: usize, nonce: *const [12]u8, key: *const [16]u8) callconv(.c) bool {
    return q.aes128gcmOpen(out, ct, ct_len, tag, ad, ad_len, nonce, key);
}

fn hpMask(suite: u32, hp_key: [*]const u8, sample: *const [16]u8, out: *[5]u8) callconv(.c) i32 {
    return q.hpMask(suite, hp_key, sample, out);
}
