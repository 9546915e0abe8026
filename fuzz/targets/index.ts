/** Every fuzz target, in the order `--target all` runs them. */
import type { FuzzTarget } from "../target.ts";
import { CODEC_TARGETS, HEADERS_FILE_TARGET } from "./codec.ts";
import { P2P_TARGETS } from "./p2p.ts";
import { P2P_NODE_TARGET } from "./p2p-node.ts";
import { QUIC_TARGETS } from "./quic.ts";
import { QUIC_CONNECTION_TARGET } from "./quic-connection.ts";
import { TLS_TARGETS } from "./tls.ts";
import { RPC_TARGETS } from "./rpc.ts";
import { HTTP_TARGET } from "./http.ts";
import { TOML_TARGETS } from "./toml.ts";
import { SHARD_TARGETS } from "./shard.ts";

export const TARGETS: readonly FuzzTarget[] = [...CODEC_TARGETS, HEADERS_FILE_TARGET, ...P2P_TARGETS, P2P_NODE_TARGET, ...QUIC_TARGETS, QUIC_CONNECTION_TARGET, ...TLS_TARGETS, ...RPC_TARGETS, HTTP_TARGET, ...TOML_TARGETS, ...SHARD_TARGETS];

export function targetByName(name: string): FuzzTarget | undefined {
  return TARGETS.find((t) => t.name === name);
}
