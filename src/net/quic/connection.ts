/**
 * One QUIC v1 connection with no I/O inside (the aioquic shape): feed it
 * datagrams with `receive(datagram, nowMs)`, take datagrams to send from
 * `send(nowMs)`, drive time with `nextTimerMs()` / `onTimer(nowMs)`, and read
 * what happened from `pollEvents()`. Sockets and real clocks live in endpoint.ts.
 */
import { createHmac, randomBytes } from "node:crypto";
import { AckTracker } from "./ack-tracker.ts";
import { CONFIDENTIALITY_CLOSE_MARGIN_PACKETS, KEY_UPDATE_PACKETS_DEFAULT, confidentialityLimitPackets, integrityLimitPackets } from "./aead-limits.ts";
import { ByteArena } from "./byte-arena.ts";
import { Cubic, NewReno, Pacer, pacingBurstIntervalMsDefault, pacingBurstPacketsDefault, pacingGranularityMsDefault, type CongestionController } from "./congestion.ts";
import { BASE_PLPMTU, PMTU_FIRST_PROBE_RTTS, PMTU_MAX_DEFAULT, PmtuDiscovery } from "./pmtu.ts";
import { LossRecovery, type SentPacket } from "./recovery.ts";
import { ReceiveWindow, SendWindow } from "./flow-control.ts";
import type { PacketNumberSpace } from "./ack-tracker.ts";
import { QuicError, isQuicError } from "./errors.ts";
import { framesAckEliciting, parseFrames, streamDataFitting, cryptoDataFitting, writeFrame, frameSize, type AckFrame, type Frame, type PacketType } from "./frames.ts";
import { QUIC_VERSION_1, initialSecrets } from "./initial-keys.ts";
import {
  PACKET_TYPE_HANDSHAKE, PACKET_TYPE_INITIAL, PACKET_TYPE_RETRY, parsePacketHeader, verifyRetry, writeLongHeader, writeShortHeader, longHeaderOverhead,
  type LongHeader, type PacketHeader,
} from "./packet-header.ts";
import { AEAD_TAG_BYTES, PacketKeys, SealBatch, TLS_AES_128_GCM_SHA256, openDatagrams, openPacket, packetNumberLength, type CipherSuite, type OpenedPacket } from "./packet-protection.ts";
import { RecvStream, SendStream, isBidi, isClientInitiated } from "./streams.ts";
import { certificateDer, type Identity } from "./tls/certificate.ts";
import { LEVEL_APPLICATION, LEVEL_HANDSHAKE, LEVEL_INITIAL, TlsSession, type EncryptionLevel } from "./tls/handshake.ts";
import { decodeTransportParameters, defaultTransportParameters, encodeTransportParameters, type TransportParameters } from "./tls/transport-parameters.ts";

export const ALPN_PHANTOM = "phantom/0";
export const CONNECTION_ID_BYTES = 8;
/** Smallest datagram carrying a client Initial (RFC 9000 §14.1). */
export const INITIAL_DATAGRAM_BYTES_MIN = 1200;
export const MAX_DATAGRAM_BYTES_DEFAULT = 1200;
/** RFC 9000 §18.2 default and maximum max_udp_payload_size. */
export const MAX_UDP_PAYLOAD_BYTES = 65_527;
export const IDLE_TIMEOUT_MS_DEFAULT = 30_000;
export const CONNECTION_WINDOW_BYTES_DEFAULT = 16 * 1024 * 1024;
export const STREAM_WINDOW_BYTES_DEFAULT = 8 * 1024 * 1024;
/** Auto-tuning may grow the connection receive window to this multiple of its initial size. */
export const CONNECTION_WINDOW_GROWTH = 4;
export const STREAMS_MAX_DEFAULT = 100;
export const DATAGRAM_FRAME_BYTES_MAX = 1200;
/** Unsent DATAGRAM frames kept at most; more are refused (RFC 9221 gives no delivery guarantee). */
export const DATAGRAM_QUEUE_MAX = 256;
/** CRYPTO bytes buffered out of order per level before CRYPTO_BUFFER_EXCEEDED. */
export const CRYPTO_BUFFER_BYTES_MAX = 65_536;
/** Connection IDs we accept from the peer (active_connection_id_limit) and issue to it. */
export const ACTIVE_CONNECTION_ID_LIMIT = 4;
const MAX_ACK_DELAY_MS = 25;
/** Ack-eliciting 1-RTT packets per immediate ACK (RFC 9000 §13.2.2: at least every second one). */
const ACK_ELICITING_THRESHOLD = 2;
const AMPLIFICATION_FACTOR = 3;
/** Datagrams one send() call returns at most (the endpoint comes back for more next turn). */
export const DATAGRAMS_PER_SEND_MAX = 64;
/** An ACK frame goes in only if this much payload room remains after it. */
const ACK_ROOM_RESERVE_BYTES = 32;
const STATELESS_RESET_BYTES_MIN = 21;
const CLOSE_RESEND_INTERVAL_MS = 100;
/** Longest run of 1-RTT datagrams `receiveMany` opens together (openDatagrams calls native per 64). */
const RECEIVE_BATCH_MAX = 1024;

/** Outgoing datagrams of every connection are carved from here (see byte-arena.ts). */
const datagramArena = new ByteArena();
/** Packets of one `send()` call, sealed by one native call when it returns. */
const sealBatch = new SealBatch();

const SPACE_INITIAL = 0;
const SPACE_HANDSHAKE = 1;
const SPACE_APP = 2;
type SpaceId = 0 | 1 | 2;
const SPACE_PACKET_TYPES: readonly PacketType[] = ["initial", "handshake", "1rtt"];
const LEVEL_BY_SPACE: readonly EncryptionLevel[] = [LEVEL_INITIAL, LEVEL_HANDSHAKE, LEVEL_APPLICATION];
const SPACE_NAMES: readonly PacketNumberSpace[] = ["initial", "handshake", "application"];

export interface ConnectionOptions {
  identity: Identity;
  /**
   * Where sealed datagrams are carved from (default: one arena shared by every
   * connection, never reused). QuicEndpoint passes its own, which it resets once
   * the socket has taken everything sent: datagrams returned by `send` then live
   * only until the next `send` of any connection using that arena.
   */
  datagramArena?: ByteArena;
  /** Our certificate DER (defaults to certificateDer(identity)); share one across connections. */
  certificate?: Uint8Array;
  /** Accepts or rejects the peer's verified Ed25519 key. */
  verifyPeer: (publicKey: Uint8Array) => boolean;
  alpn?: readonly string[];
  serverName?: string;
  cipherSuites?: readonly CipherSuite[];
  idleTimeoutMs?: number;
  /** Send a PING after this long without sending (0 = never). */
  keepAliveMs?: number;
  connectionWindowBytes?: number;
  streamWindowBytes?: number;
  maxStreamsBidi?: number;
  maxStreamsUni?: number;
  /**
   * Largest UDP payload we send: path MTU discovery (pmtu.ts) probes up to it after the
   * handshake (default PMTU_MAX_DEFAULT, 1452; also capped by the peer's
   * max_udp_payload_size). 1200 turns discovery off.
   */
  maxDatagramBytes?: number;
  /** Congestion controller: CUBIC with HyStart++ (default) or NewReno (RFC 9002), e.g. to compare. */
  congestionControl?: "cubic" | "newreno";
  /** Pace sends at 1.25 × cwnd / smoothed RTT (RFC 9002 §7.7; default true). */
  pacing?: boolean;
  /** Largest UDP payload we accept (our max_udp_payload_size; default 65527). */
  maxReceiveDatagramBytes?: number;
  /** Accept DATAGRAM frames up to this size (0 disables). */
  maxDatagramFrameBytes?: number;
  /**
   * Received stream data counts as consumed as soon as it is delivered as an event
   * (default true). With false the application must call `consumeStream`, and flow
   * credit (MAX_STREAM_DATA / MAX_DATA) is only re-granted for consumed bytes.
   */
  consumeOnDelivery?: boolean;
  /**
   * Bytes received and not yet consumed (in order or not) the connection holds at
   * most: the cap of its MAX_DATA window, auto-tuning included. Default
   * CONNECTION_WINDOW_GROWTH × connectionWindowBytes.
   */
  receiveBufferBytesMax?: number;
  /** Start a key update after protecting this many 1-RTT packets with one key (default KEY_UPDATE_PACKETS_DEFAULT). */
  keyUpdatePackets?: number;
  /** Override of the suite's confidentiality limit (RFC 9001 §6.6), for tests. */
  aeadConfidentialityLimit?: number;
  /** Override of the suite's integrity limit (packets failing authentication), for tests. */
  aeadIntegrityLimit?: number;
  /** Secret for stateless reset tokens (shared by an endpoint's connections). */
  resetKey?: Uint8Array;
  random?: (n: number) => Uint8Array;
}

export type ConnectionEvent =
  | { type: "handshake_done"; peerPublicKey: Uint8Array; alpn: string }
  | { type: "stream_data"; streamId: number; data: Uint8Array; fin: boolean }
  | { type: "stream_reset"; streamId: number; errorCode: number }
  | { type: "stop_sending"; streamId: number; errorCode: number }
  | { type: "datagram"; data: Uint8Array }
  | { type: "connection_id_issued"; connectionId: Uint8Array }
  | { type: "connection_id_retired"; connectionId: Uint8Array }
  | { type: "closed"; errorCode: number; reason: string; remote: boolean; application: boolean };

type SentFrame =
  | { k: "crypto"; offset: number; length: number }
  | { k: "stream"; id: number; offset: number; length: number; fin: boolean }
  | { k: "ack"; largest: number }
  | { k: "ctrl"; frame: Frame }
  | { k: "max_data" }
  | { k: "max_stream_data"; id: number }
  | { k: "handshake_done" }
  | { k: "pmtu_probe"; size: number }
  | { k: "none" };

type Sent = SentPacket<SentFrame>;

class Space {
  readKeys: PacketKeys | null = null;
  writeKeys: PacketKeys | null = null;
  nextPn = 0;
  readonly ack: AckTracker;
  cryptoSend = new SendStream(-1, Number.MAX_SAFE_INTEGER);
  cryptoRecv = new RecvStream(-1, CRYPTO_BUFFER_BYTES_MAX);
  discarded = false;
  scratch = new Uint8Array(0);
  readonly name: PacketNumberSpace;
  constructor(readonly id: SpaceId) {
    this.name = SPACE_NAMES[id]!;
    this.ack = new AckTracker(id === SPACE_INITIAL ? "initial" : id === SPACE_HANDSHAKE ? "handshake" : "application", { maxAckDelayMs: MAX_ACK_DELAY_MS, ackElicitingThreshold: ACK_ELICITING_THRESHOLD });
  }
}

interface Draft {
  space: Space;
  header: Uint8Array;
  pnLength: number;
  pn: number;
  payload: Uint8Array;
  used: number;
  frames: SentFrame[];
  ackEliciting: boolean;
  /** Holds a tracked frame other than ACK (so the packet counts as in flight). */
  nonAckFrames: boolean;
  /** A path MTU probe (PING + PADDING of the probed size). */
  pmtuProbe?: boolean;
}

type State = "handshake" | "established" | "closing" | "draining" | "closed";

export class Connection {
  readonly isClient: boolean;
  private state: State = "handshake";
  private readonly spaces: [Space, Space, Space] = [new Space(SPACE_INITIAL), new Space(SPACE_HANDSHAKE), new Space(SPACE_APP)];
  private readonly tls: TlsSession;
  private readonly events: ConnectionEvent[] = [];
  private readonly random: (n: number) => Uint8Array;
  private readonly resetKey: Uint8Array;
  private readonly maxDatagramBytes: number;
  private readonly datagramArena: ByteArena;
  /** Datagram size we send: 1200 until the peer's max_udp_payload_size is known, then the smaller of both. */
  private sendDatagramBytes = INITIAL_DATAGRAM_BYTES_MIN;
  /** Our connection IDs by sequence number. */
  private readonly localCids = new Map<number, Uint8Array>();
  private nextLocalCidSeq = 1;
  /** Peer's connection IDs: sequence → id and reset token. */
  private readonly peerCids = new Map<number, { cid: Uint8Array; token: Uint8Array | null }>();
  private peerCidSeq = 0;
  private dcid: Uint8Array;
  readonly scid: Uint8Array;
  /** DCID of the client's first Initial (keys and the transport-parameter check). */
  readonly originalDcid: Uint8Array;
  private retryScid: Uint8Array | null = null;
  private token: Uint8Array = new Uint8Array(0);
  private peerScidSeen = false;
  private readonly localParams: TransportParameters;
  private peerParams: TransportParameters | null = null;
  // Recovery (RFC 9002): loss detection, RTT, PTO (recovery.ts); CUBIC or NewReno and the pacer (congestion.ts).
  private readonly cc: CongestionController;
  private readonly pacer: Pacer | undefined;
  /** When the pacer lets the next packet go (Infinity: not waiting on it). */
  private pacingDeadlineMs = Infinity;
  /** Path MTU discovery (RFC 9000 §14.3); `sendDatagramBytes` follows its `current`. */
  private readonly pmtu = new PmtuDiscovery();
  private readonly recovery: LossRecovery<SentFrame>;
  private probesPending = 0;
  /** Space a PTO asked for probes in (the anti-deadlock probe goes there). */
  private probeSpace: SpaceId | null = null;
  // Anti-amplification (RFC 9000 §8.1).
  private addressValidated: boolean;
  private bytesReceived = 0;
  private bytesSent = 0;
  // Flow control (RFC 9000 §4).
  private readonly connectionWindow: number;
  /** Our MAX_DATA (flow-control.ts; auto-tunes up to CONNECTION_WINDOW_GROWTH × the initial window). */
  private readonly recvWindow: ReceiveWindow;
  private maxDataDirty = false;
  /** The peer's MAX_DATA. */
  private readonly sendWindow = new SendWindow(0);
  private readonly sendStreams = new Map<number, SendStream>();
  private readonly recvStreams = new Map<number, RecvStream>();
  private readonly maxStreamDataDirty = new Set<number>();
  private readonly consumeOnDelivery: boolean;
  /** Delivered, not yet consumed bytes per stream (kept after a stream finishes until consumed). */
  private readonly unconsumed = new Map<number, number>();
  private unconsumedTotal = 0;
  private readonly sendQueue: number[] = [];
  private readonly queued = new Set<number>();
  private nextBidi: number;
  private nextUni: number;
  private peerMaxStreamsBidi = 0;
  private peerMaxStreamsUni = 0;
  private localMaxStreamsBidi: number;
  private localMaxStreamsUni: number;
  private peerStreamsOpenedBidi = 0;
  private peerStreamsOpenedUni = 0;
  private readonly controlQueue: Frame[] = [];
  private readonly datagramQueue: Uint8Array[] = [];
  private handshakeDonePending = false;
  private handshakeConfirmed = false;
  private handshakeEventSent = false;
  private pingPending = false;
  // Key update (RFC 9001 §6).
  private readPhase = 0;
  private writePhase = 0;
  private prevReadKeys: PacketKeys | null = null;
  private keyUpdatePn = -1;
  // AEAD limits (RFC 9001 §6.6).
  private readonly keyUpdatePackets: number;
  private readonly confidentialityLimitOverride: number | undefined;
  private readonly integrityLimitOverride: number | undefined;
  /** 1-RTT packets protected with the current write key. */
  private packetsWithWriteKey = 0;
  /** Handshake and 1-RTT packets that failed authentication, over the connection's life. */
  private authFailures = 0;
  /** Write-key rotations (ours or following the peer's). */
  keyUpdates = 0;
  /** RTT samples taken (the latest is `rttMs.latest`) and packets declared lost, for metrics. */
  rttSamples = 0;
  packetsLost = 0;
  // Timers and closing.
  private idleTimeoutMs: number;
  private readonly keepAliveMs: number;
  private lastActivityMs = 0;
  private lastSentMs = 0;
  private closeFrame: Frame | null = null;
  private closeSentMs = -Infinity;
  private closeDeadlineMs = Infinity;
  /** Latest time passed to receive/send/onTimer (close() has no time argument). */
  private lastNowMs = 0;
  private authenticated = false;
  /** Packets dropped: undecodable, no keys, failed authentication, duplicates (for metrics). */
  packetsDropped = 0;
  /** 1-RTT packets opened in a batch by `receiveMany` (the rest went one native call each). */
  packetsOpenedBatched = 0;

  private constructor(isClient: boolean, opts: ConnectionOptions, dcid: Uint8Array, originalDcid: Uint8Array, scid: Uint8Array, retryOriginalDcid?: Uint8Array) {
    this.isClient = isClient;
    this.random = opts.random ?? ((n) => new Uint8Array(randomBytes(n)));
    this.resetKey = opts.resetKey ?? this.random(32);
    this.maxDatagramBytes = Math.max(INITIAL_DATAGRAM_BYTES_MIN, opts.maxDatagramBytes ?? PMTU_MAX_DEFAULT);
    // Windows start counted in 1200-byte datagrams; discovery raises the size later.
    this.cc = opts.congestionControl === "newreno" ? new NewReno(INITIAL_DATAGRAM_BYTES_MIN) : new Cubic(INITIAL_DATAGRAM_BYTES_MIN);
    this.pacer = opts.pacing === false ? undefined : new Pacer(INITIAL_DATAGRAM_BYTES_MIN, pacingBurstPacketsDefault, pacingBurstIntervalMsDefault, pacingGranularityMsDefault);
    this.recovery = new LossRecovery<SentFrame>({ isServer: !isClient, congestion: this.cc, peerMaxAckDelayMs: MAX_ACK_DELAY_MS });
    this.dcid = dcid;
    this.scid = scid;
    this.originalDcid = originalDcid;
    // A server that made the client echo a Retry token has validated its address.
    this.addressValidated = isClient || retryOriginalDcid !== undefined;
    const connectionWindow = opts.connectionWindowBytes ?? CONNECTION_WINDOW_BYTES_DEFAULT;
    const receiveBufferBytesMax = Math.max(1, opts.receiveBufferBytesMax ?? connectionWindow * CONNECTION_WINDOW_GROWTH);
    // The initial MAX_DATA never exceeds the receive buffer it stands for.
    this.connectionWindow = Math.min(connectionWindow, receiveBufferBytesMax);
    this.consumeOnDelivery = opts.consumeOnDelivery ?? true;
    this.recvWindow = new ReceiveWindow({ windowBytes: this.connectionWindow, windowBytesMax: receiveBufferBytesMax, level: "connection" });
    this.nextBidi = isClient ? 0 : 1;
    this.nextUni = isClient ? 2 : 3;
    this.localMaxStreamsBidi = opts.maxStreamsBidi ?? STREAMS_MAX_DEFAULT;
    this.localMaxStreamsUni = opts.maxStreamsUni ?? STREAMS_MAX_DEFAULT;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? IDLE_TIMEOUT_MS_DEFAULT;
    this.keepAliveMs = opts.keepAliveMs ?? 0;
    this.keyUpdatePackets = Math.max(1, opts.keyUpdatePackets ?? KEY_UPDATE_PACKETS_DEFAULT);
    this.datagramArena = opts.datagramArena ?? datagramArena;
    this.confidentialityLimitOverride = opts.aeadConfidentialityLimit;
    this.integrityLimitOverride = opts.aeadIntegrityLimit;
    this.localCids.set(0, scid);
    this.peerCids.set(0, { cid: dcid, token: null });
    const streamWindow = opts.streamWindowBytes ?? STREAM_WINDOW_BYTES_DEFAULT;
    this.localParams = {
      ...defaultTransportParameters(),
      maxIdleTimeoutMs: this.idleTimeoutMs,
      maxUdpPayloadSize: Math.max(INITIAL_DATAGRAM_BYTES_MIN, opts.maxReceiveDatagramBytes ?? MAX_UDP_PAYLOAD_BYTES),
      initialMaxData: this.connectionWindow,
      initialMaxStreamDataBidiLocal: streamWindow,
      initialMaxStreamDataBidiRemote: streamWindow,
      initialMaxStreamDataUni: streamWindow,
      initialMaxStreamsBidi: this.localMaxStreamsBidi,
      initialMaxStreamsUni: this.localMaxStreamsUni,
      maxAckDelayMs: MAX_ACK_DELAY_MS,
      activeConnectionIdLimit: ACTIVE_CONNECTION_ID_LIMIT,
      // No connection migration: ask peers not to migrate actively (RFC 9000 §18.2).
      disableActiveMigration: true,
      initialSourceConnectionId: scid,
      maxDatagramFrameSize: opts.maxDatagramFrameBytes ?? DATAGRAM_FRAME_BYTES_MAX,
    };
    if (!isClient) {
      this.localParams.originalDestinationConnectionId = retryOriginalDcid ?? originalDcid;
      if (retryOriginalDcid) this.localParams.retrySourceConnectionId = originalDcid;
      this.localParams.statelessResetToken = this.resetToken(scid);
    }
    this.installInitialKeys(originalDcid);
    this.tls = new TlsSession(
      {
        isClient,
        identity: opts.identity,
        certificate: opts.certificate ?? certificateDer(opts.identity),
        alpn: opts.alpn ?? [ALPN_PHANTOM],
        transportParameters: encodeTransportParameters(this.localParams),
        verifyPeer: opts.verifyPeer,
        serverName: opts.serverName,
        cipherSuites: opts.cipherSuites,
        random: this.random,
      },
      {
        send: (level, data) => this.spaceOf(level).cryptoSend.write(data, false),
        installKey: (level, dir, suite, secret) => this.installKey(level, dir, suite, secret),
      },
    );
  }

  /** A client connection; call `send()` to get the first Initial datagram. */
  static client(opts: ConnectionOptions): Connection {
    const random = opts.random ?? ((n: number) => new Uint8Array(randomBytes(n)));
    const dcid = random(CONNECTION_ID_BYTES);
    const c = new Connection(true, { ...opts, random }, dcid, dcid, random(CONNECTION_ID_BYTES));
    c.tls.start();
    return c;
  }

  /**
   * A server connection for a client Initial whose header was parsed by the
   * endpoint (`initialDcid`, `clientScid`); feed the datagram with `receive`.
   * `retryOriginalDcid`: the endpoint validated the client with a Retry, and this
   * is the DCID of the client's first Initial (carried in the token).
   */
  static server(opts: ConnectionOptions, initialDcid: Uint8Array, clientScid: Uint8Array, retryOriginalDcid?: Uint8Array): Connection {
    const random = opts.random ?? ((n: number) => new Uint8Array(randomBytes(n)));
    const c = new Connection(false, { ...opts, random }, clientScid.slice(), initialDcid.slice(), random(CONNECTION_ID_BYTES), retryOriginalDcid?.slice());
    c.peerScidSeen = true;
    return c;
  }

  // ---------------------------------------------------------------- public API

  /** Whether any packet from the peer has passed packet protection. */
  get hasAuthenticatedPacket(): boolean {
    return this.authenticated;
  }

  get isEstablished(): boolean {
    return this.state === "established";
  }
  /** Closed and drained: the endpoint may forget this connection. */
  get isFinished(): boolean {
    return this.state === "closed";
  }
  get isClosing(): boolean {
    return this.state === "closing" || this.state === "draining" || this.state === "closed";
  }
  get peerPublicKey(): Uint8Array | null {
    return this.tls.peerPublicKey;
  }
  /** Our connection IDs currently valid (for endpoint demultiplexing). */
  get localConnectionIds(): Uint8Array[] {
    return [...this.localCids.values()];
  }
  get rttMs(): { smoothed: number; min: number; latest: number } {
    const r = this.recovery.rtt;
    return { smoothed: r.smoothedRttMs, min: r.minRttMs, latest: r.latestRttMs };
  }
  get congestionWindowBytes(): number {
    return this.cc.congestionWindow;
  }
  get bytesInFlight(): number {
    return this.cc.bytesInFlight;
  }
  /** The UDP payload size full packets use now (path MTU discovery's confirmed size). */
  get datagramBytes(): number {
    return this.sendDatagramBytes;
  }
  /** Path MTU discovery: state, probes and black holes (falls back to 1200). */
  get pmtuStats(): { state: string; datagramBytes: number; probesSent: number; probesAcked: number; probesLost: number; blackHoles: number } {
    const m = this.pmtu;
    return { state: m.state, datagramBytes: this.sendDatagramBytes, probesSent: m.probesSent, probesAcked: m.probesAcked, probesLost: m.probesLost, blackHoles: m.blackHoles };
  }
  /** Which congestion controller runs, and (CUBIC) whether HyStart++ ended slow start. */
  get congestionControl(): { name: "cubic" | "newreno"; ssthresh: number; hystartRounds: number; hystartExited: boolean } {
    const cc = this.cc as Cubic | NewReno;
    const h = cc.hystart;
    return { name: cc instanceof Cubic ? "cubic" : "newreno", ssthresh: cc.ssthresh, hystartRounds: h?.rounds ?? 0, hystartExited: h?.exitedBy !== undefined };
  }
  /**
   * Loss detection's view of reordering: packets acked after being declared lost,
   * window reductions undone because of it, and the current (adaptive) thresholds.
   */
  get reordering(): { spuriousLosses: number; congestionUndos: number; packetThreshold: number; timeThresholdRatio: number } {
    const r = this.recovery;
    return { spuriousLosses: r.spuriousLosses, congestionUndos: r.congestionUndos, packetThreshold: r.packetThreshold, timeThresholdRatio: r.timeThresholdRatio };
  }

  pollEvents(): ConnectionEvent[] {
    return this.events.splice(0);
  }

  /** Opens a locally-initiated stream; throws STREAM_LIMIT_ERROR when the peer's limit is reached. */
  openStream(bidi = true): number {
    const count = bidi ? (this.nextBidi >> 2) : (this.nextUni >> 2);
    const limit = bidi ? this.peerMaxStreamsBidi : this.peerMaxStreamsUni;
    if (count >= limit) throw new QuicError("STREAM_LIMIT_ERROR", "peer stream limit reached");
    const id = bidi ? this.nextBidi : this.nextUni;
    if (bidi) this.nextBidi += 4;
    else this.nextUni += 4;
    this.createSendStream(id);
    if (bidi) this.createRecvStream(id);
    return id;
  }

  /** Queues bytes on a stream (the connection keeps a reference: do not modify `data` afterwards). */
  writeStream(streamId: number, data: Uint8Array, fin = false): void {
    const s = this.sendStreams.get(streamId);
    if (!s) throw new QuicError("STREAM_STATE_ERROR", `stream ${streamId} is not open for sending`);
    s.write(data, fin);
    this.markSendable(streamId);
  }

  /**
   * The application consumed `bytes` of the data delivered on `streamId` (only needed
   * with `consumeOnDelivery: false`): flow credit is re-granted for them.
   */
  consumeStream(streamId: number, bytes: number): void {
    const held = this.unconsumed.get(streamId) ?? 0;
    const n = Math.min(held, Math.max(0, bytes));
    if (n === 0) return;
    if (held === n) this.unconsumed.delete(streamId);
    else this.unconsumed.set(streamId, held - n);
    this.unconsumedTotal -= n;
    this.recvWindow.onConsumed(n);
    if (this.recvWindow.updateNeeded()) this.maxDataDirty = true;
    const r = this.recvStreams.get(streamId);
    if (!r) return;
    r.consume(n);
    if (r.creditUpdate() !== null) this.maxStreamDataDirty.add(streamId);
  }

  /** Stream bytes delivered to the application and not yet consumed (all streams). */
  get unconsumedBytes(): number {
    return this.unconsumedTotal;
  }

  /** Bytes written to a stream and not yet acknowledged (for application backpressure). */
  streamBufferedBytes(streamId: number): number {
    return this.sendStreams.get(streamId)?.bufferedBytes ?? 0;
  }

  resetStream(streamId: number, errorCode: number): void {
    const s = this.sendStreams.get(streamId);
    if (!s || s.resetCode !== null) return;
    s.reset(errorCode);
    this.controlQueue.push({ kind: "reset_stream", streamId, errorCode, finalSize: s.sentOffset });
  }

  stopSending(streamId: number, errorCode: number): void {
    const r = this.recvStreams.get(streamId);
    if (!r || r.stopSendingSent || r.done) return;
    r.stopSendingSent = true;
    this.controlQueue.push({ kind: "stop_sending", streamId, errorCode });
  }

  /** Queues an unreliable DATAGRAM (RFC 9221). Returns false if the peer does not accept it or the queue is full. */
  sendDatagram(data: Uint8Array): boolean {
    const max = this.peerParams?.maxDatagramFrameSize ?? 0;
    if (data.length + 4 > max || data.length + 64 > this.sendDatagramBytes || this.datagramQueue.length >= DATAGRAM_QUEUE_MAX) return false;
    this.datagramQueue.push(data);
    return true;
  }

  ping(): void {
    this.pingPending = true;
  }

  /** Starts a key update (RFC 9001 §6); returns false if one cannot start yet. */
  initiateKeyUpdate(): boolean {
    const app = this.spaces[SPACE_APP];
    if (!this.handshakeConfirmed || !app.writeKeys || this.readPhase !== this.writePhase) return false;
    if (this.keyUpdatePn >= 0 && this.recovery.largestAcked("application") < this.keyUpdatePn) return false;
    this.rotateWriteKeys();
    return true;
  }

  /** Next write key phase; packets counted against the AEAD limits start again. */
  private rotateWriteKeys(): void {
    const app = this.spaces[SPACE_APP];
    app.writeKeys = app.writeKeys!.next();
    this.writePhase ^= 1;
    this.keyUpdatePn = app.nextPn;
    this.packetsWithWriteKey = 0;
    this.keyUpdates++;
  }

  /**
   * RFC 9001 §6.6: update the write key well before its confidentiality limit; if that
   * is not possible in time (the previous update is still unacknowledged), close with
   * AEAD_LIMIT_REACHED before the limit.
   */
  private enforceConfidentialityLimit(nowMs: number): void {
    const keys = this.spaces[SPACE_APP].writeKeys;
    if (!keys || this.packetsWithWriteKey < this.keyUpdatePackets) return;
    if (this.initiateKeyUpdate()) return;
    const limit = this.confidentialityLimitOverride ?? confidentialityLimitPackets(keys.suite);
    if (this.packetsWithWriteKey >= limit - CONFIDENTIALITY_CLOSE_MARGIN_PACKETS) {
      this.failWith(new QuicError("AEAD_LIMIT_REACHED", `key used for ${this.packetsWithWriteKey} packets and no key update possible`), nowMs);
    }
  }

  /** RFC 9001 §6.6: count packets failing authentication; close at the integrity limit. */
  private onAuthFailure(keys: PacketKeys): void {
    this.authFailures++;
    const limit = this.integrityLimitOverride ?? integrityLimitPackets(keys.suite);
    if (this.authFailures >= limit) throw new QuicError("AEAD_LIMIT_REACHED", `${this.authFailures} packets failed authentication`);
  }

  get keyPhase(): number {
    return this.writePhase;
  }

  /** Closes with an application error code (CONNECTION_CLOSE type 0x1d). */
  close(errorCode = 0, reason = ""): void {
    if (this.isClosing) return;
    const reasonBytes = new Uint8Array(Buffer.from(reason.slice(0, 200), "utf8"));
    this.enterClosing({ kind: "connection_close", application: true, errorCode, frameType: 0, reason: reasonBytes }, this.lastNowMs);
  }

  // ---------------------------------------------------------------- receive

  receive(input: Uint8Array, nowMs: number): void {
    if (this.state === "closed" || this.state === "draining") return;
    this.lastNowMs = nowMs;
    // A plain Uint8Array view: Buffer#slice would alias instead of copying.
    const datagram = Buffer.isBuffer(input) ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength) : input;
    this.bytesReceived += datagram.length;
    if (!this.addressValidated) this.recovery.setAmplificationLimited(false, nowMs);
    if (this.state === "closing") {
      // Answer anything with the close again, rate-limited (RFC 9000 §10.2.1).
      if (nowMs - this.closeSentMs >= CLOSE_RESEND_INTERVAL_MS) this.closeSentMs = -Infinity;
      return;
    }
    try {
      let off = 0;
      while (off < datagram.length) {
        let hdr: PacketHeader;
        try {
          hdr = parsePacketHeader(datagram, off, this.scid.length);
        } catch {
          this.packetsDropped++;
          return; // undecodable remainder of the datagram: drop it
        }
        off = hdr.end;
        if (hdr.form === "vn") return this.onVersionNegotiation(hdr.versions, nowMs);
        if (hdr.form === "long" && hdr.version !== QUIC_VERSION_1) return;
        if (hdr.form === "long" && hdr.type === PACKET_TYPE_RETRY) {
          this.onRetry(hdr, datagram.subarray(hdr.start, hdr.end));
          return;
        }
        this.receivePacket(hdr, datagram, nowMs);
        if (this.isClosing) return;
      }
    } catch (e) {
      this.failWith(e, nowMs);
    }
  }

  /**
   * `receive` for the datagrams of one event-loop turn, in order. Runs of 1-RTT
   * datagrams (short header, one packet each, which is what bulk data arrives as)
   * are opened with one native call per 64 (`openDatagrams`); anything else, and
   * any packet that does not open with the current keys in the current key phase
   * (key update, old phase, damage, stateless reset), goes through `receive`.
   */
  receiveMany(datagrams: readonly Uint8Array[], nowMs: number): void {
    const n = datagrams.length;
    let i = 0;
    while (i < n) {
      let j = i;
      if (this.state === "handshake" || this.state === "established") {
        while (j < n && j - i < RECEIVE_BATCH_MAX && datagrams[j]!.length > 0 && (datagrams[j]![0]! & 0x80) === 0) j++;
      }
      if (j - i < 2 || !this.spaces[SPACE_APP].readKeys) {
        this.receive(datagrams[i]!, nowMs);
        i++;
        continue;
      }
      this.receiveShortRun(datagrams, i, j - i, nowMs);
      i = j;
    }
  }

  private receiveShortRun(datagrams: readonly Uint8Array[], from: number, count: number, nowMs: number): void {
    const app = this.spaces[SPACE_APP];
    const opened = this.openedRun;
    // Packet numbers decode against the largest received before the run: the peer
    // encodes them against the largest we acknowledged, which is no larger.
    openDatagrams(app.readKeys!, datagrams, from, count, 1 + this.scid.length, app.ack.largestReceived, opened);
    const phase = this.readPhase;
    for (let k = 0; k < count; k++) {
      const datagram = datagrams[from + k]!;
      const o = opened[k]!;
      opened[k] = null;
      if (o === null || ((o.firstByte >> 2) & 1) !== phase || this.state === "closing" || this.state === "draining" || this.state === "closed") {
        this.receive(datagram, nowMs);
        continue;
      }
      this.lastNowMs = nowMs;
      this.bytesReceived += datagram.length;
      if (!this.addressValidated) this.recovery.setAmplificationLimited(false, nowMs);
      this.packetsOpenedBatched++;
      try {
        this.onOpened(app, o, nowMs);
      } catch (e) {
        this.failWith(e, nowMs);
      }
    }
  }
  private readonly openedRun: (OpenedPacket | null)[] = [];

  private receivePacket(hdr: Exclude<PacketHeader, { form: "vn" }>, datagram: Uint8Array, nowMs: number): void {
    let spaceId: SpaceId;
    if (hdr.form === "short") spaceId = SPACE_APP;
    else if (hdr.type === PACKET_TYPE_INITIAL) spaceId = SPACE_INITIAL;
    else if (hdr.type === PACKET_TYPE_HANDSHAKE) spaceId = SPACE_HANDSHAKE;
    else return; // 0-RTT is not supported: drop
    const space = this.spaces[spaceId];
    if (!space.readKeys || space.discarded) {
      this.packetsDropped++;
      return;
    }
    // Most datagrams hold one packet: use it as is (a view per packet is not free).
    const packet = hdr.start === 0 && hdr.end === datagram.length ? datagram : datagram.subarray(hdr.start, hdr.end);
    const pnOffset = hdr.pnOffset - hdr.start;
    const opened = spaceId === SPACE_APP ? this.open1Rtt(packet, pnOffset) : openPacket(space.readKeys, packet, pnOffset, space.ack.largestReceived);
    if (!opened) {
      this.packetsDropped++;
      if (spaceId === SPACE_APP) this.checkStatelessReset(datagram, nowMs);
      // Initial keys are public: their failures say nothing about the AEAD's bounds.
      if (spaceId !== SPACE_INITIAL && !this.isClosing) this.onAuthFailure(space.readKeys);
      return;
    }
    if (hdr.form === "long") {
      if ((opened.firstByte & 0x0c) !== 0) throw new QuicError("PROTOCOL_VIOLATION", "reserved header bits set");
      if (space.ack.isDuplicate(opened.pn)) {
        this.packetsDropped++;
        return;
      }
      this.onLongHeaderAccepted(hdr, spaceId);
    }
    this.onOpened(space, opened, nowMs);
  }

  /** Everything after a packet opened: duplicate check, ACK state, frames (shared by both receive paths). */
  private onOpened(space: Space, opened: OpenedPacket, nowMs: number): void {
    if (space.id === SPACE_APP && (opened.firstByte & 0x18) !== 0) throw new QuicError("PROTOCOL_VIOLATION", "reserved header bits set");
    if (space.ack.isDuplicate(opened.pn)) {
      this.packetsDropped++;
      return;
    }
    this.authenticated = true;
    this.lastActivityMs = nowMs;
    const spaceId = space.id;
    const frames = parseFrames(opened.payload, SPACE_PACKET_TYPES[spaceId]!);
    const ackEliciting = framesAckEliciting(frames);
    space.ack.onPacketReceived(opened.pn, ackEliciting, nowMs);
    for (const f of frames) {
      this.onFrame(space, f, nowMs);
      if (this.isClosing) return;
    }
    this.afterTls();
  }

  private open1Rtt(packet: Uint8Array, pnOffset: number): { firstByte: number; pn: number; payload: Uint8Array } | null {
    const app = this.spaces[SPACE_APP];
    const keys = app.readKeys!;
    // The key phase bit is under header protection; peek it with the current header key (shared by all phases).
    const probe = openPacket(keys, packet, pnOffset, app.ack.largestReceived);
    if (probe) {
      if (((probe.firstByte >> 2) & 1) !== this.readPhase) return null;
      return probe;
    }
    if (this.handshakeConfirmed) {
      const next = keys.next();
      const opened = openPacket(next, packet, pnOffset, app.ack.largestReceived);
      if (opened) {
        // Peer moved to the next key phase; follow with our write keys (RFC 9001 §6.2).
        this.prevReadKeys = keys;
        app.readKeys = next;
        this.readPhase ^= 1;
        if (this.writePhase !== this.readPhase) {
          this.rotateWriteKeys();
        }
        return opened;
      }
    }
    if (this.prevReadKeys) return openPacket(this.prevReadKeys, packet, pnOffset, app.ack.largestReceived);
    return null;
  }

  private onLongHeaderAccepted(hdr: LongHeader, spaceId: SpaceId): void {
    if (this.isClient && !this.peerScidSeen) {
      // The server's chosen connection ID replaces our random initial DCID (RFC 9000 §7.2).
      this.dcid = hdr.scid.slice();
      this.peerCids.set(0, { cid: this.dcid, token: null });
      this.peerScidSeen = true;
    }
    if (!this.isClient && spaceId === SPACE_HANDSHAKE) {
      this.addressValidated = true;
      this.discardSpace(SPACE_INITIAL);
    }
  }

  private onVersionNegotiation(versions: number[], nowMs: number): void {
    if (!this.isClient || this.peerScidSeen || versions.includes(QUIC_VERSION_1)) return;
    this.enterDraining(0, "no common QUIC version", false, nowMs, false);
  }

  private onRetry(hdr: LongHeader, packet: Uint8Array): void {
    if (!this.isClient || this.peerScidSeen || this.retryScid !== null) return;
    if (!verifyRetry(this.originalDcid, packet) || hdr.token.length === 0) return;
    this.retryScid = hdr.scid.slice();
    this.token = hdr.token.slice();
    this.dcid = hdr.scid.slice();
    this.peerCids.set(0, { cid: this.dcid, token: null });
    this.installInitialKeys(this.dcid);
    // Everything sent in Initial packets goes again with the new keys and token.
    const initial = this.spaces[SPACE_INITIAL];
    for (const p of this.recovery.discardSpace("initial", this.lastNowMs)) this.onPacketLost(initial, p);
  }

  private checkStatelessReset(datagram: Uint8Array, nowMs: number): void {
    if (datagram.length < STATELESS_RESET_BYTES_MIN) return;
    const tail = datagram.subarray(datagram.length - 16);
    for (const { token } of this.peerCids.values()) {
      if (token && Buffer.compare(token, tail) === 0) {
        this.enterDraining(0, "stateless reset", true, nowMs, false);
        return;
      }
    }
  }

  // ---------------------------------------------------------------- frames

  private onFrame(space: Space, f: Frame, nowMs: number): void {
    switch (f.kind) {
      case "padding": case "ping": return;
      case "ack": return this.onAck(space, f, nowMs);
      case "crypto": return this.onCrypto(space, f.offset, f.data);
      case "stream": return this.onStreamFrame(f.streamId, f.offset, f.data, f.fin);
      case "reset_stream": return this.onResetStream(f.streamId, f.errorCode, f.finalSize);
      case "stop_sending": return this.onStopSending(f.streamId, f.errorCode);
      case "max_data":
        if (this.sendWindow.onMaxData(f.maximum)) for (const id of this.sendStreams.keys()) this.markSendable(id);
        return;
      case "max_stream_data": return this.onMaxStreamData(f.streamId, f.maximum);
      case "max_streams":
        if (f.bidi) this.peerMaxStreamsBidi = Math.max(this.peerMaxStreamsBidi, f.maximum);
        else this.peerMaxStreamsUni = Math.max(this.peerMaxStreamsUni, f.maximum);
        return;
      case "data_blocked": case "stream_data_blocked": case "streams_blocked": case "path_response": return;
      case "new_token":
        if (!this.isClient) throw new QuicError("PROTOCOL_VIOLATION", "client sent NEW_TOKEN", { frameType: 0x07 });
        return;
      case "new_connection_id": return this.onNewConnectionId(f.sequence, f.retirePriorTo, f.connectionId, f.resetToken);
      case "retire_connection_id": return this.onRetireConnectionId(f.sequence);
      case "path_challenge": this.controlQueue.push({ kind: "path_response", data: f.data.slice() }); return;
      case "connection_close": {
        const reason = Buffer.from(f.reason).toString("utf8");
        this.enterDraining(f.errorCode, reason, true, nowMs, f.application);
        return;
      }
      case "handshake_done":
        if (!this.isClient) throw new QuicError("PROTOCOL_VIOLATION", "client sent HANDSHAKE_DONE", { frameType: 0x1e });
        this.confirmHandshake();
        return;
      case "datagram":
        if (this.localParams.maxDatagramFrameSize === 0 || f.data.length > this.localParams.maxDatagramFrameSize) {
          throw new QuicError("PROTOCOL_VIOLATION", "unexpected or oversize DATAGRAM frame", { frameType: 0x31 });
        }
        this.events.push({ type: "datagram", data: f.data.slice() });
        return;
    }
  }

  private onCrypto(space: Space, offset: number, data: Uint8Array): void {
    if (offset + data.length > space.cryptoRecv.readOffset + CRYPTO_BUFFER_BYTES_MAX) {
      throw new QuicError("CRYPTO_BUFFER_EXCEEDED", "CRYPTO data too far ahead");
    }
    space.cryptoRecv.maxData = space.cryptoRecv.readOffset + CRYPTO_BUFFER_BYTES_MAX;
    const { pieces } = space.cryptoRecv.receive(offset, data, false);
    const level = LEVEL_BY_SPACE[space.id]!;
    for (const p of pieces) this.tls.receive(level, p);
  }

  /** Applies TLS progress: peer transport parameters, handshake completion. */
  private afterTls(): void {
    if (!this.peerParams && this.tls.peerTransportParameters) this.applyPeerParams(decodeTransportParameters(this.tls.peerTransportParameters, this.isClient));
    // The client reports the handshake only once it is confirmed (HANDSHAKE_DONE): that
    // is when it knows the server accepted its certificate (RFC 9001 §4.1.2).
    if (this.tls.complete && !this.handshakeEventSent && (!this.isClient || this.handshakeConfirmed)) {
      this.handshakeEventSent = true;
      this.state = "established";
      this.events.push({ type: "handshake_done", peerPublicKey: this.tls.peerPublicKey!, alpn: this.tls.alpn ?? "" });
      if (!this.isClient) {
        this.handshakeDonePending = true;
        this.confirmHandshake();
      }
      this.issueConnectionIds();
    }
  }

  private applyPeerParams(p: TransportParameters): void {
    if (this.isClient) {
      if (!p.originalDestinationConnectionId || Buffer.compare(p.originalDestinationConnectionId, this.originalDcid) !== 0) {
        throw new QuicError("TRANSPORT_PARAMETER_ERROR", "original_destination_connection_id mismatch");
      }
      if (!p.initialSourceConnectionId || Buffer.compare(p.initialSourceConnectionId, this.dcid) !== 0) {
        throw new QuicError("TRANSPORT_PARAMETER_ERROR", "initial_source_connection_id mismatch");
      }
      const retryOk = this.retryScid === null ? p.retrySourceConnectionId === undefined : p.retrySourceConnectionId !== undefined && Buffer.compare(p.retrySourceConnectionId, this.retryScid) === 0;
      if (!retryOk) throw new QuicError("TRANSPORT_PARAMETER_ERROR", "retry_source_connection_id mismatch");
      if (p.statelessResetToken) this.peerCids.set(0, { cid: this.dcid, token: p.statelessResetToken });
    } else if (!p.initialSourceConnectionId || Buffer.compare(p.initialSourceConnectionId, this.dcid) !== 0) {
      throw new QuicError("TRANSPORT_PARAMETER_ERROR", "initial_source_connection_id mismatch");
    }
    this.peerParams = p;
    this.recovery.peerMaxAckDelayMs = p.maxAckDelayMs;
    this.sendWindow.onMaxData(p.initialMaxData);
    this.peerMaxStreamsBidi = p.initialMaxStreamsBidi;
    this.peerMaxStreamsUni = p.initialMaxStreamsUni;
    if (p.maxIdleTimeoutMs > 0) this.idleTimeoutMs = this.idleTimeoutMs > 0 ? Math.min(this.idleTimeoutMs, p.maxIdleTimeoutMs) : p.maxIdleTimeoutMs;
    for (const [id, s] of this.sendStreams) s.maxData = Math.max(s.maxData, this.initialSendWindow(id));
  }

  private initialSendWindow(id: number): number {
    const p = this.peerParams;
    if (!p) return 0;
    if (!isBidi(id)) return p.initialMaxStreamDataUni;
    // Our stream: the peer's "remote" limit applies; peer's stream: its "local" one.
    return isClientInitiated(id) === this.isClient ? p.initialMaxStreamDataBidiRemote : p.initialMaxStreamDataBidiLocal;
  }

  private confirmHandshake(): void {
    if (this.handshakeConfirmed) return;
    this.handshakeConfirmed = true;
    this.recovery.setHandshakeConfirmed(this.lastNowMs);
    // Path MTU discovery starts once the path is confirmed (RFC 9000 §14.3), up to what both allow.
    const peerMax = this.peerParams?.maxUdpPayloadSize ?? INITIAL_DATAGRAM_BYTES_MIN;
    this.pmtu.start(Math.max(BASE_PLPMTU, Math.min(this.maxDatagramBytes, peerMax)), this.lastNowMs, PMTU_FIRST_PROBE_RTTS * this.recovery.rtt.smoothedRttMs);
    this.discardSpace(SPACE_INITIAL);
    this.discardSpace(SPACE_HANDSHAKE);
  }

  private issueConnectionIds(): void {
    const limit = Math.min(ACTIVE_CONNECTION_ID_LIMIT, this.peerParams?.activeConnectionIdLimit ?? 2);
    while (this.localCids.size < limit) {
      const seq = this.nextLocalCidSeq++;
      const cid = this.random(CONNECTION_ID_BYTES);
      this.localCids.set(seq, cid);
      this.events.push({ type: "connection_id_issued", connectionId: cid });
      this.controlQueue.push({ kind: "new_connection_id", sequence: seq, retirePriorTo: 0, connectionId: cid, resetToken: this.resetToken(cid) });
    }
  }

  private onNewConnectionId(seq: number, retirePriorTo: number, cid: Uint8Array, token: Uint8Array): void {
    if (this.dcid.length === 0) throw new QuicError("PROTOCOL_VIOLATION", "NEW_CONNECTION_ID with zero-length connection IDs", { frameType: 0x18 });
    if (seq < this.peerCidSeq || this.peerCids.has(seq)) return;
    this.peerCids.set(seq, { cid: cid.slice(), token: token.slice() });
    for (const [s] of [...this.peerCids]) {
      if (s < retirePriorTo) {
        this.peerCids.delete(s);
        this.controlQueue.push({ kind: "retire_connection_id", sequence: s });
      }
    }
    if (this.peerCids.size > ACTIVE_CONNECTION_ID_LIMIT) throw new QuicError("CONNECTION_ID_LIMIT_ERROR", "too many connection IDs", { frameType: 0x18 });
    if (!this.peerCids.has(this.peerCidSeq)) {
      const next = Math.min(...this.peerCids.keys());
      this.peerCidSeq = next;
      this.dcid = this.peerCids.get(next)!.cid;
    }
  }

  private onRetireConnectionId(seq: number): void {
    if (seq >= this.nextLocalCidSeq) throw new QuicError("PROTOCOL_VIOLATION", "retiring a connection ID never issued", { frameType: 0x19 });
    const cid = this.localCids.get(seq);
    if (!cid) return;
    this.localCids.delete(seq);
    this.events.push({ type: "connection_id_retired", connectionId: cid });
    this.issueConnectionIds();
  }

  private resetToken(cid: Uint8Array): Uint8Array {
    return new Uint8Array(createHmac("sha256", this.resetKey).update(cid).digest().subarray(0, 16));
  }

  // ---------------------------------------------------------------- streams (receive)

  private locallyInitiated(id: number): boolean {
    return isClientInitiated(id) === this.isClient;
  }

  private createSendStream(id: number): SendStream {
    const s = new SendStream(id, this.initialSendWindow(id));
    this.sendStreams.set(id, s);
    return s;
  }

  private createRecvStream(id: number): RecvStream {
    const window = this.localParams.initialMaxStreamDataBidiLocal;
    const r = new RecvStream(id, window);
    this.recvStreams.set(id, r);
    return r;
  }

  /** Finds or (for a peer-initiated id) opens the receive half; null if the stream is already gone. */
  private recvStreamFor(id: number, frameType: number): RecvStream | null {
    const existing = this.recvStreams.get(id);
    if (existing) return existing;
    if (this.locallyInitiated(id)) {
      if (!isBidi(id)) throw new QuicError("STREAM_STATE_ERROR", `stream ${id} is our send-only stream`, { frameType });
      const next = isBidi(id) ? this.nextBidi : this.nextUni;
      if (id >= next) throw new QuicError("STREAM_STATE_ERROR", `stream ${id} was never opened`, { frameType });
      return null; // closed already
    }
    const bidi = isBidi(id);
    const index = id >> 2;
    const opened = bidi ? this.peerStreamsOpenedBidi : this.peerStreamsOpenedUni;
    if (index < opened) return null; // closed already
    if (index >= (bidi ? this.localMaxStreamsBidi : this.localMaxStreamsUni)) throw new QuicError("STREAM_LIMIT_ERROR", `stream ${id} beyond MAX_STREAMS`, { frameType });
    // Opening stream n implicitly opens every lower one of the same type (RFC 9000 §3.2).
    let r: RecvStream | null = null;
    for (let i = opened; i <= index; i++) {
      const sid = (i << 2) | (id & 0x3);
      r = this.createRecvStream(sid);
      if (bidi) this.createSendStream(sid);
    }
    if (bidi) this.peerStreamsOpenedBidi = index + 1;
    else this.peerStreamsOpenedUni = index + 1;
    return r;
  }

  private onStreamFrame(id: number, offset: number, data: Uint8Array, fin: boolean): void {
    const r = this.recvStreamFor(id, 0x08);
    if (!r) return;
    const before = r.highestOffset;
    const end = offset + data.length;
    if (end > before) this.recvWindow.onBytesReceived(end - before);
    const { pieces, fin: finNow } = r.receive(offset, data, fin);
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (this.consumeOnDelivery) {
        this.recvWindow.onConsumed(piece.length);
        r.consume(piece.length);
      } else if (piece.length > 0) {
        this.unconsumed.set(id, (this.unconsumed.get(id) ?? 0) + piece.length);
        this.unconsumedTotal += piece.length;
      }
      this.events.push({ type: "stream_data", streamId: id, data: piece, fin: finNow && i === pieces.length - 1 });
    }
    if (finNow && pieces.length === 0) this.events.push({ type: "stream_data", streamId: id, data: new Uint8Array(0), fin: true });
    if (r.creditUpdate() !== null) this.maxStreamDataDirty.add(id);
    if (this.recvWindow.updateNeeded()) this.maxDataDirty = true;
    if (r.done) this.retireRecvStream(r);
  }

  private retireRecvStream(r: RecvStream): void {
    this.recvStreams.delete(r.id);
    this.maxStreamDataDirty.delete(r.id);
    if (this.locallyInitiated(r.id)) return;
    // Give the peer a new stream credit for each of its streams that finished.
    const bidi = isBidi(r.id);
    if (bidi) this.localMaxStreamsBidi++;
    else this.localMaxStreamsUni++;
    this.controlQueue.push({ kind: "max_streams", bidi, maximum: bidi ? this.localMaxStreamsBidi : this.localMaxStreamsUni });
  }

  private onResetStream(id: number, errorCode: number, finalSize: number): void {
    if (this.locallyInitiated(id) && !isBidi(id)) throw new QuicError("STREAM_STATE_ERROR", "RESET_STREAM for our send-only stream", { frameType: 0x04 });
    const r = this.recvStreamFor(id, 0x04);
    if (!r || r.resetCode !== null) return;
    const before = r.highestOffset;
    r.onReset(errorCode, finalSize);
    this.recvWindow.onBytesReceived(finalSize - before);
    // Bytes never delivered, and delivered ones not yet consumed, are given back at once.
    const held = this.unconsumed.get(id) ?? 0;
    this.unconsumed.delete(id);
    this.unconsumedTotal -= held;
    this.recvWindow.onConsumed(finalSize - r.readOffset + held);
    if (this.recvWindow.updateNeeded()) this.maxDataDirty = true;
    this.events.push({ type: "stream_reset", streamId: id, errorCode });
    this.retireRecvStream(r);
  }

  private onStopSending(id: number, errorCode: number): void {
    if (!this.locallyInitiated(id) && !isBidi(id)) throw new QuicError("STREAM_STATE_ERROR", "STOP_SENDING for a receive-only stream", { frameType: 0x05 });
    if (this.locallyInitiated(id) && id >= (isBidi(id) ? this.nextBidi : this.nextUni)) throw new QuicError("STREAM_STATE_ERROR", "STOP_SENDING for an unopened stream", { frameType: 0x05 });
    if (!this.locallyInitiated(id)) this.recvStreamFor(id, 0x05);
    this.events.push({ type: "stop_sending", streamId: id, errorCode });
    this.resetStream(id, errorCode);
  }

  private onMaxStreamData(id: number, maximum: number): void {
    if (!this.locallyInitiated(id) && !isBidi(id)) throw new QuicError("STREAM_STATE_ERROR", "MAX_STREAM_DATA for a receive-only stream", { frameType: 0x11 });
    if (!this.locallyInitiated(id)) this.recvStreamFor(id, 0x11);
    const s = this.sendStreams.get(id);
    if (!s) return;
    if (maximum > s.maxData) {
      s.maxData = maximum;
      this.markSendable(id);
    }
  }

  private markSendable(id: number): void {
    if (this.queued.has(id)) return;
    this.queued.add(id);
    this.sendQueue.push(id);
  }

  // ---------------------------------------------------------------- ACK and loss (RFC 9002)

  private onAck(space: Space, f: AckFrame, nowMs: number): void {
    const exponent = space.id === SPACE_APP ? (this.peerParams?.ackDelayExponent ?? 3) : 3;
    const res = this.recovery.onAckReceived(space.name, { ranges: f.ranges, ackDelayMs: (f.ackDelay * 2 ** exponent) / 1000 }, nowMs);
    if (res.rttSampled) this.rttSamples++;
    for (const p of res.newlyAcked) this.onPacketAcked(space, p, nowMs);
    this.onPacketsDeclaredLost(space, res.lost, nowMs);
    this.checkBlackHole(res.newlyAcked, res.lost, nowMs, res.spuriouslyLost > 0);
  }

  /** Lost packets: probes tell path MTU discovery; the others count and are re-queued. */
  private onPacketsDeclaredLost(space: Space, lostPackets: readonly Sent[], nowMs: number): void {
    for (const p of lostPackets) {
      if (p.pmtuProbe) {
        for (const f of p.frames) if (f.k === "pmtu_probe") this.pmtu.onProbeLost(f.size, nowMs);
        continue;
      }
      this.packetsLost++;
      this.onPacketLost(space, p);
    }
  }

  /**
   * Black-hole detection (RFC 8899 §4.3): full-size packets keep getting lost and none
   * is acked for a PTO. `lateAcked`: this ACK covered packets declared lost before
   * (reordered, so they did get through).
   */
  private checkBlackHole(acked: readonly Sent[], lostPackets: readonly Sent[], nowMs: number, lateAcked: boolean): void {
    if (this.sendDatagramBytes <= BASE_PLPMTU) return;
    let largeAcked = lateAcked;
    let largeLost = 0;
    for (const p of acked) if (!p.pmtuProbe && p.sentBytes > BASE_PLPMTU) largeAcked = true;
    for (const p of lostPackets) if (!p.pmtuProbe && p.inFlight && p.sentBytes > BASE_PLPMTU) largeLost++;
    if (this.pmtu.onLargePackets(largeAcked, largeLost, nowMs, this.recovery.ptoBaseDurationMs("application"))) this.setDatagramBytes(BASE_PLPMTU);
  }

  /** The datagram size changed (probe acked, or a black hole): congestion control and pacing follow. */
  private setDatagramBytes(bytes: number): void {
    if (bytes < this.sendDatagramBytes) {
      // Queued DATAGRAM frames accepted for the larger size would block the queue for
      // good; they are unreliable by definition (RFC 9221), so they are dropped.
      for (let i = this.datagramQueue.length - 1; i >= 0; i--) if (this.datagramQueue[i]!.length + 64 > bytes) this.datagramQueue.splice(i, 1);
    }
    this.sendDatagramBytes = bytes;
    this.cc.setMaxDatagramBytes(bytes);
    if (this.pacer) this.pacer.maxDatagramBytes = bytes;
  }

  private onPacketAcked(space: Space, p: Sent, nowMs: number): void {
    for (const f of p.frames) {
      switch (f.k) {
        case "pmtu_probe": {
          const grown = this.pmtu.onProbeAcked(f.size, nowMs);
          if (grown !== undefined) this.setDatagramBytes(grown);
          break;
        }
        case "crypto": space.cryptoSend.onAcked(f.offset, f.length, false); break;
        case "stream": {
          const s = this.sendStreams.get(f.id);
          if (s) {
            s.onAcked(f.offset, f.length, f.fin);
            if (s.done) this.sendStreams.delete(f.id);
          }
          break;
        }
        case "ack": space.ack.onAckFrameAcknowledged(f.largest); break;
        default: break;
      }
    }
  }

  /** Puts a lost packet's retransmittable content back in the queues. */
  private onPacketLost(space: Space, p: Sent): void {
    for (const f of p.frames) {
      switch (f.k) {
        case "crypto": space.cryptoSend.onLost(f.offset, f.length, false); break;
        case "stream": {
          const s = this.sendStreams.get(f.id);
          if (s) {
            s.onLost(f.offset, f.length, f.fin);
            this.markSendable(f.id);
          }
          break;
        }
        case "ctrl": this.controlQueue.push(f.frame); break;
        case "max_data": this.maxDataDirty = true; break;
        case "max_stream_data": if (this.recvStreams.has(f.id)) this.maxStreamDataDirty.add(f.id); break;
        case "handshake_done": this.handshakeDonePending = true; break;
        default: break;
      }
    }
  }

  private discardSpace(id: SpaceId): void {
    const space = this.spaces[id];
    if (space.discarded) return;
    space.discarded = true;
    if (id !== SPACE_APP) this.recovery.discardSpace(space.name, this.lastNowMs);
    space.readKeys = null;
    space.writeKeys = null;
    // Release what the space buffered (idle connections should be small).
    space.scratch = new Uint8Array(0);
    space.cryptoSend = new SendStream(-1, 0);
    space.cryptoRecv = new RecvStream(-1, 1);
  }

  private highestHandshakeSpace(): SpaceId {
    return this.spaces[SPACE_HANDSHAKE].writeKeys ? SPACE_HANDSHAKE : SPACE_INITIAL;
  }

  private onLossTimer(nowMs: number): void {
    const r = this.recovery.onTimeout(nowMs);
    if (!r) return;
    const space = this.spaces[SPACE_NAMES.indexOf(r.space) as SpaceId];
    if (r.kind === "loss") {
      this.onPacketsDeclaredLost(space, r.lost, nowMs);
      this.checkBlackHole([], r.lost, nowMs, false);
      return;
    }
    // PTO: send probes carrying the oldest unacknowledged data again (RFC 9002 §6.2.4).
    this.probesPending = r.probes;
    this.probeSpace = space.id;
    let requeued = 0;
    for (const p of this.recovery.unacked(r.space)) {
      if (!p.ackEliciting) continue;
      this.onPacketLost(space, p);
      if (++requeued >= r.probes) break;
    }
  }

  // ---------------------------------------------------------------- keys

  private spaceOf(level: EncryptionLevel): Space {
    return this.spaces[level === LEVEL_INITIAL ? SPACE_INITIAL : level === LEVEL_HANDSHAKE ? SPACE_HANDSHAKE : SPACE_APP];
  }

  private installInitialKeys(dcid: Uint8Array): void {
    const s = initialSecrets(dcid);
    const space = this.spaces[SPACE_INITIAL];
    space.readKeys = new PacketKeys(TLS_AES_128_GCM_SHA256, this.isClient ? s.server : s.client);
    space.writeKeys = new PacketKeys(TLS_AES_128_GCM_SHA256, this.isClient ? s.client : s.server);
  }

  private installKey(level: EncryptionLevel, dir: "read" | "write", suite: CipherSuite, secret: Uint8Array): void {
    const space = this.spaceOf(level);
    const keys = new PacketKeys(suite, secret);
    if (dir === "read") space.readKeys = keys;
    else space.writeKeys = keys;
    if (level === LEVEL_HANDSHAKE && dir === "write") this.recovery.setHandshakeKeysAvailable(this.lastNowMs);
  }

  // ---------------------------------------------------------------- send

  /** Datagrams to send now (bounded per call; call again after the next timer or input). */
  send(nowMs: number): Uint8Array[] {
    try {
      return this.buildDatagrams(nowMs);
    } finally {
      // Every datagram built above holds plaintext until this seals the burst.
      sealBatch.flush();
    }
  }

  private buildDatagrams(nowMs: number): Uint8Array[] {
    this.lastNowMs = nowMs;
    if (this.lastActivityMs === 0) this.lastActivityMs = nowMs;
    const out: Uint8Array[] = [];
    if (this.state === "closed" || this.state === "draining") return out;
    if (this.state === "closing") {
      const d = this.closeDatagram(nowMs);
      if (d) out.push(d);
      return out;
    }
    // Recomputed below if the pacer still holds packets back.
    this.pacingDeadlineMs = Infinity;
    const probe = this.pmtuProbeDatagram(nowMs);
    if (probe) out.push(probe);
    for (let i = out.length; i < DATAGRAMS_PER_SEND_MAX; i++) {
      this.enforceConfidentialityLimit(nowMs);
      if (this.isClosing) {
        const c = this.closeDatagram(nowMs);
        if (c) out.push(c);
        break;
      }
      const d = this.buildDatagram(nowMs);
      if (!d) break;
      out.push(d);
    }
    return out;
  }

  private amplificationBudget(): number {
    return this.addressValidated ? Infinity : AMPLIFICATION_FACTOR * this.bytesReceived - this.bytesSent;
  }

  /**
   * A path MTU probe if one is due: a 1-RTT packet of exactly the probed size holding
   * PING and PADDING (RFC 9000 §14.4), within the congestion window and the pacer.
   */
  private pmtuProbeDatagram(nowMs: number): Uint8Array | null {
    if (!this.handshakeConfirmed || this.state !== "established") return null;
    const size = this.pmtu.probeDue(nowMs);
    const app = this.spaces[SPACE_APP];
    if (size === undefined || !app.writeKeys || this.cc.sendableBytes() < size || !this.paceAllows(nowMs, size)) return null;
    const d = this.newDraft(app, size);
    if (!d) return null;
    this.put(d, { kind: "ping" }, { k: "pmtu_probe", size });
    this.padDraft(d, d.payload.length - d.used);
    d.pmtuProbe = true;
    app.nextPn++;
    this.pmtu.onProbeSent(size);
    return this.sealDrafts([d], nowMs);
  }

  /** Whether the pacer lets `bytes` go now; if not, its deadline becomes a timer. */
  private paceAllows(nowMs: number, bytes: number): boolean {
    const pacer = this.pacer;
    if (!pacer) return true;
    const rtt = this.recovery.rtt;
    pacer.setRate(this.cc.congestionWindow, rtt.hasSample ? rtt.smoothedRttMs : 0);
    const at = pacer.nextSendTimeMs(nowMs, bytes);
    if (at <= nowMs) return true;
    this.pacingDeadlineMs = Math.min(this.pacingDeadlineMs, at);
    return false;
  }

  private wantsToSend(): boolean {
    for (const space of this.spaces) if (!space.discarded && space.writeKeys && this.hasPayload(space)) return true;
    return false;
  }

  private buildDatagram(nowMs: number): Uint8Array | null {
    // PTO probes use the base size: if the path stopped carrying larger datagrams, they still get through.
    const size = this.probesPending > 0 ? Math.min(this.sendDatagramBytes, BASE_PLPMTU) : this.sendDatagramBytes;
    let room = Math.min(size, this.amplificationBudget());
    if (room < INITIAL_DATAGRAM_BYTES_MIN && !this.addressValidated) {
      if (room <= 0) return null;
    }
    const congestionOk = this.probesPending > 0 || (this.cc.sendableBytes() >= this.sendDatagramBytes && (this.pacer === undefined || !this.wantsToSend() || this.paceAllows(nowMs, this.sendDatagramBytes)));
    if (!this.addressValidated) this.recovery.setAmplificationLimited(room < INITIAL_DATAGRAM_BYTES_MIN, nowMs);
    const drafts: Draft[] = [];
    for (const space of this.spaces) {
      if (space.discarded || !space.writeKeys) continue;
      const d = this.draftPacket(space, nowMs, room, congestionOk);
      if (!d) continue;
      drafts.push(d);
      room -= d.header.length + d.used + AEAD_TAG_BYTES;
      if (room < 64) break;
    }
    if (drafts.length === 0) return null;
    const needsPad = drafts.some((d) => d.space.id === SPACE_INITIAL && (this.isClient || d.ackEliciting));
    if (needsPad) {
      let total = 0;
      for (const d of drafts) total += d.header.length + d.used + AEAD_TAG_BYTES;
      const last = drafts[drafts.length - 1]!;
      const pad = Math.min(INITIAL_DATAGRAM_BYTES_MIN - total, last.payload.length - last.used);
      if (pad > 0) this.padDraft(last, pad);
    }
    return this.sealDrafts(drafts, nowMs);
  }

  private padDraft(d: Draft, pad: number): void {
    d.payload.fill(0, d.used, d.used + pad);
    d.used += pad;
    if (d.header[0]! & 0x80) {
      // Rewrite the Length field (2-byte varint just before the packet number).
      const length = d.pnLength + d.used + AEAD_TAG_BYTES;
      const at = d.header.length - d.pnLength - 2;
      d.header[at] = 0x40 | (length >> 8);
      d.header[at + 1] = length & 0xff;
    }
  }

  private sealDrafts(drafts: Draft[], nowMs: number, track = true): Uint8Array {
    let total = 0;
    for (const d of drafts) total += d.header.length + d.used + AEAD_TAG_BYTES;
    const out = this.datagramArena.take(total);
    let o = 0;
    for (const d of drafts) {
      const start = o;
      o = sealBatch.add(d.space.writeKeys!, d.header, d.pnLength, d.pn, d.payload.subarray(0, d.used), out, o);
      if (d.space.id === SPACE_APP) this.packetsWithWriteKey++;
      if (track) {
        const inFlight = d.ackEliciting || d.nonAckFrames;
        const sent: Sent = { pn: d.pn, space: d.space.name, ackEliciting: d.ackEliciting, inFlight, sentBytes: o - start, timeSentMs: nowMs, frames: d.frames };
        if (d.pmtuProbe) sent.pmtuProbe = true;
        this.recovery.onPacketSent(sent);
        if (inFlight) this.pacer?.onPacketSent(nowMs, o - start);
        if (d.ackEliciting && this.probesPending > 0) this.probesPending--;
      }
      // A client drops Initial keys once it sends its first Handshake packet (RFC 9001 §4.9.1).
      if (this.isClient && d.space.id === SPACE_HANDSHAKE) this.discardSpace(SPACE_INITIAL);
    }
    this.bytesSent += total;
    this.lastSentMs = nowMs;
    return out;
  }

  private newDraft(space: Space, room: number): Draft | null {
    const pn = space.nextPn;
    const pnLength = packetNumberLength(pn, this.recovery.largestAcked(space.name));
    let header: Uint8Array;
    if (space.id === SPACE_APP) header = writeShortHeader(this.dcid, this.writePhase, pnLength, pn);
    else {
      const type = space.id === SPACE_INITIAL ? PACKET_TYPE_INITIAL : PACKET_TYPE_HANDSHAKE;
      const overhead = longHeaderOverhead(type, this.dcid.length, this.scid.length, space.id === SPACE_INITIAL ? this.token.length : 0, pnLength);
      const payloadRoom = room - overhead - AEAD_TAG_BYTES;
      if (payloadRoom < 32) return null;
      header = writeLongHeader({ type, dcid: this.dcid, scid: this.scid, token: space.id === SPACE_INITIAL ? this.token : undefined, pnLength, pn, protectedPayloadBytes: payloadRoom + AEAD_TAG_BYTES });
    }
    const payloadRoom = room - header.length - AEAD_TAG_BYTES;
    if (payloadRoom < 32) return null;
    // One scratch payload per space: sealing copies it out, so it is free again right after.
    if (space.scratch.length < payloadRoom) space.scratch = new Uint8Array(Math.max(payloadRoom, this.maxDatagramBytes));
    return { space, header, pnLength, pn, payload: space.scratch.subarray(0, payloadRoom), used: 0, frames: [], ackEliciting: false, nonAckFrames: false };
  }

  private put(d: Draft, f: Frame, sent: SentFrame | null): void {
    d.used = writeFrame(d.payload, d.used, f);
    if (sent) {
      d.frames.push(sent);
      if (sent.k !== "ack") d.nonAckFrames = true;
    }
    if (f.kind !== "ack" && f.kind !== "padding" && f.kind !== "connection_close") d.ackEliciting = true;
  }

  private draftPacket(space: Space, nowMs: number, room: number, congestionOk: boolean): Draft | null {
    const ackFrame = space.ack.ackDue(nowMs) || (space.ack.hasNewInfo && congestionOk && this.hasPayload(space)) ? space.ack.buildAckFrame(nowMs, space.id === SPACE_APP ? this.localParams.ackDelayExponent : 3) : undefined;
    if (!ackFrame && (!congestionOk || !this.hasPayload(space))) return null;
    const d = this.newDraft(space, room);
    if (!d) return null;
    if (ackFrame && frameSize(ackFrame) <= d.payload.length - ACK_ROOM_RESERVE_BYTES) {
      this.put(d, ackFrame, { k: "ack", largest: ackFrame.ranges[0]!.largest });
      space.ack.onAckSent();
    }
    if (congestionOk) {
      this.fillCrypto(d);
      if (space.id === SPACE_APP) this.fillApp(d);
      if (this.pingPending && !d.ackEliciting && d.payload.length - d.used >= 1) {
        this.put(d, { kind: "ping" }, null);
        this.pingPending = false;
      }
      if (this.probesPending > 0 && this.probeSpace === space.id && !d.ackEliciting && d.payload.length - d.used >= 1) this.put(d, { kind: "ping" }, null);
    }
    if (d.used === 0) return null;
    space.nextPn++;
    // Header protection samples 16 bytes starting 4 after the packet number.
    const minPayload = 4 - d.pnLength;
    if (d.used < minPayload) this.padDraft(d, minPayload - d.used);
    if (d.header[0]! & 0x80) this.padDraft(d, 0);
    return d;
  }

  private hasPayload(space: Space): boolean {
    if (space.cryptoSend.wantsToSend(1)) return true;
    if ((this.probesPending > 0 && this.probeSpace === space.id) || (this.pingPending && space.id === this.sendableSpace())) return true;
    if (space.id !== SPACE_APP) return false;
    return this.controlQueue.length > 0 || this.handshakeDonePending || this.maxDataDirty || this.maxStreamDataDirty.size > 0 ||
      this.datagramQueue.length > 0 || this.sendQueue.length > 0;
  }

  private sendableSpace(): SpaceId {
    if (this.spaces[SPACE_APP].writeKeys && (this.handshakeConfirmed || !this.isClient || this.tls.complete)) return SPACE_APP;
    return this.highestHandshakeSpace();
  }

  private fillCrypto(d: Draft): void {
    const cs = d.space.cryptoSend;
    for (;;) {
      const avail = d.payload.length - d.used;
      const retx = cs.hasRetransmit();
      const maxData = cryptoDataFitting(retx ? 0 : cs.sentOffset, avail);
      if (maxData <= 0) return;
      const chunk = retx ? cs.nextRetransmit(cryptoDataFitting(cs.writtenOffset, avail)) : cs.hasNewData(Infinity) ? cs.takeNew(maxData) : null;
      if (!chunk || chunk.data.length === 0) return;
      this.put(d, { kind: "crypto", offset: chunk.offset, data: chunk.data }, { k: "crypto", offset: chunk.offset, length: chunk.data.length });
    }
  }

  private fillApp(d: Draft): void {
    if (this.handshakeDonePending && d.payload.length - d.used >= 1) {
      this.put(d, { kind: "handshake_done" }, { k: "handshake_done" });
      this.handshakeDonePending = false;
    }
    while (this.controlQueue.length) {
      const f = this.controlQueue[0]!;
      if (frameSize(f) > d.payload.length - d.used) break;
      this.controlQueue.shift();
      this.put(d, f, { k: "ctrl", frame: f });
    }
    if (this.maxDataDirty && d.payload.length - d.used >= 9) {
      const update = this.recvWindow.takeUpdate(this.lastNowMs, this.recovery.rtt.smoothedRttMs) ?? this.recvWindow.currentLimit;
      this.put(d, { kind: "max_data", maximum: update }, { k: "max_data" });
      this.maxDataDirty = false;
    }
    for (const id of this.maxStreamDataDirty) {
      const r = this.recvStreams.get(id);
      if (d.payload.length - d.used < 17) break;
      this.maxStreamDataDirty.delete(id);
      if (r) this.put(d, { kind: "max_stream_data", streamId: id, maximum: r.maxData }, { k: "max_stream_data", id });
    }
    while (this.datagramQueue.length) {
      const data = this.datagramQueue[0]!;
      if (data.length + 9 > d.payload.length - d.used) break;
      this.datagramQueue.shift();
      this.put(d, { kind: "datagram", data }, { k: "none" });
    }
    this.fillStreams(d);
  }

  private fillStreams(d: Draft): void {
    let rounds = this.sendQueue.length;
    while (rounds-- > 0 && this.sendQueue.length) {
      const id = this.sendQueue[0]!;
      const s = this.sendStreams.get(id);
      const credit = this.sendWindow.available();
      if (!s || !s.wantsToSend(credit)) {
        this.sendQueue.shift();
        this.queued.delete(id);
        if (s && credit <= 0 && s.sentOffset < s.writtenOffset) this.blocked(d);
        else if (s && s.sentOffset < s.writtenOffset && s.sentOffset >= s.maxData) this.streamBlocked(d, s);
        continue;
      }
      const avail = d.payload.length - d.used;
      if (s.hasRetransmit()) {
        const chunk = s.nextRetransmit(streamDataFitting(id, s.writtenOffset, avail));
        if (chunk && (chunk.data.length > 0 || chunk.fin)) this.putStream(d, id, chunk.offset, chunk.data, chunk.fin);
        if (d.payload.length - d.used < 24) return;
        continue;
      }
      const fit = Math.min(streamDataFitting(id, s.sentOffset, avail), credit);
      if (fit <= 0 && !(s.finOffset === s.sentOffset && !s.finSent)) return;
      const chunk = s.takeNew(Math.max(fit, 0));
      if (chunk.data.length === 0 && !chunk.fin) {
        this.sendQueue.shift();
        this.queued.delete(id);
        continue;
      }
      this.sendWindow.onSent(chunk.data.length);
      this.putStream(d, id, chunk.offset, chunk.data, chunk.fin);
      if (!s.wantsToSend(this.sendWindow.available())) {
        this.sendQueue.shift();
        this.queued.delete(id);
      } else if (d.payload.length - d.used < 24) {
        // Packet full: rotate so the next packet starts with the next stream (fairness).
        this.sendQueue.push(this.sendQueue.shift()!);
        return;
      }
    }
  }

  private putStream(d: Draft, id: number, offset: number, data: Uint8Array, fin: boolean): void {
    this.put(d, { kind: "stream", streamId: id, offset, data, fin }, { k: "stream", id, offset, length: data.length, fin });
  }

  /** STREAM_DATA_BLOCKED once per limit (RFC 9000 §4.1). */
  private streamBlocked(d: Draft, s: SendStream): void {
    if (s.blockedSentAt === s.maxData || d.payload.length - d.used < 17) return;
    s.blockedSentAt = s.maxData;
    this.put(d, { kind: "stream_data_blocked", streamId: s.id, limit: s.maxData }, null);
  }

  private blocked(d: Draft): void {
    if (d.payload.length - d.used < 9) return;
    const limit = this.sendWindow.takeBlocked();
    if (limit !== undefined) this.put(d, { kind: "data_blocked", limit }, null);
  }

  // ---------------------------------------------------------------- timers

  /** Absolute time (ms) of the next timer, or Infinity. */
  nextTimerMs(): number {
    if (this.state === "closed") return Infinity;
    if (this.state === "closing" || this.state === "draining") return this.closeDeadlineMs;
    let t = this.recovery.lossDetectionDeadlineMs();
    for (const s of this.spaces) if (!s.discarded) t = Math.min(t, s.ack.ackDeadlineMs);
    if (this.idleTimeoutMs > 0) t = Math.min(t, this.lastActivityMs + this.idleDeadlineMs());
    if (this.keepAliveMs > 0 && this.state === "established") t = Math.min(t, this.lastSentMs + this.keepAliveMs);
    if (this.state === "established") t = Math.min(t, this.pmtu.timerMs);
    return Math.min(t, this.pacingDeadlineMs);
  }

  private idleDeadlineMs(): number {
    // Three PTOs without backoff: with the backoff, the probes sent to a peer that is gone
    // would push the deadline out exponentially and a dead connection would never time out.
    return Math.max(this.idleTimeoutMs, 3 * this.recovery.ptoBaseDurationMs("application"));
  }

  onTimer(nowMs: number): void {
    if (this.state === "closed") return;
    this.lastNowMs = nowMs;
    if (this.state === "closing" || this.state === "draining") {
      if (nowMs >= this.closeDeadlineMs) this.state = "closed";
      return;
    }
    if (this.idleTimeoutMs > 0 && nowMs >= this.lastActivityMs + this.idleDeadlineMs()) {
      this.events.push({ type: "closed", errorCode: 0, reason: "idle timeout", remote: false, application: false });
      this.state = "closed";
      return;
    }
    if (this.keepAliveMs > 0 && this.state === "established" && nowMs >= this.lastSentMs + this.keepAliveMs) this.pingPending = true;
    // The pacer's deadline only asks for a send() call (the endpoint makes one after every timer).
    if (nowMs >= this.pacingDeadlineMs) this.pacingDeadlineMs = Infinity;
    this.onLossTimer(nowMs);
  }

  // ---------------------------------------------------------------- closing

  private failWith(e: unknown, nowMs: number): void {
    const err = isQuicError(e) ? e : new QuicError("INTERNAL_ERROR", e instanceof Error ? e.message : String(e));
    const reason = new Uint8Array(Buffer.from(err.message.slice(0, 200), "utf8"));
    this.enterClosing({ kind: "connection_close", application: false, errorCode: err.wireCode, frameType: err.frameType, reason }, nowMs);
  }

  private enterClosing(frame: Frame & { kind: "connection_close" }, nowMs: number): void {
    if (this.isClosing) return;
    this.closeFrame = frame;
    this.state = "closing";
    this.closeDeadlineMs = nowMs + 3 * this.recovery.ptoDurationMs("application");
    this.closeSentMs = -Infinity;
    this.events.push({ type: "closed", errorCode: frame.errorCode, reason: Buffer.from(frame.reason).toString("utf8"), remote: false, application: frame.application });
  }

  private enterDraining(errorCode: number, reason: string, remote: boolean, nowMs: number, application: boolean): void {
    if (this.isClosing) return;
    this.state = "draining";
    this.closeDeadlineMs = nowMs + 3 * this.recovery.ptoDurationMs("application");
    this.events.push({ type: "closed", errorCode, reason, remote, application });
  }

  /** One datagram carrying CONNECTION_CLOSE in every space we can write (RFC 9000 §10.2.3). */
  private closeDatagram(nowMs: number): Uint8Array | null {
    if (this.closeSentMs !== -Infinity || !this.closeFrame) return null;
    this.closeSentMs = nowMs;
    const frame = this.closeFrame as Frame & { kind: "connection_close" };
    const drafts: Draft[] = [];
    let room = Math.min(this.sendDatagramBytes, Math.max(0, this.amplificationBudget()));
    for (const space of this.spaces) {
      if (space.discarded || !space.writeKeys) continue;
      if (space.id === SPACE_APP && !this.tls.complete && !this.isClient) continue;
      const d = this.newDraft(space, room);
      if (!d) continue;
      // Before 1-RTT an application close is sent as APPLICATION_ERROR (RFC 9000 §10.2.3).
      const f: Frame = space.id !== SPACE_APP && frame.application
        ? { kind: "connection_close", application: false, errorCode: 0x0c, frameType: 0, reason: new Uint8Array(0) }
        : frame;
      if (frameSize(f) > d.payload.length) continue;
      this.put(d, f, null);
      space.nextPn++;
      if (d.used < 4) this.padDraft(d, 4 - d.used);
      if (d.header[0]! & 0x80) this.padDraft(d, 0);
      drafts.push(d);
      room -= d.header.length + d.used + AEAD_TAG_BYTES;
    }
    if (drafts.length === 0) return null;
    return this.sealDrafts(drafts, nowMs, false);
  }
}

