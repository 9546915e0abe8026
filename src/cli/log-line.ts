/**
 * The node's log lines: JSON with a `ts` field first (ISO 8601, UTC, milliseconds), or
 * `ts=… k=v` text. The wall clock appears here for people and log tools only; nothing
 * reads it back.
 */
export type LogFormat = "json" | "text";

export function formatLogLine(format: LogFormat, line: Record<string, unknown>, at: Date = new Date()): string {
  const stamped = { ts: at.toISOString(), ...line };
  if (format === "json") return JSON.stringify(stamped, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
  return Object.entries(stamped).map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : String(v)}`).join(" ");
}
