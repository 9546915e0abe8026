//! Used by scripts/check-aes-dispatch: loads libphantom, prints whether QUIC packet
//! protection picked hardware AES, and checks the RFC 9001 §A.4 Retry integrity tag
//! (AES-128-GCM) on the selected build and on the forced software build.
//! Exit 0 when both tags are right.
const std = @import("std");
extern fn ph_init() i32;
extern fn ph_quic_hardware_aes() u32;
extern fn ph_quic_force_portable(force: u32) u32;
extern fn ph_aes128gcm_seal(out: [*]u8, tag: *[16]u8, msg: [*]const u8, msg_len: usize, ad: [*]const u8, ad_len: usize, nonce: *const [12]u8, key: *const [16]u8) i32;

pub fn main() !void {
    if (ph_init() != 0) return error.InitFailed;
    var key: [16]u8 = undefined;
    _ = try std.fmt.hexToBytes(&key, "be0c690b9f66575a1d766b54e368c84e");
    var nonce: [12]u8 = undefined;
    _ = try std.fmt.hexToBytes(&nonce, "461599d35d632bf2239825bb");
    // ODCID length || ODCID || the Retry packet without its tag (RFC 9001 §A.4).
    var pseudo: [29]u8 = undefined;
    _ = try std.fmt.hexToBytes(&pseudo, "088394c8f03e515708ff000000010008f067a5502a4262b5746f6b656e");
    var expected: [16]u8 = undefined;
    _ = try std.fmt.hexToBytes(&expected, "04a265ba2eff4d829058fb3f0f2496ba");
    const hardware = ph_quic_hardware_aes();
    var ok = true;
    var unused: [1]u8 = undefined;
    for ([_]u32{ 0, 1 }) |force| {
        _ = ph_quic_force_portable(force);
        var tag: [16]u8 = undefined;
        _ = ph_aes128gcm_seal(&unused, &tag, &unused, 0, &pseudo, pseudo.len, &nonce, &key);
        ok = ok and std.mem.eql(u8, &tag, &expected);
    }
    std.debug.print("hardware_aes={d} tags_ok={}\n", .{ hardware, ok });
    if (!ok) std.process.exit(1);
}
