/**
 * A WebSocket client on a raw node:net socket (RFC 6455 framing by hand), so a test can
 * stop reading and make the server's queue grow, which a browser-like client never does.
 */
import { connect, type Socket } from "node:net";
import { randomBytes } from "node:crypto";

/** One masked client text frame (RFC 6455 §5.2). */
export function clientTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x81, 0x80 | len]) : len < 65536 ? Buffer.from([0x81, 0x80 | 126, len >> 8, len & 255]) : Buffer.concat([Buffer.from([0x81, 0x80 | 127]), bigEndian64(len)]);
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([head, mask, body]);
}

function bigEndian64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** Opens ws://127.0.0.1:port/ws and resolves once the server answered 101; reading then stops. */
export function rawWebSocket(port: number, limitMs = 5_000): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: "127.0.0.1", port });
    const timer = setTimeout(() => reject(new Error("no 101 in time")), limitMs);
    let head = "";
    sock.on("error", reject);
    sock.on("connect", () => {
      sock.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    const onData = (d: Buffer) => {
      head += d.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      clearTimeout(timer);
      sock.off("data", onData);
      sock.pause();
      if (!head.startsWith("HTTP/1.1 101")) return reject(new Error(head.split("\r\n")[0]));
      resolve(sock);
    };
    sock.on("data", onData);
  });
}
