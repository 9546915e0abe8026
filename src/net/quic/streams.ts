/**
 * QUIC stream state (RFC 9000 §2–§4): the send half keeps unacknowledged bytes
 * for retransmission and tracks the peer's MAX_STREAM_DATA; the receive half
 * reassembles out-of-order STREAM frames (bounded by our flow-control window)
 * and hands bytes to the application strictly in order.
 */
import { QuicError } from "./errors.ts";

export function isBidi(streamId: number): boolean {
  return (streamId & 0x2) === 0;
}

/** True if `streamId` was opened by the client. */
export function isClientInitiated(streamId: number): boolean {
  return (streamId & 0x1) === 0;
}

interface Chunk {
  offset: number;
  data: Uint8Array;
}

/** A byte range waiting to be (re)transmitted. */
interface Range {
  offset: number;
  length: number;
}

export class SendStream {
  /** Bytes the application wrote, in offset order; the live ones start at `chunkHead` (wholly acked chunks are dropped). */
  private chunks: Chunk[] = [];
  private chunkHead = 0;
  /** Offset of the next never-sent byte. */
  sentOffset = 0;
  /** Total bytes written by the application. */
  writtenOffset = 0;
  /** Peer's limit for this stream (MAX_STREAM_DATA). */
  maxData: number;
  finOffset: number | null = null;
  finSent = false;
  finAcked = false;
  /** Ranges to send again (lost or probed), in order of loss. */
  private retransmit: Range[] = [];
  /** Acked ranges above `ackedOffset`, sorted and disjoint. */
  private acked: Range[] = [];
  ackedOffset = 0;
  resetCode: number | null = null;
  /** STREAM_DATA_BLOCKED already sent at this limit. */
  blockedSentAt = -1;

  constructor(readonly id: number, maxData: number) {
    this.maxData = maxData;
  }

  write(data: Uint8Array, fin: boolean): void {
    if (this.finOffset !== null || this.resetCode !== null) throw new QuicError("STREAM_STATE_ERROR", `stream ${this.id} is closed for writing`);
    if (data.length) {
      this.chunks.push({ offset: this.writtenOffset, data });
      this.writtenOffset += data.length;
    }
    if (fin) this.finOffset = this.writtenOffset;
  }

  /** Bytes still buffered (unacknowledged or unsent). */
  get bufferedBytes(): number {
    return this.writtenOffset - this.ackedOffset;
  }

  hasRetransmit(): boolean {
    return this.retransmit.length > 0;
  }

  /** Whether there is new data the flow-control limit allows, or a FIN to send. */
  hasNewData(connectionCredit: number): boolean {
    if (this.resetCode !== null) return false;
    if (this.sentOffset < this.writtenOffset && this.sentOffset < this.maxData && connectionCredit > 0) return true;
    return this.finOffset !== null && !this.finSent && this.sentOffset === this.finOffset;
  }

  wantsToSend(connectionCredit: number): boolean {
    return this.resetCode === null && (this.retransmit.length > 0 || this.hasNewData(connectionCredit));
  }

  /** Next retransmission range (at most `max` bytes), or null. */
  nextRetransmit(max: number): { offset: number; data: Uint8Array; fin: boolean } | null {
    while (this.retransmit.length) {
      const r = this.retransmit[0]!;
      if (r.offset < this.ackedOffset) {
        // Skip the part acknowledged since it was queued.
        const skip = Math.min(r.length, this.ackedOffset - r.offset);
        r.offset += skip;
        r.length -= skip;
      }
      const finPending = this.finOffset !== null && r.offset + r.length === this.finOffset && !this.finAcked;
      if (r.length === 0 && !finPending) {
        this.retransmit.shift();
        continue;
      }
      const off = r.offset;
      const len = Math.min(r.length, max);
      const data = this.read(off, len);
      const fin = this.finOffset !== null && off + len === this.finOffset;
      if (len === r.length) this.retransmit.shift();
      else {
        r.offset += len;
        r.length -= len;
      }
      return { offset: off, data, fin };
    }
    return null;
  }

  /** Takes up to `max` new bytes (also bounded by the stream limit). */
  takeNew(max: number): { offset: number; data: Uint8Array; fin: boolean } {
    const len = Math.max(0, Math.min(max, this.writtenOffset - this.sentOffset, this.maxData - this.sentOffset));
    const offset = this.sentOffset;
    const data = this.read(offset, len);
    this.sentOffset += len;
    const fin = this.finOffset !== null && this.sentOffset === this.finOffset;
    if (fin) this.finSent = true;
    return { offset, data, fin };
  }

  /** Bytes [offset, offset+len) from the buffer; a view when they lie in one chunk. */
  private read(offset: number, len: number): Uint8Array {
    if (len === 0) return new Uint8Array(0);
    // Binary search: many small writes must not make every packet scan the buffer.
    let lo = this.chunkHead;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.chunks[mid]!;
      if (c.offset + c.data.length <= offset) lo = mid + 1;
      else hi = mid;
    }
    const i = lo;
    const first = this.chunks[i]!;
    const start = offset - first.offset;
    if (start + len <= first.data.length) return first.data.subarray(start, start + len);
    const out = new Uint8Array(len);
    let o = 0;
    for (let j = i; o < len; j++) {
      const c = this.chunks[j]!;
      const from = offset + o - c.offset;
      const n = Math.min(c.data.length - from, len - o);
      out.set(c.data.subarray(from, from + n), o);
      o += n;
    }
    return out;
  }

  onLost(offset: number, length: number, fin: boolean): void {
    if (this.resetCode !== null) return;
    if (offset + length <= this.ackedOffset && !(fin && !this.finAcked)) return;
    this.retransmit.push({ offset, length });
  }

  onAcked(offset: number, length: number, fin: boolean): void {
    if (fin) this.finAcked = true;
    if (length === 0) return;
    const end = offset + length;
    if (end <= this.ackedOffset) return;
    // Insert into the sorted acked list, then advance the contiguous prefix.
    const acked = this.acked;
    let i = 0;
    while (i < acked.length && acked[i]!.offset < offset) i++;
    acked.splice(i, 0, { offset, length });
    let merged = 0;
    for (const r of acked) {
      if (r.offset > this.ackedOffset) break;
      this.ackedOffset = Math.max(this.ackedOffset, r.offset + r.length);
      merged++;
    }
    if (merged) acked.splice(0, merged);
    if (acked.length > 64) this.compactAcked();
    this.dropAckedChunks();
  }

  private compactAcked(): void {
    const out: Range[] = [];
    for (const r of this.acked) {
      const last = out[out.length - 1];
      if (last && r.offset <= last.offset + last.length) last.length = Math.max(last.length, r.offset + r.length - last.offset);
      else out.push({ ...r });
    }
    this.acked = out;
  }

  private dropAckedChunks(): void {
    while (this.chunkHead < this.chunks.length) {
      const c = this.chunks[this.chunkHead]!;
      if (c.offset + c.data.length > this.ackedOffset) break;
      this.chunkHead++;
    }
    if (this.chunkHead > 256 && this.chunkHead * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.chunkHead);
      this.chunkHead = 0;
    }
  }

  /** All data and the FIN acknowledged: the send half is done. */
  get done(): boolean {
    return this.resetCode !== null || (this.finOffset !== null && this.finAcked && this.ackedOffset >= this.finOffset);
  }

  reset(code: number): void {
    if (this.resetCode !== null) return;
    this.resetCode = code;
    this.chunks = [];
    this.chunkHead = 0;
    this.retransmit = [];
  }
}

/** Out-of-order bytes a receive stream holds at most: this many windows plus the slack. */
export const REASSEMBLY_WINDOW_FACTOR = 2;
export const REASSEMBLY_SLACK_BYTES = 65_536;

export class RecvStream {
  /** Next offset to deliver. */
  readOffset = 0;
  /**
   * Offset up to which the application has consumed delivered bytes. Credit
   * (MAX_STREAM_DATA) is re-granted from here, not from readOffset, so a slow
   * reader holds the sender back instead of buffering without bound.
   */
  consumedOffset = 0;
  /** Highest offset received + 1. */
  highestOffset = 0;
  finalSize: number | null = null;
  /** Out-of-order segments keyed by offset, trimmed to start at or after readOffset. */
  private pending = new Map<number, Uint8Array>();
  private pendingBytes = 0;
  /** The limit we advertised (MAX_STREAM_DATA). */
  maxData: number;
  resetCode: number | null = null;
  finDelivered = false;
  stopSendingSent = false;

  constructor(readonly id: number, readonly window: number) {
    this.maxData = window;
  }

  /**
   * Accepts a STREAM frame; returns the newly in-order bytes (possibly several
   * pieces) and whether FIN was reached. Enforces the flow-control limit and
   * final-size rules (RFC 9000 §4.5).
   */
  receive(offset: number, data: Uint8Array, fin: boolean): { pieces: Uint8Array[]; fin: boolean } {
    const end = offset + data.length;
    if (end > this.maxData) throw new QuicError("FLOW_CONTROL_ERROR", `stream ${this.id} data beyond MAX_STREAM_DATA`);
    if (this.finalSize !== null && (end > this.finalSize || (fin && end !== this.finalSize))) {
      throw new QuicError("FINAL_SIZE_ERROR", `stream ${this.id} data beyond its final size`);
    }
    if (fin) {
      if (end < this.highestOffset) throw new QuicError("FINAL_SIZE_ERROR", `stream ${this.id} final size below received data`);
      this.finalSize = end;
    }
    if (end > this.highestOffset) this.highestOffset = end;
    const pieces: Uint8Array[] = [];
    if (this.resetCode !== null) return { pieces, fin: false };
    if (end > this.readOffset) {
      let d = data;
      let o = offset;
      if (o < this.readOffset) {
        d = d.subarray(this.readOffset - o);
        o = this.readOffset;
      }
      if (o === this.readOffset) {
        pieces.push(d);
        this.readOffset += d.length;
        this.drainPending(pieces);
      } else if (d.length) {
        const existing = this.pending.get(o);
        if (!existing || existing.length < d.length) {
          this.pendingBytes += d.length - (existing?.length ?? 0);
          // Overlapping segments are kept whole; only a hostile peer overlaps this much.
          if (this.pendingBytes > REASSEMBLY_WINDOW_FACTOR * this.window + REASSEMBLY_SLACK_BYTES) {
            throw new QuicError("PROTOCOL_VIOLATION", `stream ${this.id}: too much overlapping out-of-order data`);
          }
          this.pending.set(o, d.slice());
        }
      }
    }
    const finNow = this.finalSize !== null && this.readOffset === this.finalSize && !this.finDelivered;
    if (finNow) this.finDelivered = true;
    return { pieces, fin: finNow };
  }

  private drainPending(pieces: Uint8Array[]): void {
    while (this.pending.size) {
      // Usually the next segment starts exactly where delivery stopped: O(1) lookup.
      const exact = this.pending.get(this.readOffset);
      if (exact) {
        this.pending.delete(this.readOffset);
        this.pendingBytes -= exact.length;
        pieces.push(exact);
        this.readOffset += exact.length;
        continue;
      }
      // Rarely (retransmissions cut differently) a segment starts before it: scan once.
      let progressed = false;
      for (const [o, d] of this.pending) {
        if (o > this.readOffset) continue;
        this.pending.delete(o);
        this.pendingBytes -= d.length;
        progressed = true;
        if (o + d.length > this.readOffset) {
          const piece = d.subarray(this.readOffset - o);
          pieces.push(piece);
          this.readOffset += piece.length;
        }
        break;
      }
      if (!progressed) return;
    }
  }

  /** Bytes held out of order (bounded by the window). */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /** The application consumed `bytes` more delivered bytes (capped at what was delivered). */
  consume(bytes: number): void {
    this.consumedOffset = Math.min(this.readOffset, this.consumedOffset + bytes);
  }

  /** New MAX_STREAM_DATA to advertise once half the window is consumed, else null. */
  creditUpdate(): number | null {
    if (this.finalSize !== null || this.resetCode !== null) return null;
    if (this.maxData - this.consumedOffset > this.window / 2) return null;
    this.maxData = this.consumedOffset + this.window;
    return this.maxData;
  }

  onReset(code: number, finalSize: number): void {
    if (this.finalSize !== null && this.finalSize !== finalSize) throw new QuicError("FINAL_SIZE_ERROR", `stream ${this.id} reset with a different final size`);
    if (finalSize < this.highestOffset) throw new QuicError("FINAL_SIZE_ERROR", `stream ${this.id} reset below received data`);
    if (finalSize > this.maxData) throw new QuicError("FLOW_CONTROL_ERROR", `stream ${this.id} reset beyond MAX_STREAM_DATA`);
    this.finalSize = finalSize;
    this.highestOffset = finalSize;
    this.resetCode = code;
    this.pending.clear();
    this.pendingBytes = 0;
  }

  get done(): boolean {
    return this.finDelivered || this.resetCode !== null;
  }
}
