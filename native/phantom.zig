//! libphantom: the narrow native boundary of the Phantom node.
//!
//! Every export works over caller-owned (pointer, length) buffers and returns a
//! status code (0 = ok, negative = error). Loops are bounded by their arguments.
//! Status codes are mirrored in src/crypto/native.ts.
const std = @import("std");
const c = @cImport({
    @cInclude("blake3.h");
    @cInclude("sodium.h");
});

const OK: i32 = 0;
const ERR_ARG: i32 = -1;
const ERR_CRYPTO: i32 = -2;
const ERR_THREAD: i32 = -3;
const ERR_NOMEM: i32 = -4;

/// Bumped whenever an export changes; the TypeScript loader refuses a mismatch.
export fn ph_abi_version() u32 {
    return 3;
}

/// Must be called once before anything else (libsodium picks its implementations,
/// QUIC packet protection checks for hardware AES).
export fn ph_init() i32 {
    quic_use_fast = quicFastSupported();
    return if (c.sodium_init() < 0) ERR_CRYPTO else OK;
}

// ---------------------------------------------------------------- BLAKE3

export fn ph_blake3(input: [*]const u8, input_len: usize, out: [*]u8, out_len: usize) void {
    var h: c.blake3_hasher = undefined;
    c.blake3_hasher_init(&h);
    c.blake3_hasher_update(&h, input, input_len);
    c.blake3_hasher_finalize(&h, out, out_len);
}

export fn ph_blake3_keyed(key: [*]const u8, input: [*]const u8, input_len: usize, out: [*]u8, out_len: usize) void {
    var h: c.blake3_hasher = undefined;
    c.blake3_hasher_init_keyed(&h, key);
    c.blake3_hasher_update(&h, input, input_len);
    c.blake3_hasher_finalize(&h, out, out_len);
}

export fn ph_blake3_derive_key(context: [*]const u8, context_len: usize, input: [*]const u8, input_len: usize, out: [*]u8, out_len: usize) void {
    var h: c.blake3_hasher = undefined;
    c.blake3_hasher_init_derive_key_raw(&h, context, context_len);
    c.blake3_hasher_update(&h, input, input_len);
    c.blake3_hasher_finalize(&h, out, out_len);
}

/// Hashes n inputs packed back to back in `data`; input i is
/// data[offsets[i] .. offsets[i+1]]. Writes n 32-byte digests to `out`.
/// One call amortizes the FFI overhead over many short inputs.
export fn ph_blake3_batch(n: u32, data: [*]const u8, offsets: [*]const u32, out: [*]u8) i32 {
    var i: usize = 0;
    while (i < n) : (i += 1) {
        const start = offsets[i];
        const end = offsets[i + 1];
        if (end < start) return ERR_ARG;
        ph_blake3(data + start, end - start, out + i * 32, 32);
    }
    return OK;
}

// ---------------------------------------------------------------- Ed25519

export fn ph_ed25519_seed_keypair(seed: [*]const u8, pk_out: [*]u8, sk_out: [*]u8) i32 {
    return if (c.crypto_sign_ed25519_seed_keypair(pk_out, sk_out, seed) == 0) OK else ERR_CRYPTO;
}

export fn ph_ed25519_sign(sk: [*]const u8, msg: [*]const u8, msg_len: usize, sig_out: [*]u8) i32 {
    return if (c.crypto_sign_ed25519_detached(sig_out, null, msg, msg_len, sk) == 0) OK else ERR_CRYPTO;
}

/// Strict verification (libsodium): canonical S, canonical A, A and R not of small
/// order, cofactorless equation. Returns 1 valid, 0 invalid.
export fn ph_ed25519_verify(sig: [*]const u8, msg: [*]const u8, msg_len: usize, pk: [*]const u8) i32 {
    return if (c.crypto_sign_ed25519_verify_detached(sig, msg, msg_len, pk) == 0) 1 else 0;
}

const VerifyJob = struct {
    msgs: [*]const u8,
    offsets: [*]const u32,
    sigs: [*]const u8,
    pks: [*]const u8,
    out_valid: [*]u8,
    next: std.atomic.Value(u32),
    n: u32,
};

// Work is handed out in small chunks from a shared counter so that threads stay
// busy even when messages differ in length.
const verify_chunk: u32 = 16;

fn verifyRange(job: *VerifyJob, start: u32, end: u32) void {
    var i = start;
    while (i < end) : (i += 1) {
        const a = job.offsets[i];
        const b = job.offsets[i + 1];
        const ok = b >= a and ph_ed25519_verify(job.sigs + @as(usize, i) * 64, job.msgs + a, b - a, job.pks + @as(usize, i) * 32) == 1;
        job.out_valid[i] = if (ok) 1 else 0;
    }
}

fn verifyWorker(job: *VerifyJob) void {
    while (true) {
        const start = job.next.fetchAdd(verify_chunk, .monotonic);
        if (start >= job.n) return;
        verifyRange(job, start, @min(start + verify_chunk, job.n));
    }
}

const threads_max: u32 = 64;

/// Verifies n signatures on `threads` threads (the caller's included).
/// out_valid[i] = 1 when signature i is valid, else 0: exactly the single verify's
/// answer for that item. Returns the number of valid signatures, or a negative code.
export fn ph_ed25519_verify_batch(n: u32, msgs: [*]const u8, offsets: [*]const u32, sigs: [*]const u8, pks: [*]const u8, out_valid: [*]u8, threads: u32) i32 {
    if (threads == 0 or threads > threads_max) return ERR_ARG;
    var job = VerifyJob{ .msgs = msgs, .offsets = offsets, .sigs = sigs, .pks = pks, .out_valid = out_valid, .next = std.atomic.Value(u32).init(0), .n = n };
    const helpers = @min(threads - 1, n / verify_chunk);
    var handles: [threads_max]std.Thread = undefined;
    var spawned: u32 = 0;
    while (spawned < helpers) : (spawned += 1) {
        handles[spawned] = std.Thread.spawn(.{}, verifyWorker, .{&job}) catch break;
    }
    verifyWorker(&job);
    for (handles[0..spawned]) |t| t.join();
    var valid: i32 = 0;
    for (out_valid[0..n]) |v| valid += v;
    return valid;
}

// ---------------------------------------------------------------- Ed25519, asynchronous batches
//
// ph_verify_start hands a batch to a small persistent pool of native threads and
// returns at once, so the caller's (JavaScript) thread keeps working; it polls
// ph_verify_poll and collects the answers with ph_verify_join, which frees the batch.
// The answers are exactly ph_ed25519_verify_batch's (the same verifyRange per item).
// Batches are served first in, first out; every idle pool thread joins the batch at
// the head of the queue, taking chunks of verify_chunk items from its counter.

const AsyncVerify = struct {
    job: VerifyJob,
    /// Owned copies of the caller's inputs (the job points into them) and the answers.
    offsets: []u32,
    bytes: []u8,
    finished: std.atomic.Value(u32),
    done: std.atomic.Value(u32),
    /// Pool threads inside this batch; the batch is freed only once none is (guarded by pool.mutex).
    active: u32,
    next: ?*AsyncVerify,
};

const VerifyPool = struct {
    mutex: std.Thread.Mutex = .{},
    /// Signalled when a batch is queued.
    work: std.Thread.Condition = .{},
    /// Signalled when the last thread leaves a batch (ph_verify_join waits for it).
    idle: std.Thread.Condition = .{},
    head: ?*AsyncVerify = null,
    tail: ?*AsyncVerify = null,
    /// Threads started so far; they live as long as the process. Never above threads_max.
    threads: u32 = 0,
};

var verify_pool: VerifyPool = .{};

fn runAsyncBatch(b: *AsyncVerify) void {
    while (true) {
        const start = b.job.next.fetchAdd(verify_chunk, .monotonic);
        if (start >= b.job.n) return;
        const end = @min(start + verify_chunk, b.job.n);
        verifyRange(&b.job, start, end);
        // Release: the answers written above are visible to whoever sees `done`.
        if (b.finished.fetchAdd(end - start, .acq_rel) + (end - start) == b.job.n) b.done.store(1, .release);
    }
}

fn verifyPoolThread() void {
    const p = &verify_pool;
    p.mutex.lock();
    while (true) {
        while (p.head == null) p.work.wait(&p.mutex);
        const b = p.head.?;
        b.active += 1;
        p.mutex.unlock();
        runAsyncBatch(b);
        p.mutex.lock();
        // Every item of b is handed out: it leaves the queue (if another thread has not
        // already taken it off), and its joiner may free it once no thread is inside.
        if (p.head == b) {
            p.head = b.next;
            if (p.head == null) p.tail = null;
        }
        b.active -= 1;
        if (b.active == 0) p.idle.broadcast();
    }
}

/// Starts verifying n signatures (the layout of ph_ed25519_verify_batch) on the
/// verification pool, which grows to `threads` threads (at most threads_max, kept for
/// the process's life). The inputs are copied: the caller may reuse them at once.
/// Returns a handle, or null on bad arguments, no memory or no thread; ph_verify_join frees it.
export fn ph_verify_start(n: u32, msgs: [*]const u8, offsets: [*]const u32, sigs: [*]const u8, pks: [*]const u8, threads: u32) ?*AsyncVerify {
    if (threads == 0 or threads > threads_max) return null;
    // The copy holds msgs[0 .. offsets[n]]: every offset must lie inside it.
    const msg_len = offsets[n];
    for (offsets[0..n]) |o| if (o > msg_len) return null;
    const alloc = std.heap.c_allocator;
    const b = alloc.create(AsyncVerify) catch return null;
    const offs = alloc.alloc(u32, @as(usize, n) + 1) catch {
        alloc.destroy(b);
        return null;
    };
    const nn: usize = n;
    const bytes = alloc.alloc(u8, @as(usize, msg_len) + nn * (64 + 32 + 1)) catch {
        alloc.free(offs);
        alloc.destroy(b);
        return null;
    };
    @memcpy(offs, offsets[0 .. nn + 1]);
    @memcpy(bytes[0..msg_len], msgs[0..msg_len]);
    const sig_at = msg_len;
    const pk_at = sig_at + nn * 64;
    const out_at = pk_at + nn * 32;
    @memcpy(bytes[sig_at..pk_at], sigs[0 .. nn * 64]);
    @memcpy(bytes[pk_at..out_at], pks[0 .. nn * 32]);
    @memset(bytes[out_at..], 0);
    b.* = .{
        .job = .{ .msgs = bytes.ptr, .offsets = offs.ptr, .sigs = bytes.ptr + sig_at, .pks = bytes.ptr + pk_at, .out_valid = bytes.ptr + out_at, .next = std.atomic.Value(u32).init(0), .n = n },
        .offsets = offs,
        .bytes = bytes,
        .finished = std.atomic.Value(u32).init(0),
        .done = std.atomic.Value(u32).init(if (n == 0) 1 else 0),
        .active = 0,
        .next = null,
    };
    if (n == 0) return b;
    const p = &verify_pool;
    p.mutex.lock();
    defer p.mutex.unlock();
    while (p.threads < threads) : (p.threads += 1) {
        const t = std.Thread.spawn(.{}, verifyPoolThread, .{}) catch break;
        t.detach();
    }
    if (p.threads == 0) {
        freeAsync(b);
        return null;
    }
    if (p.tail) |t| t.next = b else p.head = b;
    p.tail = b;
    p.work.broadcast();
    return b;
}

fn freeAsync(b: *AsyncVerify) void {
    const alloc = std.heap.c_allocator;
    alloc.free(b.bytes);
    alloc.free(b.offsets);
    alloc.destroy(b);
}

/// 1 once every signature of the batch is verified (ph_verify_join will not block), else 0.
export fn ph_verify_poll(b: *AsyncVerify) u32 {
    return b.done.load(.acquire);
}

/// Finishes the batch, writes its n answers to out_valid (1 valid, 0 invalid) and frees
/// it; returns the number of valid signatures. After ph_verify_poll said 1 this returns at
/// once. Before, the calling thread verifies the items no pool thread has taken yet (the
/// batch may be queued behind others) and waits only for the chunks in progress.
export fn ph_verify_join(b: *AsyncVerify, out_valid: [*]u8) i32 {
    const p = &verify_pool;
    p.mutex.lock();
    b.active += 1;
    p.mutex.unlock();
    runAsyncBatch(b);
    p.mutex.lock();
    b.active -= 1;
    // Every item is handed out: take b off the queue, wherever it is, so no pool thread enters it again.
    var link: *?*AsyncVerify = &p.head;
    var prev: ?*AsyncVerify = null;
    while (link.*) |q| : (link = &q.next) {
        if (q == b) {
            link.* = b.next;
            if (p.tail == b) p.tail = prev;
            break;
        }
        prev = q;
    }
    while (b.done.load(.acquire) == 0 or b.active > 0) p.idle.wait(&p.mutex);
    p.mutex.unlock();
    const n = b.job.n;
    var valid: i32 = 0;
    for (b.job.out_valid[0..n], 0..) |v, i| {
        out_valid[i] = v;
        valid += v;
    }
    freeAsync(b);
    return valid;
}

// ---------------------------------------------------------------- X25519 / AEAD

export fn ph_x25519(out: [*]u8, scalar: [*]const u8, point: [*]const u8) i32 {
    return if (c.crypto_scalarmult_curve25519(out, scalar, point) == 0) OK else ERR_CRYPTO;
}

export fn ph_x25519_base(out: [*]u8, scalar: [*]const u8) i32 {
    return if (c.crypto_scalarmult_curve25519_base(out, scalar) == 0) OK else ERR_CRYPTO;
}

/// ChaCha20-Poly1305 (RFC 8439, 12-byte nonce). Writes ciphertext to `out` and the
/// 16-byte tag to `tag`.
export fn ph_chacha20poly1305_seal(out: [*]u8, tag: [*]u8, msg: [*]const u8, msg_len: usize, ad: [*]const u8, ad_len: usize, nonce: [*]const u8, key: [*]const u8) i32 {
    var tag_len: c_ulonglong = 0;
    const rc = c.crypto_aead_chacha20poly1305_ietf_encrypt_detached(out, tag, &tag_len, msg, msg_len, ad, ad_len, null, nonce, key);
    return if (rc == 0) OK else ERR_CRYPTO;
}

/// Returns 0 when the tag verifies (plaintext in `out`), ERR_CRYPTO otherwise.
export fn ph_chacha20poly1305_open(out: [*]u8, ct: [*]const u8, ct_len: usize, tag: [*]const u8, ad: [*]const u8, ad_len: usize, nonce: [*]const u8, key: [*]const u8) i32 {
    const rc = c.crypto_aead_chacha20poly1305_ietf_decrypt_detached(out, null, ct, ct_len, tag, ad, ad_len, nonce, key);
    return if (rc == 0) OK else ERR_CRYPTO;
}

/// Raw ChaCha20 keystream XOR with a 32-bit initial block counter (QUIC header
/// protection, RFC 9001 §5.4.4).
export fn ph_chacha20_xor_ic(out: [*]u8, msg: [*]const u8, msg_len: usize, nonce: [*]const u8, counter: u32, key: [*]const u8) i32 {
    return if (c.crypto_stream_chacha20_ietf_xor_ic(out, msg, msg_len, nonce, counter, key) == 0) OK else ERR_CRYPTO;
}

// ---------------------------------------------------------------- QUIC packet protection
//
// Two builds of native/quic_crypto.zig: `quic` below (the target's baseline CPU) and
// the `phq_fast_*` object (AES + carry-less multiply enabled; see build.zig). The
// fast one is used only when the CPU reports those features, so one binary runs on
// any CPU of its architecture and uses hardware AES where there is some.

const quic = @import("quic_crypto.zig");
const builtin = @import("builtin");
const has_fast_object = builtin.cpu.arch == .x86_64 or builtin.cpu.arch == .aarch64;

extern fn phq_fast_hardware() u32;
extern fn phq_fast_seal_batch(suite: u32, material: [*]const u8, buf: [*]u8, buf_len: usize, n: u32, descs: [*]const u32) i32;
extern fn phq_fast_open_batch(suite: u32, material: [*]const u8, buf: [*]const u8, buf_len: usize, n: u32, descs: [*]u32, out: [*]u8, out_len: usize) i32;
extern fn phq_fast_aes128gcm_seal(out: [*]u8, tag: *[16]u8, msg: [*]const u8, msg_len: usize, ad: [*]const u8, ad_len: usize, nonce: *const [12]u8, key: *const [16]u8) void;
extern fn phq_fast_aes128gcm_open(out: [*]u8, ct: [*]const u8, ct_len: usize, tag: *const [16]u8, ad: [*]const u8, ad_len: usize, nonce: *const [12]u8, key: *const [16]u8) bool;
extern fn phq_fast_hp_mask(suite: u32, hp_key: [*]const u8, sample: *const [16]u8, out: *[5]u8) i32;

var quic_use_fast: bool = false;

extern "c" fn getauxval(kind: c_ulong) c_ulong;

fn quicFastSupported() bool {
    if (!has_fast_object) return false;
    switch (builtin.cpu.arch) {
        .x86_64 => {
            // CPUID.1:ECX: PCLMULQDQ (bit 1), AES (25), OSXSAVE (27), AVX (28); std's
            // AES-NI path also needs the OS to save YMM state (XCR0 bits 1 and 2).
            var a: u32 = undefined;
            var b: u32 = undefined;
            var ecx: u32 = undefined;
            var d: u32 = undefined;
            asm volatile ("cpuid"
                : [a] "={eax}" (a),
                  [b] "={ebx}" (b),
                  [c] "={ecx}" (ecx),
                  [d] "={edx}" (d),
                : [leaf] "{eax}" (@as(u32, 1)),
                  [sub] "{ecx}" (@as(u32, 0)),
            );
            const need: u32 = (1 << 1) | (1 << 25) | (1 << 27) | (1 << 28);
            if (ecx & need != need) return false;
            var lo: u32 = undefined;
            var hi: u32 = undefined;
            asm volatile ("xgetbv"
                : [lo] "={eax}" (lo),
                  [hi] "={edx}" (hi),
                : [idx] "{ecx}" (@as(u32, 0)),
            );
            return lo & 0b110 == 0b110;
        },
        .aarch64 => {
            if (builtin.os.tag.isDarwin()) return true; // every Apple arm64 CPU has AES and PMULL
            if (builtin.os.tag != .linux) return false;
            const AT_HWCAP = 16;
            const HWCAP_AES = 1 << 3;
            const HWCAP_PMULL = 1 << 4;
            const caps = getauxval(AT_HWCAP);
            return caps & (HWCAP_AES | HWCAP_PMULL) == (HWCAP_AES | HWCAP_PMULL);
        },
        else => return false,
    }
}

/// 1 when packet protection runs on hardware AES (either build), else 0.
export fn ph_quic_hardware_aes() u32 {
    if (has_fast_object and quic_use_fast) return phq_fast_hardware();
    return @intFromBool(quic.hardware_aes);
}

/// Tests and benchmarks only: 0 = pick at run time (the default), 1 = force the
/// baseline build. Returns the previous setting.
export fn ph_quic_force_portable(force: u32) u32 {
    const prev: u32 = @intFromBool(!quic_use_fast);
    quic_use_fast = force == 0 and quicFastSupported();
    return prev;
}

/// Seals n QUIC packets in place with one key set (layout: native/quic_crypto.zig).
export fn ph_quic_seal_batch(suite: u32, material: [*]const u8, buf: [*]u8, buf_len: usize, n: u32, descs: [*]const u32) i32 {
    if (has_fast_object and quic_use_fast) return phq_fast_seal_batch(suite, material, buf, buf_len, n, descs);
    return quic.sealBatch(suite, material, buf, buf_len, n, descs);
}

/// Unprotects and decrypts n QUIC packets; returns how many opened (statuses in descs).
export fn ph_quic_open_batch(suite: u32, material: [*]const u8, buf: [*]const u8, buf_len: usize, n: u32, descs: [*]u32, out: [*]u8, out_len: usize) i32 {
    if (has_fast_object and quic_use_fast) return phq_fast_open_batch(suite, material, buf, buf_len, n, descs, out, out_len);
    return quic.openBatch(suite, material, buf, buf_len, n, descs, out, out_len);
}

/// AES-128-GCM, 12-byte nonce: ciphertext to `out`, 16-byte tag to `tag`.
export fn ph_aes128gcm_seal(out: [*]u8, tag: *[16]u8, msg: [*]const u8, msg_len: usize, ad: [*]const u8, ad_len: usize, nonce: *const [12]u8, key: *const [16]u8) i32 {
    if (has_fast_object and quic_use_fast) phq_fast_aes128gcm_seal(out, tag, msg, msg_len, ad, ad_len, nonce, key) else quic.aes128gcmSeal(out, tag, msg, msg_len, ad, ad_len, nonce, key);
    return OK;
}

/// Returns 0 when the tag verifies (plaintext in `out`), ERR_CRYPTO otherwise (`out` untouched).
export fn ph_aes128gcm_open(out: [*]u8, ct: [*]const u8, ct_len: usize, tag: *const [16]u8, ad: [*]const u8, ad_len: usize, nonce: *const [12]u8, key: *const [16]u8) i32 {
    const ok = if (has_fast_object and quic_use_fast) phq_fast_aes128gcm_open(out, ct, ct_len, tag, ad, ad_len, nonce, key) else quic.aes128gcmOpen(out, ct, ct_len, tag, ad, ad_len, nonce, key);
    return if (ok) OK else ERR_CRYPTO;
}

/// The 5-byte QUIC header protection mask for a 16-byte sample (RFC 9001 §5.4).
export fn ph_quic_hp_mask(suite: u32, hp_key: [*]const u8, sample: *const [16]u8, out: *[5]u8) i32 {
    if (has_fast_object and quic_use_fast) return phq_fast_hp_mask(suite, hp_key, sample, out);
    return quic.hpMask(suite, hp_key, sample, out);
}

// ---------------------------------------------------------------- PoW search

const PowStatus = enum(u32) { running = 0, found = 1, exhausted = 2, cancelled = 3 };

/// Search state shared by the worker threads. The caller polls `status` (an atomic
/// u32 at offset 0 of the handle) and reads the result after `ph_pow_join`.
const PowSearch = struct {
    status: u32, // PowStatus, written once by the winner or the last thread
    cancel: u32,
    nonce: u64,
    hashes: u64,
    hash: [32]u8,
    threads_live: u32,
    threads: u32,
    target_bits: u32,
    nonce_offset: u32,
    start_nonce: u64,
    max_iters: u64,
    header_len: u32,
    header: [256]u8,
    handles: [threads_max]std.Thread,
};

pub const pow_header_bytes_max = 256;

fn leadingZeroBits(hash: *const [32]u8) u32 {
    var bits: u32 = 0;
    for (hash) |byte| {
        if (byte == 0) {
            bits += 8;
            continue;
        }
        return bits + @clz(byte);
    }
    return bits;
}

fn powWorker(s: *PowSearch, tid: u32) void {
    var header: [pow_header_bytes_max]u8 = s.header;
    const len = s.header_len;
    var hash: [32]u8 = undefined;
    var i: u64 = tid;
    var local: u64 = 0;
    const check_every: u64 = 1024;
    while (i < s.max_iters) : (i +|= s.threads) {
        const nonce = s.start_nonce +% i;
        std.mem.writeInt(u64, header[s.nonce_offset..][0..8], nonce, .little);
        ph_blake3(&header, len, &hash, 32);
        local += 1;
        if (leadingZeroBits(&hash) >= s.target_bits) {
            if (@cmpxchgStrong(u32, &s.status, @intFromEnum(PowStatus.running), @intFromEnum(PowStatus.found), .acq_rel, .acquire) == null) {
                s.nonce = nonce;
                s.hash = hash;
            }
            break;
        }
        if (local % check_every == 0) {
            if (@atomicLoad(u32, &s.status, .acquire) != @intFromEnum(PowStatus.running)) break;
            if (@atomicLoad(u32, &s.cancel, .acquire) != 0) {
                _ = @cmpxchgStrong(u32, &s.status, @intFromEnum(PowStatus.running), @intFromEnum(PowStatus.cancelled), .acq_rel, .acquire);
                break;
            }
        }
    }
    _ = @atomicRmw(u64, &s.hashes, .Add, local, .monotonic);
    // The last thread out settles an unfinished search as exhausted.
    if (@atomicRmw(u32, &s.threads_live, .Sub, 1, .acq_rel) == 1) {
        _ = @cmpxchgStrong(u32, &s.status, @intFromEnum(PowStatus.running), @intFromEnum(PowStatus.exhausted), .acq_rel, .acquire);
    }
}

/// Starts a search on `threads` background threads and returns at once. The nonce
/// is a u64 little-endian at header[nonce_offset..+8]; a hit is a BLAKE3 digest of
/// the header with at least `target_bits` leading zero bits (most significant bit
/// of byte 0 first). At most `max_iters` nonces starting at `start_nonce` are tried.
/// Returns a handle (null on bad arguments or failure); `ph_pow_join` frees it.
export fn ph_pow_start(header: [*]const u8, header_len: u32, nonce_offset: u32, target_bits: u32, start_nonce: u64, max_iters: u64, threads: u32) ?*PowSearch {
    if (header_len > pow_header_bytes_max or nonce_offset + 8 > header_len) return null;
    if (threads == 0 or threads > threads_max or target_bits > 256) return null;
    const s = std.heap.c_allocator.create(PowSearch) catch return null;
    s.* = .{ .status = 0, .cancel = 0, .nonce = 0, .hashes = 0, .hash = [_]u8{0} ** 32, .threads_live = threads, .threads = threads, .target_bits = target_bits, .nonce_offset = nonce_offset, .start_nonce = start_nonce, .max_iters = max_iters, .header_len = header_len, .header = [_]u8{0} ** pow_header_bytes_max, .handles = undefined };
    @memcpy(s.header[0..header_len], header[0..header_len]);
    var spawned: u32 = 0;
    while (spawned < threads) : (spawned += 1) {
        s.handles[spawned] = std.Thread.spawn(.{}, powWorker, .{ s, spawned }) catch break;
    }
    if (spawned < threads) {
        // Threads that never started must not be waited for.
        @atomicStore(u32, &s.cancel, 1, .release);
        _ = @atomicRmw(u32, &s.threads_live, .Sub, threads - spawned, .acq_rel);
        for (s.handles[0..spawned]) |t| t.join();
        std.heap.c_allocator.destroy(s);
        return null;
    }
    return s;
}

export fn ph_pow_status(s: *PowSearch) u32 {
    return @atomicLoad(u32, &s.status, .acquire);
}

export fn ph_pow_cancel(s: *PowSearch) void {
    @atomicStore(u32, &s.cancel, 1, .release);
}

/// Waits for the threads (quick once status != running), copies the result out and
/// frees the handle. result: [status u32][pad u32][nonce u64][hashes u64][hash 32].
export fn ph_pow_join(s: *PowSearch, result: [*]u8) void {
    for (s.handles[0..s.threads]) |t| t.join();
    std.mem.writeInt(u32, result[0..4], s.status, .little);
    std.mem.writeInt(u32, result[4..8], 0, .little);
    std.mem.writeInt(u64, result[8..16], s.nonce, .little);
    std.mem.writeInt(u64, result[16..24], s.hashes, .little);
    @memcpy(result[24..56], &s.hash);
    std.heap.c_allocator.destroy(s);
}

export fn ph_leading_zero_bits(hash: [*]const u8) u32 {
    return leadingZeroBits(hash[0..32]);
}

test {
    _ = quic;
}

test "leading zero bits" {
    var h = [_]u8{0} ** 32;
    try std.testing.expectEqual(@as(u32, 256), leadingZeroBits(&h));
    h[1] = 0x10;
    try std.testing.expectEqual(@as(u32, 11), leadingZeroBits(&h));
}
