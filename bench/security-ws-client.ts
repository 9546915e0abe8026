/**
 * The hostile WebSocket client of bench/security.bench.ts, in its own process so building
 * and writing its frames costs the server nothing: on one connection 2,000 subscribes of
 * 100-byte topics (until the server closes it), then on a second a 15 MB message. Prints
 * {"replyBytes":n,"closedOnFlood":b,"closedOnHuge":b}.
 * Usage: bun bench/security-ws-client.ts PORT
 */
import type { Socket } from "node:net";
import { clientTextFrame, rawWebSocket } from "../test/rpc/raw-ws.ts";

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error("usage: bun bench/security-ws-client.ts PORT");
  process.exit(2);
}
const frames = Array.from({ length: 2_000 }, (_, i) => clientTextFrame(JSON.stringify({ subscribe: `t${i}-`.padEnd(100, "x") })));
const huge = clientTextFrame(JSON.stringify({ subscribe: "x".repeat(15 * 1024 * 1024) }));

/** Writes `data` on a new connection and waits (bounded) until the server closes it. */
async function untilClosed(data: Buffer[], onReply: (n: number) => void): Promise<boolean> {
  const sock: Socket = await rawWebSocket(port);
  let closed = false;
  sock.on("data", (d: Buffer) => onReply(d.length));
  sock.on("close", () => { closed = true; });
  sock.on("error", () => {}); // a reset after the server closed: expected
  sock.resume();
  for (const f of data) sock.write(f);
  for (let i = 0; i < 200 && !closed; i++) await Bun.sleep(25);
  sock.destroy();
  return closed;
}

let replyBytes = 0;
const closedOnFlood = await untilClosed(frames, (n) => { replyBytes += n; });
const closedOnHuge = await untilClosed([huge], () => {});
console.log(JSON.stringify({ replyBytes, closedOnFlood, closedOnHuge }));
