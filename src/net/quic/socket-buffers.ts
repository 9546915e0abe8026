/**
 * UDP socket buffer sizes and kernel drop counts for a Bun.udpSocket, whose API
 * offers neither. Bun's socket object carries its file descriptor as an
 * undocumented `fd` property (Bun 1.4); with it, SO_RCVBUF / SO_SNDBUF are set through
 * libc's setsockopt over bun:ffi (Linux and macOS), and on Linux the datagrams the
 * kernel dropped on the socket (receive buffer full) are read from /proc/net/udp{,6},
 * matched by the socket's inode. Everything here degrades to "unknown" (undefined)
 * rather than failing: a missing `fd`, another OS, or a refused call leaves the
 * default buffers, which work, only with more drops under load.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";
import { fstatSync, readFileSync } from "node:fs";

/**
 * Buffer size asked for by default. quic-go asks for 7 MiB; Linux caps the request
 * at net.core.rmem_max / wmem_max (often 208 KiB to 4 MiB) without failing, and
 * reports double the granted size (the kernel's bookkeeping overhead).
 */
export const socketBufferBytesDefault = 7 * 1024 * 1024;

interface SockoptConstants {
  libc: string;
  solSocket: number;
  soSndbuf: number;
  soRcvbuf: number;
}

/** <sys/socket.h> values per OS (Linux asm-generic, and macOS/BSD). */
function constants(): SockoptConstants | undefined {
  if (process.platform === "linux") return { libc: "libc.so.6", solSocket: 1, soSndbuf: 7, soRcvbuf: 8 };
  if (process.platform === "darwin") return { libc: "libSystem.B.dylib", solSocket: 0xffff, soSndbuf: 0x1001, soRcvbuf: 0x1002 };
  return undefined;
}

type Sockopt = (fd: number, level: number, name: number, value: number) => number | undefined;
let sockoptCache: { set: Sockopt; get: (fd: number, level: number, name: number) => number | undefined; c: SockoptConstants } | null | undefined;

/** Opens libc's setsockopt/getsockopt once; null where that is not possible. */
function sockopt(): typeof sockoptCache {
  if (sockoptCache !== undefined) return sockoptCache;
  const c = constants();
  try {
    if (!c) throw new Error("unsupported platform");
    const lib = dlopen(c.libc, {
      setsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
      getsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
    });
    sockoptCache = {
      c,
      set: (fd, level, name, value) => {
        const v = new Int32Array([value]);
        return lib.symbols.setsockopt(fd, level, name, ptr(v), 4) === 0 ? value : undefined;
      },
      get: (fd, level, name) => {
        const v = new Int32Array(1);
        const len = new Uint32Array([4]);
        return lib.symbols.getsockopt(fd, level, name, ptr(v), ptr(len)) === 0 ? v[0]! : undefined;
      },
    };
  } catch {
    sockoptCache = null;
  }
  return sockoptCache;
}

/** The socket's file descriptor, if Bun exposes one. */
export function socketFd(socket: object): number | undefined {
  const fd: unknown = (socket as { fd?: unknown }).fd;
  return typeof fd === "number" && Number.isInteger(fd) && fd >= 0 ? fd : undefined;
}

export interface SocketBufferSizes {
  /** What the kernel reports after the request (Linux: double the granted size). */
  receiveBytes: number;
  sendBytes: number;
}

/** Asks for `bytes` of receive and send buffer; returns what the kernel then reports, or undefined if it cannot be done here. */
export function setSocketBuffers(socket: object, bytes: number): SocketBufferSizes | undefined {
  const fd = socketFd(socket);
  const so = sockopt();
  if (fd === undefined || !so) return undefined;
  so.set(fd, so.c.solSocket, so.c.soRcvbuf, bytes);
  so.set(fd, so.c.solSocket, so.c.soSndbuf, bytes);
  const receiveBytes = so.get(fd, so.c.solSocket, so.c.soRcvbuf);
  const sendBytes = so.get(fd, so.c.solSocket, so.c.soSndbuf);
  if (receiveBytes === undefined || sendBytes === undefined) return undefined;
  return { receiveBytes, sendBytes };
}

/**
 * Never fragment (RFC 9000 §14: QUIC datagrams must not be fragmented at the IP layer,
 * and path MTU discovery relies on oversize probes being dropped, not fragmented).
 * Linux: IP_MTU_DISCOVER / IPV6_MTU_DISCOVER = IP_PMTUDISC_DO (the default,
 * IP_PMTUDISC_WANT, fragments datagrams above the path MTU the kernel has cached);
 * macOS: IP_DONTFRAG / IPV6_DONTFRAG. Both families are tried (one fails on a socket of
 * the other). Returns whether one took, or undefined if it cannot be done here.
 */
export function setDontFragment(socket: object): boolean | undefined {
  const fd = socketFd(socket);
  const so = sockopt();
  if (fd === undefined || !so) return undefined;
  const [ipLevel, ip6Level] = [0, 41]; // IPPROTO_IP, IPPROTO_IPV6
  const opts = process.platform === "linux" ? { ip: 10, ip6: 23, value: 2 } : { ip: 28, ip6: 62, value: 1 };
  const v4 = so.set(fd, ipLevel, opts.ip, opts.value) !== undefined && so.get(fd, ipLevel, opts.ip) === opts.value;
  const v6 = so.set(fd, ip6Level, opts.ip6, opts.value) !== undefined && so.get(fd, ip6Level, opts.ip6) === opts.value;
  return v4 || v6;
}

/**
 * UDP generic segmentation offload (Linux UDP_SEGMENT, 4.18+): with a segment size
 * set, one send of up to 64 segments is split by the kernel into datagrams of that
 * size (the last may be shorter); a send no longer than the size goes out as one
 * datagram. 0 turns it off. Returns whether the kernel took the setting (false
 * elsewhere, or where the option does not exist).
 */
export function setUdpSegment(socket: object, segmentBytes: number): boolean {
  const fd = socketFd(socket);
  const so = sockopt();
  if (fd === undefined || !so || process.platform !== "linux") return false;
  return so.set(fd, 17 /* SOL_UDP */, 103 /* UDP_SEGMENT */, segmentBytes) !== undefined;
}

/** The socket's inode (what /proc/net/udp lists), Linux only. */
export function socketInode(socket: object): number | undefined {
  const fd = socketFd(socket);
  if (fd === undefined || process.platform !== "linux") return undefined;
  try {
    return fstatSync(fd).ino;
  } catch {
    return undefined;
  }
}

/**
 * Datagrams the kernel dropped on the socket with this inode since it opened (the
 * `drops` column of /proc/net/udp or udp6), or undefined when not listed/readable.
 */
export function kernelDrops(inode: number): number | undefined {
  for (const file of ["/proc/net/udp", "/proc/net/udp6"]) {
    let text: string;
    try {
      text = readFileSync(file, "latin1");
    } catch {
      continue;
    }
    const wanted = String(inode);
    for (const row of text.split("\n")) {
      // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
      const cols = row.trim().split(/\s+/);
      if (cols[9] !== wanted) continue;
      const drops = Number(cols[12]);
      return Number.isFinite(drops) ? drops : undefined;
    }
  }
  return undefined;
}
