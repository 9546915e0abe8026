/** `phantom selftest`: prints native crypto results as JSON (release and emulation checks). */
import type { Command } from "../command.ts";
import { blake3, toHex, fromHex, keyPairFromSeed, sign, verify, verifyBatch, verifyBatchAsync } from "../../crypto/index.ts";
import { nativeLibraryPath } from "../../crypto/native.ts";
import { aes128gcmSeal, quicForcePortable, quicHardwareAes } from "../../crypto/quic-aead.ts";

/** RFC 9001 §A.4: the Retry integrity tag (AES-128-GCM, empty plaintext, pseudo-packet as AAD). */
function retryTag(): string {
  const key = fromHex("be0c690b9f66575a1d766b54e368c84e");
  const nonce = fromHex("461599d35d632bf2239825bb");
  const pseudo = fromHex("088394c8f03e515708ff000000010008f067a5502a4262b5746f6b656e");
  return toHex(aes128gcmSeal(key, nonce, new Uint8Array(0), pseudo));
}
const RFC9001_RETRY_TAG = "04a265ba2eff4d829058fb3f0f2496ba";

export const command: Command = {
  name: "selftest",
  aliases: [],
  summary: "run the native crypto self-test and print the results as JSON",
  usage: "phantom selftest",
  flags: [],
  async run(ctx) {
    // RFC 8032 §7.1 TEST 2 (one-byte message 0x72).
    const seed = fromHex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
    const msg = fromHex("72");
    const { publicKey, secretKey } = keyPairFromSeed(seed);
    const sig = sign(secretKey, msg);
    const bad = sig.slice();
    bad[0]! ^= 1;
    const items = [
      { signature: sig, message: msg, publicKey },
      { signature: bad, message: msg, publicKey },
    ];
    const batch = verifyBatch(items, 2);
    // The same batch on the native verification pool (syncBelow 1: even two items go there).
    const batchAsync = await verifyBatchAsync(items, 2, 1);
    // QUIC's AES-128-GCM on the build picked at load (hardware AES where the CPU has
    // it) and on the software-AES build, so both are checked on every architecture.
    const quicHardware = quicHardwareAes();
    const quicRetryTag = retryTag();
    const wasForced = quicForcePortable(true);
    const quicRetryTagSoftware = retryTag();
    quicForcePortable(wasForced);
    const report = {
      arch: process.arch,
      platform: process.platform,
      library: nativeLibraryPath().split("/").pop(),
      blake3_abc: toHex(blake3(new TextEncoder().encode("abc"))),
      ed25519_public_key: toHex(publicKey),
      ed25519_signature: toHex(sig),
      ed25519_verify: verify(sig, msg, publicKey),
      verify_batch: batch,
      verify_batch_async: batchAsync,
      quic_hardware_aes: quicHardware,
      quic_retry_tag: quicRetryTag,
      quic_retry_tag_software: quicRetryTagSoftware,
    };
    ctx.out(JSON.stringify(report));
    const ok = report.blake3_abc === "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85" &&
      report.ed25519_signature === "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" &&
      report.ed25519_verify && batch[0] === true && batch[1] === false && batchAsync[0] === true && batchAsync[1] === false &&
      quicRetryTag === RFC9001_RETRY_TAG && quicRetryTagSoftware === RFC9001_RETRY_TAG;
    return ok ? 0 : 1;
  },
};
