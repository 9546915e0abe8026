/**
 * Where a localnet child's output goes: every line to its own log file (appended, so a
 * restart continues the same file), and only what an operator must see to the terminal:
 * the child's stderr and its error log lines (red), and peer losses (plain).
 */
import { createWriteStream, type WriteStream } from "node:fs";

/** Node log line types that are errors: shown on the terminal, in red. */
export const ERROR_LINE_TYPES: ReadonlySet<string> = new Set(["fatal", "handler_error", "proposer_error"]);

export type Verdict = { show: "error"; text: string } | { show: "notice"; text: string } | null;

/** What the terminal shows of one stdout line of child `name` (null: only its log file). */
export function classifyChildLine(name: string, line: string): Verdict {
  if (!line.startsWith("{")) return null;
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return null;
  }
  const type = typeof parsed.type === "string" ? parsed.type : "";
  if (ERROR_LINE_TYPES.has(type)) return { show: "error", text: `[${name}] ${line}` };
  if (type === "peer_dropped") {
    const who = typeof parsed.validator === "number" && parsed.validator >= 0 ? `v${parsed.validator}` : String(parsed.remote ?? "a peer");
    return { show: "notice", text: `localnet: ${name} lost peer ${who} (peer_dropped ${String(parsed.code ?? "")}${parsed.reason ? `: ${String(parsed.reason)}` : ""})` };
  }
  return null;
}

export interface ChildLogSinks {
  /** A plain line for the terminal. */
  notice(line: string): void;
  /** An error line for the terminal (the caller colours it). */
  error(line: string): void;
}

/** Appends a child's streams to `path` and forwards what the terminal shows. */
export class ChildLog {
  private readonly file: WriteStream;
  private readonly readers: Promise<void>[] = [];
  private ended = false;

  constructor(readonly name: string, readonly path: string, private readonly sinks: ChildLogSinks) {
    this.file = createWriteStream(path, { flags: "a" });
  }

  /** A line of the localnet's own about this child (start, restart) in its file. */
  mark(text: string): void {
    this.write(`${JSON.stringify({ ts: new Date().toISOString(), type: "localnet", child: this.name, message: text })}\n`);
  }

  /** Reads one stream of the child to its end. stderr lines are errors: a child writes only failures there. */
  attach(stream: ReadableStream<Uint8Array>, kind: "stdout" | "stderr"): void {
    this.readers.push((async () => {
      const decoder = new TextDecoder();
      let buf = "";
      const take = (line: string) => {
        this.write(line + "\n");
        if (kind === "stderr") {
          if (line.trim()) this.sinks.error(`[${this.name}] ${line}`);
          return;
        }
        const v = classifyChildLine(this.name, line);
        if (v?.show === "error") this.sinks.error(v.text);
        else if (v?.show === "notice") this.sinks.notice(v.text);
      };
      for await (const chunk of stream) {
        buf += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buf.indexOf("\n")) !== -1) {
          take(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
      }
      if (buf) take(buf);
    })().catch(() => {}));
  }

  private write(text: string): void {
    if (!this.ended) this.file.write(text);
  }

  /** Ends the file once the children's streams are read out (bounded: a stuck pipe cannot hold the stop). */
  async close(limitMs = 2_000): Promise<void> {
    await Promise.race([Promise.all(this.readers), Bun.sleep(limitMs)]);
    this.ended = true;
    await new Promise<void>((resolve) => this.file.end(resolve));
  }
}

/** Red for errors on a terminal; plain when the stream is not one, or NO_COLOR is set. */
export function errorColour(isTty: boolean | undefined, env: Record<string, string | undefined> = process.env): (s: string) => string {
  const on = env.NO_COLOR === undefined && (env.FORCE_COLOR !== undefined ? env.FORCE_COLOR !== "0" : isTty === true);
  return on ? (s) => `\x1b[31m${s}\x1b[0m` : (s) => s;
}
