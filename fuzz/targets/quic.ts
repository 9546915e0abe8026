/**
 * QUIC wire decoders (RFC 9000/9001): packet headers over coalesced datagrams (with
 * Initial packet protection removed where the keys are derivable), frame payloads and
 * transport parameters. Refusals are QuicError (frames, parameters) or QuicHeaderError.
 */
import { isQuicError } from "../../src/net/quic/errors.ts";
import { parseFrames, serializeFrames, type PacketType } from "../../src/net/quic/frames.ts";
import { QUIC_VERSION_1, initialSecrets } from "../../src/net/quic/initial-keys.ts";
import { CONNECTION_ID_BYTES_MAX, PACKET_TYPE_INITIAL, PACKET_TYPE_RETRY, QuicHeaderError, parsePacketHeader, verifyRetry } from "../../src/net/quic/packet-header.ts";
import { PacketKeys, TLS_AES_128_GCM_SHA256, openPacket } from "../../src/net/quic/packet-protection.ts";
import { decodeTransportParameters, encodeTransportParameters } from "../../src/net/quic/tls/transport-parameters.ts";
import { oracle, type FuzzTarget } from "../target.ts";

/** QUIC varint boundaries (RFC 9000 §16): the 2-, 4- and 8-byte prefixes and their maxima. */
const VARINT_DICTIONARY: readonly Uint8Array[] = [
  Uint8Array.of(0x3f), Uint8Array.of(0x40, 0x00), Uint8Array.of(0x7f, 0xff), Uint8Array.of(0x80, 0, 0, 0), Uint8Array.of(0xbf, 0xff, 0xff, 0xff),
  Uint8Array.of(0xc0, 0, 0, 0, 0, 0, 0, 0), Uint8Array.of(0xc0, 0x20, 0, 0, 0, 0, 0, 0), Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
];

const PACKET_TYPES: readonly PacketType[] = ["initial", "handshake", "0rtt", "1rtt"];

/** Every frame type byte, so insertions start new frames. */
const FRAME_DICTIONARY: readonly Uint8Array[] = [
  ...VARINT_DICTIONARY,
  ...Array.from({ length: 0x1f }, (_, t) => Uint8Array.of(t)), Uint8Array.of(0x30), Uint8Array.of(0x31),
];

const quicRejection = (e: unknown): string | undefined => (isQuicError(e) ? e.code : undefined);

export const QUIC_TARGETS: FuzzTarget[] = [
  {
    name: "quic-header",
    description: "QUIC packet headers over a coalesced datagram; Initial protection removed with the DCID's keys",
    extension: "bin", maxBytes: 1600,
    dictionary: [...VARINT_DICTIONARY, Uint8Array.of(0, 0, 0, 1), Uint8Array.of(0, 0, 0, 0), Uint8Array.of(0xc0), Uint8Array.of(0xf0), Uint8Array.of(0x40), Uint8Array.of(20), Uint8Array.of(21)],
    run(input) {
      // First byte: the short-header DCID length the receiver expects; then the datagram.
      const cidLength = (input[0] ?? 0) % (CONNECTION_ID_BYTES_MAX + 1);
      const datagram = input.subarray(1);
      let off = 0;
      for (let packets = 0; off < datagram.length; packets++) {
        oracle(packets <= datagram.length, "coalesced packet loop does not advance");
        const h = parsePacketHeader(datagram, off, cidLength);
        oracle(h.start === off && h.end > h.start && h.end <= datagram.length, `header bounds [${h.start}, ${h.end}) outside the datagram of ${datagram.length}`);
        if (h.form === "vn") {
          oracle(h.versions.length * 4 <= datagram.length, "more versions than bytes");
          break;
        }
        oracle(h.pnOffset >= h.start && h.pnOffset <= h.end, `packet number offset ${h.pnOffset} outside [${h.start}, ${h.end}]`);
        oracle(h.dcid.length <= CONNECTION_ID_BYTES_MAX, "connection id over 20 bytes");
        if (h.form === "long" && h.version === QUIC_VERSION_1 && h.type === PACKET_TYPE_RETRY) {
          verifyRetry(h.dcid, datagram.subarray(h.start, h.end));
          break;
        }
        if (h.form === "long" && h.version === QUIC_VERSION_1 && h.type === PACKET_TYPE_INITIAL) {
          // What a server does with a client Initial: derive keys from the DCID and open it.
          const keys = new PacketKeys(TLS_AES_128_GCM_SHA256, initialSecrets(h.dcid).client);
          const opened = openPacket(keys, datagram.subarray(h.start, h.end), h.pnOffset - h.start, -1);
          if (opened) parseFrames(opened.payload, "initial");
        }
        if (h.form !== "long" || h.version !== QUIC_VERSION_1) break;
        off = h.end;
      }
    },
    rejection: (e) => (e instanceof QuicHeaderError ? e.code : quicRejection(e)),
  },
  {
    name: "quic-frames",
    description: "QUIC frame payload parser (parseFrames) per packet type; parsed frames re-serialize to the same frames",
    extension: "bin", maxBytes: 1500, dictionary: FRAME_DICTIONARY,
    run(input) {
      // First byte: the packet type the payload arrived in (frame permissions differ).
      const packetType = PACKET_TYPES[(input[0] ?? 0) % PACKET_TYPES.length]!;
      const frames = parseFrames(input.subarray(1), packetType);
      const again = parseFrames(serializeFrames(frames), packetType);
      oracle(Bun.deepEquals(again, frames), "frames re-serialize to different frames");
    },
    rejection: (e) => (isQuicError(e) && (e.transportError === "FRAME_ENCODING_ERROR" || e.transportError === "PROTOCOL_VIOLATION") ? e.code : undefined),
  },
  {
    name: "quic-transport-params",
    description: "quic_transport_parameters decoder (client and server side); decoded values re-encode to the same values",
    extension: "bin", maxBytes: 1024, dictionary: [...VARINT_DICTIONARY, ...Array.from({ length: 0x11 }, (_, id) => Uint8Array.of(id)), Uint8Array.of(0x20)],
    run(input) {
      // First byte, low bit: whether the parameters came from a server (server-only ids allowed).
      const fromServer = ((input[0] ?? 0) & 1) === 1;
      const params = decodeTransportParameters(input.subarray(1), fromServer);
      const again = decodeTransportParameters(encodeTransportParameters(params), fromServer);
      oracle(Bun.deepEquals(again, params), "transport parameters re-encode to different values");
    },
    rejection: (e) => (isQuicError(e) && e.transportError === "TRANSPORT_PARAMETER_ERROR" ? e.code : undefined),
  },
];
