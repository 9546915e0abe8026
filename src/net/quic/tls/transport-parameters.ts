/** QUIC transport parameters (RFC 9000 §18, RFC 9221 §3): the quic_transport_parameters TLS extension. */
import { concatBytes } from "../../../crypto/bytes.ts";
import { QuicError } from "../errors.ts";
import { QuicReader, encodeVarint, varintLength, writeVarint } from "../varint.ts";

export interface TransportParameters {
  originalDestinationConnectionId?: Uint8Array;
  maxIdleTimeoutMs: number;
  statelessResetToken?: Uint8Array;
  maxUdpPayloadSize: number;
  initialMaxData: number;
  initialMaxStreamDataBidiLocal: number;
  initialMaxStreamDataBidiRemote: number;
  initialMaxStreamDataUni: number;
  initialMaxStreamsBidi: number;
  initialMaxStreamsUni: number;
  ackDelayExponent: number;
  maxAckDelayMs: number;
  disableActiveMigration: boolean;
  activeConnectionIdLimit: number;
  initialSourceConnectionId?: Uint8Array;
  retrySourceConnectionId?: Uint8Array;
  /** RFC 9221: 0 means the peer does not accept DATAGRAM frames. */
  maxDatagramFrameSize: number;
}

const ID = {
  originalDestinationConnectionId: 0x00,
  maxIdleTimeout: 0x01,
  statelessResetToken: 0x02,
  maxUdpPayloadSize: 0x03,
  initialMaxData: 0x04,
  initialMaxStreamDataBidiLocal: 0x05,
  initialMaxStreamDataBidiRemote: 0x06,
  initialMaxStreamDataUni: 0x07,
  initialMaxStreamsBidi: 0x08,
  initialMaxStreamsUni: 0x09,
  ackDelayExponent: 0x0a,
  maxAckDelay: 0x0b,
  disableActiveMigration: 0x0c,
  preferredAddress: 0x0d,
  activeConnectionIdLimit: 0x0e,
  initialSourceConnectionId: 0x0f,
  retrySourceConnectionId: 0x10,
  maxDatagramFrameSize: 0x20,
} as const;

/** RFC 9000 §18.2 defaults for absent parameters. */
export function defaultTransportParameters(): TransportParameters {
  return {
    maxIdleTimeoutMs: 0,
    maxUdpPayloadSize: 65527,
    initialMaxData: 0,
    initialMaxStreamDataBidiLocal: 0,
    initialMaxStreamDataBidiRemote: 0,
    initialMaxStreamDataUni: 0,
    initialMaxStreamsBidi: 0,
    initialMaxStreamsUni: 0,
    ackDelayExponent: 3,
    maxAckDelayMs: 25,
    disableActiveMigration: false,
    activeConnectionIdLimit: 2,
    maxDatagramFrameSize: 0,
  };
}

export function encodeTransportParameters(p: TransportParameters): Uint8Array {
  const parts: Uint8Array[] = [];
  const bytesParam = (id: number, v: Uint8Array | undefined) => {
    if (v === undefined) return;
    parts.push(encodeVarint(id), encodeVarint(v.length), v);
  };
  const intParam = (id: number, v: number, dflt: number) => {
    if (v === dflt) return;
    const body = new Uint8Array(varintLength(v));
    writeVarint(body, 0, v);
    parts.push(encodeVarint(id), encodeVarint(body.length), body);
  };
  bytesParam(ID.originalDestinationConnectionId, p.originalDestinationConnectionId);
  intParam(ID.maxIdleTimeout, p.maxIdleTimeoutMs, 0);
  bytesParam(ID.statelessResetToken, p.statelessResetToken);
  intParam(ID.maxUdpPayloadSize, p.maxUdpPayloadSize, 65527);
  intParam(ID.initialMaxData, p.initialMaxData, 0);
  intParam(ID.initialMaxStreamDataBidiLocal, p.initialMaxStreamDataBidiLocal, 0);
  intParam(ID.initialMaxStreamDataBidiRemote, p.initialMaxStreamDataBidiRemote, 0);
  intParam(ID.initialMaxStreamDataUni, p.initialMaxStreamDataUni, 0);
  intParam(ID.initialMaxStreamsBidi, p.initialMaxStreamsBidi, 0);
  intParam(ID.initialMaxStreamsUni, p.initialMaxStreamsUni, 0);
  intParam(ID.ackDelayExponent, p.ackDelayExponent, 3);
  intParam(ID.maxAckDelay, p.maxAckDelayMs, 25);
  if (p.disableActiveMigration) parts.push(encodeVarint(ID.disableActiveMigration), encodeVarint(0));
  intParam(ID.activeConnectionIdLimit, p.activeConnectionIdLimit, 2);
  bytesParam(ID.initialSourceConnectionId, p.initialSourceConnectionId);
  bytesParam(ID.retrySourceConnectionId, p.retrySourceConnectionId);
  intParam(ID.maxDatagramFrameSize, p.maxDatagramFrameSize, 0);
  return concatBytes(...parts);
}

function paramError(message: string): QuicError {
  return new QuicError("TRANSPORT_PARAMETER_ERROR", message);
}

/** Parses and validates the peer's parameters. `fromServer` enables the server-only ones. */
export function decodeTransportParameters(bytes: Uint8Array, fromServer: boolean): TransportParameters {
  const p = defaultTransportParameters();
  const r = new QuicReader(bytes, "TRANSPORT_PARAMETER_ERROR");
  const seen = new Set<number>();
  while (r.remaining > 0) {
    const id = r.varint("parameter id");
    const len = r.varint("parameter length");
    const body = r.bytes(len, "parameter value");
    if (seen.has(id)) throw paramError(`duplicate transport parameter 0x${id.toString(16)}`);
    seen.add(id);
    const int = () => {
      const br = new QuicReader(body, "TRANSPORT_PARAMETER_ERROR");
      const v = br.varint("parameter value");
      if (br.remaining !== 0) throw paramError(`parameter 0x${id.toString(16)} has trailing bytes`);
      return v;
    };
    const serverOnly = () => {
      if (!fromServer) throw paramError(`client sent server-only parameter 0x${id.toString(16)}`);
    };
    switch (id) {
      case ID.originalDestinationConnectionId: serverOnly(); p.originalDestinationConnectionId = body.slice(); break;
      case ID.maxIdleTimeout: p.maxIdleTimeoutMs = int(); break;
      case ID.statelessResetToken:
        serverOnly();
        if (body.length !== 16) throw paramError("stateless_reset_token must be 16 bytes");
        p.statelessResetToken = body.slice();
        break;
      case ID.maxUdpPayloadSize: p.maxUdpPayloadSize = int(); if (p.maxUdpPayloadSize < 1200) throw paramError("max_udp_payload_size below 1200"); break;
      case ID.initialMaxData: p.initialMaxData = int(); break;
      case ID.initialMaxStreamDataBidiLocal: p.initialMaxStreamDataBidiLocal = int(); break;
      case ID.initialMaxStreamDataBidiRemote: p.initialMaxStreamDataBidiRemote = int(); break;
      case ID.initialMaxStreamDataUni: p.initialMaxStreamDataUni = int(); break;
      case ID.initialMaxStreamsBidi: p.initialMaxStreamsBidi = int(); if (p.initialMaxStreamsBidi > 2 ** 60) throw paramError("initial_max_streams_bidi too large"); break;
      case ID.initialMaxStreamsUni: p.initialMaxStreamsUni = int(); if (p.initialMaxStreamsUni > 2 ** 60) throw paramError("initial_max_streams_uni too large"); break;
      case ID.ackDelayExponent: p.ackDelayExponent = int(); if (p.ackDelayExponent > 20) throw paramError("ack_delay_exponent above 20"); break;
      case ID.maxAckDelay: p.maxAckDelayMs = int(); if (p.maxAckDelayMs >= 2 ** 14) throw paramError("max_ack_delay too large"); break;
      case ID.disableActiveMigration: if (body.length !== 0) throw paramError("disable_active_migration has a value"); p.disableActiveMigration = true; break;
      case ID.preferredAddress: serverOnly(); break; // accepted, not used (no migration)
      case ID.activeConnectionIdLimit: p.activeConnectionIdLimit = int(); if (p.activeConnectionIdLimit < 2) throw paramError("active_connection_id_limit below 2"); break;
      case ID.initialSourceConnectionId: p.initialSourceConnectionId = body.slice(); break;
      case ID.retrySourceConnectionId: serverOnly(); p.retrySourceConnectionId = body.slice(); break;
      case ID.maxDatagramFrameSize: p.maxDatagramFrameSize = int(); break;
      default: break; // unknown parameters are ignored (§18.1), including GREASE
    }
  }
  return p;
}
