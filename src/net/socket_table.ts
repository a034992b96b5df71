/**
 * The TCP sockets of this process, seen from the kernel side, for what Deno's HTTP server does
 * not offer: how much a slow viewer's connection has queued, and closing connections that never
 * send a request. Linux only: it lists `/proc/self/fd` and asks libc (through Deno FFI, a handful of
 * plain socket calls) what each socket is and where it goes. Where either is missing,
 * {@link SocketTable.open} returns null and tuchuan runs without these guards.
 *
 * Why FFI: Deno exposes neither the file descriptor of a served connection nor its socket
 * options, and the alternatives cost more. Reading the kernel's connection table (`/proc/net/tcp`) took
 * 5.7 ms a read on a busy host, and a socket's own calls take microseconds.
 *
 * The guards never close a descriptor Deno owns: `shutdown(2)` ends the connection, and Deno
 * then closes it as it would any connection the peer dropped.
 *
 * @module
 */
import { openLibc } from "../core/libc.ts";

/** One end of a TCP connection. */
export interface Endpoint {
  /** IPv4 dotted quad, or IPv6 text (IPv4-mapped addresses come as IPv4). */
  readonly address: string;
  readonly port: number;
}

/** A TCP socket of this process. */
export interface SocketInfo {
  readonly fd: number;
  readonly local: Endpoint;
  /** The other end, or null for a listening socket. */
  readonly peer: Endpoint | null;
}

const AF_INET = 2;
const AF_INET6 = 10;
const SOL_SOCKET = 1;
const SO_ACCEPTCONN = 30;
const SHUT_RDWR = 2;
const RLIMIT_NOFILE = 7;
/** `SIOCOUTQ`: bytes in the send queue not yet acknowledged (same number as TIOCOUTQ). */
const SIOCOUTQ = 0x5411n;

const SYMBOLS = {
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getpeername: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let shared: SocketTable | null | undefined;

/** Sockets of this process, through /proc/self/fd and libc. */
export class SocketTable {
  readonly #libc: Libc;
  readonly #addr = new Uint8Array(128);
  readonly #len = new Uint32Array(1);
  readonly #int = new Int32Array(1);
  // Byte views made once: FFI takes "buffer" arguments as bytes, and the send-queue ioctl runs
  // once per frame per viewer, where a fresh view each time was garbage on the hot path.
  readonly #lenBytes = new Uint8Array(this.#len.buffer);
  readonly #intBytes = new Uint8Array(this.#int.buffer);

  private constructor(libc: Libc) {
    this.#libc = libc;
  }

  /** The process's table, or null where /proc/self/fd or libc cannot be used. */
  static open(): SocketTable | null {
    if (shared !== undefined) return shared;
    shared = null;
    if (Deno.build.os !== "linux") return null;
    try {
      Deno.readDirSync("/proc/self/fd");
    } catch {
      return null;
    }
    const libc = openLibc(SYMBOLS);
    if (libc) shared = new SocketTable(libc);
    return shared;
  }

  /** Open file descriptors of this process. */
  countFds(): number {
    let n = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
    return n;
  }

  /** The soft limit on open file descriptors (`ulimit -n`), or null when unknown. */
  fdLimit(): { soft: number; hard: number } | null {
    const buf = new BigUint64Array(2);
    if (this.#libc.getrlimit(RLIMIT_NOFILE, new Uint8Array(buf.buffer)) !== 0) return null;
    const clamp = (v: bigint) => v > 1_000_000_000n ? Infinity : Number(v);
    return { soft: clamp(buf[0]), hard: clamp(buf[1]) };
  }

  /**
   * Raises the soft descriptor limit to the hard one (as Go programs and nginx do), so that a
   * flood of connections meets the larger limit; returns the soft limit now in force.
   */
  raiseFdLimit(): number | null {
    const buf = new BigUint64Array(2);
    if (this.#libc.getrlimit(RLIMIT_NOFILE, new Uint8Array(buf.buffer)) !== 0) return null;
    if (buf[0] < buf[1]) {
      const want = new BigUint64Array([buf[1] > 1048576n ? 1048576n : buf[1], buf[1]]);
      this.#libc.setrlimit(RLIMIT_NOFILE, new Uint8Array(want.buffer));
    }
    return this.fdLimit()?.soft ?? null;
  }

  /** Every TCP socket of this process whose local port is `port`. */
  sockets(port: number): SocketInfo[] {
    const out: SocketInfo[] = [];
    for (const entry of Deno.readDirSync("/proc/self/fd")) {
      const fd = Number(entry.name);
      // getsockname fails on anything but a socket (and on a descriptor closed since the
      // listing): one call, where reading the link first cost a second one and a string.
      const local = this.#endpoint(fd, "getsockname");
      if (!local || local.port !== port) continue;
      out.push({ fd, local, peer: this.#endpoint(fd, "getpeername") });
    }
    return out;
  }

  /** True when `fd` is a listening socket. */
  isListening(fd: number): boolean {
    this.#int[0] = 0;
    this.#len[0] = 4;
    const rc = this.#libc.getsockopt(
      fd,
      SOL_SOCKET,
      SO_ACCEPTCONN,
      this.#intBytes,
      this.#lenBytes,
    );
    return rc === 0 && this.#int[0] === 1;
  }

  /** Bytes sent to the peer and not yet acknowledged, plus those not sent yet; null on error. */
  sendQueue(fd: number): number | null {
    this.#int[0] = 0;
    return this.#libc.ioctl(fd, SIOCOUTQ, this.#intBytes) === 0 ? this.#int[0] : null;
  }

  /** The peer `fd` is connected to now, or null (closed, reused for a listener, not TCP). */
  peerOf(fd: number): Endpoint | null {
    return this.#endpoint(fd, "getpeername");
  }

  /**
   * Ends the connection on `fd` if it still goes to `peer` (a descriptor closed and reused in
   * between is left alone). Returns true when it did.
   */
  shutdown(fd: number, peer: Endpoint): boolean {
    const now = this.#endpoint(fd, "getpeername");
    if (!now || now.port !== peer.port || now.address !== peer.address) return false;
    return this.#libc.shutdown(fd, SHUT_RDWR) === 0;
  }

  #endpoint(fd: number, call: "getsockname" | "getpeername"): Endpoint | null {
    const addr = this.#addr;
    this.#len[0] = addr.byteLength;
    if (this.#libc[call](fd, addr, this.#lenBytes) !== 0) return null;
    // sa_family is in host order (little-endian on every board tuchuan targets); ports are not.
    const family = addr[0] | (addr[1] << 8);
    const port = (addr[2] << 8) | addr[3];
    if (family === AF_INET) return { address: `${addr[4]}.${addr[5]}.${addr[6]}.${addr[7]}`, port };
    if (family !== AF_INET6) return null;
    return { address: ipv6Text(addr.subarray(8, 24)), port };
  }
}

/** IPv6 bytes as text; IPv4-mapped addresses (`::ffff:a.b.c.d`) as plain IPv4. */
export function ipv6Text(b: Uint8Array): string {
  const mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  if (mapped) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i] << 8) | b[i + 1]).toString(16));
  // The longest run of zero groups becomes "::".
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best === -1) return groups.join(":");
  return `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLen).join(":")}`;
}

/** An address as Deno reports it, in the form the table uses (IPv4-mapped IPv6 as IPv4). */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return (mapped ? mapped[1] : address).toLowerCase();
}
