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

/** What a tracked viewer tells the sampler. */
export interface BacklogHandle {
  /** Marks the viewer as lagging (fast sampling while any viewer is) or not. */
  setLagging(lagging: boolean): void;
  /** Stops tracking this viewer. */
  release(): void;
}

/**
 * Samples the send queues of the server's sockets while anyone is tracked.
 *
 * Reading the table is not free (the kernel walks its whole connection hash: 5.7 ms a read on
 * this 24 GiB machine, far less on a Raspberry Pi), so the rate adapts: fast (`fastMs`) during a
 * new viewer's first moments, when an initial burst could otherwise pile up, and while any
 * viewer lags; slow (`slowMs`) when everyone keeps up.
 */
export class SocketBacklog {
  readonly #localPort: number;
  readonly #fastMs: number;
  readonly #slowMs: number;
  readonly #probationMs: number;
  readonly #now: () => number;
  readonly #read: () => Promise<string>;
  #tracked = 0;
  #lagging = 0;
  #probationUntil = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #timerDue = 0;
  #reading = false;
  #queues = new Map<number, number>();
  #sampledAt = 0;
  #available = true;
  #disposed = false;

  /**
   * @param options.localPort the server's port
   * @param options.ipv6 read /proc/net/tcp6 (an IPv6 or dual-stack listener) instead of tcp
   * @param options.fastMs sampling period while a viewer is new or lagging (default 50 ms)
   * @param options.slowMs sampling period otherwise (default 1000 ms)
   * @param options.probationMs how long a new viewer counts as new (default 1500 ms)
   * @param options.read reads the table (tests inject text)
   */
  constructor(options: {
    localPort: number;
    ipv6?: boolean;
    fastMs?: number;
    slowMs?: number;
    probationMs?: number;
    now: () => number;
    read?: () => Promise<string>;
  }) {
    this.#localPort = options.localPort;
    this.#fastMs = options.fastMs ?? 50;
    this.#slowMs = options.slowMs ?? 1000;
    this.#probationMs = options.probationMs ?? 1500;
    this.#now = options.now;
    const file = options.ipv6 ? "/proc/net/tcp6" : "/proc/net/tcp";
    this.#read = options.read ?? (() => Deno.readTextFile(file));
  }

  /** The fast sampling period: how often a lagging viewer's queue is looked at. */
  get intervalMs(): number {
    return this.#fastMs;
  }

  /** False once reading /proc failed (pacing then stays off). */
  get available(): boolean {
    return this.#available;
  }

  /** Starts tracking a viewer (sampling runs while anyone is tracked). */
  track(): BacklogHandle {
    this.#tracked++;
    this.#probationUntil = this.#now() + this.#probationMs;
    this.#schedule(this.#fastMs);
    let lagging = false;
    let done = false;
    return {
      setLagging: (flag: boolean) => {
        if (done || flag === lagging) return;
        lagging = flag;
        this.#lagging += flag ? 1 : -1;
        if (flag) this.#schedule(this.#fastMs);
      },
      release: () => {
        if (done) return;
        done = true;
        if (lagging) this.#lagging--;
        this.#tracked--;
        if (this.#tracked === 0 && this.#timer !== null) {
          clearTimeout(this.#timer);
          this.#timer = null;
        }
      },
    };
  }

  /** The latest reading for the viewer at `remotePort`, or null when unknown. */
  get(remotePort: number): BacklogSample | null {
    if (!this.#available || this.#sampledAt === 0) return null;
    return { bytes: this.#queues.get(remotePort) ?? 0, sampledAt: this.#sampledAt };
  }

  /** Stops sampling for good. */
  dispose(): void {
    this.#disposed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Makes sure a reading comes within `withinMs` (default: at the current rate). */
  #schedule(withinMs?: number): void {
    if (this.#disposed || !this.#available || this.#tracked === 0 || this.#reading) return;
    const fast = this.#lagging > 0 || this.#now() < this.#probationUntil;
    const delay = Math.min(withinMs ?? Infinity, fast ? this.#fastMs : this.#slowMs);
    const due = this.#now() + delay;
    if (this.#timer !== null) {
      if (due >= this.#timerDue) return;
      clearTimeout(this.#timer);
    }
    this.#timerDue = due;
    this.#timer = setTimeout(() => this.#sample(), delay);
  }

  async #sample(): Promise<void> {
    this.#timer = null;
    this.#reading = true;
    try {
      const text = await this.#read();
      const queues = new Map<number, number>();
      parseProcNetTcp(text, this.#localPort, queues);
      this.#queues = queues;
      this.#sampledAt = this.#now();
    } catch {
      this.#available = false;
      return;
    } finally {
      this.#reading = false;
    }
    this.#schedule();
  }
}
