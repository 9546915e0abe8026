/**
 * Ports for tests that start real processes. The OS picks them (bind port 0): a fixed
 * port can be taken by anything else on the machine. Where a process needs a run of
 * consecutive ports (`localnet --base_rpc_port N` uses N..N+k-1), the run starts at a port
 * the OS chose and every port of it is held at once to check it is free; all are released
 * together just before the caller starts its processes (the short window between is the
 * same as for any bind-and-release).
 */
type Held = { port: number; close(): void };

const blockTriesMax = 50;

async function hold(proto: "udp" | "tcp", port: number): Promise<Held | null> {
  try {
    if (proto === "udp") {
      const s = await Bun.udpSocket({ hostname: "127.0.0.1", port });
      return { port: s.port, close: () => s.close() };
    }
    const l = Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } });
    return { port: l.port, close: () => l.stop(true) };
  } catch {
    return null;
  }
}

/** `count` consecutive free ports starting at an OS-chosen one, held until `release`. */
async function holdBlock(proto: "udp" | "tcp", count: number): Promise<Held[]> {
  for (let t = 0; t < blockTriesMax; t++) {
    const first = await hold(proto, 0);
    if (!first) continue;
    const block = [first];
    for (let i = 1; i < count; i++) {
      const next = first.port + i <= 65_535 ? await hold(proto, first.port + i) : null;
      if (!next) break;
      block.push(next);
    }
    if (block.length === count) return block;
    for (const h of block) h.close();
  }
  throw new Error(`no ${count} consecutive free ${proto} ports found in ${blockTriesMax} tries`);
}

/**
 * Blocks of `count` consecutive ports chosen by the OS: UDP for P2P, TCP for RPC and
 * metrics (the two TCP blocks never overlap: both are held while the second is chosen).
 */
export async function freePortBlocks(count: number): Promise<{ p2p: number; rpc: number; metrics: number }> {
  const held: Held[] = [];
  try {
    const p2p = await holdBlock("udp", count);
    held.push(...p2p);
    const rpc = await holdBlock("tcp", count);
    held.push(...rpc);
    const metrics = await holdBlock("tcp", count);
    held.push(...metrics);
    return { p2p: p2p[0]!.port, rpc: rpc[0]!.port, metrics: metrics[0]!.port };
  } finally {
    for (const h of held) h.close();
  }
}
