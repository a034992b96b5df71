/**
 * Bytes waiting in a server's TCP send queue for one client connection, read from
 * `/proc/net/tcp`.
 *
 * A server that sends "only the newest frame" still fills the kernel's socket send buffer first,
 * and on loopback Linux autotunes that buffer up to `tcp_wmem` max (4 MiB): a slow viewer can sit
 * seconds to minutes behind while the server holds no queue of its own. This makes that backlog
 * visible, for any server (the seed has no timestamps, but its send queue is measurable too).
 *
 * @module
 */
import { readProcText } from "../src/core/proc_read.ts";

/**
 * Bound on `/proc/net/tcp`: ~150 bytes per socket, so 32 MiB is 200,000 sockets, far beyond what
 * the benchmark opens.
 */
const PROC_NET_TCP_MAX_BYTES = 32 * 1024 * 1024;

/** `0100007F:1F90` -> port 8080 (the address part is not needed: everything is 127.0.0.1). */
function portOf(hexAddress: string): number {
  return Number.parseInt(hexAddress.slice(hexAddress.indexOf(":") + 1), 16);
}

/**
 * The send queue (`tx_queue`: bytes written by the server and not yet acknowledged) of the
 * established connection from `serverPort` to the client's `clientPort`, parsed from the text of
 * `/proc/net/tcp`; `null` when there is no such connection.
 */
export function parseSendQueue(
  procNetTcp: string,
  serverPort: number,
  clientPort: number,
): number | null {
  for (const line of procNetTcp.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || f[3] !== "01") continue; // 01 = ESTABLISHED
    if (portOf(f[1]) === serverPort && portOf(f[2]) === clientPort) {
      return Number.parseInt(f[4].split(":")[0], 16);
    }
  }
  return null;
}

/** The server-side send queue of one loopback connection now, in bytes, or `null`. */
export function sendQueueBytes(serverPort: number, clientPort: number): number | null {
  try {
    return parseSendQueue(
      readProcText("/proc/net/tcp", PROC_NET_TCP_MAX_BYTES),
      serverPort,
      clientPort,
    );
  } catch {
    return null;
  }
}
