/**
 * P2P input to a live validator: the fuzzer dials validator 0 of the shared devnet as
 * validator 1 (the transport proves its key, as QUIC does) and sends the input as the
 * byte stream of that connection: hello, events, txs, sync and fetch requests. The node
 * may close the connection with a typed reason, score or ban the peer; a crash is a
 * handler exception that is not a PhantomError (the boundary closes the connection and
 * logs `handler_error`) or a fail-stop of the node.
 */
import { isPhantomError } from "../../src/errors.ts";
import { banDurationMs } from "../../src/net/p2p/peers.ts";
import type { Link } from "../../src/net/p2p/link.ts";
import { acquireDevnet, releaseDevnet, type Devnet } from "./devnet.ts";
import { mutateFramedStream } from "../structured.ts";
import { FuzzOracleError, type FuzzTarget } from "../target.ts";

/** Validator index the fuzzer speaks as (stopped in the devnet, so its key is free to use). */
export const FUZZ_PEER = 1;
/** Turns of the event loop the node gets to answer one input. */
const SETTLE_TURNS = 3;

let devnet: Devnet | undefined;

class ConnectionClosed extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

export const P2P_NODE_TARGET: FuzzTarget = {
  name: "p2p-node",
  description: "a connection's byte stream into a running validator (hello, events, txs, sync, fetches), as validator 1",
  extension: "bin", maxBytes: 4096, structured: mutateFramedStream,
  dictionary: [1, 2, 3, 4, 5, 6, 7].map((k) => Uint8Array.of(k)).concat([Uint8Array.of(0, 0, 0, 0), Uint8Array.of(0xff, 0xff, 0xff, 0x7f), Uint8Array.of(0x07, 0x01, 0x01, 0x01)]),
  async setup() {
    devnet = await acquireDevnet();
  },
  async teardown() {
    devnet = undefined;
    await releaseDevnet();
  },
  async run(input) {
    const d = devnet;
    if (!d) throw new Error("p2p-node target used before setup()");
    // Past any ban an earlier input earned: each input starts as a peer in good standing.
    d.clockOffsetMs += banDurationMs + 1;
    const errorsBefore = d.failStop.handlerErrors.length;
    const self = d.genesis.validators[FUZZ_PEER]!;
    const link: Link = await d.net.transport(self.address, d.keys[FUZZ_PEER]!.publicKey).dial(d.genesis.validators[0]!.address, d.keys[0]!.publicKey);
    let closedWith: string | undefined;
    link.onClose((reason) => (closedWith = reason));
    link.onData(() => {});
    // First byte: chunk size (the stream arrives in pieces, as QUIC delivers it).
    const chunk = 1 + (input[0] ?? 0) * 16;
    const stream = input.subarray(1);
    for (let o = 0; o < stream.length; o += chunk) link.send(stream.subarray(o, o + chunk));
    for (let i = 0; i < SETTLE_TURNS; i++) await Bun.sleep(0);
    link.close("fuzz input done");
    await Bun.sleep(0);
    if (d.failStop.failed) throw new FuzzOracleError(`validator fail-stopped: ${d.failStop.failed.code} in ${d.failStop.failed.where}`);
    const untyped = d.failStop.handlerErrors.slice(errorsBefore).find((e) => !isPhantomError(e));
    if (untyped !== undefined) throw untyped;
    if (closedWith !== undefined && closedWith !== "fuzz input done") throw new ConnectionClosed(closedWith);
  },
  rejection: (e) => (e instanceof ConnectionClosed ? e.code : undefined),
};
