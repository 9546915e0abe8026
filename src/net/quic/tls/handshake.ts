/**
 * TLS 1.3 handshake as QUIC uses it (RFC 8446, RFC 9001 §4): no record layer,
 * messages travel in CRYPTO frames at the Initial / Handshake / 1-RTT levels.
 * Supports X25519, TLS_AES_128_GCM_SHA256 and TLS_CHACHA20_POLY1305_SHA256,
 * Ed25519 certificates (scheme 0x0807) on both sides (the server always sends
 * CertificateRequest), ALPN and quic_transport_parameters. No PSK, no 0-RTT,
 * no HelloRetryRequest (the client always offers an X25519 key share).
 */
import { sign, verify } from "../../../crypto/ed25519.ts";
import { x25519, x25519PublicKey } from "../../../crypto/x25519.ts";
import { TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256, type CipherSuite } from "../packet-protection.ts";
import {
  ALERT_BAD_CERTIFICATE, ALERT_DECODE_ERROR, ALERT_DECRYPT_ERROR, ALERT_HANDSHAKE_FAILURE, ALERT_ILLEGAL_PARAMETER,
  ALERT_MISSING_EXTENSION, ALERT_NO_APPLICATION_PROTOCOL, ALERT_PROTOCOL_VERSION, ALERT_UNEXPECTED_MESSAGE,
  TlsReader, TlsWriter, tlsAlert,
} from "./bytes.ts";
import { certificateDer, verifyCertificate, type Identity } from "./certificate.ts";
import { Transcript, applicationSecrets, certificateVerifyContent, finishedVerifyData, handshakeSecrets } from "./key-schedule.ts";

export const LEVEL_INITIAL = 0;
export const LEVEL_HANDSHAKE = 2;
export const LEVEL_APPLICATION = 3;
export type EncryptionLevel = 0 | 2 | 3;

const HS_CLIENT_HELLO = 1;
const HS_SERVER_HELLO = 2;
const HS_NEW_SESSION_TICKET = 4;
const HS_ENCRYPTED_EXTENSIONS = 8;
const HS_CERTIFICATE = 11;
const HS_CERTIFICATE_REQUEST = 13;
const HS_CERTIFICATE_VERIFY = 15;
const HS_FINISHED = 20;

const EXT_SERVER_NAME = 0;
const EXT_SUPPORTED_GROUPS = 10;
const EXT_SIGNATURE_ALGORITHMS = 13;
const EXT_ALPN = 16;
const EXT_SUPPORTED_VERSIONS = 43;
const EXT_KEY_SHARE = 51;
const EXT_QUIC_TRANSPORT_PARAMETERS = 0x39;

const TLS13 = 0x0304;
const LEGACY_VERSION = 0x0303;
const GROUP_X25519 = 0x001d;
const SIG_ED25519 = 0x0807;
const ALERT_CERTIFICATE_REQUIRED = 116;
/** Largest handshake message accepted (certificates here are ~300 bytes). */
export const HANDSHAKE_MESSAGE_BYTES_MAX = 16384;

export interface TlsConfig {
  isClient: boolean;
  identity: Identity;
  /** Our certificate (defaults to certificateDer(identity)); pass it to avoid re-signing per connection. */
  certificate?: Uint8Array;
  alpn: readonly string[];
  /** Encoded quic_transport_parameters to send. */
  transportParameters: Uint8Array;
  /** Accepts or rejects the peer's verified Ed25519 key. */
  verifyPeer: (publicKey: Uint8Array) => boolean;
  /** SNI sent by a client (optional). */
  serverName?: string;
  /** Preference order; default AES-128-GCM then ChaCha20-Poly1305. */
  cipherSuites?: readonly CipherSuite[];
  random: (n: number) => Uint8Array;
}

export interface TlsCallbacks {
  /** Handshake bytes to put in CRYPTO frames at `level`. */
  send(level: EncryptionLevel, data: Uint8Array): void;
  /** New packet protection secret for reading or writing at `level`. */
  installKey(level: EncryptionLevel, direction: "read" | "write", suite: CipherSuite, secret: Uint8Array): void;
}

type State =
  | "start" | "wait_sh" | "wait_ee" | "wait_cert_cr" | "wait_cert" | "wait_cv" | "wait_fin"
  | "wait_ch" | "wait_client_cert" | "wait_client_cv" | "wait_client_fin" | "done";

interface Hello {
  random: Uint8Array;
  sessionId: Uint8Array;
  suites: number[];
  extensions: Map<number, Uint8Array>;
}

export class TlsSession {
  private state: State = "start";
  private readonly transcript = new Transcript();
  private readonly buffers: Uint8Array[] = [new Uint8Array(0), new Uint8Array(0), new Uint8Array(0), new Uint8Array(0)];
  private readonly keyShareSecret: Uint8Array;
  private suite: CipherSuite = TLS_AES_128_GCM_SHA256;
  private hsSecret: Uint8Array = new Uint8Array(0);
  private clientHs: Uint8Array = new Uint8Array(0);
  private serverHs: Uint8Array = new Uint8Array(0);
  private clientAp: Uint8Array = new Uint8Array(0);
  private peerCertKey: Uint8Array | null = null;
  private certRequestContext: Uint8Array | null = null;
  /** Verified peer Ed25519 key, set once the handshake is complete. */
  peerPublicKey: Uint8Array | null = null;
  peerTransportParameters: Uint8Array | null = null;
  alpn: string | null = null;
  complete = false;

  constructor(private readonly cfg: TlsConfig, private readonly cb: TlsCallbacks) {
    this.keyShareSecret = cfg.random(32);
    this.state = cfg.isClient ? "start" : "wait_ch";
  }

  private get suites(): readonly CipherSuite[] {
    return this.cfg.cipherSuites ?? [TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256];
  }

  /** Client: sends the ClientHello. */
  start(): void {
    if (!this.cfg.isClient || this.state !== "start") return;
    const w = new TlsWriter();
    w.u16(LEGACY_VERSION).raw(this.cfg.random(32)).u8(0);
    w.block(2, (w) => { for (const s of this.suites) w.u16(s); });
    w.u8(1).u8(0);
    w.block(2, (w) => {
      if (this.cfg.serverName) ext(w, EXT_SERVER_NAME, (w) => w.block(2, (w) => w.u8(0).block(2, (w) => w.raw(Buffer.from(this.cfg.serverName!, "latin1")))));
      ext(w, EXT_SUPPORTED_VERSIONS, (w) => w.block(1, (w) => w.u16(TLS13)));
      ext(w, EXT_SUPPORTED_GROUPS, (w) => w.block(2, (w) => w.u16(GROUP_X25519)));
      ext(w, EXT_SIGNATURE_ALGORITHMS, (w) => w.block(2, (w) => w.u16(SIG_ED25519)));
      ext(w, EXT_KEY_SHARE, (w) => w.block(2, (w) => w.u16(GROUP_X25519).block(2, (w) => w.raw(x25519PublicKey(this.keyShareSecret)))));
      ext(w, EXT_ALPN, (w) => writeAlpn(w, this.cfg.alpn));
      ext(w, EXT_QUIC_TRANSPORT_PARAMETERS, (w) => w.raw(this.cfg.transportParameters));
    });
    this.emit(LEVEL_INITIAL, HS_CLIENT_HELLO, w.finish());
    this.state = "wait_sh";
  }

  /** Feeds in-order CRYPTO stream bytes received at `level`. Throws QuicError (CRYPTO_ERROR) on failure. */
  receive(level: EncryptionLevel, data: Uint8Array): void {
    let buf = this.buffers[level]!;
    if (buf.length) {
      const joined = new Uint8Array(buf.length + data.length);
      joined.set(buf);
      joined.set(data, buf.length);
      buf = joined;
    } else buf = data;
    let o = 0;
    while (buf.length - o >= 4) {
      const len = (buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!;
      if (len > HANDSHAKE_MESSAGE_BYTES_MAX) throw tlsAlert(ALERT_DECODE_ERROR, `handshake message of ${len} bytes`);
      if (buf.length - o < 4 + len) break;
      const msg = buf.subarray(o, o + 4 + len);
      o += 4 + len;
      this.handleMessage(level, msg[0]!, msg);
    }
    this.buffers[level] = buf.slice(o);
  }

  private emit(level: EncryptionLevel, type: number, body: Uint8Array): void {
    const msg = new Uint8Array(4 + body.length);
    msg[0] = type;
    msg[1] = body.length >> 16;
    msg[2] = (body.length >> 8) & 0xff;
    msg[3] = body.length & 0xff;
    msg.set(body, 4);
    this.transcript.add(msg);
    this.cb.send(level, msg);
  }

  private expectLevel(level: EncryptionLevel, want: EncryptionLevel): void {
    if (level !== want) throw tlsAlert(ALERT_UNEXPECTED_MESSAGE, `handshake message at the wrong encryption level`);
  }

  private handleMessage(level: EncryptionLevel, type: number, msg: Uint8Array): void {
    const body = msg.subarray(4);
    const s = this.state;
    if (s === "done") {
      // Post-handshake: session tickets are ignored (no resumption); anything else is unexpected.
      if (type === HS_NEW_SESSION_TICKET && level === LEVEL_APPLICATION) return;
      throw tlsAlert(ALERT_UNEXPECTED_MESSAGE, `unexpected post-handshake message ${type}`);
    }
    if (s === "wait_ch" && type === HS_CLIENT_HELLO) return this.onClientHello(level, msg, body);
    if (s === "wait_sh" && type === HS_SERVER_HELLO) return this.onServerHello(level, msg, body);
    if (s === "wait_ee" && type === HS_ENCRYPTED_EXTENSIONS) return this.onEncryptedExtensions(level, msg, body);
    if (s === "wait_cert_cr" && type === HS_CERTIFICATE_REQUEST) return this.onCertificateRequest(level, msg, body);
    if ((s === "wait_cert_cr" || s === "wait_cert" || s === "wait_client_cert") && type === HS_CERTIFICATE) return this.onCertificate(level, msg, body);
    if ((s === "wait_cv" || s === "wait_client_cv") && type === HS_CERTIFICATE_VERIFY) return this.onCertificateVerify(level, msg, body);
    if ((s === "wait_fin" || s === "wait_client_fin") && type === HS_FINISHED) return this.onFinished(level, msg, body);
    throw tlsAlert(ALERT_UNEXPECTED_MESSAGE, `unexpected handshake message ${type} in state ${s}`);
  }

  private onServerHello(level: EncryptionLevel, msg: Uint8Array, body: Uint8Array): void {
    this.expectLevel(level, LEVEL_INITIAL);
    const r = new TlsReader(body, "ServerHello");
    if (r.u16() !== LEGACY_VERSION) throw tlsAlert(ALERT_PROTOCOL_VERSION, "ServerHello legacy_version");
    r.bytes(32);
    r.vec8();
    const suite = r.u16();
    if (r.u8() !== 0) throw tlsAlert(ALERT_ILLEGAL_PARAMETER, "compression method");
    const exts = readExtensions(r);
    r.end();
    if (!this.suites.includes(suite as CipherSuite)) throw tlsAlert(ALERT_ILLEGAL_PARAMETER, `server chose cipher suite 0x${suite.toString(16)}`);
    const sv = exts.get(EXT_SUPPORTED_VERSIONS);
    if (!sv || sv.length !== 2 || ((sv[0]! << 8) | sv[1]!) !== TLS13) throw tlsAlert(ALERT_PROTOCOL_VERSION, "server did not select TLS 1.3");
    const ks = exts.get(EXT_KEY_SHARE);
    if (!ks) throw tlsAlert(ALERT_MISSING_EXTENSION, "ServerHello without key_share");
    const kr = new TlsReader(ks, "key_share");
    if (kr.u16() !== GROUP_X25519) throw tlsAlert(ALERT_ILLEGAL_PARAMETER, "server key share group");
    const peerShare = kr.vec16();
    kr.end();
    this.suite = suite as CipherSuite;
    this.transcript.add(msg);
    this.deriveHandshake(peerShare);
    this.state = "wait_ee";
  }

  private deriveHandshake(peerShare: Uint8Array): void {
    if (peerShare.length !== 32) throw tlsAlert(ALERT_ILLEGAL_PARAMETER, "X25519 key share length");
    let shared: Uint8Array;
    try {
      shared = x25519(this.keyShareSecret, peerShare);
    } catch {
      throw tlsAlert(ALERT_ILLEGAL_PARAMETER, "X25519 key share of small order");
    }
    const hs = handshakeSecrets(shared, this.transcript.digest());
    this.hsSecret = hs.handshakeSecret;
    this.clientHs = hs.client;
    this.serverHs = hs.server;
    const client = this.cfg.isClient;
    this.cb.installKey(LEVEL_HANDSHAKE, "read", this.suite, client ? hs.server : hs.client);
    this.cb.installKey(LEVEL_HANDSHAKE, "write", this.suite, client ? hs.client : hs.server);
  }

  private onEncryptedExtensions(level: EncryptionLevel, msg: Uint8Array, body: Uint8Array): void {
    this.expectLevel(level, LEVEL_HANDSHAKE);
    const r = new TlsReader(body, "EncryptedExtensions");
    const exts = readExtensions(r);
    r.end();
    const alpn = exts.get(EXT_ALPN);
    if (!alpn) throw tlsAlert(ALERT_NO_APPLICATION_PROTOCOL, "server selected no ALPN");
    const protos = readAlpn(alpn);
    if (protos.length !== 1 || !this.cfg.alpn.includes(protos[0]!)) throw tlsAlert(ALERT_NO_APPLICATION_PROTOCOL, "server selected an ALPN we did not offer");
    this.alpn = protos[0]!;
    const tp = exts.get(EXT_QUIC_TRANSPORT_PARAMETERS);
    if (!tp) throw tlsAlert(ALERT_MISSING_EXTENSION, "server sent no quic_transport_parameters");
    this.peerTransportParameters = tp.slice();
    this.transcript.add(msg);
    this.state = "wait_cert_cr";
  }

  private onCertificateRequest(level: EncryptionLevel, msg: Uint8Array, body: Uint8Array): void {
    this.expectLevel(level, LEVEL_HANDSHAKE);
    const r = new TlsReader(body, "CertificateRequest");
    const context = r.vec8();
    const exts = readExtensions(r);
    r.end();
    const algs = exts.get(EXT_SIGNATURE_ALGORITHMS);
    if (!algs) throw tlsAlert(ALERT_MISSING_EXTENSION, "CertificateRequest without signature_algorithms");
    if (!readU16List(algs).includes(SIG_ED25519)) throw tlsAlert(ALERT_HANDSHAKE_FAILURE, "server does not accept Ed25519 client certificates");
    this.certRequestContext = context.slice();
    this.transcript.add(msg);
    this.state = "wait_cert";
  }

  private onCertificate(level: EncryptionLevel, msg: Uint8Array, body: Uint8Array): void {
    this.expectLevel(level, LEVEL_HANDSHAKE);
    const r = new TlsReader(body, "Certificate");
    const context = r.vec8();
    if (!this.cfg.isClient && context.length !== 0) throw tlsAlert(ALERT_ILLEGAL_PARAMETER, "certificate_request_context mismatch");
    const list = new TlsReader(r.vec24(), "certificate_list");
    r.end();
    if (list.remaining === 0) {
      throw tlsAlert(this.cfg.isClient ? ALERT_DECODE_ERROR : ALERT_CERTIFICATE_REQUIRED, "peer sent no certificate");
    }
    const leaf = list.vec24();
    list.vec16();
    // Further chain entries are ignored: the leaf is self-signed and checked by key.
    this.peerCertKey = verifyCertificate(leaf); // the key is what authenticates (verifyPeer), never a date
    this.transcript.add(msg);
    this.state = this.cfg.isClient ? "wait_cv" : "wait_client_cv";
  }

  private onCertificateVerify(level: EncryptionLevel, msg: Uint8Array, body: Uint8Array): void {
    this.expectLevel(level, LEVEL_HANDSHAKE);
    const r = new TlsReader(body, "CertificateVerify");
    const scheme = r.u16();
    const sig = r.vec16();
    r.end();
    if (scheme !== SIG_ED25519) throw tlsAlert(ALERT_ILLEGAL_PARAMETER, `signature scheme 0x${scheme.toString(16)}`);
    const content = certificateVerifyContent(this.cfg.isClient, this.transcript.digest());
    if (!verify(sig, content, this.peerCertKey!)) throw tlsAlert(ALERT_DECRYPT_ERROR, "CertificateVerify signature invalid");
    if (!this.cfg.verifyPeer(this.peerCertKey!)) throw tlsAlert(ALERT_BAD_CERTIFICATE, "peer key not accepted");
    this.transcript.add(msg);
    this.state = this.cfg.isClient ? "wait_fin" : "wait_client_fin";
  }

  private onFinished(level: EncryptionLevel, msg: Uint8Array, body: Uint8Array): void {
    this.expectLevel(level, LEVEL_HANDSHAKE);
    const client = this.cfg.isClient;
    const expected = finishedVerifyData(client ? this.serverHs : this.clientHs, this.transcript.digest());
    if (body.length !== expected.length || !verifyEqual(body, expected)) throw tlsAlert(ALERT_DECRYPT_ERROR, "Finished verify_data mismatch");
    this.transcript.add(msg);
    if (client) this.clientFinish();
    else {
      this.cb.installKey(LEVEL_APPLICATION, "read", this.suite, this.clientAp);
      this.finishHandshake();
    }
  }

  private clientFinish(): void {
    const ap = applicationSecrets(this.hsSecret, this.transcript.digest());
    if (this.certRequestContext !== null) {
      this.emitCertificate(this.certRequestContext);
      this.emitCertificateVerify();
    }
    this.emit(LEVEL_HANDSHAKE, HS_FINISHED, finishedVerifyData(this.clientHs, this.transcript.digest()));
    this.cb.installKey(LEVEL_APPLICATION, "read", this.suite, ap.server);
    this.cb.installKey(LEVEL_APPLICATION, "write", this.suite, ap.client);
    this.finishHandshake();
  }

  private finishHandshake(): void {
    this.peerPublicKey = this.peerCertKey;
    this.complete = true;
    this.state = "done";
    // Traffic keys are installed; the handshake secrets are no longer needed.
    for (const secret of [this.keyShareSecret, this.hsSecret, this.clientHs, this.serverHs, this.clientAp]) secret.fill(0);
  }

  private emitCertificate(context: Uint8Array): void {
    const cert = this.cfg.certificate ?? certificateDer(this.cfg.identity);
    const w = new TlsWriter();
    w.block(1, (w) => w.raw(context));
    w.block(3, (w) => w.block(3, (w) => w.raw(cert)).u16(0));
    this.emit(LEVEL_HANDSHAKE, HS_CERTIFICATE, w.finish());
  }

  private emitCertificateVerify(): void {
    const content = certificateVerifyContent(!this.cfg.isClient, this.transcript.digest());
    const w = new TlsWriter();
    w.u16(SIG_ED25519).block(2, (w) => w.raw(sign(this.cfg.identity.secretKey, content)));
    this.emit(LEVEL_HANDSHAKE, HS_CERTIFICATE_VERIFY, w.finish());
  }

  private onClientHello(level: EncryptionLevel, msg: Uint8Array, body: Uint8Array): void {
    this.expectLevel(level, LEVEL_INITIAL);
    const hello = parseClientHello(body);
    const e = hello.extensions;
    const sv = e.get(EXT_SUPPORTED_VERSIONS);
    if (!sv || !readU16List(sv, 1).includes(TLS13)) throw tlsAlert(ALERT_PROTOCOL_VERSION, "client does not offer TLS 1.3");
    const suite = this.suites.find((s) => hello.suites.includes(s));
    if (suite === undefined) throw tlsAlert(ALERT_HANDSHAKE_FAILURE, "no common cipher suite");
    const sigs = e.get(EXT_SIGNATURE_ALGORITHMS);
    if (!sigs || !readU16List(sigs).includes(SIG_ED25519)) throw tlsAlert(ALERT_HANDSHAKE_FAILURE, "client does not accept Ed25519");
    const peerShare = findX25519Share(e.get(EXT_KEY_SHARE));
    const alpnExt = e.get(EXT_ALPN);
    const alpn = alpnExt ? readAlpn(alpnExt).find((p) => this.cfg.alpn.includes(p)) : undefined;
    if (alpn === undefined) throw tlsAlert(ALERT_NO_APPLICATION_PROTOCOL, "no common ALPN");
    const tp = e.get(EXT_QUIC_TRANSPORT_PARAMETERS);
    if (!tp) throw tlsAlert(ALERT_MISSING_EXTENSION, "client sent no quic_transport_parameters");
    this.alpn = alpn;
    this.peerTransportParameters = tp.slice();
    this.suite = suite;
    this.transcript.add(msg);
    this.sendServerFlight(hello, peerShare);
  }

  private sendServerFlight(hello: Hello, peerShare: Uint8Array): void {
    const sh = new TlsWriter();
    sh.u16(LEGACY_VERSION).raw(this.cfg.random(32)).block(1, (w) => w.raw(hello.sessionId)).u16(this.suite).u8(0);
    sh.block(2, (w) => {
      ext(w, EXT_SUPPORTED_VERSIONS, (w) => w.u16(TLS13));
      ext(w, EXT_KEY_SHARE, (w) => w.u16(GROUP_X25519).block(2, (w) => w.raw(x25519PublicKey(this.keyShareSecret))));
    });
    this.emit(LEVEL_INITIAL, HS_SERVER_HELLO, sh.finish());
    this.deriveHandshake(peerShare);
    const ee = new TlsWriter();
    ee.block(2, (w) => {
      ext(w, EXT_ALPN, (w) => writeAlpn(w, [this.alpn!]));
      ext(w, EXT_QUIC_TRANSPORT_PARAMETERS, (w) => w.raw(this.cfg.transportParameters));
    });
    this.emit(LEVEL_HANDSHAKE, HS_ENCRYPTED_EXTENSIONS, ee.finish());
    const cr = new TlsWriter();
    cr.u8(0).block(2, (w) => ext(w, EXT_SIGNATURE_ALGORITHMS, (w) => w.block(2, (w) => w.u16(SIG_ED25519))));
    this.emit(LEVEL_HANDSHAKE, HS_CERTIFICATE_REQUEST, cr.finish());
    this.emitCertificate(new Uint8Array(0));
    this.emitCertificateVerify();
    this.emit(LEVEL_HANDSHAKE, HS_FINISHED, finishedVerifyData(this.serverHs, this.transcript.digest()));
    const ap = applicationSecrets(this.hsSecret, this.transcript.digest());
    this.clientAp = ap.client;
    this.cb.installKey(LEVEL_APPLICATION, "write", this.suite, ap.server);
    this.state = "wait_client_cert";
  }
}

function ext(w: TlsWriter, type: number, fn: (w: TlsWriter) => void): void {
  w.u16(type).block(2, fn);
}

function writeAlpn(w: TlsWriter, protos: readonly string[]): void {
  w.block(2, (w) => { for (const p of protos) w.block(1, (w) => w.raw(Buffer.from(p, "latin1"))); });
}

function readAlpn(b: Uint8Array): string[] {
  const r = new TlsReader(b, "ALPN");
  const list = new TlsReader(r.vec16(), "ALPN list");
  r.end();
  const out: string[] = [];
  while (list.remaining > 0) out.push(Buffer.from(list.vec8()).toString("latin1"));
  return out;
}

function readU16List(b: Uint8Array, lenBytes: 1 | 2 = 2): number[] {
  const r = new TlsReader(b, "list");
  const body = lenBytes === 1 ? r.vec8() : r.vec16();
  r.end();
  if (body.length % 2 !== 0) throw tlsAlert(ALERT_DECODE_ERROR, "odd-length u16 list");
  const out: number[] = [];
  for (let i = 0; i < body.length; i += 2) out.push((body[i]! << 8) | body[i + 1]!);
  return out;
}

function readExtensions(r: TlsReader): Map<number, Uint8Array> {
  const er = new TlsReader(r.vec16(), "extensions");
  const out = new Map<number, Uint8Array>();
  while (er.remaining > 0) {
    const type = er.u16();
    const data = er.vec16();
    if (out.has(type)) throw tlsAlert(ALERT_ILLEGAL_PARAMETER, `duplicate extension ${type}`);
    out.set(type, data);
  }
  return out;
}

function parseClientHello(body: Uint8Array): Hello {
  const r = new TlsReader(body, "ClientHello");
  if (r.u16() !== LEGACY_VERSION) throw tlsAlert(ALERT_PROTOCOL_VERSION, "ClientHello legacy_version");
  const random = r.bytes(32);
  const sessionId = r.vec8();
  if (sessionId.length > 32) throw tlsAlert(ALERT_ILLEGAL_PARAMETER, "legacy_session_id too long");
  const suitesRaw = r.vec16();
  const suites: number[] = [];
  for (let i = 0; i + 1 < suitesRaw.length; i += 2) suites.push((suitesRaw[i]! << 8) | suitesRaw[i + 1]!);
  const comp = r.vec8();
  if (comp.length !== 1 || comp[0] !== 0) throw tlsAlert(ALERT_ILLEGAL_PARAMETER, "compression methods");
  const extensions = readExtensions(r);
  r.end();
  return { random, sessionId: sessionId.slice(), suites, extensions };
}

function findX25519Share(ks: Uint8Array | undefined): Uint8Array {
  if (!ks) throw tlsAlert(ALERT_MISSING_EXTENSION, "ClientHello without key_share");
  const r = new TlsReader(ks, "key_share");
  const list = new TlsReader(r.vec16(), "client_shares");
  r.end();
  while (list.remaining > 0) {
    const group = list.u16();
    const key = list.vec16();
    if (group === GROUP_X25519) return key;
  }
  // HelloRetryRequest is not implemented: a client must offer X25519 up front.
  throw tlsAlert(ALERT_HANDSHAKE_FAILURE, "no X25519 key share");
}

function verifyEqual(a: Uint8Array, b: Uint8Array): boolean {
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
