/**
 * Interop with aioquic (an independent QUIC implementation, installed by
 * scripts/setup-interop): handshake with Ed25519 certificates verified on both
 * sides, then 10 MiB each way over one bidirectional stream, compared by SHA-256.
 */
import { describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keyPairFromSeed } from "../../src/crypto/ed25519.ts";
import { QuicEndpoint, type QuicConnection } from "../../src/net/quic/endpoint.ts";
import { certificateDer, certificatePem } from "../../src/net/quic/tls/certificate.ts";
import { TLS_CHACHA20_POLY1305_SHA256 } from "../../src/net/quic/packet-protection.ts";

const ROOT = join(import.meta.dir, "../..");
const PYTHON = join(ROOT, ".tools/py/bin/python");
const PEER = join(ROOT, "test/interop/aioquic_peer.py");
const PAYLOAD_BYTES = 10 * 1024 * 1024;
const TEST_TIMEOUT_MS = 60_000;
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

interface Summary {
  event: string;
  error?: string;
  peer_cert_ok?: boolean;
  peer_cert_detail?: string;
  alpn?: string;
  received_bytes?: number;
  received_sha256?: string;
  sent_sha256?: string;
  port?: number;
  error_code?: number;
  cipher_suite?: number;
  reason?: string;
}

function requireAioquic(): void {
  if (!existsSync(PYTHON)) throw new Error(`aioquic venv missing at ${PYTHON}: run scripts/setup-interop`);
}

/** Reads JSON lines from a child's stdout. */
class Lines {
  private buf = "";
  private readonly reader: { read(): Promise<{ value?: Uint8Array; done: boolean }> };
  constructor(stream: ReadableStream<Uint8Array>) {
    this.reader = stream.getReader();
  }
  async next(): Promise<Summary> {
    for (;;) {
      const i = this.buf.indexOf("\n");
      if (i >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        return JSON.parse(line) as Summary;
      }
      const { value, done } = await this.reader.read();
      if (done) throw new Error(`aioquic peer exited early; output so far: ${this.buf}`);
      this.buf += new TextDecoder().decode(value);
    }
  }
}

function setup(seed: number, peerSeed: number) {
  const me = keyPairFromSeed(new Uint8Array(32).fill(seed));
  const peerKey = hex(keyPairFromSeed(new Uint8Array(32).fill(peerSeed)).publicKey);
  const dir = mkdtempSync(join(tmpdir(), "phantom-interop-"));
  const caPath = join(dir, "phantom.pem");
  Bun.write(caPath, certificatePem(certificateDer(me)));
  return { me, peerKey, peerSeedHex: peerSeed.toString(16).padStart(2, "0").repeat(32), caPath, dir };
}

type Setup = ReturnType<typeof setup>;
type Peer = ReturnType<typeof spawnPeer>;

/** Starts aioquic_peer.py as `role` with this setup's keys, moving `bytes` each way; `extra` adds flags. */
function spawnPeer(s: Setup, role: "server" | "client", bytes: number, extra: string[] = []) {
  const args = [PYTHON, PEER, role, ...extra, "--seed", s.peerSeedHex, "--ca", s.caPath, "--expect-key", hex(s.me.publicKey), "--bytes", String(bytes)];
  return Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
}

/** Waits for the peer to exit and parses the last JSON line it printed. */
async function finalSummary(proc: Peer): Promise<Summary> {
  const out = await new Response(proc.stdout).text();
  return JSON.parse(out.trim().split("\n").pop()!) as Summary;
}

/** Stops the peers and removes the setup's files. */
async function teardown(s: Setup, ...procs: (Peer | null)[]): Promise<void> {
  for (const p of procs) p?.kill();
  for (const p of procs) await p?.exited;
  rmSync(s.dir, { recursive: true, force: true });
}

describe("interop with aioquic", () => {
  test("our client ↔ aioquic server: mutual certificates, 10 MiB each way", async () => {
    requireAioquic();
    const s = setup(0x31, 0x41);
    await Bun.sleep(0);
    const proc = spawnPeer(s, "server", PAYLOAD_BYTES);
    const lines = new Lines(proc.stdout);
    let ep: QuicEndpoint | null = null;
    try {
      const ready = await lines.next();
      expect(ready.event).toBe("ready");
      const seenKeys: string[] = [];
      ep = await QuicEndpoint.client({ identity: s.me, verifyPeer: (pk) => { seenKeys.push(hex(pk)); return hex(pk) === s.peerKey; } });
      const conn = await ep.connect("127.0.0.1", ready.port!);
      expect(hex(conn.peerPublicKey!)).toBe(s.peerKey);
      expect(seenKeys).toEqual([s.peerKey]);
      const payload = new Uint8Array(randomBytes(PAYLOAD_BYTES));
      const reply = await exchange(conn, payload);
      const summary = await lines.next();
      expect(summary.error).toBeUndefined();
      expect(summary.peer_cert_ok).toBe(true);
      expect(summary.alpn).toBe("phantom/0");
      expect(summary.received_bytes).toBe(PAYLOAD_BYTES);
      expect(summary.received_sha256).toBe(sha256(payload));
      expect(reply.length).toBe(PAYLOAD_BYTES);
      expect(sha256(reply)).toBe(summary.sent_sha256!);
      conn.close();
    } finally {
      ep?.close();
      await teardown(s, proc);
    }
  }, TEST_TIMEOUT_MS);

  test("our client ↔ aioquic server: ChaCha20-Poly1305, DATAGRAM frames, a key update mid-transfer", async () => {
    requireAioquic();
    const s = setup(0x34, 0x44);
    await Bun.sleep(0);
    const bytes = 2 * 1024 * 1024;
    const proc = spawnPeer(s, "server", bytes);
    const lines = new Lines(proc.stdout);
    let ep: QuicEndpoint | null = null;
    try {
      const ready = await lines.next();
      ep = await QuicEndpoint.client({ identity: s.me, verifyPeer: (pk) => hex(pk) === s.peerKey, cipherSuites: [TLS_CHACHA20_POLY1305_SHA256] });
      const conn = await ep.connect("127.0.0.1", ready.port!);
      expect(conn.conn.initiateKeyUpdate()).toBe(true);
      // RFC 9221 DATAGRAM both ways: aioquic echoes it reversed.
      const echoed = new Promise<Uint8Array>((resolve) => conn.onDatagram(resolve));
      expect(conn.sendDatagram(new Uint8Array([1, 2, 3, 4]))).toBe(true);
      expect([...(await echoed)]).toEqual([4, 3, 2, 1]);
      const payload = new Uint8Array(randomBytes(bytes));
      const reply = await exchange(conn, payload);
      const summary = await lines.next();
      expect(summary.error).toBeUndefined();
      expect(summary.cipher_suite).toBe(TLS_CHACHA20_POLY1305_SHA256);
      expect(summary.received_sha256).toBe(sha256(payload));
      expect(sha256(reply)).toBe(summary.sent_sha256!);
      // aioquic followed our key update: its packets were readable in the new phase.
      expect(conn.conn.keyPhase).toBe(1);
      conn.close();
    } finally {
      ep?.close();
      await teardown(s, proc);
    }
  }, TEST_TIMEOUT_MS);

  test("aioquic client ↔ our server: mutual certificates, 10 MiB each way", async () => {
    requireAioquic();
    const s = setup(0x32, 0x42);
    await Bun.sleep(0);
    const reply = new Uint8Array(randomBytes(PAYLOAD_BYTES));
    let receivedHash = "";
    let accepted: QuicConnection | null = null;
    const ep = await QuicEndpoint.listen(0, {
      identity: s.me,
      verifyPeer: (pk) => hex(pk) === s.peerKey,
      onConnection: (c) => {
        accepted = c;
        const h = createHash("sha256");
        c.onData((sid, d, fin) => {
          h.update(d);
          if (fin) {
            receivedHash = h.digest("hex");
            c.write(sid, reply, true);
          }
        });
      },
    });
    const proc = spawnPeer(s, "client", PAYLOAD_BYTES, ["--port", String(ep.port)]);
    try {
      const lines = new Lines(proc.stdout);
      expect((await lines.next()).event).toBe("ready");
      const summary = await lines.next();
      expect(summary.error).toBeUndefined();
      expect(summary.peer_cert_ok).toBe(true);
      expect(accepted).not.toBeNull();
      expect(hex(accepted!.peerPublicKey!)).toBe(s.peerKey);
      expect(summary.received_bytes).toBe(PAYLOAD_BYTES);
      expect(summary.received_sha256).toBe(sha256(reply));
      expect(receivedHash).toBe(summary.sent_sha256!);
    } finally {
      ep.close();
      await teardown(s, proc);
    }
  }, TEST_TIMEOUT_MS);

  test("Retry both ways: our client through aioquic's Retry, aioquic's client through ours", async () => {
    requireAioquic();
    const s = setup(0x35, 0x45);
    await Bun.sleep(0);
    const bytes = 100_000;
    // Our client against an aioquic server that sends Retry.
    const proc = spawnPeer(s, "server", bytes, ["--retry"]);
    let ep: QuicEndpoint | null = null;
    let server: QuicEndpoint | null = null;
    let proc2: Peer | null = null;
    try {
      const lines = new Lines(proc.stdout);
      const ready = await lines.next();
      ep = await QuicEndpoint.client({ identity: s.me, verifyPeer: (pk) => hex(pk) === s.peerKey });
      const conn = await ep.connect("127.0.0.1", ready.port!);
      // The client really went through a Retry (it kept the Retry's source CID to check it).
      expect((conn.conn as unknown as { retryScid: Uint8Array | null }).retryScid).not.toBeNull();
      const payload = new Uint8Array(randomBytes(bytes));
      const reply = await exchange(conn, payload);
      const summary = await lines.next();
      expect(summary.received_sha256).toBe(sha256(payload));
      expect(sha256(reply)).toBe(summary.sent_sha256!);
      // aioquic's client against our server with retry enabled.
      server = await QuicEndpoint.listen(0, {
        identity: s.me, verifyPeer: (pk) => hex(pk) === s.peerKey, retry: true,
        onConnection: (c) => c.onData((sid, _d, fin) => { if (fin) c.write(sid, new Uint8Array(bytes), true); }),
      });
      proc2 = spawnPeer(s, "client", bytes, ["--port", String(server.port)]);
      const summary2 = await finalSummary(proc2);
      expect(summary2.error).toBeUndefined();
      expect(summary2.received_bytes).toBe(bytes);
      expect(server.stats.retriesSent).toBe(1);
    } finally {
      ep?.close();
      server?.close();
      await teardown(s, proc, proc2);
    }
  }, TEST_TIMEOUT_MS);

  test("aioquic client is refused when our server rejects its key", async () => {
    requireAioquic();
    const s = setup(0x33, 0x43);
    await Bun.sleep(0);
    let accepted = 0;
    const ep = await QuicEndpoint.listen(0, { identity: s.me, verifyPeer: () => false, onConnection: () => accepted++ });
    const proc = spawnPeer(s, "client", 1000, ["--port", String(ep.port)]);
    try {
      const summary = await finalSummary(proc);
      // aioquic finished its side of the handshake, then got our CONNECTION_CLOSE
      // with CRYPTO_ERROR(bad_certificate) and never had its stream answered.
      expect(summary.error_code).toBe(0x100 + 42);
      expect(summary.reason).toBe("peer key not accepted");
      expect(summary.received_bytes).toBeUndefined();
      expect(accepted).toBe(0);
    } finally {
      ep.close();
      await teardown(s, proc);
    }
  }, TEST_TIMEOUT_MS);
});

/** Sends `payload` with FIN on a new stream; resolves with the peer's reply up to its FIN. */
function exchange(conn: QuicConnection, payload: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const parts: Uint8Array[] = [];
    const sid = conn.openStream();
    conn.onData((id, d, fin) => {
      if (id !== sid) return;
      parts.push(d.slice());
      if (fin) resolve(new Uint8Array(Buffer.concat(parts)));
    });
    conn.onClose((code, reason) => reject(new Error(`closed early: ${code} ${reason}`)));
    conn.write(sid, payload, true);
  });
}
