/**
 * What the node needs from a transport: accept links and dial validators by
 * address, each link authenticated to a validator key. QUIC provides the real one
 * (src/net/p2p/quic-link.ts); `MemoryNetwork` joins nodes inside one process for
 * tests of the node's own logic.
 */
import { PhantomError } from "../errors.ts";
import { linkPair, type Link } from "../net/p2p/link.ts";

export interface Transport {
  /** Starts accepting; every accepted link is passed to `onLink`. */
  listen(onLink: (link: Link) => void): Promise<void>;
  /** Opens a link to `address`; the peer must prove `expectedKey`. */
  dial(address: string, expectedKey: Uint8Array): Promise<Link>;
  close(): Promise<void>;
}

/** In-process network: one transport per node, keyed by its address. */
export class MemoryNetwork {
  private readonly listeners = new Map<string, { key: Uint8Array; onLink: (link: Link) => void }>();
  /** Addresses that currently refuse connections (a partition in tests). */
  readonly down = new Set<string>();

  transport(address: string, publicKey: Uint8Array): Transport {
    return {
      listen: async (onLink) => {
        this.listeners.set(address, { key: publicKey, onLink });
      },
      dial: async (to) => {
        const target = this.listeners.get(to);
        if (!target || this.down.has(to) || this.down.has(address)) throw new PhantomError("TRANSPORT_UNREACHABLE", `no listener at ${to}`);
        const [mine, theirs] = linkPair(publicKey, target.key);
        target.onLink(theirs);
        return mine;
      },
      close: async () => {
        this.listeners.delete(address);
      },
    };
  }
}
