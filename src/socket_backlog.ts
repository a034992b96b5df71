/**
 * How many bytes sit unacknowledged in the kernel's send queue of each viewer's socket.
 *
 * Deno's HTTP server takes a write as soon as the kernel buffers it, and Linux grows a socket's
 * send buffer up to `net.ipv4.tcp_wmem` (4 MiB here): measured, a viewer that reads one frame a
 * second let 3.4 MB (114 frames of 30 KB, nearly two minutes of video) pile up before a write
 * ever blocked. Deno offers no `SO_SNDBUF` or `TCP_NOTSENT_LOWAT`, so instead we read the
 * queue from `/proc/net/tcp` (the `tx_queue` column) a few times a second, while viewers are
 * connected, and let a lagging viewer's next frame wait until its queue has drained.
 * Where /proc is missing (not Linux) `get()` returns null and pacing is off.
 *
 * @module
 */

/** One reading of a socket's send queue. */
export interface BacklogSample {
  /** Unacknowledged bytes in the kernel send queue. */
  bytes: number;
  /** When it was read (epoch ms). */
  sampledAt: number;
}

/** Parses `/proc/net/tcp{,6}` text into remote port → tx_queue for sockets on `localPort`. */
export function parseProcNetTcp(text: string, localPort: number, into: Map<number, number>): void {
  const local = localPort.toString(16).toUpperCase().padStart(4, "0");
  for (const line of text.split("\n")) {
    // "  0: 0100007F:1F90 0100007F:D2C4 01 0001E000:00000000 ..."
    const cols = line.trim().split(/\s+/);
    if (cols.length < 5 || !cols[1].endsWith(`:${local}`) || cols[3] !== "01") continue;
    const remotePort = parseInt(cols[2].slice(cols[2].lastIndexOf(":") + 1), 16);
    const tx = parseInt(cols[4].slice(0, cols[4].indexOf(":")), 16);
    if (Number.isFinite(remotePort) && Number.isFinite(tx)) into.set(remotePort, tx);
  }
}

/** Samples the send queues of the server's sockets while anyone is tracked. */
export class SocketBacklog {
  readonly #localPort: number;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #read: () => Promise<string>;
  #tracked = 0;
  #timer: ReturnType<typeof setInterval> | null = null;
  #queues = new Map<number, number>();
  #sampledAt = 0;
  #available = true;
  #reading = false;

  /**
   * @param options.localPort the server's port
   * @param options.intervalMs sampling period (default 40 ms)
   * @param options.read reads the tables (tests inject text)
   */
  constructor(options: {
    localPort: number;
    intervalMs?: number;
    now: () => number;
    read?: () => Promise<string>;
  }) {
    this.#localPort = options.localPort;
    this.#intervalMs = options.intervalMs ?? 40;
    this.#now = options.now;
    this.#read = options.read ?? readProcNetTcp;
  }

  /** The sampling period in milliseconds. */
  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** False once reading /proc failed (pacing then stays off). */
  get available(): boolean {
    return this.#available;
  }

  /** Starts sampling (while at least one viewer is tracked). Returns the untrack function. */
  track(): () => void {
    this.#tracked++;
    if (this.#timer === null && this.#available) {
      this.#timer = setInterval(() => this.#sample(), this.#intervalMs);
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#tracked--;
      if (this.#tracked === 0 && this.#timer !== null) {
        clearInterval(this.#timer);
        this.#timer = null;
      }
    };
  }

  /** The latest reading for the viewer at `remotePort`, or null when unknown. */
  get(remotePort: number): BacklogSample | null {
    if (!this.#available || this.#sampledAt === 0) return null;
    return { bytes: this.#queues.get(remotePort) ?? 0, sampledAt: this.#sampledAt };
  }

  /** Stops sampling for good. */
  dispose(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  async #sample(): Promise<void> {
    if (this.#reading) return;
    this.#reading = true;
    try {
      const text = await this.#read();
      const queues = new Map<number, number>();
      parseProcNetTcp(text, this.#localPort, queues);
      this.#queues = queues;
      this.#sampledAt = this.#now();
    } catch {
      this.#available = false;
      this.dispose();
    } finally {
      this.#reading = false;
    }
  }
}

async function readProcNetTcp(): Promise<string> {
  const v4 = await Deno.readTextFile("/proc/net/tcp");
  let v6 = "";
  try {
    v6 = await Deno.readTextFile("/proc/net/tcp6");
  } catch {
    // No IPv6 on this machine.
  }
  return v4 + "\n" + v6;
}
