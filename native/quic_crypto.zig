//! QUIC packet protection (RFC 9001 §5): AES-128-GCM payload protection and
//! AES-128-ECB header protection on Zig's std.crypto, ChaCha20-Poly1305 and ChaCha20
//! header protection on libsodium, whole packets per call.
//!
//! This file is compiled twice (see build.zig): once for the target's baseline CPU
//! (std's software AES) into libphantom itself, and
//! once with the CPU's AES/carry-less-multiply features enabled into a separate
//! object (native/quic_fast.zig) that phantom.zig calls only after checking at
//! run time that the CPU has them. std.crypto picks AES-NI+PCLMULQDQ (x86-64, with
//! AVX) or the ARMv8 crypto extensions at compile time, so the feature set of the
//! compilation decides which implementation is used.
//!
//! Layout conventions (mirrored in src/net/quic/packet-protection.ts):
//! - key material: key || iv(12) || hp key; key and hp key are 16 bytes
//!   (AES-128-GCM) or 32 bytes (ChaCha20-Poly1305).
//! - seal descriptor, 6 u32 per packet: offset, header_len, payload_len, pn_len,
//!   pn_lo, pn_hi. buf[offset..] holds header || plaintext || 16 bytes of room;
//!   it is sealed in place and header protection is applied. The header's last
//!   pn_len bytes must be the packet number's low bytes (checked).
//! - open descriptor, 10 u32 per packet: in: offset, packet_len, pn_offset,
//!   expected_pn_lo, expected_pn_hi (largest received + 1), out_offset;
//!   out: status, first_byte (unprotected), pn_lo, pn_hi. The packet is not
//!   modified; plaintext goes to out[out_offset..].
const std = @import("std");
const crypto = std.crypto;
const mem = std.mem;
const Aes128 = crypto.core.aes.Aes128;
const AesCtx = crypto.core.aes.AesEncryptCtx(Aes128);
const Ghash = crypto.onetimeauth.Ghash;

// ChaCha20-Poly1305 comes from libsodium (linked into libphantom), whose SSSE3/AVX2
// code is chosen at run time: about twice as fast as std's ChaCha20 on the baseline
// x86-64 build in crypto.bench (it has no CPU-feature split like AES needs).
extern fn crypto_aead_chacha20poly1305_ietf_encrypt_detached(c: [*]u8, mac: *[16]u8, maclen_p: ?*c_ulonglong, m: [*]const u8, mlen: c_ulonglong, ad: [*]const u8, adlen: c_ulonglong, nsec: ?*const u8, npub: *const [12]u8, k: *const [32]u8) c_int;
extern fn crypto_aead_chacha20poly1305_ietf_decrypt_detached(m: [*]u8, nsec: ?*u8, c: [*]const u8, clen: c_ulonglong, mac: *const [16]u8, ad: [*]const u8, adlen: c_ulonglong, npub: *const [12]u8, k: *const [32]u8) c_int;
extern fn crypto_stream_chacha20_ietf_xor_ic(c: [*]u8, m: [*]const u8, mlen: c_ulonglong, n: *const [12]u8, ic: u32, k: *const [32]u8) c_int;

pub const hardware_aes = crypto.core.aes.has_hardware_support;

pub const SUITE_AES_128_GCM: u32 = 0x1301;
pub const SUITE_CHACHA20_POLY1305: u32 = 0x1303;

pub const OK: i32 = 0;
pub const ERR_ARG: i32 = -1;
pub const ERR_CRYPTO: i32 = -2;

/// Per-packet open status (descriptor word 6).
pub const OPEN_OK: u32 = 0;
pub const OPEN_AUTH_FAILED: u32 = 1;
pub const OPEN_TOO_SHORT: u32 = 2;
pub const OPEN_BAD_ARG: u32 = 3;

pub const SEAL_DESC_WORDS = 6;
pub const OPEN_DESC_WORDS = 10;
const TAG = 16;
const SAMPLE = 16;

const Gcm = struct {
    aes: AesCtx,
    /// GHASH keyed with H, powers of H precomputed: copied per packet, so a batch
    /// under one key computes them once.
    mac: Ghash,

    fn init(key: [16]u8) Gcm {
        const aes = Aes128.initEnc(key);
        var h: [16]u8 = undefined;
        aes.encrypt(&h, &([_]u8{0} ** 16));
        return .{ .aes = aes, .mac = Ghash.init(&h) };
    }

    /// GCM (NIST SP 800-38D) over a pre-expanded key: std's AesGcm re-expands the key
    /// on every call, which a batch of packets under one key need not pay.
    /// `c` may be `m` (in place).
    fn seal(self: *const Gcm, c: []u8, tag: *[16]u8, m: []const u8, ad: []const u8, npub: [12]u8) void {
        var j: [16]u8 = undefined;
        j[0..12].* = npub;
        mem.writeInt(u32, j[12..16], 2, .big);
        crypto.core.modes.ctr(AesCtx, self.aes, c, m, j, .big);
        self.tagOf(tag, c, ad, npub);
    }

    /// Verifies before decrypting; `m` is untouched on failure.
    fn open(self: *const Gcm, m: []u8, c: []const u8, tag: [16]u8, ad: []const u8, npub: [12]u8) bool {
        var computed: [16]u8 = undefined;
        self.tagOf(&computed, c, ad, npub);
        if (!crypto.timing_safe.eql([16]u8, computed, tag)) return false;
        var j: [16]u8 = undefined;
        j[0..12].* = npub;
        mem.writeInt(u32, j[12..16], 2, .big);
        crypto.core.modes.ctr(AesCtx, self.aes, m, c, j, .big);
        return true;
    }

    fn tagOf(self: *const Gcm, tag: *[16]u8, c: []const u8, ad: []const u8, npub: [12]u8) void {
        var j: [16]u8 = undefined;
        j[0..12].* = npub;
        mem.writeInt(u32, j[12..16], 1, .big);
        var t: [16]u8 = undefined;
        self.aes.encrypt(&t, &j);
        var mac = self.mac;
        mac.update(ad);
        mac.pad();
        mac.update(c);
        mac.pad();
        var lens: [16]u8 = undefined;
        mem.writeInt(u64, lens[0..8], @as(u64, ad.len) * 8, .big);
        mem.writeInt(u64, lens[8..16], @as(u64, c.len) * 8, .big);
        mac.update(&lens);
        mac.final(tag);
        for (tag, t) |*x, y| x.* ^= y;
    }
};

pub const Keys = union(enum) {
    aes: struct { gcm: Gcm, iv: [12]u8, hp: AesCtx },
    chacha: struct { key: [32]u8, iv: [12]u8, hp: [32]u8 },

    pub fn init(suite: u32, material: [*]const u8) ?Keys {
        return switch (suite) {
            SUITE_AES_128_GCM => .{ .aes = .{ .gcm = Gcm.init(material[0..16].*), .iv = material[16..28].*, .hp = Aes128.initEnc(material[28..44].*) } },
            SUITE_CHACHA20_POLY1305 => .{ .chacha = .{ .key = material[0..32].*, .iv = material[32..44].*, .hp = material[44..76].* } },
            else => null,
        };
    }

    fn iv(self: *const Keys) [12]u8 {
        return switch (self.*) {
            .aes => |k| k.iv,
            .chacha => |k| k.iv,
        };
    }

    /// RFC 9001 §5.3: the IV XOR the packet number, left-padded to 12 bytes.
    fn nonce(self: *const Keys, pn: u64) [12]u8 {
        var n = self.iv();
        const tail = mem.readInt(u64, n[4..12], .big) ^ pn;
        mem.writeInt(u64, n[4..12], tail, .big);
        return n;
    }

    pub fn seal(self: *const Keys, c: []u8, tag: *[16]u8, m: []const u8, ad: []const u8, pn: u64) void {
        const npub = self.nonce(pn);
        switch (self.*) {
            .aes => |*k| k.gcm.seal(c, tag, m, ad, npub),
            // libsodium allows c == m.
            .chacha => |*k| _ = crypto_aead_chacha20poly1305_ietf_encrypt_detached(c.ptr, tag, null, m.ptr, m.len, ad.ptr, ad.len, null, &npub, &k.key),
        }
    }

    pub fn open(self: *const Keys, m: []u8, c: []const u8, tag: [16]u8, ad: []const u8, pn: u64) bool {
        const npub = self.nonce(pn);
        return switch (self.*) {
            .aes => |*k| k.gcm.open(m, c, tag, ad, npub),
            // libsodium verifies the tag before it writes `m`.
            .chacha => |*k| crypto_aead_chacha20poly1305_ietf_decrypt_detached(m.ptr, null, c.ptr, c.len, &tag, ad.ptr, ad.len, &npub, &k.key) == 0,
        };
    }

    /// RFC 9001 §5.4.3 / §5.4.4: the 5-byte header protection mask for a 16-byte sample.
    pub fn mask(self: *const Keys, sample: *const [16]u8) [5]u8 {
        switch (self.*) {
            .aes => |*k| {
                var out: [16]u8 = undefined;
                k.hp.encrypt(&out, sample);
                return out[0..5].*;
            },
            .chacha => |*k| {
                var out = [_]u8{0} ** 5;
                const counter = mem.readInt(u32, sample[0..4], .little);
                // 5 bytes from any 32-bit counter stay within the counter's range.
                _ = crypto_stream_chacha20_ietf_xor_ic(&out, &out, out.len, sample[4..16], counter, &k.hp);
                return out;
            },
        }
    }
};

/// Single-shot AES-128-GCM with a 12-byte nonce (Retry integrity tag, benchmarks).
pub fn aes128gcmSeal(out: [*]u8, tag: *[16]u8, msg: [*]const u8, msg_len: usize, ad: [*]const u8, ad_len: usize, nonce: *const [12]u8, key: *const [16]u8) void {
    const g = Gcm.init(key.*);
    g.seal(out[0..msg_len], tag, msg[0..msg_len], ad[0..ad_len], nonce.*);
}

pub fn aes128gcmOpen(out: [*]u8, ct: [*]const u8, ct_len: usize, tag: *const [16]u8, ad: [*]const u8, ad_len: usize, nonce: *const [12]u8, key: *const [16]u8) bool {
    const g = Gcm.init(key.*);
    return g.open(out[0..ct_len], ct[0..ct_len], tag.*, ad[0..ad_len], nonce.*);
}

pub fn hpMask(suite: u32, hp_key: [*]const u8, sample: *const [16]u8, out: *[5]u8) i32 {
    // Only the hp part of the key material matters; build a Keys with it.
    var material = [_]u8{0} ** 76;
    switch (suite) {
        SUITE_AES_128_GCM => @memcpy(material[28..44], hp_key[0..16]),
        SUITE_CHACHA20_POLY1305 => @memcpy(material[44..76], hp_key[0..32]),
        else => return ERR_ARG,
    }
    const keys = Keys.init(suite, &material) orelse return ERR_ARG;
    out.* = keys.mask(sample);
    return OK;
}

/// Seals n packets in place (see the descriptor layout above). All descriptors are
/// checked before anything is written, so a bad batch leaves `buf` untouched.
pub fn sealBatch(suite: u32, material: [*]const u8, buf: [*]u8, buf_len: usize, n: u32, descs: [*]const u32) i32 {
    const keys = Keys.init(suite, material) orelse return ERR_ARG;
    var i: usize = 0;
    while (i < n) : (i += 1) {
        const d = descs[i * SEAL_DESC_WORDS ..][0..SEAL_DESC_WORDS];
        const offset: usize = d[0];
        const header_len: usize = d[1];
        const payload_len: usize = d[2];
        const pn_len: usize = d[3];
        if (pn_len < 1 or pn_len > 4 or header_len < pn_len + 1) return ERR_ARG;
        if (offset + header_len + payload_len + TAG > buf_len) return ERR_ARG;
        // The sample (RFC 9001 §5.4.2) must lie inside the protected payload.
        if (payload_len + pn_len < 4) return ERR_ARG;
        if (d[5] >= (1 << 30)) return ERR_ARG; // packet numbers are below 2^62
        // The header must carry the packet number the nonce is made from (its low bytes).
        var truncated: u32 = 0;
        for (buf[offset + header_len - pn_len .. offset + header_len]) |b| truncated = (truncated << 8) | b;
        const low_mask: u32 = if (pn_len == 4) 0xffff_ffff else (@as(u32, 1) << @intCast(8 * pn_len)) - 1;
        if (truncated != d[4] & low_mask) return ERR_ARG;
    }
    i = 0;
    while (i < n) : (i += 1) {
        const d = descs[i * SEAL_DESC_WORDS ..][0..SEAL_DESC_WORDS];
        const p = buf + d[0];
        const header_len: usize = d[1];
        const payload_len: usize = d[2];
        const pn_len: usize = d[3];
        const pn = @as(u64, d[4]) | (@as(u64, d[5]) << 32);
        const body = p[header_len .. header_len + payload_len];
        keys.seal(body, p[header_len + payload_len ..][0..TAG], body, p[0..header_len], pn);
        const pn_offset = header_len - pn_len;
        const m = keys.mask(p[pn_offset + 4 ..][0..SAMPLE]);
        p[0] ^= m[0] & @as(u8, if (p[0] & 0x80 != 0) 0x0f else 0x1f);
        for (0..pn_len) |k| p[pn_offset + k] ^= m[1 + k];
    }
    return OK;
}

/// RFC 9000 Appendix A.3, in u64 arithmetic; `expected` is the largest received + 1.
pub fn decodePn(expected: u64, truncated: u64, bits: u6) u64 {
    const win: u64 = @as(u64, 1) << bits;
    const hwin = win / 2;
    const candidate = (expected & ~(win - 1)) | truncated;
    if (candidate + hwin <= expected and candidate < (@as(u64, 1) << 62) - win) return candidate + win;
    if (candidate > expected + hwin and candidate >= win) return candidate - win;
    return candidate;
}

const header_stack_bytes = 512;

fn openOne(keys: *const Keys, buf: [*]const u8, buf_len: usize, d: *[OPEN_DESC_WORDS]u32, out: [*]u8, out_len: usize) u32 {
    const offset: usize = d[0];
    const packet_len: usize = d[1];
    const pn_offset: usize = d[2];
    const expected = @as(u64, d[3]) | (@as(u64, d[4]) << 32);
    const out_offset: usize = d[5];
    if (offset + packet_len > buf_len or pn_offset == 0) return OPEN_BAD_ARG;
    if (packet_len < pn_offset + 4 + SAMPLE) return OPEN_TOO_SHORT;
    const p = buf + offset;
    const m = keys.mask(p[pn_offset + 4 ..][0..SAMPLE]);
    const first = p[0] ^ (m[0] & @as(u8, if (p[0] & 0x80 != 0) 0x0f else 0x1f));
    const pn_len: usize = (first & 3) + 1;
    const header_len = pn_offset + pn_len;
    if (packet_len < header_len + TAG) return OPEN_TOO_SHORT;
    const ct_len = packet_len - header_len - TAG;
    if (out_offset + ct_len > out_len) return OPEN_BAD_ARG;
    // The AAD is the unprotected header: rebuild it beside the packet (the packet
    // itself stays intact so that a failed trial with other keys can be retried).
    var stack: [header_stack_bytes]u8 = undefined;
    const heap = header_len > header_stack_bytes;
    const header: []u8 = if (heap) (std.heap.c_allocator.alloc(u8, header_len) catch return OPEN_BAD_ARG) else stack[0..header_len];
    defer if (heap) std.heap.c_allocator.free(header);
    @memcpy(header, p[0..header_len]);
    header[0] = first;
    var truncated: u64 = 0;
    for (0..pn_len) |k| {
        header[pn_offset + k] ^= m[1 + k];
        truncated = (truncated << 8) | header[pn_offset + k];
    }
    const pn = decodePn(expected, truncated, @intCast(pn_len * 8));
    d[7] = first;
    d[8] = @truncate(pn);
    d[9] = @truncate(pn >> 32);
    const ok = keys.open(out[out_offset..][0..ct_len], p[header_len..][0..ct_len], p[header_len + ct_len ..][0..TAG].*, header, pn);
    return if (ok) OPEN_OK else OPEN_AUTH_FAILED;
}

/// Removes header protection from and decrypts n packets (descriptor layout above).
/// Returns how many opened, or ERR_ARG for an unknown suite.
pub fn openBatch(suite: u32, material: [*]const u8, buf: [*]const u8, buf_len: usize, n: u32, descs: [*]u32, out: [*]u8, out_len: usize) i32 {
    const keys = Keys.init(suite, material) orelse return ERR_ARG;
    var opened: i32 = 0;
    var i: usize = 0;
    while (i < n) : (i += 1) {
        const d = descs[i * OPEN_DESC_WORDS ..][0..OPEN_DESC_WORDS];
        d[6] = openOne(&keys, buf, buf_len, d, out, out_len);
        if (d[6] == OPEN_OK) opened += 1;
    }
    return opened;
}

test "decode packet number (RFC 9000 A.3 example)" {
    try std.testing.expectEqual(@as(u64, 0xa82f9b32), decodePn(0xa82f30ea + 1, 0x9b32, 16));
}
