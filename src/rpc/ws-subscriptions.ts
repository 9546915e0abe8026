/**
 * WebSocket subscriptions at /ws: {"subscribe": t} / {"unsubscribe": t}. Everything a
 * client can make the node hold or send is bounded: the message size, the topics (only
 * the ones the node publishes, a few per client), and every byte queued for the client,
 * replies included, counts against `wsBufferedBytesMax`.
 */
import type { ServerWebSocket, WebSocketHandler } from "bun";

/** Unsent bytes queued for one client before it is closed (1013) as too slow. */
export const wsBufferedBytesMax = 4 * 1024 * 1024;
/** Largest message a client may send; a larger one closes the connection (1009). */
export const wsMessageBytesMax = 4 * 1024;
/** Longest topic name accepted (UTF-16 code units). */
export const wsTopicLengthMax = 64;
/** Topics one client may hold at once. */
export const wsTopicsPerClientMax = 16;
/**
 * Refused messages one client may send before it is closed (1008). A well-behaved client
 * sends a few subscribes; a flood of refused ones would otherwise cost a parse and a reply
 * each, thousands of them in one event-loop turn when they arrive in one TCP read.
 */
export const wsRefusalsMax = 32;

export type WsErrorCode = "WS_BAD_MESSAGE" | "WS_TOPIC_TOO_LONG" | "WS_UNKNOWN_TOPIC" | "WS_TOO_MANY_TOPICS" | "WS_RATE_LIMITED" | "WS_TOO_MANY_REFUSALS";

export interface WsData {
  topics: Set<string>;
  /** Rate-limit key of the client (its address, see rate-limit.ts). */
  client: string;
  /** Messages refused so far; at wsRefusalsMax the connection is closed. */
  refusals?: number;
}

export interface SubscriptionOptions {
  /** Topics the node publishes; anything else is refused (nothing is stored for it). */
  topics: ReadonlySet<string>;
  /** Counts a refused message by its code. */
  observe(code: WsErrorCode | "ok"): void;
  /** Charges the client for a message; false when its budget is spent. */
  admit(ws: ServerWebSocket<WsData>): boolean;
  /** Reports the number of connected clients after each open and close. */
  clientsChanged(count: number): void;
}

/** Sends `text` unless the client's queue would pass `wsBufferedBytesMax`; then closes it. */
export function sendBounded(ws: ServerWebSocket<WsData>, text: string): boolean {
  if (ws.getBufferedAmount() + Buffer.byteLength(text) > wsBufferedBytesMax) {
    ws.close(1013, "subscriber too slow");
    return false;
  }
  ws.send(text);
  return true;
}

function reply(ws: ServerWebSocket<WsData>, body: Record<string, unknown>): void {
  sendBounded(ws, JSON.stringify(body));
}

function refuse(ws: ServerWebSocket<WsData>, opts: SubscriptionOptions, code: WsErrorCode, message: string): void {
  opts.observe(code);
  const refusals = (ws.data.refusals ?? 0) + 1;
  ws.data.refusals = refusals;
  if (refusals >= wsRefusalsMax) {
    opts.observe("WS_TOO_MANY_REFUSALS");
    ws.close(1008, "too many refused messages");
    return;
  }
  reply(ws, { error: { code, message } });
}

/** The request a message makes, or null when it is not one (never echoes the client's text). */
function parseRequest(message: string | Buffer): { op: "subscribe" | "unsubscribe"; topic: string } | null {
  let m: unknown;
  try {
    m = JSON.parse(String(message));
  } catch {
    return null;
  }
  if (typeof m !== "object" || m === null) return null;
  const r = m as { subscribe?: unknown; unsubscribe?: unknown };
  if (typeof r.subscribe === "string") return { op: "subscribe", topic: r.subscribe };
  if (typeof r.unsubscribe === "string") return { op: "unsubscribe", topic: r.unsubscribe };
  return null;
}

function onMessage(ws: ServerWebSocket<WsData>, message: string | Buffer, opts: SubscriptionOptions): void {
  // Frames that arrived in the same read as the one that closed the connection.
  if ((ws.data.refusals ?? 0) >= wsRefusalsMax) return;
  if (!opts.admit(ws)) return refuse(ws, opts, "WS_RATE_LIMITED", "too many messages; slow down");
  const req = parseRequest(message);
  if (!req) return refuse(ws, opts, "WS_BAD_MESSAGE", 'send {"subscribe":"<topic>"} or {"unsubscribe":"<topic>"}');
  const { op, topic } = req;
  if (topic.length > wsTopicLengthMax) return refuse(ws, opts, "WS_TOPIC_TOO_LONG", `topic longer than ${wsTopicLengthMax} characters`);
  if (op === "unsubscribe") {
    ws.data.topics.delete(topic);
  } else {
    if (!opts.topics.has(topic)) return refuse(ws, opts, "WS_UNKNOWN_TOPIC", `unknown topic; known: ${[...opts.topics].join(", ")}`);
    if (!ws.data.topics.has(topic) && ws.data.topics.size >= wsTopicsPerClientMax) return refuse(ws, opts, "WS_TOO_MANY_TOPICS", `at most ${wsTopicsPerClientMax} topics per client`);
    ws.data.topics.add(topic);
  }
  opts.observe("ok");
  // The topic is known or at most wsTopicLengthMax long: the reply stays small.
  reply(ws, { ok: true, [op === "subscribe" ? "subscribed" : "unsubscribed"]: topic, topicCount: ws.data.topics.size });
}

/** The /ws handler; tracks connected clients in `clients`. */
export function subscriptionHandler(clients: Set<ServerWebSocket<WsData>>, opts: SubscriptionOptions): WebSocketHandler<WsData> {
  return {
    maxPayloadLength: wsMessageBytesMax,
    // Bun's own backpressure bound matches ours, so a queue can never pass it either way.
    backpressureLimit: wsBufferedBytesMax,
    closeOnBackpressureLimit: true,
    open(ws) {
      clients.add(ws);
      opts.clientsChanged(clients.size);
    },
    message(ws, message) {
      onMessage(ws, message, opts);
    },
    close(ws) {
      clients.delete(ws);
      opts.clientsChanged(clients.size);
    },
  };
}

/** Sends a published event to every client subscribed to `topic`, within each client's bound. */
export function publishTo(clients: Iterable<ServerWebSocket<WsData>>, topic: string, text: string): void {
  for (const ws of clients) if (ws.data.topics.has(topic)) sendBounded(ws, text);
}
