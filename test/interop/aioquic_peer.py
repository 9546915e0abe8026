"""aioquic peer for Phantom's QUIC interop tests (test/interop/aioquic.test.ts).

Modes:
  server --seed HEX --ca PEM --expect-key HEX [--retry]
      listen on 127.0.0.1 (ephemeral port), require a client certificate, accept
      ALPN phantom/0; on the first stream: read to FIN, then send --bytes random
      bytes back with FIN; print a JSON summary and exit.
  client --port N --seed HEX --ca PEM --expect-key HEX
      connect, send --bytes random bytes on a bidirectional stream with FIN, read
      the reply to FIN; print a JSON summary and exit.

The Ed25519 identity is derived from --seed; its self-signed certificate has
subjectAltName localhost. --ca is the peer's own self-signed certificate, used as
the trust anchor; --expect-key is the peer's Ed25519 public key (hex).

aioquic only checks a client certificate's CertificateVerify signature, not its
chain, and only requests one through a private flag (tls.Context
._request_client_certificate); this script sets the flag and verifies the client
certificate itself with aioquic.tls.verify_certificate plus the key check.
"""
import argparse
import asyncio
import datetime
import hashlib
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from aioquic import tls
from aioquic.asyncio import QuicConnectionProtocol, connect, serve
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import ConnectionTerminated, DatagramFrameReceived, HandshakeCompleted, StreamDataReceived

ALPN = "phantom/0"
TIMEOUT_S = 60


def make_identity(seed_hex):
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex))
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aioquic-peer")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, None)
    )
    return key, cert


def raw_public_key(cert):
    return cert.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def check_peer_certificate(quic, ca_pem, expect_key):
    """Returns (ok, detail) for the peer's certificate: chain to --ca and key match."""
    cert = quic.tls._peer_certificate
    if cert is None:
        return False, "no peer certificate"
    try:
        tls.verify_certificate(certificate=cert, chain=quic.tls._peer_certificate_chain, cadata=ca_pem)
    except Exception as exc:  # any verification failure is reported, not raised
        return False, f"certificate verification failed: {exc}"
    key = raw_public_key(cert)
    if key != expect_key:
        return False, f"peer key {key} != expected {expect_key}"
    return True, "ok"


class Peer(QuicConnectionProtocol):
    def __init__(self, *args, role, send_bytes, ca_pem, expect_key, done, **kwargs):
        super().__init__(*args, **kwargs)
        self.role = role
        self.send_bytes = send_bytes
        self.ca_pem = ca_pem
        self.expect_key = expect_key
        self.done = done
        self.received = hashlib.sha256()
        self.received_bytes = 0
        self.sent_hash = None
        self.summary = {"role": role}

    def send_payload(self, stream_id):
        data = os.urandom(self.send_bytes)
        self.sent_hash = hashlib.sha256(data).hexdigest()
        self._quic.send_stream_data(stream_id, data, end_stream=True)
        self.transmit()

    def quic_event_received(self, event):
        if isinstance(event, HandshakeCompleted):
            ok, detail = check_peer_certificate(self._quic, self.ca_pem, self.expect_key)
            self.summary.update(peer_cert_ok=ok, peer_cert_detail=detail, alpn=event.alpn_protocol,
                                cipher_suite=int(self._quic.tls.key_schedule.cipher_suite))
            if not ok:
                self._quic.close(error_code=0x100 + 42, reason_phrase=detail)
                self.transmit()
        elif isinstance(event, DatagramFrameReceived):
            # RFC 9221 DATAGRAM: echo it back reversed, so the sender can tell it was read.
            self._quic.send_datagram_frame(event.data[::-1])
            self.transmit()
        elif isinstance(event, StreamDataReceived):
            self.received.update(event.data)
            self.received_bytes += len(event.data)
            if event.end_stream:
                self.summary.update(received_bytes=self.received_bytes, received_sha256=self.received.hexdigest())
                if self.role == "server":
                    self.send_payload(event.stream_id)
                    self.summary.update(sent_bytes=self.send_bytes, sent_sha256=self.sent_hash)
                if not self.done.done():
                    self.done.set_result(self.summary)
        elif isinstance(event, ConnectionTerminated):
            self.summary.update(terminated=True, error_code=event.error_code, reason=event.reason_phrase)
            if not self.done.done():
                self.done.set_result(self.summary)


def request_client_certificates():
    original = tls.Context.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if not self._is_client:
            self._request_client_certificate = True

    tls.Context.__init__ = init


async def run_server(args, key, cert, ca_pem):
    request_client_certificates()
    config = QuicConfiguration(is_client=False, alpn_protocols=[ALPN], idle_timeout=TIMEOUT_S,
                               max_data=16 << 20, max_stream_data=16 << 20, max_datagram_frame_size=1200)
    config.certificate = cert
    config.private_key = key
    done = asyncio.get_running_loop().create_future()
    protocols = []

    def factory(*a, **kw):
        p = Peer(*a, role="server", send_bytes=args.bytes, ca_pem=ca_pem, expect_key=args.expect_key, done=done, **kw)
        protocols.append(p)
        return p

    server = await serve("127.0.0.1", 0, configuration=config, create_protocol=factory, retry=args.retry)
    port = server._transport.get_extra_info("sockname")[1]
    print(json.dumps({"event": "ready", "port": port, "public_key": raw_public_key(cert)}), flush=True)
    summary = await asyncio.wait_for(done, TIMEOUT_S)
    # Wait until the reply is acknowledged (or the client closes) before exiting.
    for _ in range(TIMEOUT_S * 10):
        p = protocols[0]
        streams = p._quic._streams
        if summary.get("terminated") or all(s.sender.buffer_is_empty for s in streams.values()):
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.2)
    server.close()
    return summary


async def run_client(args, key, cert, ca_pem):
    config = QuicConfiguration(is_client=True, alpn_protocols=[ALPN], server_name="localhost", idle_timeout=TIMEOUT_S,
                               max_data=16 << 20, max_stream_data=16 << 20)
    config.certificate = cert
    config.private_key = key
    config.load_verify_locations(cadata=ca_pem)
    print(json.dumps({"event": "ready", "public_key": raw_public_key(cert)}), flush=True)
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def factory(*a, **kw):
        return Peer(*a, role="client", send_bytes=args.bytes, ca_pem=ca_pem, expect_key=args.expect_key, done=done, **kw)

    async with connect("127.0.0.1", args.port, configuration=config, create_protocol=factory) as client:
        await client.wait_connected()
        client.send_payload(client._quic.get_next_available_stream_id())
        summary = await asyncio.wait_for(done, TIMEOUT_S)
        summary.update(sent_bytes=args.bytes, sent_sha256=client.sent_hash)
        client.close()
        await client.wait_closed()
    return summary


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["server", "client"])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--seed", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--expect-key", required=True)
    ap.add_argument("--bytes", type=int, default=10 << 20)
    ap.add_argument("--retry", action="store_true", help="server: validate addresses with Retry")
    args = ap.parse_args()
    key, cert = make_identity(args.seed)
    with open(args.ca, "rb") as f:
        ca_pem = f.read()
    runner = run_server if args.mode == "server" else run_client
    try:
        summary = asyncio.run(runner(args, key, cert, ca_pem))
    except Exception as exc:
        summary = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps({"event": "summary", **summary}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
