/**
 * A byte link between two nodes: what the P2P layer needs from a transport. The
 * QUIC transport provides one per connection (a bidirectional stream); tests can
 * use an in-memory pair.
 */
export interface Link {
  /** Peer's authenticated validator public key (from the transport handshake), if any. */
  readonly peerPublicKey: Uint8Array | null;
  readonly remote: string;
  send(bytes: Uint8Array): void;
  close(reason: string): void;
  onData(cb: (bytes: Uint8Array) => void): void;
  onClose(cb: (reason: string) => void): void;
  /** Bytes handed to send() that the peer has not acknowledged yet (absent: delivered at once). */
  bufferedBytes?(): number;
  /** The transport's RTT samples so far and the latest one (ms), if it measures RTT. */
  rttSample?(): { count: number; latestMs: number };
}

/**
 * Two connected in-memory links (delivery on a microtask, in order). Bytes that
 * arrive before `onData` is set are buffered, as a QUIC stream buffers them.
 */
export function linkPair(aKey: Uint8Array | null, bKey: Uint8Array | null): [Link, Link] {
  type Side = { data?: (b: Uint8Array) => void; close?: (r: string) => void; closed: boolean; early: Uint8Array[] };
  const sa: Side = { closed: false, early: [] };
  const sb: Side = { closed: false, early: [] };
  const make = (self: Side, other: Side, peerKey: Uint8Array | null, remote: string): Link => ({
    peerPublicKey: peerKey,
    remote,
    send(bytes) {
      if (self.closed) return;
      const copy = bytes.slice();
      queueMicrotask(() => {
        if (other.closed) return;
        if (other.data) other.data(copy);
        else other.early.push(copy);
      });
    },
    close(reason) {
      if (self.closed) return;
      self.closed = true;
      other.closed = true;
      queueMicrotask(() => {
        self.close?.(reason);
        other.close?.(reason);
      });
    },
    onData(cb) {
      self.data = cb;
      for (const b of self.early.splice(0)) cb(b);
    },
    onClose(cb) {
      self.close = cb;
    },
  });
  return [make(sa, sb, bKey, "mem:b"), make(sb, sa, aKey, "mem:a")];
}
