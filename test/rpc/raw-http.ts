/** Raw TCP requests to a loopback server: what curl or fetch would never send (no Host, bad targets). */

export interface RawReply {
  status: number;
  headers: string;
  body: string;
}

/** Writes `text` to 127.0.0.1:`port` and reads until the server closes, at most `limitMs` and `bytesMax`. */
export function rawRequest(port: number, text: string, limitMs = 5_000, bytesMax = 1 << 20): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const all = Buffer.concat(chunks).toString("latin1");
      const split = all.indexOf("\r\n\r\n");
      const head = split < 0 ? all : all.slice(0, split);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? "0");
      resolve({ status, headers: head, body: split < 0 ? "" : all.slice(split + 4) });
    };
    const timer = setTimeout(finish, limitMs);
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(s) {
          s.write(text);
        },
        data(s, d) {
          chunks.push(Buffer.from(d));
          size += d.length;
          if (size >= bytesMax) s.end();
        },
        close: finish,
        error: finish,
      },
    }).catch(reject);
  });
}
