/** Public surface of the QUIC transport (see docs/TRANSPORT.md). */
export { QuicEndpoint, QuicConnection, QuicEndpointError, realClock, CONNECTIONS_MAX, RETRY_TOKEN_LIFETIME_MS, type Clock, type EndpointOptions, type EndpointStats } from "./endpoint.ts";
export { Connection, ALPN_PHANTOM, type ConnectionEvent, type ConnectionOptions } from "./connection.ts";
export { certificateDer, certificatePem, verifyCertificate, type Identity } from "./tls/certificate.ts";
export { TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256, type CipherSuite } from "./packet-protection.ts";
export { QuicError, isQuicError, TransportErrorCode, transportErrorName } from "./errors.ts";
