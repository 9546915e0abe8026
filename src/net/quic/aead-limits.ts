/**
 * AEAD usage limits (RFC 9001 §6.6, values from its §6.6 and Appendix B): how many
 * packets one key may protect (confidentiality) and how many forged packets may be
 * tried against a connection's keys (integrity) before the AEAD's security bound is
 * exhausted. The connection updates its 1-RTT keys well before the first and closes
 * with AEAD_LIMIT_REACHED at the second.
 */
import { TLS_AES_128_GCM_SHA256, type CipherSuite } from "./packet-protection.ts";

/** AES-128-GCM: packets protected with one key at most (2^23). */
export const AES_GCM_CONFIDENTIALITY_LIMIT_PACKETS = 2 ** 23;
/** AES-128-GCM: packets failing authentication per connection at most (2^52). */
export const AES_GCM_INTEGRITY_LIMIT_PACKETS = 2 ** 52;
/** ChaCha20-Poly1305 has no practical confidentiality limit (> 2^62 packets, above any packet number we reach). */
export const CHACHA20_CONFIDENTIALITY_LIMIT_PACKETS = Number.MAX_SAFE_INTEGER;
/** ChaCha20-Poly1305: packets failing authentication per connection at most (2^36). */
export const CHACHA20_INTEGRITY_LIMIT_PACKETS = 2 ** 36;

/**
 * A connection starts a key update after protecting this many 1-RTT packets with one
 * key: a quarter of the AES-GCM limit, so the update (which waits for an ACK of the
 * previous one) has 3 × 2^21 packets of margin. Applied to ChaCha20 too: rotation is cheap.
 */
export const KEY_UPDATE_PACKETS_DEFAULT = 2 ** 21;
/**
 * If a key update could not happen in time, the connection closes this many packets
 * before the confidentiality limit (its CONNECTION_CLOSE still needs the key).
 */
export const CONFIDENTIALITY_CLOSE_MARGIN_PACKETS = 16;

export function confidentialityLimitPackets(suite: CipherSuite): number {
  return suite === TLS_AES_128_GCM_SHA256 ? AES_GCM_CONFIDENTIALITY_LIMIT_PACKETS : CHACHA20_CONFIDENTIALITY_LIMIT_PACKETS;
}

export function integrityLimitPackets(suite: CipherSuite): number {
  return suite === TLS_AES_128_GCM_SHA256 ? AES_GCM_INTEGRITY_LIMIT_PACKETS : CHACHA20_INTEGRITY_LIMIT_PACKETS;
}
